"""Gauss-Krüger zones of China's datums and their EPSG codes (FORMATS.md §1.8, §2).

The EPSG arithmetic (CGCS2000 3° zone n with prefix = 4488 + n, …) is checked against the PROJ database in the tests.
Survey files write the easting with or without the zone number in front ("大数"); the two variants are different
EPSG codes with the same projection and a false easting of n·10⁶ + 500 000 or 500 000.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import numpy as np

import geopandas as gpd
from pyproj import CRS
from pyproj.transformer import AreaOfInterest, TransformerGroup

from gis.crs import gk3_zone
from gis.errors import InputError

__all__ = [
    "DATUM_LABELS",
    "Datum",
    "GkZone",
    "datum_from_text",
    "datum_shift_note",
    "nearest_3deg_zone",
    "parse_gk_crs",
    "to_gk",
    "zone_width",
]

Datum = Literal["CGCS2000", "Xian80", "Beijing54", "WGS84"]

#: 坐标系 value written to the TXT header for each datum (the wording of the requirement text and real files)
DATUM_LABELS: dict[str, str] = {
    "CGCS2000": "2000国家大地坐标系",
    "Xian80": "1980西安坐标系",
    "Beijing54": "1954北京坐标系",
    "WGS84": "WGS84坐标系",
}

# EPSG code = base + zone number, per (datum, zone width, prefixed); all families are consecutive in the EPSG registry
_EPSG_BASE: dict[tuple[str, int, bool], int] = {
    ("CGCS2000", 3, True): 4488,  # 4513–4533 "CGCS2000 / 3-degree Gauss-Kruger zone 25…45"
    ("CGCS2000", 3, False): 4509,  # 4534–4554 "… CM 75E…135E"
    ("CGCS2000", 6, True): 4478,  # 4491–4501 "CGCS2000 / Gauss-Kruger zone 13…23"
    ("CGCS2000", 6, False): 4489,  # 4502–4512
    ("Xian80", 3, True): 2324,  # 2349–2369
    ("Xian80", 3, False): 2345,  # 2370–2390
    ("Xian80", 6, True): 2314,  # 2327–2337
    ("Xian80", 6, False): 2325,  # 2338–2348
    ("Beijing54", 3, True): 2376,  # 2401–2421
    ("Beijing54", 3, False): 2397,  # 2422–2442
    ("Beijing54", 6, True): 21400,  # 21413–21423
    ("Beijing54", 6, False): 21440,  # 21453–21463
}
_ZONES = {3: range(25, 46), 6: range(13, 24)}
_GEOGRAPHIC = {"CGCS2000": 4490, "Xian80": 4610, "Beijing54": 4214, "WGS84": 4326}


class GkZone(NamedTuple):
    """A Gauss-Krüger zone: datum, zone width (3 or 6 degrees), zone number and whether eastings carry it."""

    datum: str
    width: int
    zone: int
    prefixed: bool

    @property
    def central_meridian(self) -> int:
        """Central meridian in degrees east."""
        return self.zone * 3 if self.width == 3 else self.zone * 6 - 3

    @property
    def false_easting(self) -> float:
        """False easting in metres (zone·10⁶ + 500 000 with the prefix)."""
        return self.zone * 1e6 + 500_000.0 if self.prefixed else 500_000.0

    @property
    def epsg(self) -> int | None:
        """The EPSG code, or None for a datum without one (WGS84 Gauss-Krüger)."""
        base = _EPSG_BASE.get((self.datum, self.width, self.prefixed))
        return None if base is None else base + self.zone

    @property
    def crs(self) -> CRS:
        """The pyproj CRS (a PROJ string for WGS84 Gauss-Krüger, which has no EPSG code)."""
        if self.epsg is not None:
            return CRS.from_epsg(self.epsg)
        return CRS.from_proj4(
            f"+proj=tmerc +lat_0=0 +lon_0={self.central_meridian} +k=1 +x_0={self.false_easting:.0f} +y_0=0 "
            "+datum=WGS84 +units=m +no_defs"
        )

    @property
    def geographic_crs(self) -> CRS:
        """The geographic CRS of the datum."""
        return CRS.from_epsg(_GEOGRAPHIC[self.datum])

    def with_prefix(self, prefixed: bool) -> GkZone:
        """The same zone with or without the zone number in the easting."""
        return self._replace(prefixed=prefixed)


def zone_width(zone: int) -> int | None:
    """3 or 6 when `zone` is a Chinese zone number of that width (the ranges 25–45 and 13–23 do not overlap)."""
    for width, zones in _ZONES.items():
        if zone in zones:
            return width
    return None


def datum_from_text(text: str | None) -> Datum | None:
    """The datum named by a TXT 坐标系 value, by substring as in FORMATS.md §1.3; None when unrecognised.

    >>> datum_from_text("1980西安国家大地坐标系"), datum_from_text("2000国家大地坐标系")
    ('Xian80', 'CGCS2000')
    """
    if not text:
        return None
    upper = text.upper()
    if "2000" in upper or "CGCS" in upper:
        return "CGCS2000"
    if "西安" in text or "80" in upper:
        return "Xian80"
    if "北京" in text or "54" in upper:
        return "Beijing54"
    if "WGS" in upper:
        return "WGS84"
    return None


def parse_gk_crs(crs: object) -> GkZone | None:
    """The Gauss-Krüger zone of an EPSG code of the families above, or None for any other CRS.

    >>> parse_gk_crs("EPSG:4527")
    GkZone(datum='CGCS2000', width=3, zone=39, prefixed=True)
    """
    code = CRS.from_user_input(crs).to_epsg(min_confidence=100)
    if code is None:
        return None
    for (datum, width, prefixed), base in _EPSG_BASE.items():
        if code - base in _ZONES[width]:
            return GkZone(datum, width, code - base, prefixed)
    return None


def datum_shift_note(crs: CRS, lonlat_bounds: tuple[float, float, float, float]) -> str | None:
    """A warning when PROJ has only its "ballpark" operation (no datum shift) from `crs` to WGS 84 where the data lies.

    CGCS2000 and WGS 84 agree to well under a metre, and their ballpark operation is the accepted practice
    (FORMATS.md §2). For Xian-80 and Beijing-54 it ignores a datum difference of tens of metres; PROJ has a real
    transformation only for a few Beijing-54 basins, so the bounds (lon/lat) choose.
    """
    geodetic = crs.geodetic_crs
    if geodetic is None or geodetic.to_epsg() in (4326, 4490):
        return None
    west, south, east, north = (float(v) for v in lonlat_bounds)
    try:
        group = TransformerGroup(
            crs, 4326, always_xy=True, area_of_interest=AreaOfInterest(west, south, east, north)
        )
    except Exception:  # an AOI PROJ rejects: judge by the operations without it
        group = TransformerGroup(crs, 4326, always_xy=True)
    best = group.transformers[0].description if group.transformers else ""
    if best and "ballpark" not in best.lower():
        return None
    return (
        f"{geodetic.name} 到 WGS 84 没有可用的基准转换参数,只做了近似转换(未改正基准差),"
        f"位置可能偏差数十米 (no datum-shift parameters from {geodetic.name} to WGS 84: PROJ's ballpark "
        "transformation was used, positions may be off by tens of metres)"
    )


def nearest_3deg_zone(lon: float) -> int:
    """The 3° zone whose central meridian is nearest `lon` (zone edges at CM ± 1.5°), clipped to China's 25–45."""
    return gk3_zone(min(136.0, max(74.0, float(lon))))


