"""read_bundle field normalization: Chinese/English headers, enums, dates, numbers, booleans, required fields."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import geopandas as gpd
from shapely.geometry import LineString, box

from gis.errors import InputError
from gis.io import read_bundle
from gis.io.fields import parse_dates, parse_numbers
from gis.io.headers import clean_header, match_fields
from gis.schema import LAYERS

X0, Y0 = 500_000.0, 3_485_000.0  # EPSG:4547 (CM 114E)


def _write(tmp_path: Path, layer: str = "parcels", crs: int = 4547, **columns: list) -> Path:
    n = len(next(iter(columns.values())))
    geoms = [box(X0 + 200 * i, Y0, X0 + 200 * i + 100, Y0 + 100) for i in range(n)]
    gpd.GeoDataFrame(columns, geometry=geoms, crs=crs).to_file(tmp_path / f"{layer}.geojson")
    return tmp_path


def _parcels(tmp_path: Path, **columns: list) -> gpd.GeoDataFrame:
    return read_bundle(_write(tmp_path, **columns)).parcels


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("地块编号", "parcel_id"),
        (" 地块编号 ", "parcel_id"),
        ("（地块编号）", "parcel_id"),
        ("Parcel ID", "parcel_id"),
        ("PARCEL_ID", "parcel_id"),
        ("出让价款(万元)", "land_price_wan"),
        ("出让价款（万元）", "land_price_wan"),
        ("实际开工日期（）", "started_on"),
        ("建(构)筑物及堆场占地", "footprint_m2"),
        ("建（构）筑物及堆场占地（平方米）", "footprint_m2"),
        ("宗地编号", "parcel_id"),
        ("年产值（2023年）", "annual_output_wan"),
    ],
)
def test_header_aliases(header: str, field: str) -> None:
    mapping, _ = match_fields([header, "备注"], LAYERS["parcels"])
    assert mapping == {header: field}


def test_clean_header() -> None:
    assert clean_header(" 地块 编号 ") == "地块编号"
    assert clean_header("Land-Price wan") == "land_price_wan"


def test_truncated_shapefile_names_match_by_unique_prefix_only() -> None:
    spec = LAYERS["parcels"]
    assert match_fields(["约定开", "地块编"], spec, prefixes=True)[0] == {
        "约定开": "agreed_start_on",
        "地块编": "parcel_id",
    }
    assert match_fields(["标准地"], spec, prefixes=True)[0] == {}  # five fields begin 标准地
    assert match_fields(["约定开"], spec)[0] == {}


def test_pinyin_field_codes_match_everywhere() -> None:
    mapping, _ = match_fields(["DKBH", "dkmc", "GHYT", "DLBM"], LAYERS["parcels"])
    assert mapping == {"DKBH": "parcel_id", "dkmc": "name", "GHYT": "planned_use"}
    assert match_fields(["PCBH", "PCMC"], LAYERS["batches"])[0] == {"PCBH": "batch_id", "PCMC": "batch_name"}


def test_short_names_of_our_shapefile_export_match_in_shapefiles() -> None:
    spec = LAYERS["parcels"]
    columns = ["supply_sta", "agreed_sta", "completed_", "land_price", "compensati", "investment"]
    mapping, warnings = match_fields(columns, spec, prefixes=True)
    assert mapping == {
        "supply_sta": "supply_status",
        "agreed_sta": "agreed_start_on",
        "completed_": "completed_on",
        "land_price": "land_price_wan",
        "compensati": "compensation_done",
        "investment": "investment_min_wan_per_mu",
    }
    # a whole word may be a county's own column with another meaning: reported
    assert [w for w in warnings if "investment" in w and "short name our export writes" in w]
    assert len(warnings) == 1
    assert match_fields(columns, spec)[0] == {}  # not outside shapefiles


def test_chinese_headers_and_values_are_normalized(tmp_path: Path) -> None:
    parcels = _parcels(
        tmp_path,
        **{
            "地块编号": [" P1 ", "P2", "P3"],
            "规划用途": ["工业", " 仓储用地 ", "Industrial"],
            "供应状态": ["已供", "未供", None],
            "供地方式": ["出让", "划拨", ""],
            "闲置原因": ["政府原因", None, "force_majeure"],
            "经营状态": ["停产", "正常", "半停产"],
            "出让价款（万元）": ["1,200.5", "30", None],
            "已开发面积比例": ["50%", "0.2", "1"],
            "征地补偿已落实": ["否", "是", None],
            "权属争议": ["Y", "no", "1"],
            "自定义字段": ["a", "b", "c"],
        },
    )
    assert parcels["parcel_id"].tolist() == ["P1", "P2", "P3"]
    assert parcels["planned_use"].tolist() == ["industrial", "warehouse", "industrial"]
    assert parcels["supply_status"].tolist() == ["supplied", "unsupplied", "unsupplied"]  # default
    assert parcels["supply_method"].tolist()[:2] == ["transfer", "allocation"] and pd.isna(
        parcels["supply_method"][2]
    )
    assert parcels["delay_cause"].tolist() == ["government", "owner", "force_majeure"]
    assert parcels["operating_status"].tolist() == ["stopped", "operating", "partial"]
    assert parcels["land_price_wan"].tolist()[:2] == [1200.5, 30.0] and np.isnan(parcels["land_price_wan"][2])
    assert parcels["developed_fraction"].tolist() == [0.5, 0.2, 1.0]
    assert parcels["compensation_done"].tolist() == [False, True, True]
    assert parcels["disputed"].tolist() == [True, False, True]
    assert parcels["自定义字段"].tolist() == ["a", "b", "c"]  # unknown fields pass through


def test_every_schema_field_is_a_typed_column(tmp_path: Path) -> None:
    parcels = _parcels(tmp_path, parcel_id=["P1"])
    spec = LAYERS["parcels"]
    assert list(parcels.columns) == [f.name for f in spec.fields] + ["geometry"]
    for f in spec.fields:
        kind = {"date": "datetime64[ns]", "number": "float64", "bool": "bool"}.get(f.type, "str")
        assert str(parcels[f.name].dtype) == kind, f.name
    assert parcels["supply_status"][0] == "unsupplied" and parcels["delay_cause"][0] == "owner"
    assert bool(parcels["compensation_done"][0]) is True and bool(parcels["disputed"][0]) is False


def test_infrastructure_status_defaults_to_built(tmp_path: Path) -> None:
    _write(tmp_path, parcel_id=["P1"])
    gpd.GeoDataFrame(
        {"类型": ["道路", "供水"], "状态": [None, "规划"]},
        geometry=[LineString([(X0, Y0), (X0 + 500, Y0)])] * 2,
        crs=4547,
    ).to_file(tmp_path / "infrastructure.geojson")
    infra = read_bundle(tmp_path).layers["infrastructure"]
    assert infra["kind"].tolist() == ["road", "water"]
    assert infra["status"].tolist() == ["built", "planned"]


def test_dates_in_many_forms() -> None:
    values = pd.Series(
        [
            "2020-01-05",
            "2020/1/5",
            "2020.1.5",
            "2020年1月5日",
            "20200105",
            "43835",
            "2020-01-05T08:30:00",
            None,
            "",
            "无",
        ]
    )
    dates, bad, clipped = parse_dates(values)
    assert str(dates.dtype) == "datetime64[ns]"
    assert dates.iloc[:7].tolist() == [pd.Timestamp("2020-01-05")] * 7
    assert dates.iloc[7:].isna().all() and not bad.any() and clipped == 0


def test_datetime_columns_and_far_future_dates() -> None:
    dates, bad, clipped = parse_dates(pd.Series(pd.to_datetime(["2021-03-04 13:00", None])))
    assert dates.tolist()[0] == pd.Timestamp("2021-03-04") and pd.isna(dates[1])
    dates, bad, clipped = parse_dates(pd.Series(["9999-12-31"]))
    assert clipped == 1 and dates[0].year == 2262 and not bad.any()


@pytest.mark.parametrize("value", ["2020-13-01", "2020-02-30", "明年", "1850-01-01", "05/01/2020"])
def test_bad_date_names_feature_and_field(tmp_path: Path, value: str) -> None:
    _write(tmp_path, 地块编号=["P1", "P2"], 约定开工日期=["2020-01-01", value])
    with pytest.raises(
        InputError, match=r"parcels\.geojson, layer parcels, feature P2 \(#2\), field agreed_start_on"
    ):
        read_bundle(tmp_path)


def test_numbers() -> None:
    numbers, bad = parse_numbers(pd.Series(["1,234.5", " 12 ", "50%", "", None, "１２"]))
    assert numbers.tolist()[:3] == [1234.5, 12.0, 0.5] and numbers[5] == 12.0
    assert numbers[3:5].isna().all() and not bad.any()
    _, bad = parse_numbers(pd.Series(["12a"]))
    assert bad.tolist() == [True]


def test_bad_number_and_out_of_range(tmp_path: Path) -> None:
    _write(tmp_path, parcel_id=["P1", "P2"], total_investment_wan=["100", "一百"])
    with pytest.raises(InputError, match=r"feature P2.*field total_investment_wan.*not a number.*一百"):
        read_bundle(tmp_path)
    _write(tmp_path, parcel_id=["P1", "P2"], developed_fraction=[0.5, 1.5])
    with pytest.raises(InputError, match=r"feature P2.*field developed_fraction.*maximum 1"):
        read_bundle(tmp_path)
    _write(tmp_path, parcel_id=["P1"], land_price_wan=[-3])
    with pytest.raises(InputError, match=r"feature P1.*field land_price_wan.*minimum 0"):
        read_bundle(tmp_path)


def test_bad_enum_names_feature_field_and_allowed_values(tmp_path: Path) -> None:
    _write(tmp_path, 地块编号=["P1", "P2"], 规划用途=["工业", "农业"])
    with pytest.raises(InputError, match=r"feature P2 \(#2\), field planned_use.*industrial.*'农业'"):
        read_bundle(tmp_path)


def test_bad_bool(tmp_path: Path) -> None:
    _write(tmp_path, parcel_id=["P1"], disputed=["maybe"])
    with pytest.raises(InputError, match=r"feature P1.*field disputed"):
        read_bundle(tmp_path)


def test_bad_value_in_a_spreadsheet_names_the_row_the_user_sees(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "地块编号": ["P1", "P2"],
            "wkt": [f"POLYGON (({X0} {Y0}, {X0 + 9} {Y0}, {X0} {Y0 + 9}, {X0} {Y0}))"] * 2,
            "epsg": [4547, 4547],
            "供应状态": ["已供", "卖了"],
        }
    )
    frame.to_excel(tmp_path / "parcels.xlsx", index=False)
    with pytest.raises(
        InputError, match=r"parcels\.xlsx, layer parcels, feature P2 \(row 3\), field supply_status"
    ):
        read_bundle(tmp_path)


def test_duplicate_parcel_ids_name_both_rows(tmp_path: Path) -> None:
    _write(tmp_path, parcel_id=["P1", "P2", "P1"])
    with pytest.raises(InputError, match=r"feature P1, field parcel_id.*duplicate parcel_id 'P1' in #1, #3"):
        read_bundle(tmp_path)


def test_missing_parcel_id_field(tmp_path: Path) -> None:
    _write(tmp_path, 名称=["甲"])
    with pytest.raises(
        InputError, match=r"parcels\.geojson, layer parcels, field parcel_id: .*required field missing"
    ):
        read_bundle(tmp_path)


def test_empty_parcel_id_value(tmp_path: Path) -> None:
    _write(tmp_path, parcel_id=["P1", " "])
    with pytest.raises(InputError, match=r"feature #2, field parcel_id.*empty"):
        read_bundle(tmp_path)


@pytest.mark.parametrize(
    ("layer", "columns", "field"),
    [
        ("batches", {"batch_id": ["B1"]}, "approved_on"),
        ("batches", {"批准日期": ["2020-01-01"]}, "batch_id"),
        ("infrastructure", {"status": ["built"]}, "kind"),
        ("assessments", {"completed_on": ["2020-01-01"]}, "kind"),
    ],
)
def test_missing_required_field_of_optional_layers(
    tmp_path: Path, layer: str, columns: dict, field: str
) -> None:
    _write(tmp_path, parcel_id=["P1"])
    geometry = (
        LineString([(X0, Y0), (X0 + 10, Y0)])
        if layer in {"hv_lines", "infrastructure"}
        else box(X0, Y0, X0 + 9, Y0 + 9)
    )
    gpd.GeoDataFrame(columns, geometry=[geometry], crs=4547).to_file(tmp_path / f"{layer}.geojson")
    with pytest.raises(
        InputError, match=rf"{layer}\.geojson, layer {layer}, field {field}: .*required field missing"
    ):
        read_bundle(tmp_path)


def test_batch_with_empty_approval_date(tmp_path: Path) -> None:
    _write(tmp_path, parcel_id=["P1"])
    _write(tmp_path, "batches", batch_id=["B1", "B2"], approved_on=["2020-01-01", None])
    with pytest.raises(InputError, match=r"layer batches, feature B2 \(#2\), field approved_on.*empty"):
        read_bundle(tmp_path)


def test_assessment_kinds_from_chinese(tmp_path: Path) -> None:
    _write(tmp_path, parcel_id=["P1"])
    _write(
        tmp_path,
        "assessments",
        评估类型=["区域环评", "压覆矿产"],
        完成日期=["2020-01-01", "2021/5/6"],
        有效期至=[None, "2030-12-31"],
    )
    layer = read_bundle(tmp_path).layers["assessments"]
    assert layer["kind"].tolist() == ["eia", "mineral"]
    assert pd.isna(layer["valid_until"][0]) and layer["valid_until"][1] == pd.Timestamp("2030-12-31")


def test_share_given_as_a_percentage_number_gets_a_hint(tmp_path: Path) -> None:
    _write(tmp_path, parcel_id=["P1"], developed_fraction=[50])
    with pytest.raises(InputError, match=r"field developed_fraction.*50%"):
        read_bundle(tmp_path)
