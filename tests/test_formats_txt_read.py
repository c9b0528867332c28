"""The 界址点坐标 TXT reader: the three fixtures of FORMATS.md §1.14, the variants of §1.11 and the pitfalls of §1.16."""

from __future__ import annotations

from pathlib import Path

import pytest

import shapely
from pyproj import Transformer

from gis.errors import InputError
from gis.formats.txt import read_txt

FIXTURES = Path(__file__).parent / "fixtures" / "txt"
A = FIXTURES / "case_a_real_polygon_txt.txt"
B = FIXTURES / "case_b_hole_gbk_crlf.txt"
C = FIXTURES / "case_c_tolerant_utf8bom.txt"

HEADER = "[属性描述]\n坐标系=2000国家大地坐标系\n几度分带=3\n投影类型=高斯克吕格\n计量单位=米\n带号=39\n[地块坐标]\n"
# a 100 m square at CM 117°E (zone 39) with the zone prefix: 1 ha
SQUARE = (
    "5,1.0000,D1,一号地块,面,,工业用地,0601,@\n"
    "J1,1,3400100.000,39500000.000\nJ2,1,3400100.000,39500100.000\nJ3,1,3400000.000,39500100.000\n"
    "J4,1,3400000.000,39500000.000\nJ1,1,3400100.000,39500000.000\n"
)
SQUARE_GEOM = shapely.box(39500000, 3400000, 39500100, 3400100)


def read(text: str, encoding: str = "utf-8", **kwargs):
    return read_txt(text.encode(encoding), name="test.txt", **kwargs)


def warned(result, fragment: str) -> bool:
    return any(fragment in w for w in result.warnings)


# --- the fixtures (expected.md) -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "parcel", "epsg", "wkt", "area_m2", "declared_ha"),
    [
        (
            A,
            "FID_0",
            4526,
            "POLYGON ((38377841.387 2578960.782, 38377892.042 2578959.499, 38377891.837 2578950.965, "
            "38377841.181 2578952.249, 38377841.387 2578960.782))",
            432.532,
            0.0433,
        ),
        (
            B,
            "DK01",
            4527,
            "POLYGON ((39500000 3400100, 39500100 3400100, 39500100 3400000, 39500000 3400000, 39500000 3400100), "
            "(39500040 3400060, 39500040 3400040, 39500060 3400040, 39500060 3400060, 39500040 3400060))",
            9600.0,
            0.96,
        ),
        (
            C,
            "1",
            4549,
            "POLYGON ((500000 3300000, 500050 3300000, 500050 3299960, 500000 3299960, 500000 3300000))",
            2000.0,
            0.2,
        ),
        (
            C,
            "2",
            4549,
            "MULTIPOLYGON (((501000 3301000, 501030 3301000, 501030 3300980, 501000 3300980, 501000 3301000)), "
            "((501100 3301000, 501130 3301000, 501130 3300980, 501100 3300980, 501100 3301000)))",
            1200.0,
            0.12,
        ),
    ],
    ids=["A-real", "B-hole", "C-parcel1", "C-parcel2-multipart"],
)
def test_fixture_geometry(path, parcel, epsg, wkt, area_m2, declared_ha):
    result = read_txt(path)
    row = result.gdf.set_index("parcel_id").loc[parcel]
    assert result.crs.to_epsg() == epsg
    assert result.gdf.crs.to_epsg() == epsg
    assert row.geometry.equals(shapely.from_wkt(wkt))
    assert row.geometry.is_valid
    assert row.geometry.area == pytest.approx(area_m2, abs=1e-3)
    assert row.declared_area_ha == pytest.approx(declared_ha)


@pytest.mark.parametrize(
    ("path", "xy", "lonlat"),
    [
        (A, (38377841.387, 2578960.782), (112.805819, 23.306281)),
        (B, (39500000, 3400100), (117.0, 30.7215195)),
        (C, (500000, 3300000), (120.0, 29.8185545)),
    ],
)
def test_fixture_places(path, xy, lonlat):
    crs = read_txt(path).crs
    lon, lat = Transformer.from_crs(crs, 4490, always_xy=True).transform(*xy)
    assert (lon, lat) == pytest.approx(lonlat, abs=1e-6)


