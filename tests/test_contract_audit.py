"""Acceptance: `landready audit` against CONTRACT §1, §4.1–§4.4 (black box, the real command line).

One audit run on a hand-made bundle (tests/contract_data.py) is shared by every test here; expected values are
computed by hand in the comments of contract_data.py and below.  As-of is 2025-02-28.
"""

from __future__ import annotations

import csv
import json
import zipfile
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from contract_data import (
    AS_OF,
    AUDIT_FILES,
    BATCH_ROWS,
    CJK,
    EFFICIENCY_REASONS,
    IDLE_EXPECTED,
    ISO_DATE,
    MUJUN_CASES,
    MUJUN_REASONS,
    PARCEL_DATES,
    UNSUPPLIED_EXPECTED,
    assert_rfc7946,
    build_audit_bundle,
    load_geojson,
    props_by,
    run_cli,
    run_many,
)
from openpyxl import load_workbook

import geopandas as gpd
import shapely
from pyproj import Transformer
from shapely.geometry import box, shape

IDLE_PARCELS = {pid for pid, exp in IDLE_EXPECTED.items() if exp[0] in ("idle_1y", "idle_2y", "stalled")}
LOW_EFF_PARCELS = {pid for pid, r in {**EFFICIENCY_REASONS, **MUJUN_REASONS}.items() if r}


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("contract_audit")
    bundle = build_audit_bundle(base / "bundle")
    o = base / "out"
    return run_many({"audit": (("audit", str(bundle), "--as-of", AS_OF, "--out", str(o)), o)})["audit"].ok()


@pytest.fixture(scope="module")
def parcels(out) -> dict[str, dict]:
    return props_by(load_geojson(out / "audit.geojson"), "parcel_id")


@pytest.fixture(scope="module")
def summary(out) -> dict:
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


# ── §1 files and §4 GeoJSON form ─────────────────────────────────────────────────────────────────────────────────
def test_audit_writes_exactly_the_five_files(out):
    assert {p.name for p in out.iterdir()} == AUDIT_FILES


@pytest.mark.parametrize("name", ["audit.geojson", "unsupplied.geojson"])
def test_geojson_outputs_are_rfc7946(out, name):
    assert_rfc7946(out / name)


def test_every_parcel_once_with_all_input_fields(parcels):
    assert len(parcels) == len(IDLE_EXPECTED) - 1 + len(EFFICIENCY_REASONS) + len(MUJUN_CASES) + 10
    p = parcels["E-ALL"]
    # unknown fields pass through unchanged
    assert p["remark"] == "备注-E-ALL"
    assert p["extra_score"] == pytest.approx(7.5)
    assert p["name"] == "地块 E-ALL"
    assert p["industry_code"] == "C38"
    assert p["floor_area_m2"] == pytest.approx(6900.0)
    assert p["planned_use"] == "industrial"
    assert p["supply_status"] == "supplied"


def test_areas_in_m2_and_mu(parcels):
    for pid, p in parcels.items():
        # area_mu = m² × 15 / 10 000; area_ha (where given) = m² / 10 000
        assert p["area_mu"] == pytest.approx(p["area_m2"] * 15 / 10000, rel=1e-9), pid
        if "area_ha" in p:
            assert p["area_ha"] == pytest.approx(p["area_m2"] / 10000, rel=1e-9), pid
    assert parcels["M01"]["area_m2"] == pytest.approx(10000.0, abs=1e-3)  # 100 m × 100 m
    assert parcels["M01"]["area_mu"] == pytest.approx(15.0, abs=1e-6)
    assert parcels["S7"]["area_m2"] == pytest.approx(5999.5, abs=1e-3)  # 100 × 60 − 1 × 0.5 hole


def test_dates_are_iso(parcels):
    for pid, p in parcels.items():
        for field in PARCEL_DATES:
            v = p.get(field)
            assert v is None or (isinstance(v, str) and ISO_DATE.match(v)), (pid, field, v)
    assert parcels["I-STALLED"]["suspended_on"] == "2024-02-28"
    assert parcels["U1"]["supplied_on"] == "2020-06-01"


# ── §4.1 idle ────────────────────────────────────────────────────────────────────────────────────────────────────
@pytest.mark.parametrize("pid", sorted(IDLE_EXPECTED))
def test_idle_stage_disposal_fee_days(parcels, pid):
    stage, disposal, fee, days = IDLE_EXPECTED[pid]
    p = parcels[pid]
    got = (p["idle_stage"], p["idle_disposal"], p["idle_fee_wan"], p["idle_days"])
    assert got[:2] == (stage, disposal), got
    if fee is None:
        assert got[2] is None, got
    else:
        assert got[2] == pytest.approx(fee, abs=1e-6), got
    assert got[3] == days, got


