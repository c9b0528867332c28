"""The map's server side: viewport features, cards, search, summary, page, assets, hillshade, standalone file.

`make_results` builds a tiny zone with known audit and readiness properties (no audit is run), shared with the
browser tests in test_map_browser.py.
"""

from __future__ import annotations

import json
import re
import struct
import zlib
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import geopandas as gpd
import rasterio
import shapely
from rasterio.transform import from_origin
from shapely.geometry import LineString, box

from data import RULES_FILE
from gis.audit import AuditResult
from gis.bundle import Bundle
from gis.pipeline import Results
from gis.rules import load_rules
from maps.cards import parcel_card
from maps.features import FeatureIndex
from maps.hillshade import render_tile
from maps.router import router
from maps.standalone import standalone_html, write_map
from maps.summary import summary_html

CRS = "EPSG:4547"  # CGCS2000 3-degree GK CM 114E
X0, Y0 = 500_000.0, 3_380_000.0  # about 114.0E, 30.54N
SIZE = 200.0

IDLE_REF = "《闲置土地处置办法》第十四条：未动工开发满两年的，无偿收回国有建设用地使用权"

# parcel id -> (column, row, props)
PARCELS = {
    "P001": (
        0,
        0,
        {
            "name": "甲机械厂房",
            "supply_status": "supplied",
            "planned_use": "industrial",
            "idle_stage": "idle_2y",
            "idle_disposal": "reclaim",
            "idle_since": "2021-03-01",
            "idle_days": 1402,
            "findings": ["idle"],
            "actions": ["无偿收回国有建设用地使用权"],
            "rule_refs": [IDLE_REF],
        },
    ),
    "P002": (
        1,
        0,
        {
            "name": "乙纺织",
            "supply_status": "supplied",
            "planned_use": "industrial",
            "mujun_grade": "D",
            "low_efficiency_reasons": ["far", "tax"],
            "far": 0.42,
            "far_required": 1.0,
            "tax_per_mu": 3.1,
            "tax_required_wan_per_mu": 10.0,
            "findings": ["low_efficiency"],
            "actions": ["纳入低效用地再开发"],
        },
    ),
    "P003": (
        2,
        0,
        {"name": "丙电子", "supply_status": "supplied", "planned_use": "industrial", "mujun_grade": "A"},
    ),
    "P004": (
        0,
        1,
        {
            "name": "丁地块",
            "supply_status": "unsupplied",
            "planned_use": "industrial",
            "findings": ["approved_unsupplied"],
            "actions": ["加快供地"],
        },
    ),
    "P005": (1, 1, {"name": "戊地块", "supply_status": "unsupplied", "planned_use": "industrial"}),
    "P006": (2, 1, {"name": "己地块", "supply_status": "unsupplied", "planned_use": "warehouse"}),
    "P007": (
        0,
        2,
        {
            "name": "庚物流",
            "supply_status": "supplied",
            "planned_use": "warehouse",
            "idle_stage": "overdue_start",
            "idle_disposal": "warn",
        },
    ),
    "P008": (
        1,
        2,
        {
            "name": "辛化工",
            "supply_status": "supplied",
            "planned_use": "industrial",
            "idle_stage": "stalled",
            "idle_disposal": "review",
            "findings": ["idle"],
        },
    ),
    "P009": (
        2,
        2,
        {"name": "壬食品", "supply_status": "supplied", "planned_use": "industrial", "mujun_grade": "B"},
    ),
}
READINESS = {
    "P004": (
        "nearly_ready",
        ["assessment:eia", "infra:power"],
        {"assessment:eia": "生态环境局", "infra:power": "供电公司"},
    ),
    "P005": ("blocked", ["constraint:basic_farmland"], {"constraint:basic_farmland": "自然资源局"}),
    "P006": ("ready", [], {}),
}


def parcel_box(col: int, row: int) -> shapely.Geometry:
    x, y = X0 + col * (SIZE + 50), Y0 + row * (SIZE + 50)
    return box(x, y, x + SIZE, y + SIZE)


def parcel_center_wgs84(pid: str) -> tuple[float, float]:
    col, row, _ = PARCELS[pid]
    c = gpd.GeoSeries([parcel_box(col, row).centroid], crs=CRS).to_crs(4326).iloc[0]
    return c.x, c.y


