"""ledger.xlsx and the five audit output files (CONTRACT §4.3–4.4), read back with openpyxl."""

import csv
import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

import geopandas as gpd
from shapely.geometry import box

from gis.audit import run_audit
from gis.audit.ledger import SHEETS, write_ledger
from gis.audit.write import write_audit_outputs
from gis.bundle import Bundle
from gis.rules import load_rules

RULES = load_rules()
AS_OF = date(2024, 6, 30)
CRS = "EPSG:4547"
PLANT = {
    "supply_status": "supplied",
    "planned_use": "industrial",
    "completed_on": pd.Timestamp("2020-01-01"),
    "floor_area_m2": 3_000.0,
    "footprint_m2": 5_000.0,
    "fixed_investment_wan": 4_500.0,
    "annual_tax_wan": 30.0,
    "annual_output_wan": 3_000.0,
}
TRACKING_ZH = ["责任单位", "处置期限", "处置进展"]


def make_bundle(with_batches=True):
    rows = [
        {
            "parcel_id": '=HYPERLINK("http://x")',
            "name": "+cmd",
            "supply_status": "supplied",
            "planned_use": "industrial",
            "agreed_start_on": pd.Timestamp("2023-01-01"),
            "land_price_wan": 500.0,
        },
        {"parcel_id": "L1", "name": "@SUM(A1)", **PLANT},
        {"parcel_id": "L2", "name": "-2+3", **PLANT, "annual_tax_wan": 300.0, "floor_area_m2": 12_000.0},
        {
            "parcel_id": "W1",
            "name": "预警",
            "supply_status": "supplied",
            "agreed_start_on": pd.Timestamp("2024-01-01"),
        },
        {"parcel_id": "U1", "name": "未供", "supply_status": "unsupplied", "planned_use": "industrial"},
    ]
    parcels = gpd.GeoDataFrame(
        pd.DataFrame(rows), geometry=[box(100 * i, 0, 100 * i + 100, 100) for i in range(5)], crs=CRS
    )
    layers = {"parcels": parcels}
    if with_batches:
        layers["batches"] = gpd.GeoDataFrame(
            {"batch_id": ["=B1"], "batch_name": ["一批"], "approved_on": [pd.Timestamp("2021-01-01")]},
            geometry=[box(0, 0, 500, 100)],
            crs=CRS,
        )
    return Bundle(Path("zone"), parcels.crs, layers)


@pytest.fixture
def result():
    return run_audit(make_bundle(), AS_OF, RULES)


def rows(ws):
    return [list(r) for r in ws.iter_rows(values_only=True)]


def table(ws):
    data = rows(ws)
    return [dict(zip(data[0], r, strict=True)) for r in data[1:]]


def test_sheets_headers_frozen_and_filtered(result, tmp_path):
    path = tmp_path / "ledger.xlsx"
    write_ledger(result, path)
    wb = load_workbook(path)
    assert wb.sheetnames[:4] == ["汇总", "批而未供", "闲置土地", "低效用地"]
    assert wb.sheetnames == list(SHEETS["zh"])
    for ws in wb:
        assert ws.freeze_panes == "A2"
        header = rows(ws)[0]
        assert ws.auto_filter.ref == f"A1:{ws.cell(1, len(header)).column_letter}{ws.max_row}"
        if ws.title != "汇总":
            assert header[-3:] == TRACKING_ZH
        for letter in ("A", "B"):
            assert ws.column_dimensions[letter].width >= 8


def test_rows_and_values(result, tmp_path):
    path = tmp_path / "ledger.xlsx"
    write_ledger(result, path)
    wb = load_workbook(path)
    batch = table(wb["批而未供"])
    assert len(batch) == 1
    assert batch[0]["批次编号"] == "'=B1"
    assert batch[0]["批而未供面积（亩）"] == pytest.approx(15.0)  # U1 is the only unsupplied parcel
    assert batch[0]["批而未供面积（公顷）"] == pytest.approx(1.0)
    assert batch[0]["批准日期"] == "2021-01-01"
    assert batch[0]["依据"]
    idle = table(wb["闲置土地"])
    assert [r["地块编号"] for r in idle] == ['\'=HYPERLINK("http://x")']
    assert idle[0]["闲置阶段"] == "未动工满一年"
    assert idle[0]["处置方式"] == "征缴土地闲置费"
    assert idle[0]["土地闲置费（万元）"] == pytest.approx(100.0)
    assert idle[0]["约定开工日期"] == "2023-01-01"
    assert idle[0]["面积（亩）"] == pytest.approx(15.0) and idle[0]["面积（公顷）"] == pytest.approx(1.0)
    assert "闲置土地处置办法" in idle[0]["依据"]
    assert all(idle[0][h] is None for h in TRACKING_ZH)
    low = table(wb["低效用地"])
    assert [r["地块编号"] for r in low] == ["L1"]
    assert low[0]["低效原因"] == "容积率低于下限；亩均税收不达标；亩均效益评价D类"
    assert low[0]["地块名称"] == "'@SUM(A1)"
    warn = table(wb["逾期预警"])
    assert [r["地块编号"] for r in warn] == ["W1"]
    summary = rows(wb["汇总"])
    assert any(r[1] == "批而未供" and r[2] == 1 for r in summary)


