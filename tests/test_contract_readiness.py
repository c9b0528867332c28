"""Acceptance: `landready readiness` (CONTRACT §4.5) and a bundle with Chinese headers and no batches (§2, §4.3).

Three CLI runs, started together: readiness on the readiness bundle, audit and readiness on the Chinese bundle.
Scores are hand-computed in tests/contract_data.py (READY_EXPECTED).  As-of is 2025-02-28.
"""

from __future__ import annotations

import json
import math
from datetime import date

import pytest
from contract_data import (
    AS_OF,
    INFRA_KINDS,
    READY_EXPECTED,
    READY_X,
    TERRAIN_EXPECTED,
    assert_rfc7946,
    build_chinese_bundle,
    build_readiness_bundle,
    build_single_gpkg,
    build_terrain_bundle,
    load_geojson,
    props_by,
    run_many,
)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("contract_readiness")
    ready = build_readiness_bundle(base / "ready")
    chinese = build_chinese_bundle(base / "chinese")
    terrain = build_terrain_bundle(base / "terrain")
    gpkg = build_single_gpkg(base / "single" / "zone.gpkg")
    jobs = {
        "readiness": (
            ("readiness", str(ready), "--as-of", AS_OF, "--out", str(base / "r_out")),
            base / "r_out",
        ),
        "cn_audit": (
            ("audit", str(chinese), "--as-of", AS_OF, "--out", str(base / "ca_out")),
            base / "ca_out",
        ),
        "cn_ready": (
            ("readiness", str(chinese), "--as-of", AS_OF, "--out", str(base / "cr_out")),
            base / "cr_out",
        ),
        "terrain": (
            ("readiness", str(terrain), "--as-of", AS_OF, "--out", str(base / "t_out")),
            base / "t_out",
        ),
        # no --as-of: defaults to today
        "gpkg": (("audit", str(gpkg), "--out", str(base / "g_out")), base / "g_out"),
    }
    return run_many(jobs)


@pytest.fixture(scope="module")
def ready(runs) -> dict[str, dict]:
    return props_by(load_geojson(runs["readiness"].ok() / "readiness.geojson"), "parcel_id")


# ── readiness bundle ─────────────────────────────────────────────────────────────────────────────────────────────
def test_readiness_writes_readiness_geojson_rfc7946(runs):
    out = runs["readiness"].ok()
    assert {p.name for p in out.iterdir()} == {"readiness.geojson"}
    assert_rfc7946(out / "readiness.geojson")


def test_readiness_every_parcel_with_input_fields(ready):
    assert set(ready) == set(READY_X)
    assert ready["R3"]["remark"] == "备注-R3"
    assert ready["R3"]["std_far"] == pytest.approx(1.2)


@pytest.mark.parametrize("pid", sorted(READY_EXPECTED))
def test_readiness_tier_and_missing(ready, pid):
    tier, missing, _score, _served = READY_EXPECTED[pid]
    p = ready[pid]
    assert p["missing"] == missing
    assert p["readiness_tier"] == tier


@pytest.mark.parametrize("pid", sorted(READY_EXPECTED))
def test_readiness_score(ready, pid):
    score = READY_EXPECTED[pid][2]
    got = ready[pid]["readiness_score"]
    assert got == pytest.approx(score, abs=1e-9)
    assert round(got, 1) == got  # one decimal


@pytest.mark.parametrize("pid", sorted(READY_EXPECTED))
def test_readiness_served_by(ready, pid):
    assert ready[pid]["served_by"] == READY_EXPECTED[pid][3]


def test_supplied_parcel_is_tier_supplied_only(ready):
    p = ready["R8"]
    assert p["readiness_tier"] == "supplied"
    assert not p.get("missing")
    assert p.get("readiness_score") is None