def _frame(records: list[dict], geoms: list) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(pd.DataFrame(records), geometry=geoms, crs=CRS)


def make_results(dem: Path | None = None) -> Results:
    """Nine 200 m parcels with hand-set audit and readiness properties, plus every other map layer."""
    records, geoms = [], []
    for pid, (col, row, props) in PARCELS.items():
        rec = {
            "parcel_id": pid,
            "name": props["name"],
            "supply_status": props["supply_status"],
            "planned_use": props["planned_use"],
            "supplied_on": pd.Timestamp("2019-05-01") if props["supply_status"] == "supplied" else pd.NaT,
            "agreed_start_on": pd.Timestamp("2020-03-01"),
            "area_m2": SIZE * SIZE,
            "area_ha": SIZE * SIZE / 1e4,
            "area_mu": SIZE * SIZE * 15 / 1e4,
            "findings": props.get("findings", []),
            "actions": props.get("actions", []),
            "rule_refs": props.get("rule_refs", []),
            "missing_inputs": [],
            "idle_stage": props.get("idle_stage", "none"),
            "idle_since": pd.Timestamp(props["idle_since"]) if "idle_since" in props else pd.NaT,
            "idle_disposal": props.get("idle_disposal", "none"),
            "idle_days": float(props.get("idle_days", np.nan)),
            "low_efficiency_reasons": props.get("low_efficiency_reasons", []),
            "far": props.get("far", np.nan),
            "far_required": props.get("far_required", np.nan),
            "tax_per_mu": props.get("tax_per_mu", np.nan),
            "tax_required_wan_per_mu": props.get("tax_required_wan_per_mu", np.nan),
            "mujun_grade": props.get("mujun_grade"),
        }
        records.append(rec)
        geoms.append(parcel_box(col, row))
    parcels = _frame(records, geoms)

    ready_records = []
    for pid in PARCELS:
        tier, missing, depts = READINESS.get(pid, ("supplied", [], {}))
        ready_records.append(
            {
                "parcel_id": pid,
                "readiness_tier": tier,
                "missing": missing,
                "readiness_score": None if tier == "supplied" else 90.0,
                "missing_detail": [
                    {"code": c, "department": depts[c], "evidence": "测试依据"} for c in missing
                ],
            }
        )
    readiness = _frame(ready_records, geoms)

    batch_a = box(X0 - 20, Y0 + SIZE + 40, X0 + 3 * SIZE + 120, Y0 + 2 * SIZE + 60)
    batches = _frame(
        [
            {
                "batch_id": "B2015-01",
                "batch_name": "2015年第一批次",
                "approved_on": pd.Timestamp("2015-06-01"),
            },
            {
                "batch_id": "B2024-02",
                "batch_name": "2024年第二批次",
                "approved_on": pd.Timestamp("2024-04-01"),
            },
        ],
        [batch_a, box(X0 + 800, Y0, X0 + 1000, Y0 + 200)],
    )
    unsupplied = _frame(
        [
            {
                "batch_id": "B2015-01",
                "approved_on": pd.Timestamp("2015-06-01"),
                "unsupplied_m2": 90_000.0,
                "unsupplied_ha": 9.0,
                "unsupplied_mu": 135.0,
                "supply_rate": 0.1,
                "age_years": 10,
                "age_bucket": "ge5y",
                "lapse_risk": False,
            },
            {
                "batch_id": "B2024-02",
                "approved_on": pd.Timestamp("2024-04-01"),
                "unsupplied_m2": 40_000.0,
                "unsupplied_ha": 4.0,
                "unsupplied_mu": 60.0,
                "supply_rate": 0.0,
                "age_years": 1,
                "age_bucket": "lt2y",
                "lapse_risk": False,
            },
        ],
        [batch_a.difference(shapely.union_all(geoms[:3])), box(X0 + 800, Y0, X0 + 1000, Y0 + 200)],
    )
    layers = {
        "parcels": parcels[["parcel_id", "name", "supply_status", "planned_use", "geometry"]],
        "batches": batches,
        "zone_boundary": _frame([{"name": "测试开发区"}], [box(X0 - 100, Y0 - 100, X0 + 1100, Y0 + 900)]),
        "basic_farmland": _frame([{}], [box(X0 + 300, Y0 + 300, X0 + 380, Y0 + 380)]),
        "eco_redline": _frame([{}], [box(X0 + 1000, Y0 + 700, X0 + 1090, Y0 + 890)]),
        "hv_lines": _frame(
            [{"voltage_kv": 220.0}], [LineString([(X0 - 90, Y0 + 470), (X0 + 1090, Y0 + 470)])]
        ),
        "infrastructure": _frame(
            [{"kind": "road", "status": "built"}, {"kind": "power", "status": "planned"}],
            [
                LineString([(X0 - 90, Y0 - 30), (X0 + 1090, Y0 - 30)]),
                LineString([(X0 + 725, Y0 - 90), (X0 + 725, Y0 + 890)]),
            ],
        ),
        "assessments": _frame(
            [{"kind": "eia", "completed_on": pd.Timestamp("2022-01-01"), "valid_until": pd.NaT}],
            [box(X0 - 100, Y0 - 100, X0 + 1100, Y0 + 900)],
        ),
    }
    rasters = {"dem": dem} if dem is not None else {}
    bundle = Bundle(Path("测试开发区"), gpd.GeoSeries(crs=CRS).crs, layers, rasters, {"name": "测试开发区"})
    summary = {
        "as_of": "2025-01-15",
        "zone_area_ha": 96.0,
        "totals": {
            "approved_unsupplied": {"m2": 130_000.0, "ha": 13.0, "mu": 195.0, "count": 2},
            "idle": {"m2": 80_000.0, "ha": 8.0, "mu": 120.0, "count": 2},
            "low_efficiency": {"m2": 40_000.0, "ha": 4.0, "mu": 60.0, "count": 1},
        },
        "idle_stages": {
            "idle_2y": {"m2": 40_000.0, "ha": 4.0, "mu": 60.0, "count": 1},
            "stalled": {"m2": 40_000.0, "ha": 4.0, "mu": 60.0, "count": 1},
            "overdue_start": {"m2": 40_000.0, "ha": 4.0, "mu": 60.0, "count": 1},
        },
        "five_year_supply_rate": 0.42,
        "industrial_development_intensity": {"value": 0.51, "province_benchmark": 0.58},
        "indicators": {},
        "warnings": ["测试提示"],
    }
    audit = AuditResult(parcels, unsupplied, None, summary, date(2025, 1, 15))
    return Results(bundle, date(2025, 1, 15), load_rules(RULES_FILE), audit, readiness)


