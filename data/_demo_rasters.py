"""Demo rasters: a DEM with a hilly north-east corner and a 100-year flood depth grid along the river."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import rasterio
import shapely
from rasterio import Affine

from data._demo_layout import to_local

__all__ = ["NODATA", "terrain", "write_raster"]

NODATA = -9999.0
HILLS = ((5900.0, 4300.0, 95.0, 520.0), (5150.0, 4650.0, 45.0, 380.0))


def terrain(
    bounds: tuple[float, float, float, float],
    cell: float,
    river: shapely.Geometry,
    mask_area: shapely.Geometry | None,
    phases: tuple[float, float],
    depressions: list[tuple[float, float, float, float]] = (),  # type: ignore[assignment]
) -> tuple[np.ndarray, np.ndarray, rasterio.Affine]:
    """DEM and flood depth (float32, metres) on a north-up grid over `bounds` (EPSG:4527 metres).

    `river` is in the local frame; `mask_area` (local frame) limits the valid cells (nodata outside);
    `depressions` are (x, y, depth, radius) low spots in the local frame, e.g. an old oxbow.
    """
    minx, miny, maxx, maxy = bounds
    left, top = np.floor(minx / cell) * cell, np.ceil(maxy / cell) * cell
    width, height = int(np.ceil((maxx - left) / cell)), int(np.ceil((top - miny) / cell))
    cols, rows = np.meshgrid(np.arange(width), np.arange(height))
    xy = np.column_stack([(left + (cols.ravel() + 0.5) * cell), (top - (rows.ravel() + 0.5) * cell)])
    lxy = to_local(xy)
    lx, ly = lxy[:, 0], lxy[:, 1]
    d_river = shapely.distance(river, shapely.points(lxy))
    base = (
        31.0 + 0.0018 * ly - 0.0006 * lx + 1.1 * np.sin(lx / 700 + phases[0]) * np.cos(ly / 900 + phases[1])
    )
    elev = base - 3.6 * np.exp(-d_river / 230.0)
    for hx, hy, amp, sigma in HILLS:
        elev += amp * np.exp(-((lx - hx) ** 2 + (ly - hy) ** 2) / (2 * sigma**2))
    for dx, dy, depth, radius in depressions:
        elev -= depth * np.exp(-((lx - dx) ** 2 + (ly - dy) ** 2) / (2 * radius**2))
    # 100-year water level: 0.3 m below the undisturbed plain, so only the valley and the oxbows flood
    wse = base - 0.3
    flood = np.clip(wse - elev, 0.0, None)
    dem = np.round(elev, 2).astype(np.float32)
    depth = np.round(flood, 2).astype(np.float32)
    if mask_area is not None:
        outside = ~shapely.contains_xy(mask_area, lx, ly)
        dem[outside] = NODATA
        depth[outside] = NODATA
    transform = Affine(cell, 0.0, left, 0.0, -cell, top)
    return dem.reshape(height, width), depth.reshape(height, width), transform


def write_raster(
    path: Path, data: np.ndarray, transform: rasterio.Affine, crs: str, *, description: str, zlevel: int = 6
) -> None:
    """A compressed, tiled float32 GeoTIFF with nodata (no timestamps, so identical input gives identical bytes)."""
    profile = {
        "driver": "GTiff",
        "width": data.shape[1],
        "height": data.shape[0],
        "count": 1,
        "dtype": "float32",
        "crs": crs,
        "transform": transform,
        "nodata": NODATA,
        "compress": "deflate",
        "predictor": 3,
        "zlevel": zlevel,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
        dst.set_band_description(1, description)
        dst.update_tags(1, units="m")