def test_fixture_b_is_canonical():
    result = read_txt(B)
    assert result.warnings == []
    assert result.encoding == "gb18030"
    assert result.attributes["数据产生单位"] == "某县自然资源局"
    assert result.attributes["转换参数"] == ",,,,,,"
    row = result.gdf.iloc[0]
    assert (row["name"], row.land_use, row.land_class_code) == ("测试地块一", "城镇住宅用地", "0701")
    assert row.planned_use == "residential"
    assert row.declared_points == 10
    assert row.geometry_kind == "面"


def test_fixture_c_reports_every_oddity():
    result = read_txt(C)
    assert result.encoding == "utf-8-sig"
    for fragment in (
        "ring closed automatically",
        "area had unit suffix",
        "count 4 = vertices, not rows",
        "extra part, not a hole",
        "full-width",
        "blank line",
        "spaces around values",
    ):
        assert warned(result, fragment), fragment
    assert not warned(result, "invalid geometry")
    assert result.gdf.geometry.iloc[1].geom_type == "MultiPolygon"


def test_fixture_a_placeholders_dropped():
    result = read_txt(A)
    row = result.gdf.iloc[0]
    assert row["name"] is None and row.sheet_no is None and row.land_use is None
    assert sum("placeholder" in w for w in result.warnings) == 4
    assert not warned(result, "declared area differs")  # 0.0433 ha declared for 0.04325 computed


# --- §1.11 variants -------------------------------------------------------------------------------------------


def test_full_width_brackets_commas_and_at():
    text = HEADER.replace("[属性描述]", "［属性描述］").replace("[地块坐标]", "【地块坐标】")
    text += SQUARE.replace("J2,1,", "J2，1，").replace(",@", ",＠")
    result = read(text)
    assert result.gdf.geometry.iloc[0].equals(SQUARE_GEOM)
    assert warned(result, "Chinese comma replaced")
    assert warned(result, "full-width")


def test_template_braces_and_spaces():
    rows = SQUARE.splitlines()
    text = HEADER + rows[0] + "\n{\n" + "\n".join(f"  {r.replace(',', ' , ')}  " for r in rows[1:]) + "\n}\n"
    result = read(text)
    assert result.gdf.geometry.iloc[0].equals(SQUARE_GEOM)
    assert warned(result, "template braces removed")
    assert warned(result, "spaces around values")


def test_other_sections_and_unknown_keys_kept():
    text = (
        "[项目信息]\n项目名称=某某项目\n[扩展信息]\nfoo\n"
        + HEADER.replace("带号=39", "带号=39\n自定义键=值")
        + SQUARE
    )
    result = read(text)
    assert result.sections == {"项目信息": ["项目名称=某某项目"], "扩展信息": ["foo"]}
    assert result.attributes["自定义键"] == "值"
    assert len(result.gdf) == 1


def test_field_list_line_maps_header_by_name():
    text = HEADER + "【地块编号,界址点数,地块名称,地块面积,记录图形属性,地类编码,@】\n"
    rows = SQUARE.splitlines()
    text += "D9,5,九号,1.0000,面,0601,@\n" + "\n".join(rows[1:]) + "\n"
    result = read(text)
    row = result.gdf.iloc[0]
    assert (row.parcel_id, row["name"], row.land_class_code, row.declared_points) == ("D9", "九号", "0601", 5)
    assert warned(result, "header field list")


def test_comma_inside_name_is_merged():
    text = HEADER + SQUARE.replace("一号地块", "一号,东区")
    result = read(text)
    row = result.gdf.iloc[0]
    assert (row.parcel_id, row["name"], row.land_use) == ("D1", "一号,东区", "工业用地")
    assert warned(result, "comma inside the parcel name")