def write_dem(path: Path) -> Path:
    """A 1.2 km hill in the zone's CRS, 10 m cells."""
    n = 140
    yy, xx = np.mgrid[0:n, 0:n]
    elev = (50 + 150 * np.exp(-((xx - 70) ** 2 + (yy - 70) ** 2) / 900.0)).astype("float32")
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=n,
        height=n,
        count=1,
        dtype="float32",
        crs=CRS,
        transform=from_origin(X0 - 200, Y0 + 1200, 10, 10),
        nodata=-9999,
    ) as dst:
        dst.write(elev, 1)
    return path


def map_app(results: Results) -> FastAPI:
    app = FastAPI()
    app.include_router(router)
    app.state.results = results
    return app


@pytest.fixture
def results(tmp_path: Path) -> Results:
    return make_results(write_dem(tmp_path / "dem.tif"))


@pytest.fixture
def client(results: Results) -> TestClient:
    return TestClient(map_app(results))


def _bbox_all() -> str:
    return "113.9,30.4,114.1,30.7"


def test_features_in_view_with_classes(client: TestClient) -> None:
    r = client.get("/maps/features/idle", params={"bbox": _bbox_all(), "zoom": 15})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/geo+json")
    fc = r.json()
    got = {f["properties"]["id"]: f["properties"]["c"] for f in fc["features"]}
    assert got == {"P001": "idle_2y", "P007": "overdue_start", "P008": "stalled"}
    assert fc["truncated"] is False
    ready = client.get("/maps/features/readiness", params={"bbox": _bbox_all(), "zoom": 15}).json()
    assert {f["properties"]["id"]: f["properties"]["c"] for f in ready["features"]} == {
        "P004": "nearly_ready",
        "P005": "blocked",
        "P006": "ready",
    }


