import itertools
import json
import os
import re
import stat
from pathlib import Path

import pandas as pd
import pytest

import geopandas as gpd
from shapely.geometry import Polygon, box

from gis.errors import InputError
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


def _write(tmp, *names):
    for name in names:
        (tmp / name).write_text("new")


def test_atomic_dir_removes_stale_outputs_of_the_command(tmp_path):
    out = tmp_path / "out"
    with atomic_dir(out) as tmp:
        _write(tmp, "audit.geojson", "unsupplied.geojson", "batches.csv", "summary.json", "ledger.xlsx")
    with atomic_dir(out) as tmp:
        _write(tmp, "readiness.geojson")
    (out / "notes.txt").write_text("mine")
    # an audit of a bundle without batches: the old batch outputs must not stay beside its summary
    with atomic_dir(out) as tmp:
        _write(tmp, "audit.geojson", "summary.json", "ledger.xlsx")
    assert sorted(p.name for p in out.iterdir()) == [
        "audit.geojson",
        "ledger.xlsx",
        "notes.txt",
        "readiness.geojson",
        "summary.json",
    ]
    assert (out / "notes.txt").read_text() == "mine"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_atomic_dir_keeps_a_users_file_named_like_an_output(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "batches.csv").write_text("mine")  # no earlier audit here: not landready's
    with atomic_dir(out) as tmp:
        _write(tmp, "audit.geojson", "summary.json", "ledger.xlsx")
    assert (out / "batches.csv").read_text() == "mine"


def test_atomic_dir_failed_swap_restores_the_old_outputs(tmp_path, monkeypatch):
    out = tmp_path / "out"
    with atomic_dir(out) as tmp:
        (tmp / "audit.geojson").write_text("old")
        (tmp / "batches.csv").write_text("old")
    rename = Path.rename

    def failing(self, target):
        if self.name == "summary.json" and Path(target).parent == out:
            raise OSError("disk gone")
        return rename(self, target)

    monkeypatch.setattr(Path, "rename", failing)
    with pytest.raises(OSError, match="disk gone"), atomic_dir(out) as tmp:
        _write(tmp, "audit.geojson", "summary.json")
    assert sorted(p.name for p in out.iterdir()) == ["audit.geojson", "batches.csv"]
    assert (out / "audit.geojson").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_atomic_dir_creates_missing_parents_only_on_success(tmp_path):
    out = tmp_path / "parent" / "sub"
    with pytest.raises(RuntimeError), atomic_dir(out) as tmp:
        (tmp / "a.txt").write_text("a")
        raise RuntimeError("bad zone.toml")
    assert list(tmp_path.iterdir()) == []
    with atomic_dir(out) as tmp:
        (tmp / "a.txt").write_text("a")
    assert (out / "a.txt").read_text() == "a"
    assert [p.name for p in tmp_path.iterdir()] == ["parent"]


@pytest.mark.parametrize("umask", [0o022, 0o002])
def test_atomic_dir_mode_follows_the_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        with atomic_dir(tmp_path / "out") as tmp:
            (tmp / "a.txt").write_text("a")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o777 & ~umask  # not mkdtemp's 0700


@pytest.mark.parametrize("where", [".", "sub"])
def test_atomic_dir_onto_a_file_is_an_input_error(tmp_path, where):
    (tmp_path / "afile").write_text("x")
    out = tmp_path / "afile" / where if where != "." else tmp_path / "afile"
    with pytest.raises(InputError) as caught, atomic_dir(out):
        pytest.fail("must not start")
    assert caught.value.field == "--out" and "afile" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


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