def to_gk(gdf: gpd.GeoDataFrame, *, prefixed: bool = True) -> tuple[gpd.GeoDataFrame, GkZone, bool]:
    """`gdf` in a Gauss-Krüger zone of a Chinese datum, as the TXT format needs.

    A layer already in such a zone keeps its zone (only the prefix is switched to `prefixed`, a shift of the
    easting); any other CRS is reprojected to the CGCS2000 3° zone whose central meridian is nearest the layer's
    centroid (FORMATS.md §2).

    Returns
    -------
    (GeoDataFrame, GkZone, bool)
        The layer, its zone and whether it was reprojected.
    """
    if gdf.crs is None:
        raise InputError("图层没有坐标参考系 (layer has no CRS)")
    zone = parse_gk_crs(gdf.crs)
    if zone is not None:
        if zone.prefixed == prefixed:
            return gdf, zone, False
        target = zone.with_prefix(prefixed)
        shift = target.false_easting - zone.false_easting
        out = gdf.copy()
        out.geometry = gdf.geometry.translate(xoff=shift)
        return out.set_crs(target.crs, allow_override=True), target, False
    geographic = gdf.to_crs(4490) if not gdf.crs.is_geographic else gdf
    bounds = geographic.total_bounds
    if not np.all(np.isfinite(bounds)):
        raise InputError("图层没有可用的几何 (layer has no usable geometry)")
    target = GkZone("CGCS2000", 3, nearest_3deg_zone((bounds[0] + bounds[2]) / 2), prefixed)
    return gdf.to_crs(target.crs), target, True