def test_provincial_header_variant():
    text = HEADER + SQUARE.replace("5,1.0000,D1,一号地块,面,", "5,1.0000,330106104,横桥村,D8-003,地块4,面,")
    result = read(text)
    row = result.gdf.iloc[0]
    assert (row.admin_code, row.village, row.parcel_id, row["name"]) == (
        "330106104",
        "横桥村",
        "D8-003",
        "地块4",
    )
    assert row.land_use == "工业用地"
    assert warned(result, "provincial header variant")


def test_thirteen_field_variant():
    text = HEADER + SQUARE.replace(",0601,@", ",0601,1,旱地,5,4,补充耕地,@")
    row = read(text).gdf.iloc[0]
    assert (row.spot_type, row.land_class, row.grade_before, row.grade_after, row.remark) == (
        "1",
        "旱地",
        "5",
        "4",
        "补充耕地",
    )


def test_extra_point_columns_ignored():
    rows = SQUARE.splitlines()
    text = HEADER + rows[0] + "\n" + "\n".join(r + ",100.0,埋桩" for r in rows[1:]) + "\n"
    result = read(text)
    assert result.gdf.geometry.iloc[0].equals(SQUARE_GEOM)
    assert warned(result, "extra point columns ignored")


def test_three_column_rows_default_to_ring_one():
    rows = [r.split(",", 2) for r in SQUARE.splitlines()[1:]]
    text = HEADER + SQUARE.splitlines()[0] + "\n" + "\n".join(f"{r[0]},{r[2]}" for r in rows) + "\n"
    result = read(text)
    assert result.gdf.geometry.iloc[0].equals(SQUARE_GEOM)
    assert warned(result, "3-column row")


def test_zone_width_key_variant():
    text = HEADER.replace("几度分带=3", "分带=3度带").replace("39500", "500") + SQUARE.replace(",395", ",5")
    result = read(text)
    assert result.crs.to_epsg() == 4548  # CGCS2000 3° CM 117E, no prefix
    assert warned(result, "分带")


def test_header_without_at():
    result = read(HEADER + SQUARE.replace("0601,@", "0601"))
    assert result.gdf.geometry.iloc[0].equals(SQUARE_GEOM)
    assert result.gdf.land_class_code.iloc[0] == "0601"
    assert warned(result, "header line without the closing @")


def test_unknown_kind_is_built_as_the_assumed_polygon():
    result = read(HEADER + SQUARE.replace(",面,", ",Polygon,"))
    row = result.gdf.iloc[0]
    assert row.geometry.equals(SQUARE_GEOM)
    assert row.geometry_kind == "面"
    assert warned(result, "'Polygon',按面读取 (no 面/线/点 in header; polygon assumed)")
    assert not warned(result, "not a polygon")


def test_line_and_point_kinds():
    result = read(HEADER + SQUARE.replace(",面,", ",线,"))
    assert result.gdf.geometry.iloc[0].geom_type == "LineString"
    assert len(result.gdf.geometry.iloc[0].coords) == 5
    assert warned(result, "not a polygon")
    points = read(HEADER + SQUARE.replace(",面,", ",点,")).gdf.geometry.iloc[0]
    assert points.geom_type == "MultiPoint" and len(points.geoms) == 5


# --- §1.16 pitfalls -------------------------------------------------------------------------------------------


def test_swapped_columns_detected():
    rows = [r.split(",") for r in SQUARE.splitlines()[1:]]
    text = (
        HEADER + SQUARE.splitlines()[0] + "\n" + "\n".join(f"{n},{r},{e},{x}" for n, r, x, e in rows) + "\n"
    )
    result = read(text)
    assert result.gdf.geometry.iloc[0].equals(SQUARE_GEOM)
    assert result.crs.to_epsg() == 4527
    assert warned(result, "columns swapped")


