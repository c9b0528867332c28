"""run_audit end to end on tiny bundles: findings, list columns, batches and summary.json (CONTRACT §4.3–4.4)."""

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

import geopandas as gpd
from shapely.geometry import box

from gis.audit import AUDIT_COLUMNS, run_audit
from gis.audit.summary import NO_BATCHES_WARNING
from gis.bundle import Bundle
from gis.outputs import json_default
from gis.rules import load_rules

RULES = load_rules()
AS_OF = date(2024, 6, 30)
CRS = "EPSG:4547"

GOOD_PLANT = {
    "supply_status": "supplied",
    "planned_use": "industrial",
    "completed_on": "2020-01-01",
    "floor_area_m2": 12_000.0,
    "footprint_m2": 5_000.0,
    "fixed_investment_wan": 4_500.0,
    "annual_tax_wan": 225.0,
    "annual_output_wan": 3_000.0,
}


def parcels_gdf(rows, geoms=None):
    df = pd.DataFrame(rows)
    for col in df:
        if col.endswith("_on"):
            df[col] = pd.to_datetime(df[col])
    geoms = geoms or [box(100 * i, 0, 100 * i + 100, 100) for i in range(len(rows))]  # 1 ha squares in a row
    return gpd.GeoDataFrame(df, geometry=geoms, crs=CRS)


def bundle(parcels, **layers):
    return Bundle(Path("zone"), parcels.crs, {"parcels": parcels, **layers}, warnings=["bundle warning"])


def batches_gdf(rows, geoms):
    df = pd.DataFrame(rows)
    df["approved_on"] = pd.to_datetime(df["approved_on"])
    return gpd.GeoDataFrame(df, geometry=geoms, crs=CRS)


@pytest.fixture
def zone():
    """Five parcels: idle 2 y, good plant, low plant, unsupplied (in a batch), unsupplied outside batches."""
    parcels = parcels_gdf(
        [
            {
                "parcel_id": "P1",
                "supply_status": "supplied",
                "planned_use": "industrial",
                "agreed_start_on": "2021-01-01",
                "land_price_wan": 800.0,
                "custom_field": "kept",
            },
            {"parcel_id": "P2", **GOOD_PLANT},
            {"parcel_id": "P3", **GOOD_PLANT, "floor_area_m2": 3_000.0, "annual_tax_wan": 30.0},
            {"parcel_id": "P4", "supply_status": "unsupplied", "planned_use": "industrial"},
            {
                "parcel_id": "P5",
                "supply_status": "supplied",
                "supplied_on": "2024-07-01",
                "planned_use": "industrial",
            },
        ]
    )
    batch = batches_gdf(
        [{"batch_id": "B1", "approved_on": "2020-05-01"}, {"batch_id": "B2", "approved_on": "2025-01-01"}],
        [box(0, 0, 500, 100), box(0, 0, 500, 100)],  # B2 is approved after as-of: it does not exist yet
    )
    return parcels, batch


def test_every_input_field_and_audit_column(zone):
    parcels, _ = zone
    res = run_audit(bundle(parcels), AS_OF, RULES)
    out = res.parcels
    assert isinstance(out, gpd.GeoDataFrame) and out.crs == parcels.crs
    for col in parcels.columns:
        assert col in out
    for col in AUDIT_COLUMNS:
        assert col in out
    assert out["custom_field"].iloc[0] == "kept"
    assert out.area_m2.tolist() == pytest.approx([10_000.0] * 5)
    assert out.area_ha.tolist() == pytest.approx([1.0] * 5)
    assert out.area_mu.tolist() == pytest.approx([15.0] * 5)
    assert out.geometry.equals(parcels.geometry)


def test_findings_actions_and_refs_without_batches(zone):
    parcels, _ = zone
    res = run_audit(bundle(parcels), AS_OF, RULES)
    out = res.parcels.set_index("parcel_id")
    assert out.findings.to_dict() == {"P1": ["idle"], "P2": [], "P3": ["low_efficiency"], "P4": [], "P5": []}
    assert out.loc["P1", "idle_stage"] == "idle_2y"
    assert out.loc["P1", "idle_disposal"] == "reclaim"
    assert out.loc["P3", "low_efficiency_reasons"] == ["far", "tax", "mujun_d"]
    for pid, row in out.iterrows():
        assert len(row.actions) == len(row.findings), pid
        assert all(isinstance(t, str) and t for t in row.actions)
        assert bool(row.rule_refs) == bool(row.findings)
    assert "无偿收回" in out.loc["P1", "actions"][0]
    assert "容积率" in out.loc["P3", "actions"][0]
    assert RULES.source("idle.reclaim_after_years") in out.loc["P1", "rule_refs"]
    # list cells are independent objects
    out.loc["P2", "findings"].append("x")
    assert out.loc["P4", "findings"] == []


