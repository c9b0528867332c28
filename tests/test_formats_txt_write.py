"""The 界址点坐标 TXT writer (FORMATS.md §1.13): fixture B byte for byte, round trips, encodings, CRS handling."""

from __future__ import annotations

from pathlib import Path

import pytest

import geopandas as gpd
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, box

from gis.errors import InputError
from gis.formats.txt import read_txt, write_txt

FIXTURES = Path(__file__).parent / "fixtures" / "txt"
B = FIXTURES / "case_b_hole_gbk_crlf.txt"
B_ATTRIBUTES = {"格式版本号": "1.01版本", "数据产生单位": "某县自然资源局", "数据产生日期": "2024-05-20"}


def parcels(geoms, crs="EPSG:4527", **columns) -> gpd.GeoDataFrame:
    n = len(geoms)
    data = {"parcel_id": [f"P{i + 1}" for i in range(n)], "name": [f"地块{i + 1}" for i in range(n)]}
    return gpd.GeoDataFrame(data | columns, geometry=list(geoms), crs=crs)


def test_fixture_b_byte_for_byte_from_reading():
    result = read_txt(B)
    assert write_txt(result.gdf, attributes=result.attributes) == B.read_bytes()


def test_fixture_b_byte_for_byte_from_plain_geometry():
    # the expected geometry, but counter-clockwise shell, clockwise hole and other start vertices
    shell = [(39500100, 3400000), (39500100, 3400100), (39500000, 3400100), (39500000, 3400000)]
    hole = [(39500060, 3400040), (39500040, 3400040), (39500040, 3400060), (39500060, 3400060)]
    gdf = gpd.GeoDataFrame(
        {
            "地块编号": ["DK01"],
            "地块名称": ["测试地块一"],
            "land_use": ["城镇住宅用地"],
            "地类编码": ["0701"],
        },
        geometry=[Polygon(shell, [hole])],
        crs="EPSG:4527",
    )
    assert write_txt(gdf, attributes=B_ATTRIBUTES) == B.read_bytes()


def test_unprefixed_crs_gets_the_prefix():
    gdf = read_txt(B).gdf.to_crs("EPSG:4548")  # same zone, no prefix
    out = write_txt(gdf, attributes=B_ATTRIBUTES)
    assert out == B.read_bytes()


@pytest.mark.parametrize(
    "name", ["case_a_real_polygon_txt.txt", "case_b_hole_gbk_crlf.txt", "case_c_tolerant_utf8bom.txt"]
)
def test_round_trip(name):
    first = read_txt(FIXTURES / name)
    data = write_txt(first.gdf, attributes=first.attributes)
    second = read_txt(data)
    assert second.encoding == "gb18030"
    assert list(second.gdf.parcel_id) == list(first.gdf.parcel_id)
    assert list(second.gdf["name"]) == list(first.gdf["name"])
    back = second.gdf.to_crs(first.crs)
    for a, b in zip(first.gdf.geometry, back.geometry, strict=True):
        assert a.geom_type == b.geom_type
        assert shapely.hausdorff_distance(a, b) < 1e-6
        assert a.symmetric_difference(b).area < 1e-6
    assert second.gdf.declared_area_ha.round(4).tolist() == pytest.approx(
        first.gdf.area.div(1e4).round(4).tolist()
    )
    assert not any("differs" in w or "closed automatically" in w or "count" in w for w in second.warnings)
    assert write_txt(second.gdf, attributes=second.attributes) == data  # stable


def test_format_details():
    square = box(39500000, 3400000, 39500100.1234, 3400100)
    data = write_txt(parcels([square]), attributes={"数据产生日期": "2025-01-01"})
    assert not data.startswith(b"\xef\xbb\xbf")
    text = data.decode("gbk")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    lines = text.split("\r\n")[:-1]
    assert lines[:11] == [
        "[属性描述]",
        "格式版本号=1.01版本",
        "数据产生单位=",
        "数据产生日期=2025-01-01",
        "坐标系=2000国家大地坐标系",
        "几度分带=3",
        "投影类型=高斯克吕格",
        "计量单位=米",
        "带号=39",
        "精度=0.001",
        "转换参数=,,,,,,",
    ]
    assert lines[11] == "[地块坐标]"
    assert lines[12] == "5,1.0012,P1,地块1,面,,,,@"
    assert lines[13] == "J1,1,3400100.000,39500000.000"
    assert lines[15] == "J3,1,3400000.000,39500100.123"
    assert lines[-1] == lines[13]