def test_mixed_column_order_is_an_error():
    rows = SQUARE.splitlines()
    n, r, x, e = rows[2].split(",")
    rows[2] = f"{n},{r},{e},{x}"
    with pytest.raises(InputError, match=r"test.txt.*第 10 行"):
        read(HEADER + "\n".join(rows) + "\n")


@pytest.mark.parametrize(
    "typo",
    [
        "340000.000,39500100.000",  # a digit dropped from the northing
        "34000000.000,39500100.000",  # a digit added
        "3400000.000,3950010.000",  # a digit dropped from the easting (its zone prefix is then added)
    ],
)
def test_one_mistyped_coordinate_names_the_row_and_its_values(typo):
    text = HEADER + SQUARE.replace("J3,1,3400000.000,39500100.000", f"J3,1,{typo}")
    x, y = typo.split(",")
    with pytest.raises(InputError, match=rf"第 11 行.*X={x}, Y={y} 离本地块其他点.*a typo") as info:
        read(text)
    assert info.value.feature == "D1"


def test_far_south_northing_with_a_prefixed_easting():
    # about 4°N (南沙): the northing has the magnitude of an unprefixed easting, the prefix settles the order
    text = HEADER.replace("带号=39", "带号=37") + SQUARE.replace(",3400", ",450").replace(",395", ",375")
    result = read(text)
    assert result.crs.to_epsg() == 4525
    assert result.gdf.geometry.iloc[0].equals(shapely.box(37500000, 450000, 37500100, 450100))
    assert not warned(result, "columns swapped")


@pytest.mark.parametrize(
    ("header", "east_prefix", "epsg"),
    [
        ("坐标系=2000国家大地坐标系\n几度分带=3\n带号=39", 39, 4527),
        ("坐标系=2000国家大地坐标系\n几度分带=3\n带号=39", 0, 4548),
        ("坐标系=2000国家大地坐标系\n几度分带=6\n带号=20", 20, 4498),
        ("坐标系=2000国家大地坐标系\n几度分带=6\n带号=20", 0, 4509),
        ("坐标系=1980西安坐标系\n几度分带=3\n带号=39", 39, 2363),
        ("坐标系=1980西安国家大地坐标系\n几度分带=3\n带号=39", 0, 2384),
        ("坐标系=1954北京坐标系\n几度分带=3\n带号=39", 39, 2415),
        ("坐标系=1954北京坐标系\n几度分带=3\n带号=39", 0, 2436),
        ("坐标系=80国家大地坐标系\n几度分带=6\n带号=20", 20, 2334),
        ("坐标系=1954北京坐标系\n几度分带=6\n带号=20", 0, 21460),
    ],
)
def test_crs_resolution(header, east_prefix, epsg):
    text = f"[属性描述]\n{header}\n[地块坐标]\n" + SQUARE.replace(",39500", f",{east_prefix * 1000 + 500}")
    result = read(text)
    assert result.crs.to_epsg() == epsg
    assert result.gdf.geometry.iloc[0].area == pytest.approx(10_000)


def test_prefix_wins_over_conflicting_zone_attributes():
    result = read(HEADER.replace("带号=39", "带号=38").replace("几度分带=3", "几度分带=6") + SQUARE)
    assert result.crs.to_epsg() == 4527
    assert warned(result, "带号 conflicts with the prefix")
    assert warned(result, "zone width conflict")


def test_zone_from_central_meridian_in_zone_number():
    text = HEADER.replace("带号=39", "带号=117") + SQUARE.replace(",395", ",5")
    result = read(text)
    assert result.crs.to_epsg() == 4548
    assert warned(result, "central meridian")


def test_no_zone_anywhere_needs_a_crs():
    text = HEADER.replace("带号=39", "带号=") + SQUARE.replace(",395", ",5")
    with pytest.raises(InputError, match="pass crs="):
        read(text)
    result = read(text, crs="EPSG:4548")
    assert result.crs.to_epsg() == 4548


