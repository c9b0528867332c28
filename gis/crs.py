"""CGCS2000 Gauss-Krüger zones and the working CRS in which a bundle is measured (FORMATS.md §2).

EPSG formulas (checked against the PROJ database):

* 3° zone n (25–45) with zone prefix: ``EPSG = 4488 + n`` (4513–4533), false easting ``n·10⁶ + 500 000``;
* 3° without prefix, central meridian CM: ``EPSG = 4534 + (CM − 75) / 3`` (4534–4554);
* 6° zone n (13–23) with prefix: ``EPSG = 4478 + n`` (4491–4501); without prefix ``4502 + (CM − 75) / 6``.
"""

from __future__ import annotations

import functools
import math

import numpy as np

import geopandas as gpd
import shapely
from pyproj import CRS, Transformer

__all__ = [
    "AREA_OF_USE_ERROR_DEG",
    "AREA_OF_USE_WARN_DEG",
    "GEOGRAPHIC_DEFAULT",
    "crs_label",
    "degrees_outside_area",
    "epsg_code",
    "gk3_epsg",
    "gk3_zone",
    "gk6_epsg",
    "is_gk3_unprefixed",
    "lonlat_bounds",
    "prefixed_epsg",
    "to_lonlat",
    "working_crs",
]

#: the CRS of GeoJSON without a ``crs`` member, and of tables that declare none (RFC 7946)
GEOGRAPHIC_DEFAULT = 4326

#: degrees outside a CRS's area of use past which coordinates cannot be in it (a wrong zone, prefix or axis
#: order), and past which a warning is due
AREA_OF_USE_ERROR_DEG = 10.0
AREA_OF_USE_WARN_DEG = 1.0

_CM_MIN, _CM_MAX = 75, 135  # CGCS2000 Gauss-Krüger zones cover 75°E–135°E
_WEB_MERCATOR = {3857, 900913, 3785, 102100}


def gk3_zone(lon: float) -> int:
    """The 3-degree zone number (25–45) whose central meridian ``3·n`` is nearest `lon`.

    Raises
    ------
    ValueError
        When `lon` lies outside the CGCS2000 zones (73.5°E–136.5°E).

    Examples
    --------
    >>> gk3_zone(117.2), gk3_zone(118.6)
    (39, 40)
    """
    zone = math.floor(float(lon) / 3 + 0.5)
    if not _CM_MIN // 3 <= zone <= _CM_MAX // 3:
        raise ValueError(f"longitude {lon} is outside the CGCS2000 Gauss-Kruger zones (73.5°E–136.5°E)")
    return zone


def gk3_epsg(lon: float, prefixed: bool = False) -> int:
    """EPSG code of the CGCS2000 3-degree Gauss-Krüger zone nearest `lon`.

    Parameters
    ----------
    lon
        Longitude in degrees east.
    prefixed
        True for the zone-prefixed family (4513–4533, eastings like 39 500 000), False for the family without
        prefix (4534–4554, eastings around 500 000).

    Examples
    --------
    >>> gk3_epsg(117.0), gk3_epsg(117.0, prefixed=True), gk3_epsg(120.0)
    (4548, 4527, 4549)
    """
    zone = gk3_zone(lon)
    return 4488 + zone if prefixed else 4534 + (3 * zone - _CM_MIN) // 3


def gk6_epsg(lon: float, prefixed: bool = False) -> int:
    """EPSG code of the CGCS2000 6-degree Gauss-Krüger zone holding `lon` (zone ``n = floor(lon / 6) + 1``).

    Examples
    --------
    >>> gk6_epsg(117.0), gk6_epsg(117.0, prefixed=True)
    (4509, 4498)
    """
    zone = math.floor(float(lon) / 6) + 1
    if not 13 <= zone <= 23:
        raise ValueError(f"longitude {lon} is outside the CGCS2000 6-degree zones 13–23")
    return 4478 + zone if prefixed else 4502 + (6 * zone - 3 - _CM_MIN) // 6