def test_batch_sheet_areas_in_mu_and_ha(result, tmp_path):
    path = tmp_path / "ledger.xlsx"
    write_ledger(result, path)
    (row,) = table(load_workbook(path)["批而未供"])
    # B1 covers all five 1 ha parcels; only U1 is unsupplied
    for name, ha in (("批次面积", 5.0), ("已供面积", 4.0), ("批而未供面积", 1.0)):
        assert row[f"{name}（公顷）"] == pytest.approx(ha), name
        assert row[f"{name}（亩）"] == pytest.approx(ha * 15), name


def test_no_cell_is_a_formula(result, tmp_path):
    path = tmp_path / "ledger.xlsx"
    write_ledger(result, path)
    for ws in load_workbook(path):
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert cell.value[0] not in "=+-@", (ws.title, cell.coordinate, cell.value)


def test_english_headers(result, tmp_path):
    path = tmp_path / "ledger.xlsx"
    write_ledger(result, path, lang="en")
    wb = load_workbook(path)
    assert wb.sheetnames == list(SHEETS["en"])
    header = rows(wb[SHEETS["en"][2]])[0]
    assert header[:2] == ["Parcel ID", "Name"]
    assert header[-3:] == ["Responsible unit", "Deadline", "Progress"]
    assert table(wb[SHEETS["en"][2]])[0]["Idle stage"] == "idle_1y"


def test_without_batches_the_batch_sheet_is_empty(tmp_path):
    path = tmp_path / "ledger.xlsx"
    write_ledger(run_audit(make_bundle(with_batches=False), AS_OF, RULES), path)
    assert len(rows(load_workbook(path)["批而未供"])) == 1


def test_write_audit_outputs(result, tmp_path):
    written = write_audit_outputs(result, tmp_path)
    assert sorted(p.name for p in written) == sorted(
        ["audit.geojson", "unsupplied.geojson", "batches.csv", "summary.json", "ledger.xlsx"]
    )
    features = json.loads((tmp_path / "audit.geojson").read_text())["features"]
    assert len(features) == 5
    props = features[1]["properties"]
    assert props["findings"] == ["low_efficiency"] and isinstance(props["rule_refs"], list)
    assert props["completed_on"] == "2020-01-01"
    with (tmp_path / "batches.csv").open(encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == [
            "batch_id",
            "approved_on",
            "batch_m2",
            "supplied_m2",
            "unsupplied_m2",
            "supply_rate",
        ]
        (row,) = list(reader)
    assert row["approved_on"] == "2021-01-01" and float(row["unsupplied_m2"]) == pytest.approx(10_000.0)
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert summary["totals"]["approved_unsupplied"]["count"] == 1
    unsupplied = json.loads((tmp_path / "unsupplied.geojson").read_text())["features"]
    assert [f["properties"]["batch_id"] for f in unsupplied] == ["=B1"]


def test_write_without_batches_writes_three_files(tmp_path):
    written = write_audit_outputs(run_audit(make_bundle(with_batches=False), AS_OF, RULES), tmp_path)
    assert sorted(p.name for p in written) == ["audit.geojson", "ledger.xlsx", "summary.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audit.geojson", "ledger.xlsx", "summary.json"]


def test_followups_fill_their_rows_and_leave_the_others_empty(result, tmp_path):
    path = tmp_path / "ledger.xlsx"
    followups = {"L1": {"progress": "done", "note": "已约谈", "responsible_unit": "自然资源局"}}
    write_ledger(result, path, followups=followups)
    wb = load_workbook(path)
    low = {r["地块编号"]: r for r in table(wb["低效用地"])}
    assert low["L1"]["处置进展"] == "已处置；已约谈" and low["L1"]["责任单位"] == "自然资源局"
    others = [r for ws in wb if ws.title != "汇总" for r in table(ws) if r.get("地块编号") != "L1"]
    assert len(others) >= 3
    for row in others:  # no "nan" where nobody wrote anything
        assert (row["处置进展"], row["责任单位"], row["处置期限"]) == (None, None, None), row