@pytest.mark.parametrize(
    ("prefixed", "crs", "fragment"),
    [
        (True, "EPSG:4548", "zone prefix removed to fit the crs"),  # the same zone without the prefix
        (False, "EPSG:4527", "zone prefix added to fit the crs"),
        (False, "EPSG:4548", None),
    ],
)
def test_given_crs_gets_the_zone_prefix_it_needs(prefixed, crs, fragment):
    text = HEADER.replace("带号=39", "带号=") + (SQUARE if prefixed else SQUARE.replace(",395", ",5"))
    result = read(text, crs=crs)
    shift = 0.0 if crs == "EPSG:4527" else -39e6
    assert result.gdf.geometry.iloc[0].equals(shapely.affinity.translate(SQUARE_GEOM, xoff=shift))
    assert result.gdf.crs.equals(crs)
    if fragment is None:
        assert result.warnings == []
    else:
        assert warned(result, fragment)
        assert not warned(result, "crs overrides the file")


@pytest.mark.parametrize(
    ("text", "crs", "match"),
    [
        (HEADER + SQUARE, "garbage", "unknown CRS 'garbage'"),
        (HEADER + SQUARE, "EPSG:99999", "unknown CRS 'EPSG:99999'"),
        (HEADER + SQUARE, "EPSG:4526", "zone prefix 39, the crs is 3-degree zone 38"),
        (HEADER + SQUARE, "EPSG:4498", "zone prefix 39, the crs is 6-degree zone 20"),
        (HEADER + SQUARE, "EPSG:4326", "coordinates are metres but the crs is geographic"),
        (HEADER + SQUARE.replace(",395", ",5"), "EPSG:3857", "outside China"),
        (HEADER + SQUARE.replace(",395", ",5"), "EPSG:32617", "outside China"),
        (
            HEADER
            + "5,,G1,经纬度,面,,,,@\nJ1,1,30.72,117.00\nJ2,1,30.72,117.01\nJ3,1,30.71,117.01\nJ1,1,30.72,117.00\n",
            "EPSG:4527",
            "coordinates are degrees but the crs is projected",
        ),
    ],
)
def test_given_crs_that_cannot_fit_is_an_error(text, crs, match):
    with pytest.raises(InputError, match=match) as info:
        read(text, crs=crs)
    assert info.value.field == "crs"


def test_given_crs_overriding_file_is_reported():
    result = read(HEADER + SQUARE, crs="EPSG:4527")
    assert result.warnings == []
    assert warned(read(HEADER + SQUARE, crs="EPSG:2363"), "crs overrides the file")


def test_prefix_that_is_no_chinese_zone():
    with pytest.raises(InputError, match="zone prefix 50"):
        read(HEADER + SQUARE.replace(",395", ",505"))


def test_partly_prefixed_eastings_get_the_prefix():
    text = HEADER + SQUARE.replace("J2,1,3400100.000,39500100.000", "J2,1,3400100.000,500100.000")
    result = read(text)
    assert result.gdf.geometry.iloc[0].equals(SQUARE_GEOM)
    assert warned(result, "zone prefix added")


@pytest.mark.parametrize(
    ("declared", "expected_ha", "fragment"),
    [
        ("1.0000", 1.0, None),
        ("0.99995", 0.99995, None),  # truncated rather than rounded
        ("1.0000公顷", 1.0, "area had unit suffix"),
        ("10000", 1.0, "area is in m2"),
        ("10000平方米", 1.0, "area had unit suffix"),
        ("15", 1.0, "area is in mu"),
        ("15亩", 1.0, "area had unit suffix"),
        ("2.5000", 2.5, "declared area differs"),
        ("", None, "no declared area"),
    ],
)
def test_area_units(declared, expected_ha, fragment):
    result = read(HEADER + SQUARE.replace("5,1.0000,", f"5,{declared},"))
    value = result.gdf.declared_area_ha.iloc[0]
    if expected_ha is None:
        assert value != value  # NaN
    else:
        assert value == pytest.approx(expected_ha)
    if fragment is None:
        assert result.warnings == []
    else:
        assert warned(result, fragment)


