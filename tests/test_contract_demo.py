"""Acceptance: `landready demo --no-serve --out DIR` (CONTRACT §1) finishes in under 2 minutes and writes the outputs."""

from __future__ import annotations

import json
import time

import pytest
from contract_data import AUDIT_FILES, ISO_DATE, assert_rfc7946, run_many


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("contract_demo") / "demo"
    start = time.perf_counter()
    run = run_many({"demo": (("demo", "--no-serve", "--out", str(out)), out)})["demo"]
    return run, time.perf_counter() - start


def test_demo_exits_0_within_two_minutes(demo):
    run, seconds = demo
    run.ok()
    assert seconds < 120, f"demo took {seconds:.0f} s"


def test_demo_writes_audit_and_readiness(demo):
    out = demo[0].ok()
    names = {p.name for p in out.iterdir()}
    assert AUDIT_FILES | {"readiness.geojson"} <= names, names


@pytest.mark.parametrize("name", ["audit.geojson", "unsupplied.geojson", "readiness.geojson"])
def test_demo_geojson_is_rfc7946(demo, name):
    assert_rfc7946(demo[0].ok() / name, window=(73, 18, 136, 54))  # anywhere in China


def test_demo_summary_has_every_finding(demo):
    summary = json.loads((demo[0].ok() / "summary.json").read_text(encoding="utf-8"))
    assert ISO_DATE.match(summary["as_of"])
    for key in ("approved_unsupplied", "idle", "low_efficiency"):
        assert summary["totals"][key]["count"] > 0, key
