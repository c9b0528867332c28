"""`import_txt` / `export_txt`, the functions behind `landready import-txt` / `export-txt`."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

import geopandas as gpd
from shapely.geometry import Point, Polygon, box

from api.cli import app
from gis.errors import InputError
from gis.formats import txt_cli
from gis.formats.shapefile import shapefile_zip
from gis.formats.txt import TxtResult, read_txt
from gis.formats.txt_cli import export_txt, import_txt

FIXTURES = Path(__file__).parent / "fixtures" / "txt"
B = FIXTURES / "case_b_hole_gbk_crlf.txt"
C = FIXTURES / "case_c_tolerant_utf8bom.txt"
# fixture B's square without the zone prefix and without 带号: the CRS must be given
UNZONED = (
    "[属性描述]\n坐标系=2000国家大地坐标系\n几度分带=3\n带号=\n[地块坐标]\n5,1.0000,D1,一号,面,,,,@\n"
    "J1,1,3400100.000,500000.000\nJ2,1,3400100.000,500100.000\nJ3,1,3400000.000,500100.000\n"
    "J4,1,3400000.000,500000.000\nJ1,1,3400100.000,500000.000\n"
)


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


@pytest.mark.parametrize(
    ("crs", "match"),
    [
        ("garbage", "unknown CRS"),
        ("EPSG:99999", "unknown CRS"),
        ("EPSG:4326", "coordinates are metres but the crs is geographic"),
        ("EPSG:3857", "outside China"),
    ],
)
def test_import_txt_crs_that_does_not_work_names_the_option(tmp_path, crs, match):
    src = tmp_path / "u.txt"
    src.write_text(UNZONED, encoding="utf-8")
    out = tmp_path / "u.geojson"
    with pytest.raises(InputError, match=match) as info:
        import_txt(src, out, crs=crs)
    assert info.value.field == "--crs" and info.value.file == str(src)
    assert not out.exists()


def test_import_txt_crs_with_a_zone_prefix_gets_prefixed_eastings(tmp_path):
    src = tmp_path / "u.txt"
    src.write_text(UNZONED, encoding="utf-8")
    out = tmp_path / "u.geojson"
    warnings = import_txt(src, out, crs="EPSG:4527")
    assert any("zone prefix added" in w for w in warnings)
    text = out.read_text(encoding="utf-8")
    assert "Infinity" not in text and "NaN" not in text
    shell = json.loads(text)["features"][0]["geometry"]["coordinates"][0]
    assert [117.0, 30.7215195] in shell


def test_import_txt_refuses_coordinates_that_do_not_transform(tmp_path, monkeypatch):
    gdf = gpd.GeoDataFrame({"parcel_id": ["D1"]}, geometry=[box(500000, 3400000, 500100, 3400100)], crs=4527)
    monkeypatch.setattr(txt_cli, "read_txt", lambda *a, **k: TxtResult(gdf, gdf.crs, {}, []))
    out = tmp_path / "x.geojson"
    with pytest.raises(InputError, match=r"feature D1, field geometry.*do not transform"):
        import_txt(tmp_path / "x.txt", out)
    assert not out.exists()


@pytest.mark.parametrize("ext", ["gpkg", "parquet"])
def test_import_txt_layer_keeps_the_zone_and_round_trips_the_file(tmp_path, ext):
    layer = tmp_path / f"b.{ext}"
    assert import_txt(B, layer) == []
    gdf = gpd.read_parquet(layer) if ext == "parquet" else gpd.read_file(layer, layer="parcels")
    assert gdf.crs.to_epsg() == 4527
    assert gdf.geometry.iloc[0].equals(read_txt(B).gdf.geometry.iloc[0])  # exact, not via 7-decimal degrees
    assert (gdf["数据产生单位"].iloc[0], gdf["数据产生日期"].iloc[0]) == ("某县自然资源局", "2024-05-20")
    out = tmp_path / "b.txt"
    assert export_txt(layer, out) == []
    assert out.read_bytes() == B.read_bytes()


def test_import_txt_geojson_carries_the_header_values(tmp_path):
    out = tmp_path / "b.geojson"
    import_txt(B, out)
    properties = json.loads(out.read_text(encoding="utf-8"))["features"][0]["properties"]
    assert properties["数据产生单位"] == "某县自然资源局" and properties["转换参数"] == ",,,,,,"
    export_txt(out, tmp_path / "b.txt")
    head = (tmp_path / "b.txt").read_bytes().split(b"[\xb5\xd8\xbf\xe9\xd7\xf8\xb1\xea]")[0]
    assert head == B.read_bytes().split(b"[\xb5\xd8\xbf\xe9\xd7\xf8\xb1\xea]")[0]


def test_export_txt_header_values_from_our_shapefile_legend(tmp_path):
    # Chinese field names become F<n> in the DBF; 字段对照表.csv maps them back
    layer = tmp_path / "b.gpkg"
    import_txt(B, layer)
    with zipfile.ZipFile(io.BytesIO(shapefile_zip(gpd.read_file(layer), "parcels"))) as archive:
        archive.extractall(tmp_path / "shp")
    out = tmp_path / "b.txt"
    export_txt(tmp_path / "shp" / "parcels.shp", out)
    assert out.read_bytes() == B.read_bytes()


@pytest.mark.parametrize("name", ["b.shp", "b.txt", "b"])
def test_import_txt_unknown_output_type(tmp_path, name):
    out = tmp_path / name
    with pytest.raises(InputError, match="unsupported output type") as info:
        import_txt(B, out)
    assert info.value.field == "--out"
    assert not out.exists()


@pytest.mark.parametrize(
    ("datum", "epsg", "noted"),
    [("1980西安坐标系", 2363, True), ("1954北京坐标系", 2415, True), ("2000国家大地坐标系", 4527, False)],
)
def test_import_txt_warns_when_no_datum_shift_is_available(tmp_path, datum, epsg, noted):
    src = tmp_path / "d.txt"
    src.write_bytes(B.read_bytes().replace("2000国家大地坐标系".encode("gbk"), datum.encode("gbk")))
    assert read_txt(src).crs.to_epsg() == epsg
    warnings = import_txt(src, tmp_path / "d.geojson")
    assert any("ballpark" in w and "tens of metres" in w for w in warnings) is noted
    assert import_txt(src, tmp_path / "d.gpkg") == []  # kept in its own CRS: nothing converted


@pytest.mark.parametrize("cpg", [None, "UTF-8"])
def test_export_txt_gbk_shapefile_without_or_with_a_wrong_cpg(tmp_path, cpg):
    layer = tmp_path / "gbk.shp"
    read_txt(B).gdf[["parcel_id", "name", "geometry"]].to_file(layer, encoding="GBK")
    if cpg is None:
        layer.with_suffix(".cpg").unlink()
    else:
        layer.with_suffix(".cpg").write_text(cpg)
    out = tmp_path / "gbk.txt"
    warnings = export_txt(layer, out)
    assert read_txt(out).gdf["name"].iloc[0] == "测试地块一"
    # the shapefile reader's notes are passed on
    assert any("read as GB18030" in w for w in warnings) is (cpg is not None)


def test_cli_import_txt_input_errors_exit_2(tmp_path):
    runner = CliRunner()
    for args in (["--crs", "garbage"], ["--crs", "EPSG:99999"]):
        result = runner.invoke(app, ["import-txt", str(B), "--out", str(tmp_path / "x.geojson"), *args])
        assert result.exit_code == 2, result.output
        assert "--crs" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["import-txt", str(B), "--out", str(tmp_path / "x.kml")])
    assert result.exit_code == 2 and "--out" in result.output
    assert list(tmp_path.iterdir()) == []


def _swap_columns(text: str) -> str:
    """Fixture text with every point row written easting first."""
    out = []
    for line in text.splitlines():
        parts = line.split(",")
        if len(parts) == 4 and parts[0].startswith("J"):
            parts[2], parts[3] = parts[3], parts[2]
        out.append(",".join(parts))
    return "\n".join(out) + "\n"


def test_cli_import_txt_axis_and_repair_options(tmp_path):
    runner = CliRunner()
    swapped = tmp_path / "swapped.txt"
    swapped.write_text(_swap_columns(B.read_bytes().decode("gbk")), encoding="utf-8")
    expected = gpd.read_file(_import(runner, B, tmp_path / "b.gpkg")).geometry.iloc[0]
    import sqlite3

    with sqlite3.connect(tmp_path / "b.gpkg") as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 10200
    forced = runner.invoke(
        app, ["import-txt", str(swapped), "--out", str(tmp_path / "s.gpkg"), "--axis", "east-first"]
    )
    assert forced.exit_code == 0, forced.output
    assert gpd.read_file(tmp_path / "s.gpkg").geometry.iloc[0].equals(expected)
    bad = runner.invoke(app, ["import-txt", str(B), "--out", str(tmp_path / "x.gpkg"), "--axis", "sideways"])
    assert bad.exit_code == 2 and "--axis" in bad.output
    bowtie = tmp_path / "bowtie.txt"
    bowtie.write_text(
        UNZONED.replace("J3,1,3400000.000,500100.000", "J3,1,3400000.000,500000.000").replace(
            "J4,1,3400000.000,500000.000", "J4,1,3400000.000,500100.000"
        ),
        encoding="utf-8",
    )
    for flag, valid in (([], False), (["--repair"], True)):
        out = tmp_path / f"bowtie{len(flag)}.gpkg"
        run = runner.invoke(app, ["import-txt", str(bowtie), "--out", str(out), "--crs", "EPSG:4527", *flag])
        assert run.exit_code == 0, run.output
        assert bool(gpd.read_file(out).geometry.is_valid.iloc[0]) is valid


def _import(runner, src, out):
    run = runner.invoke(app, ["import-txt", str(src), "--out", str(out)])
    assert run.exit_code == 0, run.output
    return out


def test_cli_export_txt_split_parts_and_encoding(tmp_path):
    layer = tmp_path / "two.gpkg"
    parts = box(39500000, 3400000, 39500100, 3400100).union(box(39500200, 3400000, 39500300, 3400100))
    gpd.GeoDataFrame({"parcel_id": ["P1"]}, geometry=[parts], crs=4527).to_file(layer)
    runner = CliRunner()
    counts = {}
    for flag in ([], ["--split-parts"]):
        out = tmp_path / f"two{len(flag)}.txt"
        run = runner.invoke(app, ["export-txt", str(layer), "--out", str(out), *flag])
        assert run.exit_code == 0, run.output
        counts[bool(flag)] = sum(
            1 for line in out.read_bytes().decode("gbk").splitlines() if line.endswith("@")
        )
    assert counts == {False: 1, True: 2}
    bad = runner.invoke(
        app, ["export-txt", str(layer), "--out", str(tmp_path / "x.txt"), "--encoding", "utf-16"]
    )
    assert bad.exit_code == 2 and "--encoding" in bad.output and not (tmp_path / "x.txt").exists()
