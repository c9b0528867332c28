"""The CRSs the OGC API offers (Part 2), their URIs, axis orders and cached transformations.

Coordinates inside the server are always x/y (easting/longitude first), as shapely and geopandas keep them. At the
edge, a CRS whose EPSG axis order is northing- or latitude-first (EPSG:4326, EPSG:4490, the CGCS2000 Gauss-Kruger
zones) gets its coordinates swapped; CRS84 is longitude-latitude.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

import shapely
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

from gis.errors import InputError

__all__ = [
    "CRS84",
    "OutputCRS",
    "cached_transformer",
    "crs_key",
    "crs_uri",
    "from_storage",
    "gauss_kruger_zone",
    "offered_crs",
    "parse_crs",
    "to_storage",
]

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
_EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{}"
_URI_PATTERNS = (
    re.compile(r"^https?://www\.opengis\.net/def/crs/EPSG/0/(\d+)$"),
    re.compile(r"^urn:ogc:def:crs:EPSG:[0-9.]*:(\d+)$", re.IGNORECASE),
    re.compile(r"^EPSG:(\d+)$", re.IGNORECASE),
)
_CRS84_ALIASES = {
    CRS84,
    "https://www.opengis.net/def/crs/OGC/1.3/CRS84",
    "urn:ogc:def:crs:OGC:1.3:CRS84",
    "CRS84",
}


@dataclass(frozen=True)
class OutputCRS:
    """A CRS as the API names it, with what the edge needs to know about it."""

    uri: str
    crs: CRS
    #: True when the first axis is northing or latitude (coordinates are swapped at the edge)
    swap: bool

    @property
    def geographic(self) -> bool:
        """Whether coordinates are degrees."""
        return bool(self.crs.is_geographic)


def crs_uri(crs: CRS) -> str:
    """The OGC URI of a CRS with an EPSG code."""
    code = crs.to_epsg()
    if code is None:
        raise ValueError(f"CRS {crs.name!r} has no EPSG code")
    return _EPSG_URI.format(code)


@lru_cache(maxsize=64)
def _output_crs(uri: str) -> OutputCRS:
    if uri == CRS84:
        return OutputCRS(CRS84, CRS.from_user_input("OGC:CRS84"), swap=False)
    code = int(uri.rsplit("/", 1)[1])
    crs = CRS.from_epsg(code)
    first = crs.axis_info[0].direction.lower() if crs.axis_info else "east"
    return OutputCRS(uri, crs, swap=first in ("north", "south"))


def parse_crs(value: str, offered: list[str], *, param: str) -> OutputCRS:
    """The offered CRS named by a ``crs``, ``bbox-crs`` or ``filter-crs`` parameter; InputError otherwise."""
    text = value.strip()
    if text.startswith("[") and text.endswith("]"):  # safe CURIE form [EPSG:4490]
        text = text[1:-1]
    uri: str | None = CRS84 if text in _CRS84_ALIASES else None
    for pattern in _URI_PATTERNS:
        match = pattern.match(text)
        if uri is None and match:
            uri = _EPSG_URI.format(int(match.group(1)))
    if uri is None or uri not in offered:
        raise InputError(f"unsupported CRS {value!r}; offered: {', '.join(offered)}", field=param)
    return _output_crs(uri)


def gauss_kruger_zone(lon: float) -> int:
    """EPSG code of the CGCS2000 3-degree Gauss-Kruger zone without prefix (4534–4554) nearest `lon`."""
    central = min(max(round(lon / 3) * 3, 75), 135)
    return 4534 + (central - 75) // 3


def offered_crs(storage: CRS, lon: float) -> list[str]:
    """The CRS URIs offered for data stored in `storage` around longitude `lon`; CRS84 first (the default)."""
    uris = [CRS84, _EPSG_URI.format(4326), _EPSG_URI.format(4490)]
    for code in (storage.to_epsg(), gauss_kruger_zone(lon)):
        if code is not None and _EPSG_URI.format(code) not in uris:
            uris.append(_EPSG_URI.format(code))
    return uris


@lru_cache(maxsize=64)
def cached_transformer(src: str, dst: str) -> Transformer:
    """A transformer between two CRS keys (`crs_key`), x/y order, built once: building one reads proj.db."""
    return Transformer.from_crs(CRS.from_user_input(src), CRS.from_user_input(dst), always_xy=True)


_KEYS: dict[int, tuple[CRS, str]] = {}


def crs_key(crs: CRS) -> str:
    """A short, cached name of a CRS ("EPSG:4527", "OGC:CRS84"): pyproj's `to_epsg` costs ~30 ms a call."""
    hit = _KEYS.get(id(crs))
    if hit is not None and hit[0] is crs:
        return hit[1]
    code = crs.to_epsg()
    if code is not None:
        key = f"EPSG:{code}"
    else:
        key = "OGC:CRS84" if crs.equals(CRS.from_user_input("OGC:CRS84")) else crs.to_wkt()
    _KEYS[id(crs)] = (crs, key)  # holding `crs` keeps its id from being reused
    return key


def _swap(geoms: np.ndarray) -> np.ndarray:
    return shapely.transform(geoms, lambda xy: xy[:, ::-1])


def from_storage(geoms: np.ndarray, storage: CRS, out: OutputCRS) -> np.ndarray:
    """Geometries in the storage CRS (x/y) to `out`, in `out`'s axis order."""
    if crs_key(storage) != crs_key(out.crs):
        transformer = cached_transformer(crs_key(storage), crs_key(out.crs))
        geoms = shapely.transform(
            geoms, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
        )
    return _swap(geoms) if out.swap else geoms


def to_storage(geom: BaseGeometry, src: OutputCRS, storage: CRS) -> BaseGeometry:
    """A query geometry given in `src`'s axis order to the storage CRS (x/y); long edges are densified first."""
    arr = np.asarray([geom], dtype=object)
    if src.swap:
        arr = _swap(arr)
    if crs_key(src.crs) != crs_key(storage):
        # a box edge is straight in its own CRS but curved in another: densify before transforming
        minx, miny, maxx, maxy = shapely.total_bounds(arr)
        step = max(maxx - minx, maxy - miny) / 64 or 1.0
        if not (
            shapely.get_type_id(arr[0]) in (3, 6) and shapely.area(arr[0]) == 0
        ):  # a flat box would vanish
            arr = shapely.segmentize(arr, step)
        transformer = cached_transformer(crs_key(src.crs), crs_key(storage))
        arr = shapely.transform(arr, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))
    out = arr[0]
    if not np.all(np.isfinite(shapely.bounds(out))):
        raise InputError("the geometry cannot be transformed into the data's CRS (outside its area of use?)")
    return out