def test_contract_override_is_cited(zone):
    parcels, _ = zone
    parcels.loc[2, "far_min"] = 0.3  # equal to its FAR 0.3: not low
    parcels.loc[2, "annual_tax_wan"] = 225.0
    parcels.loc[2, "footprint_m2"] = 1_000.0
    out = run_audit(bundle(parcels), AS_OF, RULES).parcels
    assert out.low_efficiency_reasons.iloc[2] == ["coverage"]
    assert RULES.source("low_efficiency.coverage_min") in out.rule_refs.iloc[2]
    assert not any("far_min" in ref for ref in out.rule_refs.iloc[2])


def test_per_mu_values_are_exact_at_the_minimums():
    # the reviewer's bundle `le`, parcel G1: 40 m × 40 m in EPSG:4547 = 1 600 m² = 2.4 亩
    plant = {**GOOD_PLANT, "floor_area_m2": 1_600.0, "footprint_m2": 640.0, "annual_output_wan": 100.0}
    g1 = {**plant, "parcel_id": "G1", "fixed_investment_wan": 480.0, "annual_tax_wan": 24.0}
    parcels = parcels_gdf([g1], [box(501_500, 3_000_000, 501_540, 3_000_040)])
    res = run_audit(bundle(parcels), AS_OF, RULES)
    out = res.parcels.iloc[0]
    assert out.area_m2 == 1_600.0 and out.area_mu == 2.4
    assert out.investment_per_mu == 200.0 and out.tax_per_mu == 10.0
    assert out.low_efficiency_reasons == ["mujun_d"]  # a lone rated parcel is D; no investment or tax
    assert res.summary["totals"]["low_efficiency"]["mu"] == 2.4


def test_zone_override_is_cited_with_its_value(zone):
    parcels, _ = zone
    parcels.loc[2, "annual_tax_wan"] = 225.0
    parcels.loc[2, "floor_area_m2"] = 12_000.0
    parcels.loc[2, "footprint_m2"] = 4_000.0  # 0.40 passes the national minimum, not the zone's 0.45
    rules = load_rules(overrides={"low_efficiency": {"coverage_min": 0.45}})
    out = run_audit(bundle(parcels), AS_OF, rules).parcels
    assert out.low_efficiency_reasons.iloc[2] == ["coverage"]
    source = RULES.source("low_efficiency.coverage_min")
    assert out.rule_refs.iloc[2] == [f"{source}（zone.toml: low_efficiency.coverage_min=0.45）"]
    # a rule the zone did not override is cited as it is
    assert RULES.source("idle.reclaim_after_years") in out.rule_refs.iloc[0]


def test_missing_inputs_list(zone):
    parcels, _ = zone
    parcels.loc[1, "floor_area_m2"] = None
    parcels.loc[0, "agreed_start_on"] = pd.NaT
    out = run_audit(bundle(parcels), AS_OF, RULES).parcels
    assert out.missing_inputs.tolist()[:3] == [["agreed_start_on"], ["floor_area_m2"], []]
    assert out.idle_stage.iloc[0] == "none"


def test_summary_without_batches(zone):
    parcels, _ = zone
    res = run_audit(bundle(parcels), AS_OF, RULES)
    s = res.summary
    assert res.batches is None and res.unsupplied is None
    # exactly the §4.4 keys, nothing else
    assert set(s) == {
        "as_of",
        "zone_area_ha",
        "totals",
        "idle_stages",
        "five_year_supply_rate",
        "industrial_development_intensity",
        "indicators",
        "warnings",
    }
    assert s["as_of"] == "2024-06-30"
    assert s["zone_area_ha"] == pytest.approx(5.0)
    assert set(s["totals"]) == {"approved_unsupplied", "idle", "low_efficiency"}
    for total in s["totals"].values():
        assert set(total) == {"m2", "ha", "mu", "count"}
    assert s["totals"]["idle"] == {"m2": 10_000.0, "ha": 1.0, "mu": 15.0, "count": 1}
    assert s["totals"]["low_efficiency"]["count"] == 1
    assert s["totals"]["approved_unsupplied"]["m2"] is None
    assert set(s["idle_stages"]) == {"overdue_start", "idle_1y", "idle_2y", "stalled", "overdue_completion"}
    assert s["idle_stages"]["idle_2y"]["count"] == 1
    assert s["idle_stages"]["idle_1y"] == {"m2": 0.0, "ha": 0.0, "mu": 0.0, "count": 0}
    assert s["five_year_supply_rate"] is None
    # built industrial P2, P3 of industrial P1–P5
    assert s["industrial_development_intensity"] == {"value": pytest.approx(0.4), "province_benchmark": 0.58}
    assert s["warnings"] == ["bundle warning", NO_BATCHES_WARNING]
    json.dumps(s, default=json_default, allow_nan=False)