def test_features_only_in_box(client: TestClient) -> None:
    lon, lat = parcel_center_wgs84("P001")
    bbox = f"{lon - 0.0002},{lat - 0.0002},{lon + 0.0002},{lat + 0.0002}"
    ids = [
        f["properties"]["id"]
        for f in client.get(f"/maps/features/parcels?bbox={bbox}&zoom=17").json()["features"]
    ]
    assert ids == ["P001"]


def test_feature_cap_keeps_largest(results: Results) -> None:
    index = FeatureIndex(results)
    body, count, truncated = index.layers["unsupplied"].query((113.9, 30.4, 114.1, 30.7), 15, cap=1)
    fc = json.loads(body)
    assert (count, truncated) == (1, True)
    assert fc["features"][0]["properties"]["id"] == "B2015-01"  # 9 ha beats 4 ha


def test_low_zoom_simplifies_and_rounds(results: Results) -> None:
    layer = FeatureIndex(results).layers["zone_boundary"]
    fine = json.loads(layer.query((113.9, 30.4, 114.1, 30.7), 18, 10)[0])
    coarse = json.loads(layer.query((113.9, 30.4, 114.1, 30.7), 8, 10)[0])
    fine_xy = fine["features"][0]["geometry"]["coordinates"][0][0]
    coarse_xy = coarse["features"][0]["geometry"]["coordinates"][0][0]
    assert len(str(coarse_xy[0])) < len(str(fine_xy[0]))
    assert coarse_xy[0] == pytest.approx(fine_xy[0], abs=1e-4)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/maps/features/nothing?bbox=1,2,3,4", 404),
        ("/maps/features/parcels?bbox=1,2,3", 400),
        ("/maps/features/parcels?bbox=5,2,3,4", 400),
        ("/maps/features/parcels?bbox=a,b,c,d", 400),
        ("/maps/card/parcels/NOPE", 404),
        ("/maps/static/..%2Frouter.py", 404),
        ("/?lang=fr", 422),
    ],
)
def test_bad_requests_are_4xx_json(client: TestClient, path: str, status: int) -> None:
    r = client.get(path)
    assert r.status_code == status
    if status != 422:
        assert set(r.json()) == {"code", "description"}


def test_hv_corridor_uses_half_width(results: Results) -> None:
    corridor = FeatureIndex(results).layers["hv_lines"].frame
    assert corridor["half_width_m"].tolist() == [20.0]  # 220 kV
    assert corridor.geometry.iloc[0].area == pytest.approx(1180 * 40, rel=1e-6)


def test_parcel_card_idle(client: TestClient) -> None:
    card = client.get("/maps/card/parcels/P001").json()
    assert card["id"] == "P001" and card["name"] == "甲机械厂房"
    assert card["area"] == {"mu": 60.0, "ha": 4.0}
    [finding] = card["findings"]
    assert finding["key"] == "idle" and finding["label"] == "闲置土地"
    evidence = dict(finding["evidence"])
    assert evidence["闲置阶段"] == "闲置满2年"
    assert evidence["闲置起算日"] == "2021-03-01"
    assert evidence["处置方式"] == "无偿收回"
    assert finding["action"] == "无偿收回国有建设用地使用权"
    assert any("第十四条" in r for r in finding["rules"])
    assert card["links"] == {
        "geojson": "/ogc/collections/parcels/items/P001",
        "history": "/api/parcels/P001/history",
    }
    assert card["readiness"] is None  # supplied


def test_parcel_card_low_efficiency_reasons_and_rules(client: TestClient) -> None:
    card = client.get("/maps/card/low_efficiency/P002").json()
    [finding] = card["findings"]
    evidence = dict(finding["evidence"])
    assert evidence["低效原因"] == "容积率不达标、亩均税收不达标"
    assert evidence["容积率"] == "0.42" and evidence["容积率控制值"] == "1"
    assert len(finding["rules"]) == 2 and "容积率" in finding["rules"][0]


