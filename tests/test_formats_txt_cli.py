"""`import_txt` / `export_txt`, the functions behind `landready import-txt` / `export-txt`."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

import geopandas as gpd
from shapely.geometry import Point, Polygon, box

from gis.errors import InputError
from gis.formats.shapefile import shapefile_zip
from gis.formats.txt import read_txt
from gis.formats.txt_cli import export_txt, import_txt

FIXTURES = Path(__file__).parent / "fixtures" / "txt"
B = FIXTURES / "case_b_hole_gbk_crlf.txt"
C = FIXTURES / "case_c_tolerant_utf8bom.txt"


def test_import_txt_writes_rfc7946(tmp_path):
    out = tmp_path / "b.geojson"
    assert import_txt(B, out) == []
    doc = json.loads(out.read_text(encoding="utf-8"))
    (feature,) = doc["features"]
    assert feature["properties"]["parcel_id"] == "DK01"
    assert feature["properties"]["name"] == "测试地块一"
    shell = feature["geometry"]["coordinates"][0]
    assert [117.0, 30.7215195] in shell
    area = gpd.read_file(out).to_crs(4527).area.iloc[0]
    assert area == pytest.approx(9600, abs=0.5)


def test_import_txt_returns_warnings(tmp_path):
    warnings = import_txt(C, tmp_path / "c.geojson")
    assert any("ring closed automatically" in w for w in warnings)


def test_import_txt_bad_input_leaves_nothing(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("[属性描述]\n带号=39\n[地块坐标]\n5,1,D1,x,面,,,,@\nJ1,1,abc,39500000\n", encoding="utf-8")
    out = tmp_path / "out" / "bad.geojson"
    with pytest.raises(InputError, match=r"bad.txt.*第 5 行"):
        import_txt(bad, out)
    assert not out.exists()
    assert not any(out.parent.glob("*")) if out.parent.exists() else True


@pytest.mark.parametrize("ext", ["geojson", "gpkg", "shp", "parquet"])
def test_export_txt_from_layer_files(tmp_path, ext):
    source = read_txt(B).gdf
    layer = tmp_path / f"parcels.{ext}"
    if ext == "geojson":
        source.to_crs(4326).to_file(layer)
    elif ext == "parquet":
        source.to_parquet(layer)
    elif ext == "shp":  # as our own export writes it: GBK, short field names (DKBH, DKMC, DKYT, DLBM …)
        with zipfile.ZipFile(io.BytesIO(shapefile_zip(source, "parcels"))) as archive:
            archive.extractall(tmp_path)
    else:
        source.to_file(layer)
    out = tmp_path / "out.txt"
    export_txt(layer, out)
    result = read_txt(out)
    assert result.crs.to_epsg() == 4527
    assert result.encoding == "gb18030"
    row = result.gdf.iloc[0]
    assert (row.parcel_id, row["name"]) == ("DK01", "测试地块一")
    assert row.geometry.symmetric_difference(source.geometry.iloc[0]).area < 0.01
    if ext != "geojson":
        assert (
            out.read_bytes().split(b"[\xb5\xd8\xbf\xe9\xd7\xf8\xb1\xea]")[1]
            == B.read_bytes().split(b"[\xb5\xd8\xbf\xe9\xd7\xf8\xb1\xea]")[1]
        )


def test_export_txt_utf8_and_projected_crs(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"parcel_id": ["G1"], "name": ["𠀀号地"]},
        geometry=[box(500000, 3300000, 500050, 3300040)],
        crs="EPSG:4549",
    )
    layer = tmp_path / "p.gpkg"
    gdf.to_file(layer)
    with pytest.raises(InputError, match=r"p.gpkg.*feature G1, field name"):
        export_txt(layer, tmp_path / "gbk.txt")
    assert not (tmp_path / "gbk.txt").exists()
    export_txt(layer, tmp_path / "utf8.txt", encoding="utf-8")
    result = read_txt(tmp_path / "utf8.txt")
    assert result.crs.to_epsg() == 4528 and result.gdf["name"].iloc[0] == "𠀀号地"


@pytest.mark.parametrize(
    ("geom", "match"),
    [(Point(117, 30), "Point"), (Polygon(), "non-empty polygon")],
)
def test_export_txt_bad_geometry(tmp_path, geom, match):
    layer = tmp_path / "x.geojson"
    gpd.GeoDataFrame({"parcel_id": ["X1"]}, geometry=[geom], crs=4326).to_file(layer)
    with pytest.raises(InputError, match=match):
        export_txt(layer, tmp_path / "x.txt")


def test_export_txt_unreadable_layer(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        export_txt(tmp_path / "missing.gpkg", tmp_path / "x.txt")
    junk = tmp_path / "junk.geojson"
    junk.write_text("not json")
    with pytest.raises(InputError, match="cannot read"):
        export_txt(junk, tmp_path / "x.txt")
