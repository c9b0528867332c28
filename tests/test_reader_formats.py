"""read_bundle over every file format: directories, GeoPackages, shapefiles (encodings), Parquet, CSV, XLSX, TXT."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import geopandas as gpd
import rasterio
from rasterio.transform import from_origin
from shapely.geometry import LineString, box

from gis.errors import InputError
from gis.formats.shapefile import shapefile_zip
from gis.io import read_bundle
from gis.io.vector import read_shapefile

# parcels around 117°E 31.5°N in CGCS2000 3-degree zone 39 (prefixed, EPSG:4527) and CM 117E (EPSG:4548)
X0, Y0 = 39_500_000.0, 3_485_000.0


def _parcels(crs: int = 4527, n: int = 3, **columns: list) -> gpd.GeoDataFrame:
    x0 = X0 if crs == 4527 else 500_000.0
    data = {"parcel_id": [f"P{i + 1}" for i in range(n)], **columns}
    geoms = [box(x0 + 200 * i, Y0, x0 + 200 * i + 100, Y0 + 100) for i in range(n)]
    return gpd.GeoDataFrame(data, geometry=geoms, crs=crs)


def _batches(crs: int = 4527) -> gpd.GeoDataFrame:
    x0 = X0 if crs == 4527 else 500_000.0
    return gpd.GeoDataFrame(
        {"批次编号": ["B1"], "批准日期": ["2019-03-01"]}, geometry=[box(x0, Y0, x0 + 500, Y0 + 100)], crs=crs
    )


def test_geojson_directory_in_wgs84_is_measured_in_the_nearest_gk_zone(tmp_path: Path) -> None:
    parcels = _parcels().to_crs(4326)
    parcels.to_file(tmp_path / "parcels.geojson")
    _batches().to_crs(4326).to_file(tmp_path / "batches.geojson")
    bundle = read_bundle(tmp_path)
    assert bundle.crs.to_epsg() == 4548  # CM 117E, unprefixed
    assert bundle.parcels.crs == bundle.crs and bundle.layers["batches"].crs == bundle.crs
    assert bundle.parcels.area.to_numpy() == pytest.approx(10_000, rel=1e-4)
    assert bundle.layers["batches"]["batch_id"].tolist() == ["B1"]
    assert bundle.layers["batches"]["approved_on"].iloc[0] == pd.Timestamp("2019-03-01")
    assert bundle.warnings == []
    assert bundle.path == tmp_path and bundle.rasters == {} and bundle.zone == {}


def test_gpkg_directory_keeps_a_prefixed_zone(tmp_path: Path) -> None:
    _parcels().to_file(tmp_path / "parcels.gpkg")
    _batches().to_file(tmp_path / "batches.gpkg")
    bundle = read_bundle(tmp_path)
    assert bundle.crs.to_epsg() == 4527
    assert bundle.parcels.total_bounds[0] == pytest.approx(X0)
    assert set(bundle.layers) == {"parcels", "batches"}


def test_single_geopackage_with_rasters_and_zone_beside_it(tmp_path: Path) -> None:
    gpkg = tmp_path / "zone.gpkg"
    _parcels(4547).to_file(gpkg, layer="parcels")
    _batches(4547).to_file(gpkg, layer="batches")
    hv = gpd.GeoDataFrame(
        {"电压等级": [220]}, geometry=[LineString([(500_000, Y0), (501_000, Y0)])], crs=4547
    )
    hv.to_file(gpkg, layer="hv_lines")
    _parcels(4547).to_file(gpkg, layer="scratch")
    with rasterio.open(
        tmp_path / "dem.tif",
        "w",
        driver="GTiff",
        width=4,
        height=4,
        count=1,
        dtype="float32",
        crs="EPSG:4547",
        transform=from_origin(500_000, Y0 + 400, 100, 100),
    ) as dst:
        dst.write(np.zeros((1, 4, 4), dtype="float32"))
    (tmp_path / "zone.toml").write_text(
        'name = "测试开发区"\n[rules]\n"idle.fee_rate" = 0.1\n', encoding="utf-8"
    )
    bundle = read_bundle(gpkg)
    assert bundle.crs.to_epsg() == 4547
    assert set(bundle.layers) == {"parcels", "batches", "hv_lines"}
    assert bundle.layers["hv_lines"]["voltage_kv"].tolist() == [220.0]
    assert bundle.rasters == {"dem": tmp_path / "dem.tif"}
    assert bundle.zone["name"] == "测试开发区" and bundle.zone["rules"]["idle.fee_rate"] == 0.1
    assert bundle.name == "测试开发区"
    assert any("scratch" in w for w in bundle.warnings)


def test_gpkg_in_a_directory_may_hold_several_layers(tmp_path: Path) -> None:
    gpkg = tmp_path / "开发区数据.gpkg"
    _parcels().to_file(gpkg, layer="地块")  # Chinese layer title
    _batches().to_file(gpkg, layer="batches")
    bundle = read_bundle(tmp_path)
    assert set(bundle.layers) == {"parcels", "batches"}


def test_landready_store_is_not_a_layer_source(tmp_path: Path) -> None:
    _parcels().to_file(tmp_path / "parcels.geojson")
    _parcels(n=5).to_file(tmp_path / "landready-store.gpkg", layer="parcels")
    assert len(read_bundle(tmp_path).parcels) == 3


def test_geoparquet(tmp_path: Path) -> None:
    _parcels(4547, 4, 规划用途=["工业"] * 4).to_parquet(tmp_path / "parcels.parquet")
    bundle = read_bundle(tmp_path)
    assert bundle.crs.to_epsg() == 4547
    assert bundle.parcels["planned_use"].tolist() == ["industrial"] * 4


# ── shapefiles and their encodings ────────────────────────────────────────────────────────────────────────


def _chinese_parcels() -> gpd.GeoDataFrame:
    return _parcels(n=2, 名称=["城东地块一号", "城西地块"], 规划用途=["工业", "仓储"]).rename(
        columns={"parcel_id": "地块编号"}
    )


@pytest.mark.parametrize(
    ("write_encoding", "cpg", "read_encoding"),
    [
        ("UTF-8", True, None),
        ("GBK", True, None),
        ("GBK", False, None),
        ("GBK", False, "GBK"),
        ("UTF-8", False, None),
    ],
    ids=["utf8-cpg", "gbk-cpg", "gbk-no-cpg", "gbk-explicit", "utf8-no-cpg"],
)
def test_shapefile_encodings(
    tmp_path: Path, write_encoding: str, cpg: bool, read_encoding: str | None
) -> None:
    _chinese_parcels().to_file(tmp_path / "parcels.shp", encoding=write_encoding)
    if not cpg:
        (tmp_path / "parcels.cpg").unlink()
    bundle = read_bundle(tmp_path, encoding=read_encoding)
    parcels = bundle.parcels
    assert parcels["parcel_id"].tolist() == ["P1", "P2"]
    assert parcels["名称"].tolist() == ["城东地块一号", "城西地块"]
    assert parcels["planned_use"].tolist() == ["industrial", "warehouse"]
    assert not any("乱码" in w for w in bundle.warnings)


def test_shapefile_cpg_saying_utf8_over_gbk_is_retried_as_gb18030(tmp_path: Path) -> None:
    _chinese_parcels().to_file(tmp_path / "parcels.shp", encoding="GBK")
    (tmp_path / "parcels.cpg").write_text("UTF-8")
    bundle = read_bundle(tmp_path)
    assert bundle.parcels["名称"].tolist() == ["城东地块一号", "城西地块"]
    assert any("GB18030" in w for w in bundle.warnings)


def test_shapefile_cpg_saying_utf8_over_gbk_values_with_ascii_field_names(tmp_path: Path) -> None:
    # no field name fails to decode, so only the values tell (Arrow decodes them late)
    _parcels(n=2, name=["城东地块一号", "城西地块"]).to_file(tmp_path / "parcels.shp", encoding="GBK")
    (tmp_path / "parcels.cpg").write_text("UTF-8")
    bundle = read_bundle(tmp_path)
    assert bundle.parcels["name"].tolist() == ["城东地块一号", "城西地块"]
    assert any("GB18030" in w for w in bundle.warnings)


def test_shapefile_read_with_a_wrong_encoding_warns_about_garbled_text(tmp_path: Path) -> None:
    gdf = _parcels(n=2, 名称=["城东地块一号", "城西地块"])
    gdf.to_file(tmp_path / "parcels.shp", encoding="GBK")
    bundle = read_bundle(tmp_path, encoding="latin-1")
    assert bundle.parcels["parcel_id"].tolist() == ["P1", "P2"]
    assert any("乱码" in w and "garbled" in w for w in bundle.warnings)


def test_our_shapefile_export_reads_back_as_a_bundle_layer(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    _parcels(
        n=2,
        name=["城东地块一号", "甪直镇堃园"],
        planned_use=["工业", "仓储"],
        supply_status=["已供", "未供"],
        supplied_on=["2021-03-04", None],
        agreed_start_on=["2021-09-04", None],
        land_price_wan=[1234.5, None],
        investment_min_wan_per_mu=[300.0, None],
        compensation_done=[True, False],
    ).to_file(tmp_path / "src" / "parcels.geojson")
    parcels = read_bundle(tmp_path / "src").parcels
    with zipfile.ZipFile(io.BytesIO(shapefile_zip(parcels, "parcels"))) as archive:
        archive.extractall(tmp_path / "shp")
    bundle = read_bundle(tmp_path / "shp")
    back = bundle.parcels
    assert back.columns.tolist() == parcels.columns.tolist()
    pd.testing.assert_frame_equal(
        pd.DataFrame(back.drop(columns="geometry")), pd.DataFrame(parcels.drop(columns="geometry"))
    )
    assert back.geometry.geom_equals(parcels.geometry).all()


def test_shapefile_without_prj_is_an_error(tmp_path: Path) -> None:
    _parcels().to_file(tmp_path / "parcels.shp")
    (tmp_path / "parcels.prj").unlink()
    with pytest.raises(InputError, match=r"parcels\.shp.*layer parcels.*no CRS"):
        read_bundle(tmp_path)


# ── spreadsheets ──────────────────────────────────────────────────────────────────────────────────────────


def test_csv_with_wkt_and_epsg_column(tmp_path: Path) -> None:
    gdf = _parcels(4527, 2)
    frame = pd.DataFrame(
        {
            "地块编号": gdf["parcel_id"],
            "WKT": gdf.geometry.to_wkt(),
            "epsg": 4527,
            "供地日期": ["2020年1月5日", ""],
        }
    )
    frame.to_csv(tmp_path / "parcels.csv", index=False, encoding="utf-8-sig")
    bundle = read_bundle(tmp_path)
    assert bundle.crs.to_epsg() == 4527
    assert bundle.parcels["supplied_on"].tolist()[0] == pd.Timestamp("2020-01-05")
    assert pd.isna(bundle.parcels["supplied_on"].iloc[1])
    assert "epsg" not in bundle.parcels.columns and "WKT" not in bundle.parcels.columns
    assert bundle.parcels.area.tolist() == pytest.approx([10_000, 10_000])


def test_gbk_csv_with_title_row_and_zone_toml_crs(tmp_path: Path) -> None:
    gdf = _parcels(4547, 2)
    lines = ["XX开发区地块台账", "", "地块编号,几何,规划用途"]
    lines += [f'{pid},"{wkt}",工业' for pid, wkt in zip(gdf["parcel_id"], gdf.geometry.to_wkt(), strict=True)]
    (tmp_path / "parcels.csv").write_bytes("\r\n".join(lines).encode("gbk"))
    (tmp_path / "zone.toml").write_text('crs = "EPSG:4547"\n')
    bundle = read_bundle(tmp_path)
    assert bundle.crs.to_epsg() == 4547
    assert bundle.parcels["parcel_id"].tolist() == ["P1", "P2"]
    assert bundle.parcels["planned_use"].tolist() == ["industrial", "industrial"]


def test_csv_with_projected_coordinates_and_no_crs_is_an_error(tmp_path: Path) -> None:
    gdf = _parcels(4547, 1)
    pd.DataFrame({"parcel_id": ["P1"], "wkt": gdf.geometry.to_wkt()}).to_csv(
        tmp_path / "parcels.csv", index=False
    )
    with pytest.raises(InputError, match=r"parcels\.csv.*field wkt.*CRS"):
        read_bundle(tmp_path)


def test_csv_in_lonlat_defaults_to_wgs84(tmp_path: Path) -> None:
    pd.DataFrame(
        {"parcel_id": ["P1"], "wkt": ["POLYGON ((120 30, 120.001 30, 120.001 30.001, 120 30.001, 120 30))"]}
    ).to_csv(tmp_path / "parcels.csv", index=False)
    assert read_bundle(tmp_path).crs.to_epsg() == 4549  # CM 120E


def test_xlsx_with_wkt_dates_and_serials(tmp_path: Path) -> None:
    gdf = _parcels(4527, 3)
    frame = pd.DataFrame(
        {
            "地块编号": [1001, 1002, 1003],  # numeric ids stay "1001", not "1001.0"
            "wkt": gdf.geometry.to_wkt(),
            "EPSG": ["EPSG:4527"] * 3,
            "实际开工日期": [dt.datetime(2021, 3, 4), 44259, "2021.3.4"],
            "出让价款（万元）": [1200.5, "1,200.5", None],
        }
    )
    frame.to_excel(tmp_path / "parcels.xlsx", index=False)
    parcels = read_bundle(tmp_path).parcels
    assert parcels["parcel_id"].tolist() == ["1001", "1002", "1003"]
    assert parcels["started_on"].tolist() == [pd.Timestamp("2021-03-04")] * 3
    assert parcels["land_price_wan"].tolist()[:2] == [1200.5, 1200.5] and np.isnan(
        parcels["land_price_wan"].iloc[2]
    )


def test_xlsx_sheet_named_after_the_layer_is_used(tmp_path: Path) -> None:
    gdf = _parcels(4527, 1)
    with pd.ExcelWriter(tmp_path / "parcels.xlsx") as writer:
        pd.DataFrame({"说明": ["封面"]}).to_excel(writer, sheet_name="封面", index=False)
        pd.DataFrame({"地块编号": ["A"], "wkt": gdf.geometry.to_wkt(), "epsg": [4527]}).to_excel(
            writer, sheet_name="地块", index=False
        )
    assert read_bundle(tmp_path).parcels["parcel_id"].tolist() == ["A"]


def test_csv_with_boundary_point_rows_and_a_hole(tmp_path: Path) -> None:
    # X坐标 = northing, Y坐标 = zone-prefixed easting (Chinese surveying order); ring 2 is a hole of P1
    rows = []
    square = [(0, 0), (0, 100), (100, 100), (100, 0), (0, 0)]
    for k, (dx, dy) in enumerate(square):
        rows.append(("P1", 1, f"J{k + 1}", Y0 + dy, X0 + dx))
    for k, (dx, dy) in enumerate([(40, 40), (40, 60), (60, 60), (60, 40)]):
        rows.append(("" if k else "P1", 2, f"J{k + 6}", Y0 + dy, X0 + dx))  # blank id: merged cell
    for k, (dx, dy) in enumerate(square[:-1]):  # not closed: closed on read
        rows.append(("P2", 1, f"J{k + 1}", Y0 + dy, X0 + 300 + dx))
    frame = pd.DataFrame(rows, columns=["地块编号", "圈号", "点号", "X坐标", "Y坐标"])
    frame["规划用途"] = "工业"
    frame.to_csv(tmp_path / "parcels.csv", index=False)
    bundle = read_bundle(tmp_path)
    assert bundle.crs.to_epsg() == 4527  # inferred from the zone prefix, with a warning
    assert any("4527" in w for w in bundle.warnings)
    parcels = bundle.parcels
    assert parcels["parcel_id"].tolist() == ["P1", "P2"]
    assert parcels.area.tolist() == pytest.approx([10_000 - 400, 10_000])
    assert parcels["planned_use"].tolist() == ["industrial", "industrial"]
    assert "X坐标" not in parcels.columns and "圈号" not in parcels.columns


def test_xlsx_with_lonlat_point_rows(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "地块编号": ["P1"] * 4,
            "经度": [117.0, 117.001, 117.001, 117.0],
            "纬度": [31.5, 31.5, 31.501, 31.501],
        }
    )
    frame.to_excel(tmp_path / "parcels.xlsx", index=False)
    bundle = read_bundle(tmp_path)
    assert bundle.crs.to_epsg() == 4548
    assert bundle.parcels.area.iloc[0] == pytest.approx(95.0 * 111.0, rel=0.05)


def test_swapped_coordinate_columns_are_detected(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "地块编号": ["P1"] * 4,
            "X坐标": [X0, X0 + 10, X0 + 10, X0],
            "Y坐标": [Y0, Y0, Y0 + 10, Y0 + 10],
            "epsg": 4527,
        }
    )
    frame.to_csv(tmp_path / "parcels.csv", index=False)
    bundle = read_bundle(tmp_path)
    assert bundle.parcels.total_bounds[0] == pytest.approx(X0)
    assert any("swapped" in w for w in bundle.warnings)


def test_txt_layer_is_read_with_the_formats_reader(tmp_path: Path) -> None:
    txt = "[属性描述]\r\n坐标系=2000国家大地坐标系\r\n几度分带=3\r\n带号=39\r\n[地块坐标]\r\n"
    txt += "5,1.0000,D1,一号地块,面,,工业,,@\r\n"
    for name, (dx, dy) in zip(
        ["J1", "J2", "J3", "J4", "J1"], [(0, 0), (0, 100), (100, 100), (100, 0), (0, 0)], strict=True
    ):
        txt += f"{name},1,{Y0 + dy:.3f},{X0 + dx:.3f}\r\n"
    (tmp_path / "parcels.txt").write_bytes(txt.encode("gbk"))
    bundle = read_bundle(tmp_path)
    assert bundle.crs.to_epsg() == 4527
    assert bundle.parcels["parcel_id"].tolist() == ["D1"]
    assert bundle.parcels.area.iloc[0] == pytest.approx(10_000)


# ── bundle-level errors ───────────────────────────────────────────────────────────────────────────────────


def test_missing_parcels_layer(tmp_path: Path) -> None:
    _batches().to_file(tmp_path / "batches.geojson")
    with pytest.raises(InputError, match=r"layer parcels.*required layer missing"):
        read_bundle(tmp_path)


def test_two_files_for_one_layer(tmp_path: Path) -> None:
    _parcels().to_file(tmp_path / "parcels.geojson")
    _parcels().to_parquet(tmp_path / "parcels.parquet")
    with pytest.raises(InputError, match=r"layer parcels.*two files"):
        read_bundle(tmp_path)


def test_corrupt_file_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "parcels.geojson").write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    with pytest.raises(InputError, match=r"file .*parcels\.geojson.*cannot read"):
        read_bundle(tmp_path)


@pytest.mark.parametrize("name", ["parcels.gpkg", "parcels.parquet", "parcels.xlsx", "parcels.shp"])
def test_corrupt_binary_files_name_the_file(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_bytes(b"\x00garbage" * 10)
    with pytest.raises(InputError, match=name.replace(".", r"\.")):
        read_bundle(tmp_path)


def test_missing_bundle_and_wrong_path(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="bundle not found"):
        read_bundle(tmp_path / "nowhere")
    (tmp_path / "parcels.csv").write_text("parcel_id\n")
    with pytest.raises(InputError, match=r"directory or a \.gpkg"):
        read_bundle(tmp_path / "parcels.csv")


def test_zone_toml_syntax_error_names_the_file(tmp_path: Path) -> None:
    _parcels().to_file(tmp_path / "parcels.geojson")
    (tmp_path / "zone.toml").write_text('name = "未闭合\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"zone\.toml.*TOML"):
        read_bundle(tmp_path)


def test_corrupt_raster_names_the_file(tmp_path: Path) -> None:
    _parcels().to_file(tmp_path / "parcels.geojson")
    (tmp_path / "flood_depth.tif").write_bytes(b"not a tiff")
    with pytest.raises(InputError, match=r"flood_depth\.tif.*raster"):
        read_bundle(tmp_path)


def test_csv_encoding_argument_overrides_detection(tmp_path: Path) -> None:
    gdf = _parcels(4527, 1)
    text = f'地块编号,wkt,epsg,名称\nP1,"{gdf.geometry.iloc[0].wkt}",4527,城东地块\n'
    (tmp_path / "parcels.csv").write_bytes(text.encode("gbk"))
    assert read_bundle(tmp_path, encoding="GBK").parcels["名称"].tolist() == ["城东地块"]
    with pytest.raises(InputError, match=r"parcels\.csv.*UTF-8"):
        read_bundle(tmp_path, encoding="UTF-8")


def test_zone_boundary_and_hv_lines_from_point_rows(tmp_path: Path) -> None:
    _parcels().to_file(tmp_path / "parcels.gpkg")
    ring = [(0, 0), (0, 1000), (1000, 1000), (1000, 0), (0, 0)]
    pd.DataFrame(
        {"X坐标": [Y0 + dy for dx, dy in ring], "Y坐标": [X0 + dx for dx, dy in ring], "epsg": 4527}
    ).to_csv(tmp_path / "zone_boundary.csv", index=False)
    pd.DataFrame(
        {
            "编号": ["L1", "L1", "L2", "L2"],
            "电压等级": ["220kV", None, "110千伏", None],
            "x": [X0, X0 + 500, X0, X0],
            "y": [Y0, Y0, Y0, Y0 + 300],
            "epsg": 4527,
        }
    ).to_csv(tmp_path / "hv_lines.csv", index=False)
    bundle = read_bundle(tmp_path)
    assert bundle.layers["zone_boundary"].area.tolist() == pytest.approx([1_000_000])
    hv = bundle.layers["hv_lines"]
    assert hv["voltage_kv"].tolist() == [220.0, 110.0]
    assert hv.length.tolist() == pytest.approx([500, 300])


def test_empty_optional_layer_is_kept_empty(tmp_path: Path) -> None:
    _parcels().to_file(tmp_path / "parcels.gpkg")
    _batches().iloc[:0].to_file(tmp_path / "batches.gpkg")
    bundle = read_bundle(tmp_path)
    assert bundle.layers["batches"].empty and bundle.layers["batches"].crs == bundle.crs


def test_empty_parcels_layer_is_an_error(tmp_path: Path) -> None:
    _parcels().iloc[:0].to_file(tmp_path / "parcels.gpkg")
    with pytest.raises(InputError, match=r"layer parcels.*no features"):
        read_bundle(tmp_path)


def test_zone_toml_with_bom_and_bad_crs(tmp_path: Path) -> None:
    _parcels().to_file(tmp_path / "parcels.geojson")
    (tmp_path / "zone.toml").write_bytes('name = "甲"\n'.encode("utf-8-sig"))
    assert read_bundle(tmp_path).zone == {"name": "甲"}
    (tmp_path / "zone.toml").write_text('crs = "EPSG:999999"\n')
    with pytest.raises(InputError, match=r"zone\.toml, field crs"):
        read_bundle(tmp_path)


def test_xlsx_point_rows_with_numeric_ids_and_merged_attribute_cells(tmp_path: Path) -> None:
    square = [(0, 0), (0, 50), (50, 50), (50, 0)]
    frame = pd.DataFrame(
        {
            "地块编号": [1001, None, None, None, 1002, None, None, None],
            "规划用途": ["工业", None, None, None, "仓储", None, None, None],
            "点号": [f"J{k + 1}" for k in range(4)] * 2,
            "X坐标": [Y0 + dy for dx, dy in square] * 2,
            "Y坐标": [X0 + dx for dx, dy in square] + [X0 + 100 + dx for dx, dy in square],
            "坐标系": ["EPSG:4527"] + [None] * 7,
        }
    )
    frame.to_excel(tmp_path / "parcels.xlsx", index=False)
    parcels = read_bundle(tmp_path).parcels
    assert parcels["parcel_id"].tolist() == ["1001", "1002"]
    assert parcels["planned_use"].tolist() == ["industrial", "warehouse"]
    assert parcels.area.tolist() == pytest.approx([2_500, 2_500])


def test_point_rows_with_too_few_points_name_the_feature(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"地块编号": ["P1", "P1", "P2"], "X坐标": [Y0, Y0 + 9, Y0], "Y坐标": [X0, X0, X0 + 9]}
    )
    frame["epsg"] = 4527
    frame.to_csv(tmp_path / "parcels.csv", index=False)
    with pytest.raises(
        InputError, match=r"parcels\.csv, layer parcels, feature P1 \(row 2\), field 地块编号.*fewer than 3"
    ):
        read_bundle(tmp_path)


def test_point_rows_out_of_order_are_sorted_by_point_number(tmp_path: Path) -> None:
    # J1..J4 of a 100 m square listed as J1, J3, J2, J4, J1: in file order the ring would cross itself
    corners = {"J1": (0, 0), "J2": (0, 100), "J3": (100, 100), "J4": (100, 0)}
    names = ["J1", "J3", "J2", "J4", "J1"]
    frame = pd.DataFrame(
        {
            "地块编号": ["P1"] * 5,
            "点号": names,
            "X坐标": [Y0 + corners[k][1] for k in names],
            "Y坐标": [X0 + corners[k][0] for k in names],
            "epsg": 4527,
        }
    )
    frame.to_csv(tmp_path / "parcels.csv", index=False)
    bundle = read_bundle(tmp_path)
    assert bundle.parcels.area.iloc[0] == pytest.approx(10_000)
    assert any("点号" in w for w in bundle.warnings)


def test_txt_reader_is_imported_only_for_txt_layers(tmp_path: Path) -> None:
    import subprocess
    import sys

    _parcels().to_file(tmp_path / "parcels.geojson")
    code = (
        "import sys; from gis.io import read_bundle; "
        f"read_bundle({str(tmp_path)!r}); print('gis.formats.txt' in sys.modules)"
    )
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True)
    assert done.stdout.strip() == "False"


def test_csv_read_with_a_wrong_encoding_warns_about_garbled_text(tmp_path: Path) -> None:
    gdf = _parcels(4527, 1)
    text = f'parcel_id,wkt,epsg,名称\nP1,"{gdf.geometry.iloc[0].wkt}",4527,城东地块\n'
    (tmp_path / "parcels.csv").write_bytes(text.encode("gbk"))
    bundle = read_bundle(tmp_path, encoding="latin-1")
    assert any("garbled" in w for w in bundle.warnings)
    assert not any("garbled" in w for w in read_bundle(tmp_path).warnings)
    (tmp_path / "parcels.csv").write_bytes(text.replace("parcel_id", "地块编号").encode("gbk"))
    with pytest.raises(InputError, match=r"field parcel_id.*headers look garbled"):
        read_bundle(tmp_path, encoding="latin-1")


def test_layer_gpkg_with_several_unnamed_layers_is_an_error(tmp_path: Path) -> None:
    _parcels().to_file(tmp_path / "parcels.gpkg", layer="a")
    _parcels().to_file(tmp_path / "parcels.gpkg", layer="b")
    with pytest.raises(InputError, match=r"parcels\.gpkg, layer parcels.*none named parcels"):
        read_bundle(tmp_path)


def test_duplicate_batch_ids_are_a_warning(tmp_path: Path) -> None:
    _parcels().to_file(tmp_path / "parcels.gpkg")
    batches = pd.concat([_batches(), _batches()], ignore_index=True)
    batches.to_file(tmp_path / "batches.gpkg")
    bundle = read_bundle(tmp_path)
    assert len(bundle.layers["batches"]) == 2
    assert any("duplicate batch_id 'B1'" in w for w in bundle.warnings)


def test_raster_without_crs_is_an_error(tmp_path: Path) -> None:
    _parcels().to_file(tmp_path / "parcels.gpkg")
    with rasterio.open(
        tmp_path / "dem.tif", "w", driver="GTiff", width=2, height=2, count=1, dtype="float32"
    ) as dst:
        dst.write(np.zeros((1, 2, 2), dtype="float32"))
    with pytest.raises(InputError, match=r"dem\.tif, layer dem.*no CRS"):
        read_bundle(tmp_path)


def test_our_shapefile_export_gives_other_columns_their_full_names_back(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    _parcels(n=2, enterprise_contact_person=["张三", "李四"], 备注说明文字=["甲", "乙"]).to_file(
        tmp_path / "src" / "parcels.geojson"
    )
    parcels = read_bundle(tmp_path / "src").parcels
    with zipfile.ZipFile(io.BytesIO(shapefile_zip(parcels, "parcels"))) as archive:
        archive.extractall(tmp_path / "shp")
    back = read_bundle(tmp_path / "shp").parcels
    assert back["enterprise_contact_person"].tolist() == ["张三", "李四"]  # a DBF name holds 10 bytes
    assert back["备注说明文字"].tolist() == ["甲", "乙"]
    # another layer in the same folder is left alone by this layer's legend
    gpd.GeoDataFrame({"F1": ["x"]}, geometry=[box(0, 0, 1, 1)], crs=4527).to_file(
        tmp_path / "shp" / "other.shp"
    )
    assert read_shapefile(tmp_path / "shp" / "other.shp", layer="other")[0].columns.tolist() == [
        "F1",
        "geometry",
    ]
    (tmp_path / "shp" / "字段对照表.csv").unlink()  # without the legend the short names stay
    assert "enterprise_contact_person" not in read_bundle(tmp_path / "shp").parcels