def test_parcel_card_readiness_checklist(client: TestClient) -> None:
    card = client.get("/maps/card/readiness/P004").json()
    assert card["findings"][0]["key"] == "approved_unsupplied"
    checklist = {i["code"]: i for i in card["readiness"]["checklist"]}
    assert checklist["assessment:eia"]["ok"] is False
    assert checklist["assessment:eia"]["department"] == "生态环境局"
    assert checklist["infra:power"]["department"] == "供电公司"
    assert checklist["infra:road"] == {
        "code": "infra:road",
        "label": "配套：道路",
        "ok": True,
        "department": None,
        "evidence": None,
    }
    assert card["readiness"]["tier_label"] == "基本就绪（缺1–2项）"


def test_card_in_english(client: TestClient) -> None:
    card = client.get("/maps/card/parcels/P001?lang=en").json()
    assert card["findings"][0]["label"] == "Idle land"
    assert dict(card["findings"][0]["evidence"])["Idle stage"] == "idle ≥ 2 years"


def test_feature_card_for_other_layers(client: TestClient) -> None:
    card = client.get("/maps/card/unsupplied/B2015-01").json()
    rows = dict(card["rows"])
    assert card["title"] == "批而未供（按批准年限）"
    assert rows["未供面积（亩）"] == "135" and rows["年限分组"] == "5年以上"
    infra = client.get("/maps/card/infrastructure/1?lang=en").json()
    assert dict(infra["rows"]) == {"Kind": "power", "Status": "planned"}


def test_search_by_id_and_name(client: TestClient) -> None:
    hits = client.get("/maps/search", params={"q": "P004"}).json()
    assert hits[0]["id"] == "P004" and len(hits[0]["bbox"]) == 4
    assert [h["id"] for h in client.get("/maps/search", params={"q": "纺织"}).json()] == ["P002"]
    assert client.get("/maps/search", params={"q": "无此地块"}).json() == []


def test_summary_panel(results: Results) -> None:
    html = summary_html(results, "zh")
    assert 'data-total="approved_unsupplied"' in html and "195.0" in html
    assert "51.0%" in html and "58.0%" in html and "lr-bad" in html  # below the benchmark
    assert "42.0%" in html  # five-year supply rate
    assert html.count("<svg") >= 4  # gauges and charts, inline
    assert "批而未供面积（亩）按批准年份" in html and ">2015<" in html
    assert "Audit totals" in summary_html(results, "en")


def test_page_is_small_offline_and_labelled(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    html = r.text
    assert len(r.content) < 1_000_000
    assert '<html lang="zh-CN">' in html
    refs = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert refs and all(ref.startswith(("/maps/static/", "data:")) for ref in refs), refs
    assert "闲置土地（按阶段）" in html and "P001" not in html  # parcels are fetched, not inlined
    for ref in refs:
        assert ref.startswith("data:") or client.get(ref).status_code == 200
    en = client.get("/?lang=en").text
    assert "Idle land (by stage)" in en and '<html lang="en">' in en


def test_static_css_images_are_served(client: TestClient) -> None:
    for path in (
        "vendor/leaflet/images/layers.png",
        "vendor/leaflet-measure/assets/rulers.png",
        "vendor/leaflet.fullscreen/icon-fullscreen.svg",
        "vendor/leaflet/LICENSE",
    ):
        assert client.get("/maps/static/" + path).status_code == 200


def _png_size(png: bytes) -> tuple[int, int, bytes]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = struct.unpack(">II", png[16:24])
    pos, idat = 8, b""
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind = png[pos + 4 : pos + 8]
        if kind == b"IDAT":
            idat += png[pos + 8 : pos + 8 + length]
        pos += 12 + length
    return w, h, zlib.decompress(idat)


def _lonlat_tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - np.log(np.tan(np.radians(lat)) + 1 / np.cos(np.radians(lat))) / np.pi) / 2 * n)
    return x, y