def test_indicators(zone):
    parcels, _ = zone
    ind = run_audit(bundle(parcels), AS_OF, RULES).summary["indicators"]
    for entry in ind.values():
        assert {"name", "value", "unit", "formula", "basis", "source", "status"} <= set(entry)
        assert entry["value"] is not None or entry["note"]
    # D = P1, P2, P3 (P5 is supplied after as-of); A = P2, P3
    assert ind["land_built_rate"]["value"] == pytest.approx(2 / 3)
    assert ind["industrial_land_rate"]["value"] == pytest.approx(1.0)
    assert ind["idle_land_rate"]["value"] == pytest.approx(1 / 3)
    assert ind["industrial_far"]["value"] == pytest.approx((12_000 + 3_000) / 20_000)
    assert ind["industrial_tax_per_ha"]["value"] == pytest.approx((225 + 30) / 2)
    assert ind["hitech_land_rate"]["value"] is None


def test_batches_give_approved_unsupplied(zone):
    parcels, batch = zone
    res = run_audit(bundle(parcels, batches=batch), AS_OF, RULES)
    out = res.parcels.set_index("parcel_id")
    # P4 is unsupplied and P5 supplied after as-of: both unsupplied inside the approved batch
    assert out.findings.to_dict() == {
        "P1": ["idle"],
        "P2": [],
        "P3": ["low_efficiency"],
        "P4": ["approved_unsupplied"],
        "P5": ["approved_unsupplied"],
    }
    assert list(res.batches.batch_id) == ["B1"]
    s = res.summary
    assert s["totals"]["approved_unsupplied"] == {"m2": 20_000.0, "ha": 2.0, "mu": 30.0, "count": 1}
    assert s["five_year_supply_rate"] == pytest.approx(0.6)
    assert NO_BATCHES_WARNING not in s["warnings"]
    assert out.loc["P4", "batch_covered_share"] == pytest.approx(1.0)
    assert "批而未供" in out.loc["P4", "actions"][0]


@pytest.mark.parametrize(("inside", "found"), [(99.5, True), (99.0, True), (98.0, False)])
def test_covered_share_threshold(inside, found):
    parcels = parcels_gdf([{"parcel_id": "U", "supply_status": "unsupplied"}])
    batch = batches_gdf([{"batch_id": "B", "approved_on": "2020-01-01"}], [box(0, 0, inside, 100)])
    out = run_audit(bundle(parcels, batches=batch), AS_OF, RULES).parcels
    assert out.findings.iloc[0] == (["approved_unsupplied"] if found else [])


def test_zone_area_from_boundary_else_union_of_parcels():
    overlapping = parcels_gdf(
        [{"parcel_id": "a"}, {"parcel_id": "b"}, {"parcel_id": "c"}],
        [box(0, 0, 100, 100), box(50, 0, 150, 100), box(300, 0, 400, 100)],
    )
    assert run_audit(bundle(overlapping), AS_OF, RULES).summary["zone_area_ha"] == pytest.approx(2.5)
    boundary = gpd.GeoDataFrame({"name": ["开发区"]}, geometry=[box(0, 0, 1000, 1000)], crs=CRS)
    res = run_audit(bundle(overlapping, zone_boundary=boundary), AS_OF, RULES)
    assert res.summary["zone_area_ha"] == pytest.approx(100.0)
    assert res.zone_name == "开发区"


def test_absent_optional_fields_are_empty():
    parcels = parcels_gdf([{"parcel_id": "only"}])
    out = run_audit(bundle(parcels), AS_OF, RULES).parcels
    assert out.findings.iloc[0] == [] and out.idle_stage.iloc[0] == "none"


def test_missing_inputs_are_summarised_in_warnings(zone):
    parcels, _ = zone
    parcels.loc[1, "floor_area_m2"] = None
    warnings = run_audit(bundle(parcels), AS_OF, RULES).summary["warnings"]
    assert any("floor_area_m2 1 宗" in w for w in warnings)


def test_no_parcels():
    empty = gpd.GeoDataFrame({"parcel_id": pd.Series([], dtype=str)}, geometry=[], crs=CRS)
    res = run_audit(bundle(empty), AS_OF, RULES)
    assert len(res.parcels) == 0
    assert res.summary["totals"]["idle"]["count"] == 0
    assert res.summary["zone_area_ha"] == 0


def test_negotiated_idle_cites_art_8_not_the_fee(zone):
    parcels, _ = zone
    parcels.loc[0, "agreed_start_on"] = pd.Timestamp("2023-01-01")  # idle_1y as of 2024-06-30
    parcels.loc[0, "delay_cause"] = "government"
    out = run_audit(bundle(parcels), AS_OF, RULES).parcels
    assert (out.idle_stage.iloc[0], out.idle_disposal.iloc[0]) == ("idle_1y", "negotiate")
    assert RULES.source("idle.fee_rate") not in out.rule_refs.iloc[0]
    assert any("第八条" in ref for ref in out.rule_refs.iloc[0])
    assert "协商" in out.actions.iloc[0][0]