def test_point_count_that_matches_nothing():
    assert warned(read(HEADER + SQUARE.replace("5,1.0000", "7,1.0000")), "point count differs from rows")


def test_point_count_message_says_what_it_compares():
    # a ring of 3 rows is dropped: 8 rows in the file, 5 used
    text = HEADER + SQUARE.replace("5,1.0000", "8,1.0000")
    text += "J5,2,3400060.000,39500040.000\nJ6,2,3400040.000,39500040.000\nJ5,2,3400060.000,39500040.000\n"
    result = read(text)
    assert warned(result, "ring dropped")
    assert not warned(result, "point count")  # 8 is the file's row count
    result = read(text.replace("8,1.0000", "7,1.0000"))
    assert warned(result, "界址点数 7 与坐标行数不符: 文件中 8 行,闭合及舍弃无效圈后为 5 行")


def test_rings_split_by_closure_under_one_ring_number():
    text = HEADER + SQUARE.replace("5,1.0000", "10,0.9600")
    text += "J5,1,3400060.000,39500040.000\nJ6,1,3400040.000,39500040.000\nJ7,1,3400040.000,39500060.000\n"
    text += "J8,1,3400060.000,39500060.000\nJ5,1,3400060.000,39500040.000\n"
    result = read(text)
    geom = result.gdf.geometry.iloc[0]
    assert geom.equals(shapely.from_wkt(read_txt(B).gdf.geometry.iloc[0].wkt))
    assert result.warnings == ["第 14 行: 地块 D1 圈 1 位于另一圈内,作为洞 (ring 1 is a hole)"]


@pytest.mark.parametrize("closing", ["3400100.001,39500000.000", "3400100.00,39499999.992"])
def test_closing_row_naming_the_start_a_few_mm_off_is_snapped(closing):
    text = HEADER + SQUARE.replace("J1,1,3400100.000,39500000.000\n", f"J1,1,{closing}\n").replace(
        f"J1,1,{closing}", "J1,1,3400100.000,39500000.000", 1
    )
    result = read(text)
    geom = result.gdf.geometry.iloc[0]
    assert geom.equals(SQUARE_GEOM) and len(geom.exterior.coords) == 5 and geom.is_valid
    assert warned(result, "closing point snapped to the start")
    assert not warned(result, "ring closed automatically")
    assert not warned(result, "point count")


def test_closing_row_more_than_a_cm_off_is_not_snapped():
    head, _ = SQUARE.rsplit("J1,", 1)
    result = read(HEADER + head + "J1,1,3400100.020,39500000.000\n")
    assert warned(result, "ring closed automatically")
    assert not warned(result, "snapped")


def test_parts_all_numbered_ring_one_are_reported():
    text = HEADER + SQUARE.replace("5,1.0000", "10,2.0000")
    text += "J5,1,3400100.000,39500200.000\nJ6,1,3400100.000,39500300.000\nJ7,1,3400000.000,39500300.000\n"
    text += "J8,1,3400000.000,39500200.000\nJ5,1,3400100.000,39500200.000\n"
    result = read(text)
    assert result.gdf.geometry.iloc[0].geom_type == "MultiPolygon"
    assert result.warnings == [
        "第 14 行: 地块 D1 圈号 1 下有多个互不包含的圈,作为多部件的另一部分 "
        "(another part also numbered ring 1; multipart)"
    ]


def test_point_names_restarting_per_ring_and_closure_name_mismatch():
    text = HEADER + SQUARE.replace("J1,1,3400100.000,39500000.000\n", "J1,1,3400100.000,39500000.000\n", 1)
    text = text.replace("J1,1,3400100.000,39500000.000\n", "J9,1,3400100.000,39500000.000\n").replace(
        "J9", "J1", 1
    )
    result = read(text)
    assert result.gdf.geometry.iloc[0].equals(SQUARE_GEOM)
    assert warned(result, "closing point name differs")


