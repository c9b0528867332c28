import itertools
import json
import re

import pandas as pd
import pytest

import geopandas as gpd
from shapely.geometry import Polygon, box

from gis.outputs import atomic_dir, geojson_bytes


def test_atomic_dir_complete_on_success(tmp_path):
    out = tmp_path / "out"
    with atomic_dir(out) as tmp:
        (tmp / "a.txt").write_text("a")
        assert not out.exists()
    assert (out / "a.txt").read_text() == "a"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_atomic_dir_untouched_on_error(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("old")
    with pytest.raises(RuntimeError), atomic_dir(out) as tmp:
        (tmp / "old.txt").write_text("half")
        raise RuntimeError("boom")
    assert (out / "old.txt").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_atomic_dir_keeps_other_files(tmp_path):
    out = tmp_path / "out"
    with atomic_dir(out) as tmp:
        (tmp / "audit.geojson").write_text("1")
    with atomic_dir(out) as tmp:
        (tmp / "readiness.geojson").write_text("2")
    assert sorted(p.name for p in out.iterdir()) == ["audit.geojson", "readiness.geojson"]


def test_geojson_is_rfc7946():
    # clockwise exterior in a GK zone: must come out counter-clockwise, in lon/lat, 7 decimals
    cw = Polygon([(39500000, 3760000), (39500000, 3760100), (39500100, 3760100), (39500100, 3760000)])
    gdf = gpd.GeoDataFrame(
        {"parcel_id": ["P1", "P2"], "codes": [["a", "b"], []], "v": [1.5, float("nan")]},
        geometry=[cw, box(39500200, 3760000, 39500300, 3760100)],
        crs="EPSG:4527",
    )
    doc = json.loads(geojson_bytes(gdf))
    assert doc["type"] == "FeatureCollection"
    f = doc["features"][0]
    assert f["properties"] == {"parcel_id": "P1", "codes": ["a", "b"], "v": 1.5}
    assert doc["features"][1]["properties"]["v"] is None
    ring = f["geometry"]["coordinates"][0]
    lon, lat = ring[0]
    assert 116 < lon < 118 and 33 < lat < 35
    signed = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in itertools.pairwise(ring))
    assert signed > 0  # counter-clockwise
    assert all(len(repr(float(c)).split(".")[1]) <= 7 for xy in ring for c in xy)
    text = geojson_bytes(gdf).decode()
    assert not re.search(r"\d\.\d{8,}", text)


def test_geojson_escapes_text_like_json():
    names = ['引号"与\\反斜杠', "换行\n制表\t回车\r", "控制\x01字符", None, "=SUM(1)", "普通"]
    gdf = gpd.GeoDataFrame(
        {
            "name": pd.Series(names, dtype="str"),
            "detail": [{"a": [1, "二"]}, None, {}, {"b": None}, [], [{"c": 1}]],
        },
        geometry=[box(i, 0, i + 1, 1) for i in range(6)],
        crs="EPSG:4326",
    )
    doc = json.loads(geojson_bytes(gdf))
    assert [f["properties"]["name"] for f in doc["features"]] == names
    assert [f["properties"]["detail"] for f in doc["features"]] == [
        {"a": [1, "二"]},
        None,
        {},
        {"b": None},
        [],
        [{"c": 1}],
    ]


def test_geojson_lines_multipolygons_and_holes():
    from shapely.geometry import LineString, MultiPolygon

    outer = Polygon([(0, 0), (0, 10), (10, 10), (10, 0)], [[(2, 2), (3, 2), (3, 3), (2, 3)]])
    gdf = gpd.GeoDataFrame(
        {"k": [1, 2, 3]},
        geometry=[
            outer,
            MultiPolygon([outer, box(20, 20, 21, 21)]),
            LineString([(0.123456789, 1), (2, -3.5)]),
        ],
        crs="EPSG:4326",
    )
    doc = json.loads(geojson_bytes(gdf))
    geoms = [f["geometry"] for f in doc["features"]]
    assert [g["type"] for g in geoms] == ["Polygon", "MultiPolygon", "LineString"]
    assert len(geoms[0]["coordinates"]) == 2 and len(geoms[1]["coordinates"]) == 2
    assert geoms[2]["coordinates"] == [[0.1234568, 1], [2, -3.5]]
    from shapely.geometry import shape

    assert (
        shape(geoms[0]).equals(outer)
        and shape(geoms[1]).area == MultiPolygon([outer, box(20, 20, 21, 21)]).area
    )
