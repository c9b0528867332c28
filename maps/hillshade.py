"""A basemap that needs no internet: hillshade tiles rendered from the bundle's ``dem.tif``.

Tiles are Web Mercator XYZ (what Leaflet asks for); the DEM is warped on the fly, shaded with Horn's slope and
aspect from the north-west at 45°, and written as grey + alpha PNG with a small zlib encoder.
"""

from __future__ import annotations

import math
import struct
import threading
import zlib
from functools import lru_cache
from pathlib import Path

import numpy as np

import rasterio
from rasterio.enums import Resampling
from rasterio.vrt import WarpedVRT

__all__ = ["TILE", "hillshade", "overview_png", "png_bytes", "render_tile", "tile_bounds"]

TILE = 256
_ORIGIN = 20037508.342789244


def png_bytes(grey: np.ndarray, alpha: np.ndarray) -> bytes:
    """An 8-bit grey+alpha PNG of two equal-shape uint8 arrays."""
    h, w = grey.shape
    raw = np.empty((h, 1 + 2 * w), dtype=np.uint8)
    raw[:, 0] = 0  # filter: none
    raw[:, 1::2] = grey
    raw[:, 2::2] = alpha

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", w, h, 8, 4, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw.tobytes(), 6))
        + chunk(b"IEND", b"")
    )


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """EPSG:3857 bounds of an XYZ tile: left, bottom, right, top."""
    size = 2 * _ORIGIN / 2**z
    left = -_ORIGIN + x * size
    top = _ORIGIN - y * size
    return left, top - size, left + size, top


def hillshade(elev: np.ndarray, cell: float, *, azimuth: float = 315.0, altitude: float = 45.0) -> np.ndarray:
    """Shaded relief (0–255) of an elevation grid with one cell of padding on each side (Horn's method)."""
    z = elev.astype(float)
    dzdx = ((z[:-2, 2:] + 2 * z[1:-1, 2:] + z[2:, 2:]) - (z[:-2, :-2] + 2 * z[1:-1, :-2] + z[2:, :-2])) / (
        8 * cell
    )
    dzdy = ((z[2:, :-2] + 2 * z[2:, 1:-1] + z[2:, 2:]) - (z[:-2, :-2] + 2 * z[:-2, 1:-1] + z[:-2, 2:])) / (
        8 * cell
    )
    slope = np.arctan(np.hypot(dzdx, dzdy))
    aspect = np.arctan2(dzdy, -dzdx)
    zen = math.radians(90.0 - altitude)
    az = math.radians(360.0 - azimuth + 90.0)
    shade = np.cos(zen) * np.cos(slope) + np.sin(zen) * np.sin(slope) * np.cos(az - aspect)
    return np.clip(shade * 255.0, 0, 255).astype(np.uint8)


class _ShadedDem:
    """The whole DEM warped once to Web Mercator and shaded; tiles are cut from it by index (milliseconds)."""

    def __init__(self, dem: Path) -> None:
        with rasterio.open(dem) as src:
            nodata = src.nodata if src.nodata is not None else -3.0e38
            with WarpedVRT(
                src, crs="EPSG:3857", resampling=Resampling.bilinear, src_nodata=nodata, nodata=nodata
            ) as vrt:
                data = vrt.read(1, masked=True)
                self.transform = vrt.transform
        valid = ~np.ma.getmaskarray(data)
        elev = np.ma.filled(data.astype(float), np.nan)
        fill = float(np.nanmean(elev)) if valid.any() else 0.0
        padded = np.pad(np.where(valid, elev, fill), 1, mode="edge")
        self.shade = hillshade(padded, abs(self.transform.a))
        self.valid = valid

    def tile(self, z: int, x: int, y: int) -> bytes:
        left, _bottom, right, top = tile_bounds(z, x, y)
        step = (right - left) / TILE
        centres = (np.arange(TILE) + 0.5) * step
        t = self.transform
        cols = np.floor((left + centres - t.c) / t.a).astype(np.int64)
        rows = np.floor((top - centres - t.f) / t.e).astype(np.int64)
        h, w = self.shade.shape
        col_ok = (cols >= 0) & (cols < w)
        row_ok = (rows >= 0) & (rows < h)
        rr, cc = np.meshgrid(np.clip(rows, 0, h - 1), np.clip(cols, 0, w - 1), indexing="ij")
        inside = np.outer(row_ok, col_ok) & self.valid[rr, cc]
        grey = np.where(inside, self.shade[rr, cc], 0).astype(np.uint8)
        return png_bytes(grey, np.where(inside, 200, 0).astype(np.uint8))


def overview_png(dem: Path, max_px: int = 1200) -> tuple[bytes, tuple[float, float, float, float]]:
    """The whole DEM's hillshade as one PNG (at most `max_px` wide or high) and its EPSG:4326 bounds
    (west, south, east, north), for a page that cannot ask for tiles."""
    with _lock:
        shaded = _shaded(Path(dem))
    h, w = shaded.shade.shape
    step = max(1, math.ceil(max(h, w) / max_px))
    grey = shaded.shade[::step, ::step]
    alpha = np.where(shaded.valid[::step, ::step], 200, 0).astype(np.uint8)
    t = shaded.transform
    left, top = t.c, t.f
    right, bottom = t.c + t.a * w, t.f + t.e * h
    return png_bytes(grey, alpha), (*_lonlat(left, bottom), *_lonlat(right, top))


def _lonlat(x: float, y: float) -> tuple[float, float]:
    """EPSG:3857 metres to longitude, latitude."""
    return math.degrees(x / 6378137.0), math.degrees(2 * math.atan(math.exp(y / 6378137.0)) - math.pi / 2)


@lru_cache(maxsize=4)
def _shaded(dem: Path) -> _ShadedDem:
    return _ShadedDem(dem)


_lock = threading.Lock()


@lru_cache(maxsize=2048)
def render_tile(dem: Path, z: int, x: int, y: int) -> bytes:
    """The hillshade PNG of tile z/x/y (transparent outside the DEM)."""
    with _lock:  # the first call shades the whole DEM; the others wait for it instead of repeating it
        shaded = _shaded(Path(dem))
    return shaded.tile(z, x, y)
