"""规划用途 as county sheets and 勘测定界 files write it: the short names and the full 用地 names."""

from __future__ import annotations

import pandas as pd
import pytest

import geopandas as gpd
from shapely.geometry import box

from gis.io import normalize_layer


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("工业用地", "industrial"),
        ("商业用地", "commercial"),
        ("商业服务业用地", "commercial"),
        ("居住用地", "residential"),
        ("城镇住宅用地", "residential"),
        ("公共管理与公共服务用地", "public"),
        ("交通运输用地", "infrastructure"),
        ("绿地与广场用地", "green"),
        ("其他用地", "other"),
        ("物流仓储用地", "warehouse"),
    ],
)
def test_full_land_use_names_are_accepted(written: str, code: str) -> None:
    raw = gpd.GeoDataFrame(
        pd.DataFrame({"地块编号": ["A1"], "规划用途": [written]}), geometry=[box(0, 0, 100, 100)], crs=4527
    )
    assert normalize_layer(raw, "parcels", source="test.xlsx")["planned_use"].tolist() == [code]