def test_island_in_a_hole_becomes_a_second_part():
    text = HEADER + SQUARE.replace("5,1.0000", "15,0.6800")
    text += "J5,2,3400080.000,39500020.000\nJ6,2,3400020.000,39500020.000\nJ7,2,3400020.000,39500080.000\n"
    text += "J8,2,3400080.000,39500080.000\nJ5,2,3400080.000,39500020.000\n"
    text += "J9,3,3400060.000,39500040.000\nJ10,3,3400040.000,39500040.000\nJ11,3,3400040.000,39500060.000\n"
    text += "J12,3,3400060.000,39500060.000\nJ9,3,3400060.000,39500040.000\n"
    result = read(text)
    geom = result.gdf.geometry.iloc[0]
    assert geom.geom_type == "MultiPolygon" and len(geom.geoms) == 2
    assert geom.area == pytest.approx(10_000 - 3600 + 400)
    assert result.gdf.declared_area_ha.iloc[0] == pytest.approx(0.68)
    assert not warned(result, "declared area differs")
    assert warned(result, "圈 3 位于洞内(岛),作为多部件的另一部分而非洞 (extra part, not a hole)")


def test_overlapping_rings_reported_not_silent():
    text = HEADER + SQUARE + SQUARE.replace("D1", "D2").replace("J1,1,", "J1,2,")
    result = read(text)
    assert list(result.gdf.parcel_id) == ["D1", "D2"]
    text = HEADER + SQUARE.replace("5,1.0000", "10,2.0000")
    text += "J5,2,3400150.000,39500050.000\nJ6,2,3400150.000,39500150.000\nJ7,2,3400050.000,39500150.000\n"
    text += "J8,2,3400050.000,39500050.000\nJ5,2,3400150.000,39500050.000\n"
    result = read(text)
    assert warned(result, "invalid geometry")
    repaired = read(text, repair=True)
    assert repaired.gdf.geometry.iloc[0].is_valid
    assert warned(repaired, "repaired")


def test_duplicate_and_empty_parcel_ids():
    text = HEADER + SQUARE + SQUARE + SQUARE.replace(",D1,", ",,")
    result = read(text)
    assert list(result.gdf.parcel_id) == ["D1", "D1-2", "3"]
    assert warned(result, "duplicate parcel id renamed")
    assert warned(result, "empty parcel id")


def test_area_unit_is_not_guessed_from_an_invalid_polygon():
    # a bow-tie: its signed lobes cancel, and an area of 0 looked like 1.0000 m²; it stays hectares
    bow_tie = SQUARE.replace("J2,1,3400100.000,39500100.000", "J2,1,3400000.000,39500100.000").replace(
        "J3,1,3400000.000,39500100.000", "J3,1,3400100.000,39500100.000"
    )
    result = read(HEADER + bow_tie)
    assert warned(result, "invalid geometry")
    assert result.gdf.declared_area_ha.iloc[0] == pytest.approx(1.0)
    assert not warned(result, "area is in")
    assert warned(result, "与计算面积 0.5000 公顷不符")  # compared with the repaired area
    assert read(HEADER + bow_tie.replace("5,1.0000", "5,0.5000")).gdf.declared_area_ha.iloc[0] == 0.5


def test_degenerate_ring_dropped():
    text = HEADER + SQUARE.replace("5,1.0000", "8,1.0000")
    text += "J5,2,3400060.000,39500040.000\nJ6,2,3400040.000,39500040.000\nJ5,2,3400060.000,39500040.000\n"
    result = read(text)
    assert result.gdf.geometry.iloc[0].equals(SQUARE_GEOM)
    assert warned(result, "ring dropped")