@pytest.mark.parametrize(
    ("pid", "field"),
    [("I-MISSING-START", "agreed_start_on"), ("I-MISSING-COMP", "agreed_completion_on")],
)
def test_missing_idle_date_is_listed(parcels, pid, field):
    assert field in (parcels[pid]["missing_inputs"] or [])


def test_present_idle_date_not_listed_missing(parcels):
    assert "agreed_start_on" not in (parcels["I-LEAP-1Y"]["missing_inputs"] or [])


def test_not_examined_parcels_have_stage_none(parcels):
    # unsupplied, supplied after as-of (U6, would be idle_2y from 2020) and completed parcels
    for pid in ("U2", "U6", "U1", "S6", "M01"):
        assert parcels[pid]["idle_stage"] == "none", pid
        assert parcels[pid]["idle_days"] is None, pid


# ── §4.2 low efficiency ──────────────────────────────────────────────────────────────────────────────────────────
@pytest.mark.parametrize("pid", sorted({**EFFICIENCY_REASONS, **MUJUN_REASONS}))
def test_low_efficiency_reasons_in_contract_order(parcels, pid):
    expected = {**EFFICIENCY_REASONS, **MUJUN_REASONS}[pid]
    assert (parcels[pid]["low_efficiency_reasons"] or []) == expected


def test_missing_efficiency_inputs_listed(parcels):
    missing = set(parcels["E-MISSING"]["missing_inputs"] or [])
    assert {"floor_area_m2", "footprint_m2", "fixed_investment_wan", "annual_tax_wan"} <= missing


@pytest.mark.parametrize("pid", sorted(MUJUN_CASES))
def test_mujun_score_and_grade(parcels, pid):
    _t, _o, score, _rank, grade = MUJUN_CASES[pid]
    p = parcels[pid]
    assert p["mujun_score"] == pytest.approx(score, abs=0.051), p["mujun_score"]
    assert p["mujun_grade"] == grade


def test_stopped_parcel_is_grade_d_without_score(parcels):
    assert parcels["E-STOPPED"]["mujun_grade"] == "D"
    assert parcels["E-STOPPED"]["mujun_score"] is None


@pytest.mark.parametrize(
    "pid", ["E-UNRATED", "E-MISSING", "E-WAREHOUSE", "E-COMMERCIAL", "E-UNBUILT", "E-COMPLETED-LATER", "U2"]
)
def test_unrated_parcels_have_null_score_and_grade(parcels, pid):
    assert parcels[pid]["mujun_score"] is None
    assert parcels[pid]["mujun_grade"] is None


# ── §4.3 / §4.4 findings ─────────────────────────────────────────────────────────────────────────────────────────
@pytest.mark.parametrize(
    ("pid", "findings"),
    [
        ("U2", ["approved_unsupplied"]),  # 100 % inside B1
        ("U3", ["approved_unsupplied"]),  # 99.5 % inside B2
        ("U6", ["approved_unsupplied"]),  # supplied after as-of, inside B5
        ("U4", []),  # 98 % inside B3
        ("U5", []),  # inside B4, approved after as-of
        ("I-LEAP-1Y", ["idle"]),
        ("I-STALLED", ["idle"]),
        ("I-OVERDUE-1D", []),  # early warning is not a finding
        ("I-OVERDUE-COMP", []),
        ("E-STALLED-GOV", ["idle", "low_efficiency"]),
        ("E-ALL", ["low_efficiency"]),
        ("M10", ["low_efficiency"]),
        ("E-EDGE", []),
    ],
)
def test_findings(parcels, pid, findings):
    assert (parcels[pid]["findings"] or []) == findings


def test_actions_and_rule_refs(parcels):
    for pid in ("U2", "I-LEAP-1Y", "E-STALLED-GOV", "E-ALL"):
        p = parcels[pid]
        actions = p["actions"]
        if isinstance(actions, dict):
            assert list(actions) == p["findings"], pid
            texts = list(actions.values())
        else:
            assert isinstance(actions, list) and len(actions) == len(p["findings"]), (pid, actions)
            texts = actions
        assert all(isinstance(t, str) and CJK.search(t) for t in texts), (pid, actions)
        assert p["rule_refs"], pid
    assert "闲置土地处置办法" in json.dumps(parcels["I-LEAP-1Y"]["rule_refs"], ensure_ascii=False)


