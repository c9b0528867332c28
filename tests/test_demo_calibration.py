"""The committed demo, audited as of 2025-08-31, gives the calibrated headline figures (CONTRACT §4.2–4.4).

The figures come out of `gis.audit.run_audit` on the data; the generator never writes them anywhere.
"""

from __future__ import annotations

import datetime as dt

import pytest

from data import DEMO_BUNDLE
from gis.audit import run_audit
from gis.io import read_bundle
from gis.rules import load_rules

AS_OF = dt.date(2025, 8, 31)


@pytest.fixture(scope="module")
def summary() -> dict:
    return run_audit(read_bundle(DEMO_BUNDLE), AS_OF, load_rules()).summary


def test_approved_unsupplied_is_about_800_mu(summary: dict) -> None:
    assert summary["totals"]["approved_unsupplied"]["mu"] == pytest.approx(800, rel=0.05)


def test_low_efficiency_is_about_2200_mu(summary: dict) -> None:
    assert summary["totals"]["low_efficiency"]["mu"] == pytest.approx(2200, rel=0.05)


def test_industrial_intensity_is_about_45_percent_against_58(summary: dict) -> None:
    intensity = summary["industrial_development_intensity"]
    assert intensity["value"] == pytest.approx(0.45, abs=0.01)
    assert intensity["province_benchmark"] == pytest.approx(0.58)


def test_every_idle_stage_occurs(summary: dict) -> None:
    stages = summary["idle_stages"]
    for stage in ("overdue_start", "idle_1y", "idle_2y", "stalled", "overdue_completion"):
        assert stages[stage]["count"] >= 1, stage


def test_zone_area_is_the_boundary(summary: dict) -> None:
    assert summary["zone_area_ha"] == pytest.approx(2014.5, abs=1.0)
