"""GCJ-02 and BD-09, the offsets of AMap/Tencent and Baidu basemaps (FORMATS.md §3).

Only for drawing our data on those basemaps: survey data (CGCS2000 Gauss-Krüger) is never shifted, and Tianditu
needs no offset at all. The formulas are the public ones of `wandergis/coordTransform_py` (a = 6378245, Krasovsky)
and `googollee/eviltransform`; every function takes and returns (lon, lat) and works on scalars or numpy arrays.
Points outside China's rough bounding box pass through unchanged, as in those implementations.

Examples
--------
>>> lon, lat = wgs84_to_gcj02(116.397428, 39.909230)
>>> round(float(lon), 8), round(float(lat), 8)
(116.40367163, 39.91063351)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

import geopandas as gpd
import shapely

__all__ = [
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "in_china",
    "to_basemap",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

_A = 6378245.0  # Krasovsky 1940 semi-major axis, as in coordTransform_py
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0

Coord = npt.ArrayLike


def in_china(lon: Coord, lat: Coord) -> np.ndarray:
    """True where the point lies in the rectangle the offset applies to (72.004–137.8347 E, 0.8293–55.8271 N)."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return (lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271)


def _delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = lon - 105.0, lat - 35.0
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x)) + common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x)) + common
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    rad = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = dlat * 180.0 / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = dlon * 180.0 / (_A / sqrt_magic * np.cos(rad) * np.pi)
    return dlon, dlat


def _result(lon: np.ndarray, lat: np.ndarray, scalar: bool) -> tuple:
    return (float(lon), float(lat)) if scalar else (lon, lat)


def wgs84_to_gcj02(lon: Coord, lat: Coord) -> tuple:
    """WGS84 (or CGCS2000) lon/lat to GCJ-02; points outside China are returned unchanged."""
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    dlon, dlat = _delta(lon, lat)
    inside = in_china(lon, lat)
    return _result(np.where(inside, lon + dlon, lon), np.where(inside, lat + dlat, lat), scalar)


def gcj02_to_wgs84(lon: Coord, lat: Coord, *, exact: bool = True, tolerance: float = 1e-10) -> tuple:
    """GCJ-02 lon/lat to WGS84.

    With ``exact`` (default) the fixed-point loop ``w ← w − (f(w) − g)`` runs until every point moves less than
    `tolerance` degrees (about 1e-5 m; it converges in a handful of steps); otherwise one step ``g − δ(g)``, which is
    off by 0.1–5 m.
    """
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    g_lon, g_lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    inside = in_china(g_lon, g_lat)
    dlon, dlat = _delta(g_lon, g_lat)
    w_lon, w_lat = g_lon - dlon, g_lat - dlat
    if exact:
        for _ in range(50):
            f_lon, f_lat = wgs84_to_gcj02(w_lon, w_lat)
            # points outside China are not shifted at all; keep them out of the convergence test
            step_lon = np.where(inside, np.asarray(f_lon) - g_lon, 0.0)
            step_lat = np.where(inside, np.asarray(f_lat) - g_lat, 0.0)
            w_lon, w_lat = w_lon - step_lon, w_lat - step_lat
            if (
                np.nanmax(np.abs(np.concatenate([np.ravel(step_lon), np.ravel(step_lat)])), initial=0.0)
                < tolerance
            ):
                break
    return _result(np.where(inside, w_lon, g_lon), np.where(inside, w_lat, g_lat), scalar)


def gcj02_to_bd09(lon: Coord, lat: Coord) -> tuple:
    """GCJ-02 lon/lat to Baidu's BD-09."""
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    x, y = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    z = np.hypot(x, y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return _result(z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006, scalar)


def bd09_to_gcj02(lon: Coord, lat: Coord) -> tuple:
    """Baidu's BD-09 lon/lat to GCJ-02 (the usual closed-form inverse, good to about 1e-6 degrees)."""
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    x, y = np.asarray(lon, dtype=float) - 0.0065, np.asarray(lat, dtype=float) - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return _result(z * np.cos(theta), z * np.sin(theta), scalar)


def wgs84_to_bd09(lon: Coord, lat: Coord) -> tuple:
    """WGS84 lon/lat to BD-09; outside China Baidu uses WGS84, so those points pass through."""
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    b_lon, b_lat = gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))
    inside = in_china(lon, lat)
    return _result(np.where(inside, b_lon, lon), np.where(inside, b_lat, lat), scalar)


def bd09_to_wgs84(lon: Coord, lat: Coord, *, exact: bool = True) -> tuple:
    """BD-09 lon/lat to WGS84 (points outside China pass through)."""
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    g_lon, g_lat = bd09_to_gcj02(lon, lat)
    w_lon, w_lat = gcj02_to_wgs84(g_lon, g_lat, exact=exact)
    inside = in_china(lon, lat)
    return _result(np.where(inside, w_lon, lon), np.where(inside, w_lat, lat), scalar)


_TO_BASEMAP: dict[str, Callable[..., tuple]] = {
    "wgs84": lambda lon, lat: (lon, lat),
    "gcj02": wgs84_to_gcj02,
    "bd09": wgs84_to_bd09,
}


def to_basemap(gdf: gpd.GeoDataFrame, system: str) -> gpd.GeoDataFrame:
    """`gdf` in EPSG:4326 with its coordinates shifted for a ``"gcj02"`` or ``"bd09"`` basemap (display only).

    The result still says EPSG:4326, because GCJ-02 and BD-09 have no EPSG code; never measure or save it.
    """
    if system not in _TO_BASEMAP:
        raise ValueError(
            f"unknown basemap coordinate system {system!r}; expected one of {sorted(_TO_BASEMAP)}"
        )
    wgs = gdf.to_crs(4326) if gdf.crs is not None and not gdf.crs.equals("EPSG:4326") else gdf.copy()
    shift = _TO_BASEMAP[system]

    def move(xy: np.ndarray) -> np.ndarray:
        lon, lat = shift(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    wgs.geometry = shapely.transform(wgs.geometry.values, move)
    return wgs
