"""Downloads and the /api routes over a tiny bundle, read and computed as the server does."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from urllib.parse import unquote

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

import geopandas as gpd
from shapely.geometry import box

from api.app import create_app
from api.exports import content_disposition
from api.settings import Settings
from gis.io import read_bundle
from gis.pipeline import compute

X0, Y0 = 39_500_000.0, 3_760_000.0


def _write_bundle(path: Path) -> None:
    parcels = gpd.GeoDataFrame(
        {
            "parcel_id": ["A-1", "A-2", "A-3", "A-4"],
            "name": ["甲厂", "乙厂", "丙地块", "丁地块"],
            "planned_use": ["工业", "industrial", "industrial", "commercial"],
            "supply_status": ["supplied", "supplied", "unsupplied", "unsupplied"],
            "supplied_on": ["2019-03-01", "2020-05-01", None, None],
            "agreed_start_on": ["2019-09-01", "2020-11-01", None, None],
            "land_price_wan": [800.0, 500.0, None, None],
            "completed_on": [None, "2022-01-01", None, None],
            "floor_area_m2": [None, 2000.0, None, None],
            "annual_tax_wan": [None, 5.0, None, None],
            "annual_output_wan": [None, 100.0, None, None],
        },
        geometry=[box(X0 + i * 150, Y0, X0 + i * 150 + 100, Y0 + 100) for i in range(4)],
        crs=4527,
    )
    parcels.to_file(path / "parcels.gpkg", layer="parcels")
    batches = gpd.GeoDataFrame(
        {"batch_id": ["B1"], "approved_on": ["2018-06-01"], "batch_name": ["2018年第1批次"]},
        geometry=[box(X0 - 10, Y0 - 10, X0 + 600, Y0 + 110)],
        crs=4527,
    )
    batches.to_file(path / "batches.gpkg", layer="batches")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    bundle = tmp_path_factory.mktemp("bundle")
    _write_bundle(bundle)
    settings = Settings(_env_file=None, bundle=bundle, as_of=date(2024, 6, 30))
    # the read path (files -> audit and readiness); the edit store's path is covered by test_api_demo and the
    # editing tests
    results = compute(read_bundle(bundle), settings.as_of)
    with TestClient(create_app(settings, results=results)) as c:
        yield c


def _filename_star(header: str) -> str:
    return unquote(header.split("filename*=UTF-8''", 1)[1])


def test_content_disposition_has_utf8_name_and_ascii_fallback():
    header = content_disposition("示范区_地块.geojson", "parcels.geojson")
    assert header.startswith('attachment; filename="parcels.geojson"; ')
    assert _filename_star(header) == "示范区_地块.geojson"
    header.encode("latin-1")  # an HTTP header must be ASCII-safe


def test_geojson_export(client):
    r = client.get("/exports/parcels.geojson")
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    assert _filename_star(r.headers["content-disposition"]).endswith("地块.geojson")
    doc = r.json()
    assert [f["properties"]["parcel_id"] for f in doc["features"]] == ["A-1", "A-2", "A-3", "A-4"]
    first = doc["features"][0]
    assert first["properties"]["idle_stage"] == "idle_2y" and "idle" in first["properties"]["findings"]
    assert first["properties"]["readiness_tier"] == "supplied"
    lon, lat = first["geometry"]["coordinates"][0][0]
    assert 116 < lon < 118 and 33 < lat < 35  # RFC 7946 lon/lat


def test_csv_export_has_wkt_in_the_storage_crs(client):
    r = client.get("/exports/parcels.csv")
    assert r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [row["parcel_id"] for row in rows] == ["A-1", "A-2", "A-3", "A-4"]
    assert rows[0]["wkt"].startswith("POLYGON ((39500")
    assert json.loads(rows[0]["findings"]) == ["idle"]


def test_gpkg_export(client, tmp_path):
    r = client.get("/exports/unsupplied.gpkg")
    assert r.status_code == 200
    (tmp_path / "u.gpkg").write_bytes(r.content)
    gdf = gpd.read_file(tmp_path / "u.gpkg")
    assert gdf.crs.to_epsg() == 4527
    assert gdf.batch_id.tolist() == ["B1"]
    assert gdf.unsupplied_m2.iloc[0] > 0
    with sqlite3.connect(tmp_path / "u.gpkg") as db:  # GeoPackage 1.2, which Debian 12's GDAL 3.6 reads whole
        assert db.execute("PRAGMA user_version").fetchone()[0] == 10200


def test_ledger_xlsx(client):
    r = client.get("/exports/ledger.xlsx")
    assert r.status_code == 200
    assert _filename_star(r.headers["content-disposition"]).endswith("三清台账.xlsx")
    workbook = load_workbook(io.BytesIO(r.content), read_only=True)
    assert len(workbook.sheetnames) >= 3
    english = client.get("/exports/ledger.xlsx", params={"lang": "en"})
    assert load_workbook(io.BytesIO(english.content), read_only=True).sheetnames != workbook.sheetnames


def test_shapefile_zip_is_gbk_with_a_legend(client):
    r = client.get("/exports/parcels.zip")
    assert r.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(r.content)).namelist()
    assert {"parcels.shp", "parcels.dbf", "parcels.prj", "parcels.cpg"} <= set(names)
    cpg = zipfile.ZipFile(io.BytesIO(r.content)).read("parcels.cpg").decode()
    assert cpg.strip().upper() == "GBK"


def test_txt_export_holds_the_boundary_points(client):
    r = client.get("/exports/parcels.txt")
    assert r.status_code == 200
    text = r.content.decode("gbk")
    assert "[属性描述]" in text and "A-1" in text


def test_batches_csv_is_the_batch_table(client):
    r = client.get("/exports/batches.csv")
    header = r.content.decode("utf-8-sig").splitlines()[0]
    assert header.startswith("batch_id,approved_on,batch_m2,supplied_m2,unsupplied_m2,supply_rate")


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/exports/parcels.shp", 400),
        ("/exports/nope.geojson", 404),
        ("/exports/ledger.csv", 400),
        ("/exports/parcels.xlsx?lang=fr", 400),
    ],
)
def test_bad_exports(client, path, status):
    r = client.get(path)
    assert r.status_code == status
    assert set(r.json()) == {"code", "description"}


def test_exports_revalidate(client):
    first = client.get("/exports/parcels.geojson")
    again = client.get("/exports/parcels.geojson", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


def test_summary(client):
    doc = client.get("/api/summary").json()
    assert doc["as_of"] == "2024-06-30"
    assert doc["totals"]["idle"]["count"] == 1
    assert set(doc["totals"]) == {"approved_unsupplied", "idle", "low_efficiency"}


def test_one_parcel_has_audit_and_readiness_properties(client):
    r = client.get("/api/parcels/A-3")
    assert r.headers["content-type"] == "application/geo+json"
    props = r.json()["properties"]
    assert props["parcel_id"] == "A-3"
    assert props["findings"] == ["approved_unsupplied"]
    assert props["readiness_tier"] in {"blocked", "ready", "nearly_ready", "not_ready"}
    assert isinstance(props["missing"], list) and "readiness_score" in props
    assert client.get("/api/parcels/NOPE").status_code == 404


def test_parcels_collection_equals_the_audit(client):
    results = client.app.state.results
    audit = results.audit.parcels.set_index("parcel_id")
    doc = client.get("/ogc/collections/parcels/items").json()
    for feature in doc["features"]:
        row = audit.loc[feature["id"]]
        assert feature["properties"]["idle_stage"] == row["idle_stage"]
        assert feature["properties"]["area_m2"] == pytest.approx(row["area_m2"])
    assert pd.Timestamp(doc["features"][0]["properties"]["supplied_on"]) == pd.Timestamp("2019-03-01")


def test_csv_and_xlsx_exports_neutralise_spreadsheet_formulas():
    from openpyxl import load_workbook

    from api.exports import _csv, _xlsx_table

    frame = pd.DataFrame(
        {"name": ["=1+2", "@SUM(A1)", "正常"], "n": [-1.0, 2.0, 3.0], "wkt": ["POINT (1 2)"] * 3}
    )
    rows = list(csv.DictReader(io.StringIO(_csv(frame).decode("utf-8-sig"))))
    assert [r["name"] for r in rows] == ["'=1+2", "'@SUM(A1)", "正常"]
    assert [r["n"] for r in rows] == ["-1.0", "2.0", "3.0"]  # numbers keep their sign
    ws = load_workbook(io.BytesIO(_xlsx_table(frame, "t"))).active
    assert [c.value for c in ws["A"]][1:] == ["'=1+2", "'@SUM(A1)", "正常"]