def prefixed_epsg(easting: float) -> int | None:
    """The CGCS2000 CRS implied by a zone-prefixed easting (e.g. 39 512 345.6 → zone 39 → EPSG:4527), else None.

    3-degree zones are 25–45 and 6-degree zones 13–23, so the prefix alone tells the family.

    Examples
    --------
    >>> prefixed_epsg(39512345.6), prefixed_epsg(20500000.0), prefixed_epsg(512345.6)
    (4527, 4498, None)
    """
    if not np.isfinite(easting) or easting < 1e7:
        return None
    zone = int(easting // 1_000_000)
    rest = easting - zone * 1_000_000
    if not 0 < rest < 1_000_000:
        return None
    if 25 <= zone <= 45:
        return 4488 + zone
    if 13 <= zone <= 23:
        return 4478 + zone
    return None


def epsg_code(crs: CRS | None) -> int | None:
    """The EPSG code of `crs` (also for a .prj without authority when PROJ can match it), else None."""
    if crs is None:
        return None
    code = crs.to_epsg()
    if code is None:
        code = crs.to_epsg(min_confidence=70)
    return code


def is_gk3_unprefixed(crs: CRS) -> bool:
    """True for EPSG 4534–4554, the family in which geographic layers are measured."""
    code = epsg_code(crs)
    return code is not None and 4534 <= code <= 4554


def crs_label(crs: CRS | None) -> str:
    """``EPSG:n`` when known, else the CRS name (for messages)."""
    if crs is None:
        return "no CRS"
    code = epsg_code(crs)
    return f"EPSG:{code}" if code is not None else crs.name


def lonlat_bounds(bounds: tuple[float, float, float, float] | np.ndarray) -> bool:
    """True when `bounds` (minx, miny, maxx, maxy) can be longitudes and latitudes."""
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    return -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90


def _metre_units(crs: CRS) -> bool:
    return all((axis.unit_name or "").lower() in {"metre", "meter", "m"} for axis in crs.axis_info[:2])


def _centroid_lonlat(gdf: gpd.GeoDataFrame) -> tuple[float, float]:
    """The layer's centroid in degrees: feature centroids weighted by area (by length for lines, else equal)."""
    geoms = np.asarray(gdf.geometry.array, dtype=object)
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    if len(geoms) == 0:
        raise ValueError("cannot choose a Gauss-Kruger zone for a layer without geometries")
    xy = shapely.get_coordinates(shapely.centroid(geoms))
    weight = shapely.area(geoms)
    if not weight.sum() > 0:
        weight = shapely.length(geoms)
    if not weight.sum() > 0:
        weight = np.ones(len(geoms))
    lon, lat = np.average(xy, axis=0, weights=weight)
    return float(lon), float(lat)


def working_crs(gdf: gpd.GeoDataFrame) -> CRS:
    """The projected CRS (metres) in which a layer is measured.

    A projected CRS in metres is kept as it is (zone-prefixed Gauss-Krüger included); Web Mercator, which
    inflates areas by 1/cos²(latitude), and CRSs not in metres are replaced like geographic ones. A geographic
    layer is measured in the CGCS2000 3-degree Gauss-Krüger zone without prefix (EPSG 4534–4554) whose central
    meridian is nearest the layer's centroid (of its features, weighted by area); outside China (no such zone)
    in its WGS 84 UTM zone.

    Parameters
    ----------
    gdf
        A layer with a CRS.

    Returns
    -------
    pyproj.CRS
        A projected CRS in metres, built from its EPSG code when it has one.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> layer = gpd.GeoDataFrame(geometry=[box(117.1, 31.8, 117.2, 31.9)], crs=4490)
    >>> working_crs(layer).to_epsg()
    4548
    """
    crs = gdf.crs
    if crs is None:
        raise ValueError("the layer has no CRS")
    crs = CRS.from_user_input(crs)
    code = epsg_code(crs)
    if crs.is_projected and _metre_units(crs) and code not in _WEB_MERCATOR:
        return CRS.from_epsg(code) if code is not None else crs
    if gdf.empty:
        raise ValueError("cannot choose a Gauss-Kruger zone for an empty layer")
    lon, lat = _centroid_lonlat(gdf if crs.is_geographic else gdf.to_crs(GEOGRAPHIC_DEFAULT))
    try:
        return CRS.from_epsg(gk3_epsg(lon))
    except ValueError:
        zone = min(max(math.floor((lon + 180) / 6) + 1, 1), 60)
        return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


@functools.lru_cache(maxsize=32)
def _lonlat_transformer(srs: str) -> Transformer:
    # building a transformer reads proj.db (~0.1 s); a zone's data mostly shares one CRS
    return Transformer.from_crs(CRS.from_user_input(srs), 4326, always_xy=True)


def to_lonlat(crs: CRS, x: np.ndarray | float, y: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates in `crs` (x/y order) as longitude and latitude (inf or NaN where they cannot be)."""
    if crs.is_geographic:
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    lon, lat = _lonlat_transformer(crs.srs).transform(x, y)
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def degrees_outside_area(crs: CRS, lon: np.ndarray | float, lat: np.ndarray | float) -> np.ndarray:
    """How many degrees each point lies outside the CRS's area of use (0 inside, inf where it is not a place);
    all 0 for a CRS without an area of use."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    area = crs.area_of_use
    if area is None:
        off = np.zeros(np.broadcast(lon, lat).shape)
    else:
        off = np.maximum.reduce(
            [area.west - lon, lon - area.east, area.south - lat, lat - area.north, np.zeros_like(lon)]
        )
    return np.where(np.isfinite(lon) & np.isfinite(lat) & (np.abs(lat) <= 90), off, np.inf)