# ── §4.3 batches ─────────────────────────────────────────────────────────────────────────────────────────────────
def test_batches_csv(out):
    with (out / "batches.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    header = [h.strip() for h in rows[0]]
    assert header[:6] == [
        "batch_id",
        "approved_on",
        "batch_m2",
        "supplied_m2",
        "unsupplied_m2",
        "supply_rate",
    ]
    body = {r[0]: r for r in rows[1:]}
    # B4 is approved after as-of: it does not exist yet
    assert set(body) == set(BATCH_ROWS)
    assert body["B5"][1] == "2020-02-29"
    assert body["B1"][1] == "2020-01-10"
    for bid, expected in BATCH_ROWS.items():
        got = [float(v) for v in body[bid][2:6]]
        assert got == pytest.approx(list(expected), abs=1e-3), (bid, got)


def test_unsupplied_geojson(out):
    fc = load_geojson(out / "unsupplied.geojson")
    by_id = props_by(fc, "batch_id")
    # B6 and B8 have no remainder, B4 does not exist yet
    assert set(by_id) == set(UNSUPPLIED_EXPECTED)
    for bid, (age, bucket, lapse) in UNSUPPLIED_EXPECTED.items():
        p = by_id[bid]
        assert (p["age_years"], p["age_bucket"], p["lapse_risk"]) == (age, bucket, lapse), bid
        _batch, _supplied, unsupplied, rate = BATCH_ROWS[bid]
        assert p["unsupplied_m2"] == pytest.approx(unsupplied, abs=1e-3), bid
        assert p["unsupplied_ha"] == pytest.approx(unsupplied / 10000, abs=1e-7), bid
        assert p["unsupplied_mu"] == pytest.approx(unsupplied * 15 / 10000, abs=1e-6), bid
        assert p["supply_rate"] == pytest.approx(rate, abs=1e-6), bid
        assert ISO_DATE.match(p["approved_on"]), p["approved_on"]
    assert by_id["B5"]["approved_on"] == "2020-02-29"


def test_unsupplied_geometry_drops_slivers(out):
    fc = load_geojson(out / "unsupplied.geojson")
    to_gk = Transformer.from_crs(4326, 4527, always_xy=True).transform
    geoms = {
        f["properties"]["batch_id"]: shapely.transform(
            shape(f["geometry"]), lambda xy: np.column_stack(to_gk(*xy.T))
        )
        for f in fc["features"]
    }
    # B7 minus S7: the 100 m × 40 m strip (4000 m²); the 0.5 m² hole piece is dropped
    b7 = geoms["B7"]
    assert len(getattr(b7, "geoms", [b7])) == 1
    assert b7.area == pytest.approx(4000.0, abs=2.0)
    # B1 minus U1: the right half
    assert geoms["B1"].area == pytest.approx(10000.0, abs=2.0)


# ── §4.4 summary ─────────────────────────────────────────────────────────────────────────────────────────────────
SUMMARY_KEYS = {
    "as_of",
    "zone_area_ha",
    "totals",
    "idle_stages",
    "five_year_supply_rate",
    "industrial_development_intensity",
    "indicators",
    "warnings",
}


def test_summary_has_the_contract_keys(summary):
    assert SUMMARY_KEYS <= set(summary), SUMMARY_KEYS - set(summary)
    assert summary["as_of"] == AS_OF
    assert set(summary["totals"]) == {"approved_unsupplied", "idle", "low_efficiency"}
    for v in summary["totals"].values():
        assert set(v) == {"m2", "ha", "mu", "count"}
    assert set(summary["industrial_development_intensity"]) == {"value", "province_benchmark"}
    assert isinstance(summary["indicators"], dict)
    assert isinstance(summary["warnings"], list)
    assert all(isinstance(w, str) for w in summary["warnings"])


def test_summary_has_exactly_the_contract_keys(summary):
    # CONTRACT §4.4 lists the keys of summary.json; the team brief: "`.summary` (dict exactly §4.4)"
    assert set(summary) - SUMMARY_KEYS == set()


def test_summary_zone_area_from_boundary(summary):
    # the zone_boundary is 5 km × 6 km = 30 000 000 m² = 3000 ha
    assert summary["zone_area_ha"] == pytest.approx(3000.0, rel=1e-6)


@pytest.mark.parametrize(
    ("key", "m2", "count"),
    [
        # Σ unsupplied_m2 of B1, B2, B3, B5, B7 = 4 × 10 000 + 4000.5; B6 and B8 have no remainder
        ("approved_unsupplied", 44000.5, 5),
        # idle_1y 4 + idle_2y 2 + stalled 3 parcels of 10 000 m²
        ("idle", 90000.0, 9),
        # E-ALL, E-UNKNOWN, E-NOCODE, E-STOPPED, E-STALLED-GOV, M05..M10 and the 15 FAR-*-BELOW warehouses
        ("low_efficiency", 260000.0, 26),
    ],
)
def test_summary_totals(summary, key, m2, count):
    t = summary["totals"][key]
    assert t["m2"] == pytest.approx(m2, abs=0.01)
    assert t["ha"] == pytest.approx(m2 / 10000, abs=1e-5)
    assert t["mu"] == pytest.approx(m2 * 15 / 10000, abs=1e-4)
    assert t["count"] == count


def test_summary_idle_stages(summary):
    stages = summary["idle_stages"]
    assert set(stages) == {"overdue_start", "idle_1y", "idle_2y", "stalled", "overdue_completion"}
    counts = {k: v["count"] for k, v in stages.items()}
    assert counts == {"overdue_start": 2, "idle_1y": 4, "idle_2y": 2, "stalled": 3, "overdue_completion": 3}
    assert stages["idle_1y"]["m2"] == pytest.approx(40000.0, abs=0.01)
    assert stages["idle_1y"]["mu"] == pytest.approx(60.0, abs=1e-4)
    assert stages["idle_1y"]["ha"] == pytest.approx(4.0, abs=1e-5)


def test_summary_five_year_supply_rate(summary):
    # batches approved after 2020-02-28: B2, B3, B5 (29 Feb 2020), B6, B7 (B1 is older, B4 not yet approved)
    # Σ supplied = 0 + 0 + 0 + 10 000 + 5 999.5 = 15 999.5; Σ batch = 50 000 → 0.31999
    assert summary["five_year_supply_rate"] == pytest.approx(0.31999, abs=1e-6)


def test_summary_industrial_development_intensity(summary):
    # industrial: 26 parcels of 10 000 m²; built (completed by as-of or with an operating status): 20
    # (E-COMPLETED-LATER, E-UNBUILT, U2–U5 are not built) → 20 / 26
    ind = summary["industrial_development_intensity"]
    assert ind["value"] == pytest.approx(20 / 26, abs=1e-6)
    assert ind["province_benchmark"] == pytest.approx(0.58)


# ── §4.4 ledger ──────────────────────────────────────────────────────────────────────────────────────────────────
@pytest.fixture(scope="module")
def ledger(out):
    return load_workbook(out / "ledger.xlsx")


def _sheet_with(wb, parcel_id: str):
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            if parcel_id in [str(v).strip() for v in row if v is not None]:
                return ws
    raise AssertionError(f"no ledger sheet lists {parcel_id}")


def _ids_in(ws) -> set[str]:
    header = [str(c.value or "").strip() for c in ws[1]]
    col = header.index("地块编号")
    return {str(r[col]).strip() for r in ws.iter_rows(min_row=2, values_only=True) if r[col] is not None}


def test_ledger_one_sheet_per_finding_plus_summary(ledger):
    idle = _sheet_with(ledger, "I-LEAP-1Y")
    low = _sheet_with(ledger, "E-ALL")
    try:
        unsupplied = _sheet_with(ledger, "U2")
    except AssertionError:  # the 批而未供 sheet may list batches instead of parcels
        unsupplied = _sheet_with(ledger, "B1")
    assert len({idle.title, low.title, unsupplied.title}) == 3, ledger.sheetnames
    assert any("汇总" in name for name in ledger.sheetnames), ledger.sheetnames
    # one row per parcel with the finding
    assert _ids_in(idle) == IDLE_PARCELS
    assert _ids_in(low) == LOW_EFF_PARCELS


@pytest.mark.parametrize("pid", ["I-LEAP-1Y", "E-ALL"])
def test_ledger_finding_sheet_form(ledger, pid):
    ws = _sheet_with(ledger, pid)
    header = [str(c.value or "").strip() for c in ws[1]]
    for col in ("地块编号", "责任单位", "处置期限", "处置进展"):
        assert col in header, (ws.title, header)
    assert any("亩" in h for h in header) and any("公顷" in h for h in header), header
    # Chinese headers: none of the English field names
    assert not {"parcel_id", "area_mu", "area_m2", "idle_stage", "findings"} & set(header), header
    # the three columns are left empty for the 责任单位 to fill in
    for col in ("责任单位", "处置期限", "处置进展"):
        i = header.index(col)
        assert all(r[i] in (None, "") for r in ws.iter_rows(min_row=2, values_only=True)), col
    assert ws.freeze_panes is not None and ws.freeze_panes.endswith("2"), ws.freeze_panes
    assert ws.auto_filter.ref, "no auto filter"


def _row_text(ws, pid: str) -> str:
    for row in ws.iter_rows(values_only=True):
        cells = [v for v in row if v is not None]
        if pid in [str(v).strip() for v in cells]:
            return " ".join(v.date().isoformat() if isinstance(v, datetime) else str(v) for v in cells)
    raise AssertionError(pid)


def test_ledger_rows_carry_evidence_dates_and_citations(ledger):
    idle = _row_text(_sheet_with(ledger, "I-LEAP-1Y"), "I-LEAP-1Y")
    assert "2024-02-29" in idle  # the agreed start, the evidence of idle_1y
    assert "闲置土地处置办法" in idle
    low = _row_text(_sheet_with(ledger, "E-ALL"), "E-ALL")
    assert "工业项目建设用地控制指标" in low  # the FAR / coefficient rule source


def test_ledger_formula_injection_neutralised(out, ledger):
    # I-LEAP-1Y is named "=SUM(1,1)"
    cells = [
        c for ws in ledger.worksheets for row in ws.iter_rows() for c in row if "SUM(1,1)" in str(c.value)
    ]
    assert cells, "the parcel name does not appear in the ledger"
    assert all(c.data_type != "f" for c in cells), [(c.coordinate, c.value) for c in cells]
    with zipfile.ZipFile(out / "ledger.xlsx") as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert "SUM(1,1)</f>" not in z.read(name).decode("utf-8"), name


def test_ledger_batch_areas_in_mu_and_ha(ledger):
    ws = ledger["批而未供"]
    header = [str(c.value or "").strip() for c in ws[1]]
    # every area of the batch sheet in both units, like the parcel sheets
    for area in ("批次面积", "已供面积", "批而未供面积"):
        assert {f"{area}（亩）", f"{area}（公顷）"} <= set(header), header
    for row in ws.iter_rows(min_row=2, values_only=True):
        cells = dict(zip(header, row, strict=False))
        if cells.get("批次编号") is not None:
            assert cells["已供面积（亩）"] == pytest.approx(cells["已供面积（公顷）"] * 15)


# ── exact 亩 (CONTRACT "Units": mu = m² × 15 / 10 000) ─────────────────────────────────────────────────────
def test_per_mu_values_exact_at_the_minimums(tmp_path):
    # the reviewer's bundle `le`, parcel G1: 40 m × 40 m in EPSG:4547 = 2.4 亩; 480 万元 and 24 万元 are exactly
    # 200 万元/亩 and 10 万元/亩 (m² / 666.67 gave 199.99999999999997 and flagged it)
    bundle = tmp_path / "le"
    bundle.mkdir()
    gpd.GeoDataFrame(
        [
            {
                "parcel_id": "G1",
                "supply_status": "supplied",
                "supplied_on": "2015-01-01",
                "planned_use": "industrial",
                "completed_on": "2020-01-01",
                "fixed_investment_wan": 480.0,
                "annual_tax_wan": 24.0,
                "floor_area_m2": 1600.0,
                "footprint_m2": 640.0,
                "annual_output_wan": 100.0,
            }
        ],
        geometry=[box(501_500, 3_000_000, 501_540, 3_000_040)],
        crs="EPSG:4547",
    ).to_file(bundle / "parcels.geojson", driver="GeoJSON")
    out = tmp_path / "out"
    proc = run_cli("audit", bundle, "--as-of", "2024-03-01", "--out", out)
    assert proc.returncode == 0, proc.stderr
    (g1,) = load_geojson(out / "audit.geojson")["features"]
    p = g1["properties"]
    assert p["area_mu"] == 2.4
    assert p["investment_per_mu"] == 200 and p["tax_per_mu"] == 10
    assert not {"investment", "tax"} & set(p["low_efficiency_reasons"]), p["low_efficiency_reasons"]