def test_infra_distance_m(ready):
    d = ready["R1"]["infra_distance_m"]
    assert set(d) == set(INFRA_KINDS)
    # the lines run 10/50/50/150/150/150/400 m below R1's bottom edge
    expected = {
        "road": 10,
        "water": 50,
        "drainage": 50,
        "power": 150,
        "telecom": 150,
        "gas": 150,
        "heat": 400,
    }
    assert {k: d[k] for k in expected} == pytest.approx(expected, abs=0.01)
    d2 = ready["R2"]["infra_distance_m"]
    assert d2["gas"] == pytest.approx(250.0, abs=0.01)
    # nearest heat is R1's line (x 0–100, y −400) from R2's corner (2000, 0): √(1900² + 400²) = 1941.65 m
    assert d2["heat"] == pytest.approx(math.hypot(1900, 400), abs=0.05)


def test_no_rasters_no_terrain_values(ready):
    p = ready["R1"]
    assert "slope_mean_pct" in p and p["slope_mean_pct"] is None
    assert "flood_share" in p and p["flood_share"] is None


# ── rasters: site:leveling, site:flood ───────────────────────────────────────────────────────────────────────────
@pytest.fixture(scope="module")
def terrain(runs) -> dict[str, dict]:
    return props_by(load_geojson(runs["terrain"].ok() / "readiness.geojson"), "parcel_id")


@pytest.mark.parametrize("pid", sorted(TERRAIN_EXPECTED))
def test_terrain_codes_tier_score(terrain, pid):
    missing, tier, score, _served, _slope, _flood = TERRAIN_EXPECTED[pid]
    p = terrain[pid]
    assert (p["missing"], p["readiness_tier"]) == (missing, tier)
    assert p["readiness_score"] == pytest.approx(score, abs=1e-9)


@pytest.mark.parametrize("pid", sorted(TERRAIN_EXPECTED))
def test_terrain_served_by_needs_leveling(terrain, pid):
    assert terrain[pid]["served_by"] == TERRAIN_EXPECTED[pid][3]


@pytest.mark.parametrize("pid", sorted(TERRAIN_EXPECTED))
def test_terrain_slope_and_flood_share(terrain, pid):
    *_rest, slope, flood = TERRAIN_EXPECTED[pid]
    assert terrain[pid]["slope_mean_pct"] == pytest.approx(slope, abs=0.01)
    assert terrain[pid]["flood_share"] == pytest.approx(flood, abs=1e-6)


# ── Chinese headers, GeoJSON in EPSG:4326, no batches layer ─────────────────────────────────────────────────────
def test_chinese_bundle_audit_exits_0(runs):
    # a bundle without a batches layer is valid input (CONTRACT §2, §4.3)
    runs["cn_audit"].ok()


@pytest.fixture(scope="module")
def cn_out(runs):
    # the content checks below still run when the exit code is wrong but the outputs were written
    out = runs["cn_audit"].out
    if not out.is_dir():
        runs["cn_audit"].ok()
    return out


def test_chinese_bundle_audit_writes_no_batch_output(cn_out):
    # "Without a batches layer, no batch output is written"
    assert {p.name for p in cn_out.iterdir()} == {"audit.geojson", "summary.json", "ledger.xlsx"}


def test_chinese_bundle_summary_says_no_batches(cn_out):
    summary = json.loads((cn_out / "summary.json").read_text(encoding="utf-8"))
    assert summary["five_year_supply_rate"] is None
    assert any("批次" in w or "batches" in w for w in summary["warnings"]), summary["warnings"]


def test_chinese_bundle_zone_area_is_union_of_parcels(cn_out):
    summary = json.loads((cn_out / "summary.json").read_text(encoding="utf-8"))
    # two 1 ha squares + the repaired bow-tie (two triangles of 2500 m²) = 25 000 m² = 2.5 ha
    assert summary["zone_area_ha"] == pytest.approx(2.5, abs=1e-4)


def test_chinese_bundle_repair_is_warned(cn_out):
    summary = json.loads((cn_out / "summary.json").read_text(encoding="utf-8"))
    assert any("C3" in w for w in summary["warnings"]), summary["warnings"]


