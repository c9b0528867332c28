"""GCJ-02 / BD-09 against published values.

Sources of the expected numbers:
- FORMATS.md §3.2 test vectors (Tiananmen, computed with coordTransform's formulas, a = 6378245).
- googollee/eviltransform python/test.py, ``TESTS`` (Shanghai, Shenzhen, Beijing: WGS84 -> GCJ-02, asserted there to 6
  decimal places). eviltransform uses a = 6378137, about 1 cm (1e-7 degree) from ours, well inside those 6 decimals.
"""

from __future__ import annotations

import numpy as np
import pytest

import geopandas as gpd
from shapely.geometry import Point, box

from gis.formats.gcj02 import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    in_china,
    to_basemap,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

# (wgs lat, wgs lng, gcj lat, gcj lng) from eviltransform python/test.py
EVILTRANSFORM = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # beijing
]
# (bd lat, bd lng, wgs lat, wgs lng): the inputs of eviltransform's ``TESTS_bd`` and what its own ``bd2wgs`` returns
# for them (run here). The expected values printed in its test.py are about 40 m from its own code's output, so they
# are not used.
EVILTRANSFORM_BD = [
    (29.199786, 120.019809, 29.19620802913637, 120.00872854467232),
    (29.210504, 120.036455, 29.20714721836464, 120.02527277673505),
]


def metres(lon1, lat1, lon2, lat2):
    k = 111_195.0
    return np.hypot((np.asarray(lon1) - lon2) * k * np.cos(np.radians(lat2)), (np.asarray(lat1) - lat2) * k)


def test_formats_md_vectors():
    gcj = wgs84_to_gcj02(116.397428, 39.909230)
    assert gcj == pytest.approx((116.40367163, 39.91063351), abs=5e-9)
    assert gcj02_to_bd09(*gcj) == pytest.approx((116.41004410, 39.91697286), abs=5e-9)
    assert metres(*gcj, 116.397428, 39.909230) == pytest.approx(556, abs=5)


@pytest.mark.parametrize(
    ("lon", "lat", "offset"), [(120.218162, 30.298188, 512), (112.830732, 23.292052, 605)]
)
def test_formats_md_offsets(lon, lat, offset):
    assert metres(*wgs84_to_gcj02(lon, lat), lon, lat) == pytest.approx(offset, abs=3)


@pytest.mark.parametrize(("wlat", "wlng", "glat", "glng"), EVILTRANSFORM)
def test_eviltransform_vectors(wlat, wlng, glat, glng):
    assert wgs84_to_gcj02(wlng, wlat) == pytest.approx((glng, glat), abs=5e-7)
    # eviltransform's exact inverse is asserted within 0.5 m; ours converges to the forward function
    lon, lat = gcj02_to_wgs84(glng, glat)
    assert metres(lon, lat, wlng, wlat) < 0.05


@pytest.mark.parametrize(("blat", "blng", "wlat", "wlng"), EVILTRANSFORM_BD)
def test_eviltransform_bd_vectors(blat, blng, wlat, wlng):
    assert bd09_to_wgs84(blng, blat, exact=False) == pytest.approx((wlng, wlat), abs=5e-7)
    assert metres(*bd09_to_wgs84(blng, blat), wlng, wlat) < 3  # the one-step inverse is 0.1–2 m off here


def test_exact_inverse_on_a_grid():
    lon, lat = np.meshgrid(np.linspace(74, 134, 25), np.linspace(18, 53, 15))
    lon, lat = lon.ravel(), lat.ravel()
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    w_lon, w_lat = gcj02_to_wgs84(g_lon, g_lat)
    assert np.max(metres(w_lon, w_lat, lon, lat)) < 1e-4
    a_lon, a_lat = gcj02_to_wgs84(g_lon, g_lat, exact=False)
    approx = metres(a_lon, a_lat, lon, lat)
    assert 0.01 < np.max(approx) < 10  # the one-step inverse: about 1–5 m


def test_bd09_round_trip():
    lon, lat = np.array([116.4, 121.47, 104.06]), np.array([39.9, 31.23, 30.67])
    back = bd09_to_gcj02(*gcj02_to_bd09(lon, lat))
    assert np.max(metres(*back, lon, lat)) < 0.2
    w_back = bd09_to_wgs84(*wgs84_to_bd09(lon, lat))
    assert np.max(metres(*w_back, lon, lat)) < 0.2


def test_outside_china_passes_through():
    lon, lat = np.array([-0.1276, 139.69, 116.4]), np.array([51.5072, 35.69, 39.9])  # London, Tokyo, Beijing
    assert in_china(lon, lat).tolist() == [False, False, True]
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    assert g_lon[:2].tolist() == lon[:2].tolist() and g_lat[:2].tolist() == lat[:2].tolist()
    assert g_lon[2] != lon[2]
    assert gcj02_to_wgs84(-0.1276, 51.5072) == (-0.1276, 51.5072)
    assert wgs84_to_bd09(-0.1276, 51.5072) == (-0.1276, 51.5072)
    assert bd09_to_wgs84(-0.1276, 51.5072) == (-0.1276, 51.5072)


def test_scalars_and_arrays():
    lon, lat = wgs84_to_gcj02(116.397428, 39.909230)
    assert isinstance(lon, float) and isinstance(lat, float)
    arr_lon, _ = wgs84_to_gcj02(np.array([116.397428]), np.array([39.909230]))
    assert isinstance(arr_lon, np.ndarray) and arr_lon[0] == lon


def test_to_basemap_shifts_only_the_copy():
    gdf = gpd.GeoDataFrame(
        {"id": [1, 2]}, geometry=[Point(116.397428, 39.909230), box(0, 51, 0.1, 51.1)], crs=4326
    )
    shifted = to_basemap(gdf, "gcj02")
    assert shifted.geometry.iloc[0].coords[0] == pytest.approx((116.40367163, 39.91063351), abs=5e-9)
    assert shifted.geometry.iloc[1].equals(gdf.geometry.iloc[1])
    assert gdf.geometry.iloc[0].x == 116.397428
    projected = to_basemap(gdf.to_crs(4527), "bd09")
    assert projected.crs.to_epsg() == 4326
    assert projected.geometry.iloc[0].coords[0] == pytest.approx((116.41004410, 39.91697286), abs=1e-7)
    with pytest.raises(ValueError, match="unknown basemap"):
        to_basemap(gdf, "mars")