@pytest.mark.parametrize("codec", ["gb18030", "gbk", "utf-8", "utf-8-sig", "utf-16"])
def test_encodings(codec):
    name = "堃喆甪直地块" if codec == "gbk" else "堃喆甪直䶮𬌗地块"  # GBK lacks 䶮 and 𬌗; GB18030 has all
    result = read(HEADER + SQUARE.replace("一号地块", name), codec)
    assert result.gdf["name"].iloc[0] == name
    assert result.gdf.geometry.iloc[0].equals(SQUARE_GEOM)


def test_utf8_bom_over_gbk_bytes():
    result = read_txt(b"\xef\xbb\xbf" + (HEADER + SQUARE).encode("gbk"), name="test.txt")
    assert result.encoding == "gb18030"
    assert result.gdf["name"].iloc[0] == "一号地块"
    assert warned(result, "BOM stripped, read as GB18030")


def test_braces_on_the_first_and_last_point_rows():
    rows = SQUARE.splitlines()
    text = HEADER + rows[0] + "\n{" + "\n".join(rows[1:]) + "}\n"
    result = read(text)
    assert result.gdf.geometry.iloc[0].equals(SQUARE_GEOM)
    assert warned(result, "template braces removed")
    assert not warned(result, "closing point name differs")


def test_crlf_and_cr_line_ends():
    for eol in ("\r\n", "\r"):
        assert read((HEADER + SQUARE).replace("\n", eol)).gdf.geometry.iloc[0].equals(SQUARE_GEOM)


def test_degree_coordinates_with_longitude_first():
    text = HEADER.replace("带号=39", "带号=") + (
        "5,,G1,经纬度,面,,,,@\nJ1,1,117.00,30.72\nJ2,1,117.01,30.72\nJ3,1,117.01,30.71\nJ4,1,117.00,30.71\n"
        "J1,1,117.00,30.72\n"
    )
    result = read(text)
    assert result.gdf.geometry.iloc[0].bounds == pytest.approx((117.0, 30.71, 117.01, 30.72))
    assert warned(result, "X 列为经度、Y 列为纬度")
    assert not warned(result, "X=纬度,Y=经度")


def test_degree_coordinates():
    text = HEADER.replace("带号=39", "带号=") + (
        "5,,G1,经纬度,面,,,,@\nJ1,1,30.72,117.00\nJ2,1,30.72,117.01\nJ3,1,30.71,117.01\nJ4,1,30.71,117.00\n"
        "J1,1,30.72,117.00\n"
    )
    result = read(text)
    assert result.crs.to_epsg() == 4490
    assert result.gdf.geometry.iloc[0].bounds == pytest.approx((117.0, 30.71, 117.01, 30.72))
    assert warned(result, "coordinates are degrees")


# --- malformed input ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (HEADER + SQUARE.replace("3400000.000,39500100", "34000x0.000,39500100"), r"第 11 行.*X坐标"),
        (HEADER + SQUARE.replace("J3,1,", "J3,a,"), r"第 11 行.*ring number"),
        (HEADER + SQUARE.replace("J3,1,", "J3,1.5,"), r"第 11 行.*ring number"),
        (HEADER + "J1,1,3400100.000,39500000.000\n" + SQUARE, r"第 8 行.*before any parcel header"),
        (
            HEADER + SQUARE.replace("J3,1,3400000.000,39500100.000", "J3,1"),
            r"第 11 行.*expected name,ring,X,Y",
        ),
        (HEADER.replace("[地块坐标]\n", ""), r"no \[地块坐标\] section"),
        (HEADER, "no parcel header"),
        (HEADER + "5,1.0,D1,x,面,,,,@\n", "no point rows"),
    ],
)
def test_malformed_input_names_file_and_line(text, match):
    with pytest.raises(InputError, match=match) as info:
        read(text)
    assert info.value.file == "test.txt"


def test_undecodable_bytes():
    with pytest.raises(InputError, match=r"第 2 行.*cannot decode"):
        read_txt(b"[\xca\xf4]\n\xff\xff\xff\n", name="bad.txt")


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        read_txt(tmp_path / "none.txt")