def test_hillshade_tile(client: TestClient, results: Results) -> None:
    lon, lat = parcel_center_wgs84("P005")
    x, y = _lonlat_tile(lon, lat, 15)
    r = client.get(f"/maps/tiles/hillshade/15/{x}/{y}.png")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    w, h, raw = _png_size(r.content)
    rows = np.frombuffer(raw, np.uint8).reshape(h, 1 + 2 * w)
    grey, alpha = rows[:, 1::2], rows[:, 2::2]
    assert (w, h) == (256, 256)
    assert alpha.max() == 200 and grey[alpha > 0].std() > 5  # shaded relief, not flat
    far = render_tile(results.bundle.rasters["dem"], 15, x + 40, y)
    assert np.frombuffer(_png_size(far)[2], np.uint8).reshape(256, 513)[:, 2::2].max() == 0
    assert client.get("/maps/tiles/hillshade/3/6/3.png").status_code == 200
    assert client.get("/maps/tiles/hillshade/3/8/0.png").status_code == 400


def test_card_uses_rules_when_audit_has_no_refs(results: Results) -> None:
    index = FeatureIndex(results)
    audit_row, ready_row = index.parcel_rows("P008")
    card = parcel_card(audit_row, ready_row, results.rules, "zh")
    assert any("中止开发建设" in r for r in card["findings"][0]["rules"])


def test_standalone_file_has_everything_inline(results: Results, tmp_path: Path) -> None:
    out = tmp_path / "report" / "map.html"
    write_map(results, out)
    html = out.read_text(encoding="utf-8")
    assert not re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="(?!data:)', html)
    assert "url(images/" not in html and 'url("assets/' not in html
    assert '"P001"' in html and "甲机械厂房" in html and "生态环境局" in html
    assert "Idle land (by stage)" in standalone_html(results, "en")
    assert re.search(r'L\.imageOverlay\(\s*"data:image/png;base64,', html)  # the DEM's hillshade, inline
    assert not list(out.parent.glob(".map.html.*"))


def test_online_basemaps_only_from_settings(results: Results) -> None:
    from maps.settings import MapSettings

    offline = TestClient(map_app(results)).get("/").text
    assert not re.search(r"https?://[^\"'\s]*\{z\}", offline)  # no online tile layer
    app = map_app(results)
    app.state.map_settings = MapSettings(tianditu_key="KEY123", osm=True, amap=True, _env_file=None)
    online = TestClient(app).get("/").text
    assert "https://t{s}.tianditu.gov.cn/vec_w/wmts?" in online and '"tk": "KEY123"' in online
    assert "LAYER=cva" in online and "tile.openstreetmap.org" in online
    assert '"gcj02": true' in online  # the AMap layer tells the client to shift the overlays


def test_low_efficiency_by_grade_and_by_reason(client: TestClient) -> None:
    grades = client.get("/maps/features/low_efficiency", params={"bbox": _bbox_all()}).json()
    assert {f["properties"]["id"]: f["properties"]["c"] for f in grades["features"]} == {
        "P002": "D",
        "P003": "A",
        "P009": "B",
    }
    reasons = client.get("/maps/features/low_efficiency_reason", params={"bbox": _bbox_all()}).json()
    assert [(f["properties"]["id"], f["properties"]["c"]) for f in reasons["features"]] == [("P002", "far")]


def test_warm_builds_the_index_once(results: Results) -> None:
    from maps.router import warm

    app = map_app(results)
    warm(app).join(timeout=60)
    index = app.state.map_index
    assert index.results is results
    TestClient(app).get("/maps/search?q=P001")
    assert app.state.map_index is index  # reused, not rebuilt