def test_northwest_start_ignores_millimetre_noise():
    shell = [
        (39500000.0, 3400099.998),
        (39500100.0, 3400100.0),
        (39500100.0, 3400000.0),
        (39500000.0, 3400000.0),
    ]
    lines = write_txt(parcels([Polygon(shell)])).decode("gbk").split("\r\n")
    assert lines[13] == "J1,1,3400099.998,39500000.000"


def test_planned_use_written_when_no_land_use_text():
    data = write_txt(parcels([box(39500000, 3400000, 39500100, 3400100)], planned_use=["industrial"]))
    assert ",面,,工业用地,,@" in data.decode("gbk")


def test_multipolygon_one_parcel_or_split():
    multi = MultiPolygon(
        [box(39500000, 3400000, 39500010, 3400010), box(39500100, 3400000, 39500110, 3400010)]
    )
    one = read_txt(write_txt(parcels([multi])))
    assert len(one.gdf) == 1 and one.gdf.geometry.iloc[0].equals(multi)
    split = read_txt(write_txt(parcels([multi]), split_parts=True))
    assert list(split.gdf.parcel_id) == ["P1-1", "P1-2"]
    assert split.warnings == []


def test_geographic_layer_goes_to_nearest_3_degree_zone():
    lonlat = box(117.2, 30.70, 117.21, 30.71)
    notes: list[str] = []
    data = write_txt(parcels([lonlat], crs="EPSG:4326"), warnings=notes)
    result = read_txt(data)
    assert result.crs.to_epsg() == 4527  # CM 117°E, prefixed
    assert any("reprojected" in n for n in notes)
    back = result.gdf.to_crs(4326).geometry.iloc[0]
    assert shapely.hausdorff_distance(back, lonlat) < 1e-7  # the millimetre rounding of the file


def test_zone_attributes_follow_the_crs():
    notes: list[str] = []
    data = write_txt(
        parcels([box(500000, 3300000, 500050, 3300040)], crs="EPSG:4549"),
        attributes={"带号": "39", "坐标系": "1980西安坐标系", "自定义": "x"},
        warnings=notes,
    )
    text = data.decode("gbk")
    assert "带号=40\r\n" in text and "坐标系=2000国家大地坐标系\r\n" in text and "自定义=x\r\n" in text
    assert any("带号=39" in n for n in notes) and any("坐标系=1980西安坐标系" in n for n in notes)
    xian = write_txt(parcels([box(39500000, 3400000, 39500100, 3400100)], crs="EPSG:2363"))
    assert "坐标系=1980西安坐标系" in xian.decode("gbk")
    assert read_txt(xian).crs.to_epsg() == 2363


def test_commas_in_values_replaced():
    notes: list[str] = []
    gdf = parcels([box(39500000, 3400000, 39500100, 3400100)])
    gdf["name"] = ["东区,一号"]
    data = write_txt(gdf, warnings=notes)
    assert read_txt(data).gdf["name"].iloc[0] == "东区、一号"
    assert any("comma replaced" in n for n in notes)


@pytest.mark.parametrize("char", ["𠀀", "😀", "䶮"])
def test_characters_gbk_cannot_hold(char):
    gdf = parcels([box(39500000, 3400000, 39500100, 3400100)])
    gdf["name"] = [f"地块{char}"]
    with pytest.raises(InputError, match="GBK") as info:
        write_txt(gdf)
    assert (info.value.feature, info.value.field) == ("P1", "name")
    data = write_txt(gdf, encoding="utf-8")
    result = read_txt(data)
    assert result.encoding == "utf-8"
    assert result.gdf["name"].iloc[0] == f"地块{char}"
    assert read_txt(write_txt(gdf, encoding="gb18030")).gdf["name"].iloc[0] == f"地块{char}"


def test_unencodable_header_value_names_the_key():
    gdf = parcels([box(39500000, 3400000, 39500100, 3400100)])
    with pytest.raises(InputError, match="数据产生单位"):
        write_txt(gdf, attributes={"数据产生单位": "😀局"})


@pytest.mark.parametrize(
    ("geom", "match"),
    [(Polygon(), "non-empty polygon"), (None, "non-empty polygon"), (Point(39500000, 3400000), "Point")],
)
def test_bad_geometries(geom, match):
    gdf = parcels([box(39500000, 3400000, 39500100, 3400100), geom])
    with pytest.raises(InputError, match=match) as info:
        write_txt(gdf)
    assert info.value.feature == "P2"


def test_bad_inputs():
    with pytest.raises(InputError, match="no CRS"):
        write_txt(parcels([box(0, 0, 1, 1)], crs=None))
    with pytest.raises(InputError, match="no features"):
        write_txt(parcels([]))
    with pytest.raises(InputError, match="unknown encoding"):
        write_txt(parcels([box(39500000, 3400000, 39500100, 3400100)]), encoding="klingon")