def test_chinese_aliases_read(cn_out):
    parcels = props_by(load_geojson(cn_out / "audit.geojson"), "parcel_id")
    assert set(parcels) == {"C1", "C2", "C3"}
    c1 = parcels["C1"]
    # 已供, 约定开工日期 2023-06-01: 1st anniversary 2024-06-01 ≤ as-of < 2nd → idle_1y; 企业 → idle_fee = 0.2 × 300
    assert (c1["idle_stage"], c1["idle_disposal"]) == ("idle_1y", "idle_fee")
    assert c1["idle_fee_wan"] == pytest.approx(60.0)
    # 2023-06-01 → 2025-02-28: 366 (to 2024-06-01) + 272 = 638 days
    assert c1["idle_days"] == 638
    assert c1["自定义字段"] == "保留"
    assert parcels["C2"]["idle_stage"] == "none"  # 未供
    assert c1["area_m2"] == pytest.approx(10000.0, abs=0.01)


def test_chinese_bundle_readiness(runs):
    out = runs["cn_ready"].ok()
    parcels = props_by(load_geojson(out / "readiness.geojson"), "parcel_id")
    assessments = [
        "energy",
        "eia",
        "flood",
        "soil_water",
        "water_resources",
        "mineral",
        "geohazard",
        "heritage",
        "seismic",
    ]
    servicing = ["road", "water", "drainage", "power", "telecom"]
    indicators = ["std_investment", "std_far", "std_tax", "std_energy", "std_emission"]
    tail = (
        [f"assessment:{k}" for k in assessments]
        + [f"infra:{k}" for k in servicing]
        + [f"indicators:{k}" for k in indicators]
    )
    c2 = parcels["C2"]  # 商服, 权属争议; no batches layer → no approval check
    assert c2["missing"] == ["zoning:not_industrial", "net:dispute", *tail]
    assert c2["readiness_tier"] == "blocked"
    # net checks without batches: compensation, dispute, hv_line → 2/3 passed: 40 × 2/3 = 26.7
    assert c2["readiness_score"] == pytest.approx(26.7, abs=1e-9)
    c3 = parcels["C3"]  # 仓储, nothing else known: 19 codes → not_ready, 40 × 3/3 = 40
    assert c3["missing"] == tail
    assert c3["readiness_tier"] == "not_ready"
    assert c3["readiness_score"] == pytest.approx(40.0, abs=1e-9)
    assert parcels["C1"]["readiness_tier"] == "supplied"
    # no infrastructure layer: every kind null
    assert c3["infra_distance_m"] == dict.fromkeys(
        ("road", "water", "drainage", "power", "telecom", "gas", "heat")
    )
    assert c3["served_by"] is None


@pytest.mark.parametrize(("run", "name"), [("cn_audit", "audit.geojson"), ("cn_ready", "readiness.geojson")])
def test_chinese_bundle_outputs_rfc7946(runs, run, name):
    # C2 has a vertex at a longitude with exactly 7 decimals that naive grid snapping prints with 8+
    out = runs[run].out
    assert_rfc7946(out / name)


# ── a single GeoPackage as the bundle, --as-of defaulting to today ───────────────────────────────────────────────
def test_single_geopackage_bundle_and_default_as_of(runs):
    out = runs["gpkg"].ok()
    assert {p.name for p in out.iterdir()} == {
        "audit.geojson",
        "unsupplied.geojson",
        "batches.csv",
        "summary.json",
        "ledger.xlsx",
    }
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["as_of"] == date.today().isoformat()
    parcels = props_by(load_geojson(out / "audit.geojson"), "parcel_id")
    assert parcels["G2"]["findings"] == ["approved_unsupplied"]
    assert parcels["G1"]["idle_stage"] == "idle_2y"  # agreed start 2020-01-01, more than 2 years before today
    # GB1: 20 000 m², G1 (10 000 m²) supplied → unsupplied 10 000 m²
    assert summary["totals"]["approved_unsupplied"]["m2"] == pytest.approx(10000.0, abs=0.01)