def test_requests_during_warm_wait_for_the_one_build(
    results: Results, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from starlette.datastructures import State

    import maps.router as map_router

    built, started, release = [], threading.Event(), threading.Event()

    class SlowIndex(FeatureIndex):
        def __init__(self, res: Results) -> None:
            super().__init__(res)
            started.set()
            release.wait(timeout=30)  # requests arrive while the warm() thread is still building
            built.append(self)

    answers: list = []

    class PeekingState(State):
        """Serves a page the instant the index is published, before the builder's next statement."""

        def __setattr__(self, key: str, value: object) -> None:
            super().__setattr__(key, value)
            if key == "map_index":
                peek = threading.Thread(target=lambda: answers.append(client.get("/?lang=en")))
                peek.start()
                peek.join(timeout=60)

    monkeypatch.setattr(map_router, "FeatureIndex", SlowIndex)
    app = map_app(results)
    app.state = PeekingState(app.state._state)
    client = TestClient(app, raise_server_exceptions=False)
    warm = map_router.warm(app)
    assert started.wait(timeout=30)
    pending = [
        threading.Thread(target=lambda path=path: answers.append(client.get(path)))
        for path in ("/", "/maps/search?q=P001", "/maps/card/parcels/P004")
    ]
    for t in pending:
        t.start()
    release.set()
    warm.join(timeout=60)
    for t in pending:
        t.join(timeout=60)
    assert [r.status_code for r in answers] == [200] * 4
    assert len(built) == 1 and app.state.map_index is built[0]

    # new results (an edit's recompute): a new index, and pages rendered from it, not the old results' pages
    app.state.results = make_results()
    assert client.get("/").status_code == 200
    assert len(built) == 2 and app.state.map_index.results is app.state.results


def test_base_parcels_too_small_to_see_are_not_sent(client: TestClient) -> None:
    # 200 m parcels are under 2 px at zoom 9 (about 300 m per pixel): the base layer sends none and says so
    far = client.get("/maps/features/parcels", params={"bbox": _bbox_all(), "zoom": 9}).json()
    assert far["features"] == [] and far["truncated"] is True
    # thematic layers still show their parcels at that zoom
    assert (
        len(client.get("/maps/features/idle", params={"bbox": _bbox_all(), "zoom": 9}).json()["features"])
        == 3
    )
    near = client.get("/maps/features/parcels", params={"bbox": _bbox_all(), "zoom": 14}).json()
    assert len(near["features"]) == 9 and near["truncated"] is False


def test_several_layers_in_one_request(client: TestClient) -> None:
    r = client.get("/maps/features/parcels,idle", params={"bbox": _bbox_all(), "zoom": 15})
    assert r.status_code == 200 and r.headers["X-Feature-Count"] == "12"
    body = r.json()
    assert set(body) == {"parcels", "idle"}
    assert len(body["parcels"]["features"]) == 9 and len(body["idle"]["features"]) == 3
    assert client.get("/maps/features/parcels,nothing", params={"bbox": _bbox_all()}).status_code == 404


def test_bare_results_still_make_a_page(tmp_path: Path) -> None:
    parcels = _frame([{"parcel_id": "A1"}, {"parcel_id": "A2"}], [parcel_box(0, 0), parcel_box(1, 0)])
    bundle = Bundle(Path("bare"), parcels.crs, {"parcels": parcels})
    audit = AuditResult(parcels, None, None, {"as_of": "2025-01-15", "totals": {}})
    bare = Results(bundle, date(2025, 1, 15), load_rules(RULES_FILE), audit, parcels.iloc[0:0])
    client = TestClient(map_app(bare))
    page = client.get("/")
    assert page.status_code == 200 and "全部地块" in page.text
    assert client.get("/maps/features/parcels", params={"bbox": _bbox_all()}).json()["features"]
    card = client.get("/maps/card/parcels/A2").json()
    assert card["findings"] == [] and card["readiness"] is None and card["area"] == {"mu": None, "ha": None}
    write_map(bare, tmp_path / "bare.html")


def test_planned_infrastructure_is_marked(client: TestClient) -> None:
    fc = client.get("/maps/features/infrastructure", params={"bbox": _bbox_all()}).json()
    assert sorted(f["properties"]["c"] for f in fc["features"]) == ["power:planned", "road"]


def test_base_parcels_are_coloured_by_their_status_as_of_the_date(results: Results) -> None:
    later = results.audit.parcels.copy()
    later.loc[later["parcel_id"] == "P002", "supplied_on"] = pd.Timestamp("2025-06-01")  # after 2025-01-15
    index = FeatureIndex(replace(results, audit=replace(results.audit, parcels=later)))
    classes = dict(zip(index.layers["parcels"].ids, index.layers["parcels"].classes, strict=True))
    assert (
        classes["P002"] == "unsupplied" and classes["P001"] == "supplied" and classes["P005"] == "unsupplied"
    )
