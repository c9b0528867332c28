"""Zipped GBK shapefile export (FORMATS.md §5): read back with geopandas, Chinese intact, legend present."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import numpy as np
import pandas as pd
import pytest

import geopandas as gpd
from shapely.geometry import MultiPolygon, box

from gis.errors import InputError
from gis.formats.shapefile import LEGEND_NAME, shapefile_zip, short_field_names


@pytest.fixture
def parcels() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "parcel_id": ["DK01", "DK02"],
            "name": ["城东地块一号", "甪直镇堃园"],
            "planned_use": ["industrial", None],
            "supplied_on": pd.to_datetime(["2021-03-04", None]).astype("datetime64[ms]"),
            "compensation_done": [True, False],
            "land_price_wan": [1234.5, np.nan],
            "investment_min_wan_per_mu": [300.0, 250.0],
            "investment_max_wan_per_mu": [400.0, 350.0],
            "flags": [["idle", "low_efficiency"], []],
            "infra_distance_m": [{"road": 12.5, "gas": None}, {}],
            "备注": ["有争议", None],
        },
        geometry=[box(0, 0, 100, 100), MultiPolygon([box(200, 0, 300, 100), box(400, 0, 500, 100)])],
        crs="EPSG:4527",
    )


def unzip(data: bytes, tmp_path):
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        archive.extractall(tmp_path)
    return names


def test_zip_contents_and_read_back(parcels, tmp_path):
    names = unzip(shapefile_zip(parcels, "parcels"), tmp_path)
    assert sorted(names) == sorted(
        ["parcels.shp", "parcels.shx", "parcels.dbf", "parcels.prj", "parcels.cpg", LEGEND_NAME]
    )
    assert (tmp_path / "parcels.cpg").read_text().strip().upper() == "GBK"
    dbf = (tmp_path / "parcels.dbf").read_bytes()
    assert "城东地块一号".encode("gbk") in dbf and "城东地块一号".encode() not in dbf
    back = gpd.read_file(tmp_path / "parcels.shp")  # the .cpg tells GDAL the encoding
    assert back.crs.to_epsg() == 4527
    assert list(back["DKBH"]) == ["DK01", "DK02"]
    assert list(back["DKMC"]) == ["城东地块一号", "甪直镇堃园"]
    assert back["F11"].iloc[0] == "有争议"
    assert back.geometry.iloc[1].equals(parcels.geometry.iloc[1])
    assert back["supplied_o"].iloc[0] == "2021-03-04" and pd.isna(back["supplied_o"].iloc[1])
    assert json.loads(back["flags"].iloc[0]) == ["idle", "low_efficiency"]
    assert json.loads(back["infra_dist"].iloc[0]) == {"road": 12.5, "gas": None}
    assert back["land_price"].iloc[0] == pytest.approx(1234.5) and np.isnan(back["land_price"].iloc[1])
    assert list(back["compensati"]) == [True, False]
    assert back["investment"].tolist() == [300.0, 250.0] and back["investme_1"].tolist() == [400.0, 350.0]
    for column in back.columns:
        assert column.isascii() and len(column.encode()) <= 10


def test_read_back_without_cpg_needs_gbk(parcels, tmp_path):
    unzip(shapefile_zip(parcels, "parcels"), tmp_path)
    (tmp_path / "parcels.cpg").unlink()
    back = gpd.read_file(tmp_path / "parcels.shp", encoding="GBK")
    assert back["DKMC"].iloc[1] == "甪直镇堃园"


def test_legend(parcels, tmp_path):
    unzip(shapefile_zip(parcels, "parcels"), tmp_path)
    raw = (tmp_path / LEGEND_NAME).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["字段名", "英文名", "中文名"]
    legend = {short: (english, chinese) for short, english, chinese in rows[1:]}
    assert legend["DKBH"] == ("parcel_id", "地块编号")
    assert legend["DKMC"] == ("name", "地块名称")
    assert legend["supplied_o"] == ("supplied_on", "供地日期")
    assert legend["F11"] == ("备注", "备注")
    assert len(legend) == len(parcels.columns) - 1


def test_utf8_option(parcels, tmp_path):
    unzip(shapefile_zip(parcels, "地块", encoding="UTF-8"), tmp_path)
    assert (tmp_path / "地块.cpg").read_text().strip() == "UTF-8"
    assert gpd.read_file(tmp_path / "地块.shp")["DKMC"].iloc[0] == "城东地块一号"


def test_unencodable_character_names_feature_and_field(parcels):
    parcels.loc[1, "name"] = "䶮地块"
    with pytest.raises(InputError, match="GBK") as info:
        shapefile_zip(parcels, "parcels")
    assert (info.value.feature, info.value.field, info.value.layer) == ("DK02", "name", "parcels")
    assert shapefile_zip(parcels, "parcels", encoding="GB18030")


def test_long_text_cut_at_a_character_boundary(parcels, tmp_path):
    notes: list[str] = []
    parcels.loc[0, "name"] = "地" * 200  # 400 bytes in GBK
    unzip(shapefile_zip(parcels, "parcels", warnings_out=notes), tmp_path)
    assert gpd.read_file(tmp_path / "parcels.shp")["DKMC"].iloc[0] == "地" * 127
    assert any("DK01" in n and "truncated" in n for n in notes)


def test_no_crs_is_an_input_error(parcels):
    with pytest.raises(InputError, match="no CRS"):
        shapefile_zip(parcels.set_crs(None, allow_override=True), "parcels")


def test_short_field_names_unique_case_insensitive():
    names = short_field_names(["parcel_id", "DKBH", "dkbh", "abcdefghijkl", "abcdefghijXY", "1st", "地类"])
    assert names["parcel_id"] == "DKBH"
    assert len({n.upper() for n in names.values()}) == len(names)
    assert all(n.isascii() and len(n) <= 10 and n[0].isalpha() for n in names.values())
