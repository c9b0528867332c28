"""Terrain and flood from the bundle's rasters: Horn slope and cell-coverage-weighted zonal statistics.

Rules (CONTRACT §3, §4.5):

- slope is in percent, by the Horn method, computed once in memory over the window of the raster that holds the
  examined parcels, with the cell size in metres (a projected CRS's unit factor applied; a geographic raster gets
  the metre length of its cells row by row on the ellipsoid);
- zonal values are means weighted by the fraction of each cell inside the parcel (`exactextract`), so a parcel
  smaller than a cell still gets that cell's value; in a geographic raster the weights are also cell areas;
- the parcels are reprojected to the raster's CRS, never the raster.

Edges and nodata:

- a DEM cell is nodata when it is the raster's nodata value or not finite; a slope cell is nodata when the cell or
  any of its 8 neighbours is nodata (no gradient is invented across a hole). At the raster's outer edge the missing
  neighbours are extrapolated linearly (one-sided differences), so a DEM clipped to the zone keeps its outer cells
  and a plane keeps its exact slope;
- in `flood_depth.tif` a nodata cell is unknown, not dry: the share is the flooded area ÷ the area of the valid
  cells under the parcel (nodata cells and the part outside the raster are in neither);
- a parcel with no valid cell under it (outside the raster, or only nodata) gets null and its rule is not applied,
  as if there were no raster for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import geopandas as gpd
import rasterio
import shapely
from exactextract import exact_extract
from exactextract._exactextract import Feature
from exactextract.feature import FeatureSource
from exactextract.raster import NumPyRasterSource
from exactextract.writer import Writer
from pyproj import CRS, Geod
from rasterio.windows import Window

from gis.errors import InputError

__all__ = [
    "RasterWindow",
    "flood_share",
    "flood_window",
    "grids_compatible",
    "horn_slope_pct",
    "mean_slope_pct",
    "read_window",
    "site_rasters",
    "slope_window",
    "zonal_mean",
    "zonal_means",
]


#: rows of the DEM per block of the slope computation
HORN_BLOCK_ROWS = 512
#: grid alignment tolerance, × the finer cell size, in cells; exactextract allows 1e-6 ×, so this is never looser
GRID_TOL = 1e-7


@dataclass
class RasterWindow:
    """A north-up block of a raster in memory: values (NaN = nodata), extent and CRS."""

    values: np.ndarray
    #: xmin, ymin, xmax, ymax in `crs` units
    extent: tuple[float, float, float, float]
    crs: CRS

    @property
    def res(self) -> tuple[float, float]:
        """Cell width and height in CRS units."""
        rows, cols = self.values.shape
        xmin, ymin, xmax, ymax = self.extent
        return (xmax - xmin) / cols, (ymax - ymin) / rows


def read_window(
    ds: rasterio.io.DatasetReader, bounds: tuple[float, float, float, float], margin: int = 0
) -> RasterWindow | None:
    """Band 1 of `ds` over `bounds` (raster CRS) plus `margin` cells, as float64 with NaN for nodata.

    Returns None when `bounds` and the raster do not overlap.

    Parameters
    ----------
    ds : rasterio.io.DatasetReader
        An open single- or multi-band raster; only band 1 is read. Scale and offset are applied.
    bounds : tuple
        xmin, ymin, xmax, ymax in the raster's CRS.
    margin : int
        Extra cells on every side (the Horn window needs one).

    Returns
    -------
    RasterWindow or None
    """
    name = Path(ds.name).name
    t = ds.transform
    if t.b != 0 or t.d != 0:
        raise InputError("rotated rasters are not supported", file=name)
    if ds.crs is None:
        raise InputError("the raster has no CRS (an EPSG code is needed)", file=name)
    crs = CRS.from_wkt(ds.crs.to_wkt())
    xmin, ymin, xmax, ymax = bounds
    # pixel coordinates of the corners (any orientation: north-up, south-up, east-to-west)
    cols, rows = zip(*(~t @ (x, y) for x in (xmin, xmax) for y in (ymin, ymax)), strict=True)
    col0 = int(np.floor(min(cols))) - margin
    row0 = int(np.floor(min(rows))) - margin
    col1 = int(np.ceil(max(cols))) + margin
    row1 = int(np.ceil(max(rows))) + margin
    col0, row0 = max(col0, 0), max(row0, 0)
    col1, row1 = min(col1, ds.width), min(row1, ds.height)
    if col1 <= col0 or row1 <= row0:
        return None
    window = Window(col0, row0, col1 - col0, row1 - row0)
    band = ds.read(1, window=window, masked=True)
    values = np.ma.filled(band.astype("float64"), np.nan)
    if ds.nodata is not None and not np.isnan(ds.nodata):
        values[values == ds.nodata] = np.nan  # belt and braces: the mask comes from the band, not this value
    scale, offset = ds.scales[0], ds.offsets[0]
    if scale != 1.0 or offset != 0.0:
        values = values * scale + offset
    values[~np.isfinite(values)] = np.nan
    left, top = t @ (col0, row0)
    right, bottom = t @ (col1, row1)
    if t.e > 0:  # south-up raster: flip to north-up
        values = values[::-1]
    if t.a < 0:  # east-to-west columns: flip to west-to-east
        values = values[:, ::-1]
    return RasterWindow(values, (min(left, right), min(top, bottom), max(left, right), max(top, bottom)), crs)


def _extend(z: np.ndarray, axis: int) -> np.ndarray:
    """`z` with one more row (axis 0) or column (axis 1) on each side, extrapolated linearly (2 e − inner)."""
    z = np.moveaxis(z, axis, 0)
    if z.shape[0] > 1:
        first, last = 2 * z[0] - z[1], 2 * z[-1] - z[-2]
    else:
        first = last = z[0]
    return np.moveaxis(np.concatenate([first[None], z, last[None]]), 0, axis)


def horn_slope_pct(z: np.ndarray, dx: float | np.ndarray, dy: float | np.ndarray) -> np.ndarray:
    """Slope in percent by Horn's 3x3 method.

    Parameters
    ----------
    z : numpy.ndarray
        Elevations (metres), 2-D, north-up; NaN = nodata.
    dx, dy : float or numpy.ndarray
        Cell width and height in metres, scalars or one value per row (shape ``(rows, 1)``).

    Returns
    -------
    numpy.ndarray
        float32, same shape as `z`; NaN where the cell or a neighbour is NaN. Outer-edge neighbours are
        extrapolated linearly, so a plane has its exact slope everywhere.

    Examples
    --------
    >>> z = np.add.outer(np.zeros(4), 0.05 * 10 * np.arange(5))  # z = 0.05 x on 10 m cells
    >>> np.allclose(horn_slope_pct(z, 10.0, 10.0), 5.0)
    True
    """
    z = np.asarray(z, dtype="float64")
    p = _extend(_extend(z, axis=0), axis=1)
    rows = z.shape[0]
    dx = np.broadcast_to(np.asarray(dx, dtype="float64").reshape(-1, 1), (rows, 1))
    dy = np.broadcast_to(np.asarray(dy, dtype="float64").reshape(-1, 1), (rows, 1))
    slope = np.empty(z.shape, dtype="float32")
    # blocks of rows bound the temporaries (a dozen arrays of the block's size) for large DEM windows
    for r0 in range(0, rows, HORN_BLOCK_ROWS):
        r1 = min(rows, r0 + HORN_BLOCK_ROWS)
        q = p[r0 : r1 + 2]
        a, b, c = q[:-2, :-2], q[:-2, 1:-1], q[:-2, 2:]
        d, f = q[1:-1, :-2], q[1:-1, 2:]
        g, h, i = q[2:, :-2], q[2:, 1:-1], q[2:, 2:]
        dzdx = ((c + 2 * f + i) - (a + 2 * d + g)) / (8 * dx[r0:r1])
        dzdy = ((a + 2 * b + c) - (g + 2 * h + i)) / (8 * dy[r0:r1])
        slope[r0:r1] = 100.0 * np.hypot(dzdx, dzdy)
    slope[np.isnan(z)] = np.nan
    return slope


def _cell_size_m(win: RasterWindow) -> tuple[float | np.ndarray, float | np.ndarray]:
    """Cell width and height in metres: per row on the ellipsoid for a geographic CRS, else unit-scaled."""
    xres, yres = win.res
    if win.crs.is_geographic:
        rows = win.values.shape[0]
        xmin, _, _, ymax = win.extent
        lat = ymax - (np.arange(rows) + 0.5) * yres
        geod = Geod(ellps="WGS84")
        lon = np.full(rows, xmin)
        _, _, dx = geod.inv(lon, lat, lon + xres, lat)
        _, _, dy = geod.inv(lon, lat - yres / 2, lon, lat + yres / 2)
        return np.asarray(dx).reshape(-1, 1), np.asarray(dy).reshape(-1, 1)
    factor = win.crs.axis_info[0].unit_conversion_factor if win.crs.axis_info else 1.0
    return xres * factor, yres * factor


class _WkbFeature(Feature):  # type: ignore[misc]
    """One polygon for exactextract: WKB geometry and its position (GeoDataFrame iteration is 3x slower)."""

    def __init__(self, pos: int, wkb: bytes) -> None:
        Feature.__init__(self)
        self.pos = pos
        self.wkb = wkb

    def geometry(self) -> bytes:
        return self.wkb

    def get(self, name: str) -> int:
        return self.pos

    def fields(self) -> list[str]:
        return ["pos"]

    def set_geometry_format(self) -> str:
        return "wkb"


class _WkbSource(FeatureSource):  # type: ignore[misc]
    def __init__(self, geoms: np.ndarray) -> None:
        super().__init__()
        self.wkbs = shapely.to_wkb(geoms)

    def count(self) -> int:
        return len(self.wkbs)

    def __iter__(self):  # type: ignore[no-untyped-def]
        for pos, wkb in enumerate(self.wkbs):
            yield _WkbFeature(pos, wkb)

    def srs_wkt(self) -> None:
        return None


class _Row(Feature):  # type: ignore[misc]
    """Receives one result row from exactextract (its fields are set one by one)."""

    def __init__(self) -> None:
        Feature.__init__(self)
        self.row: dict[str, Any] = {}

    def set(self, name: str, value: Any) -> None:
        self.row[name] = value

    def get(self, name: str) -> Any:
        return self.row[name]

    def fields(self) -> list[str]:
        return list(self.row)

    def geometry(self) -> None:
        return None

    def set_geometry(self, geometry: Any) -> None:
        pass  # the geometry is not kept

    def set_geometry_format(self) -> str:
        return "wkb"


class _RowsWriter(Writer):  # type: ignore[misc]
    """Collects result rows as dicts (the pandas writer builds a GeoJSON-like feature per row first)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, Any]] = []

    def add_operation(self, op: Any) -> None:
        pass

    def add_column(self, name: str) -> None:
        pass

    def add_geometry(self) -> None:
        pass

    def write(self, feature: Any) -> None:
        sink = _Row()
        feature.copy_to(sink)
        self.rows.append(sink.row)

    def features(self) -> list[dict[str, Any]]:
        return self.rows


def grids_compatible(a: RasterWindow, b: RasterWindow) -> bool:
    """Whether exactextract can read `a` and `b` in one pass (else it raises "Incompatible extents").

    That needs cell sizes that are integer multiples of each other and edges on the finer grid, checked here with
    a tighter tolerance than exactextract's, so that a pair accepted here is never refused there.

    Examples
    --------
    >>> win = lambda extent, shape: RasterWindow(np.zeros(shape), extent, CRS("EPSG:4547"))
    >>> grids_compatible(win((0, 0, 100, 100), (10, 10)), win((50, 20, 150, 100), (16, 20)))  # 10 m, 5 m
    True
    >>> grids_compatible(win((0, 0, 100, 100), (10, 10)), win((0.7, 1, 90.7, 100), (33, 30)))  # 10 m, 3 m
    False
    """
    for axis, edges in ((0, (0, 2)), (1, (1, 3))):
        fine = min(a.res[axis], b.res[axis])
        tol = fine * GRID_TOL
        steps = [max(a.res[axis], b.res[axis]) / fine]
        steps += [abs(a.extent[e] - b.extent[e]) / fine for e in edges]
        if any(abs(x - round(x)) > tol for x in steps):
            return False
    return True


def _compatible_groups(windows: list[RasterWindow]) -> list[list[int]]:
    """Indices of `windows` in groups whose members are pairwise `grids_compatible` (first fit, in order)."""
    groups: list[list[int]] = []
    for k, win in enumerate(windows):
        group = next((g for g in groups if all(grids_compatible(windows[j], win) for j in g)), None)
        if group is None:
            groups.append([k])
        else:
            group.append(k)
    return groups


def zonal_means(windows: list[RasterWindow], geoms: np.ndarray) -> list[np.ndarray]:
    """Cell-coverage-fraction weighted mean of each window in each polygon (NaN cells ignored; NaN when none).

    Windows on compatible grids (`grids_compatible`) share one exactextract pass: the polygons are parsed and
    visited once, which is about 40 % faster than one pass per raster. Others get a pass each.

    Parameters
    ----------
    windows : list of RasterWindow
        In one CRS.
    geoms : numpy.ndarray of shapely polygons
        In that CRS.

    Returns
    -------
    list of numpy.ndarray
        Per window, one mean per polygon; in a geographic CRS the weights are also the cells' areas.
    """
    out = [np.full(len(geoms), np.nan) for _ in windows]
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not ok.any() or not windows:
        return out
    op = "mean(coverage_weight=area_spherical_m2)" if windows[0].crs.is_geographic else "mean"
    idx = np.flatnonzero(ok)
    features = _WkbSource(geoms[idx])
    for group in _compatible_groups(windows):
        sources = []
        for k in group:
            # float32: exactextract is about 3x faster on it than on float64; 7 digits are plenty for slopes and
            # shares
            values = np.ascontiguousarray(windows[k].values, dtype="float32")
            # no CRS on either side: the parcels are already in the raster's CRS, and exactextract runs ~20 %
            # faster without comparing spatial references
            sources.append(NumPyRasterSource(values, *windows[k].extent, name=f"r{k}"))
        rows = exact_extract(sources, features, [op], include_cols=["pos"], output=_RowsWriter())
        pos = idx[np.fromiter((r["pos"] for r in rows), dtype=int, count=len(rows))]
        for k in group:
            # one raster: exactextract names the column just "mean"
            column = f"r{k}_mean" if len(group) > 1 else "mean"
            out[k][pos] = np.fromiter((r[column] for r in rows), dtype=float, count=len(rows))
    return out


def zonal_mean(win: RasterWindow, geoms: np.ndarray) -> np.ndarray:
    """`zonal_means` of one window."""
    return zonal_means([win], geoms)[0]


def _in_raster_crs(ds: rasterio.io.DatasetReader, parcels: gpd.GeoSeries) -> np.ndarray:
    """The parcels in the raster's CRS (reprojected only when the CRSs differ; the raster is never warped)."""
    crs = CRS.from_wkt(ds.crs.to_wkt()) if ds.crs is not None else None
    if crs is None or parcels.crs is None or CRS(parcels.crs).equals(crs, ignore_axis_order=True):
        return np.asarray(parcels.values, dtype=object)
    return np.asarray(parcels.to_crs(crs).values, dtype=object)


def _bounds(geoms: np.ndarray) -> tuple[float, float, float, float]:
    return tuple(shapely.total_bounds(geoms).tolist())  # type: ignore[return-value]


def slope_window(dem: Path, parcels: gpd.GeoSeries) -> tuple[RasterWindow | None, np.ndarray]:
    """The Horn slope (%) over the part of `dem` under `parcels`, and the parcels in the DEM's CRS.

    Parameters
    ----------
    dem : pathlib.Path
        The bundle's ``dem.tif`` (elevation in metres, any CRS with an EPSG code).
    parcels : geopandas.GeoSeries
        Polygons with a CRS.
    """
    with rasterio.open(dem) as ds:
        geoms = _in_raster_crs(ds, parcels)
        # two cells of margin: the Horn window of the parcels' outermost cells needs their neighbours
        win = read_window(ds, _bounds(geoms), margin=2) if len(geoms) else None
    if win is None:
        return None, geoms
    dx, dy = _cell_size_m(win)
    return RasterWindow(horn_slope_pct(win.values, dx, dy), win.extent, win.crs), geoms


def flood_window(
    flood_depth: Path, parcels: gpd.GeoSeries, depth_m: float
) -> tuple[RasterWindow | None, np.ndarray]:
    """1 where the flood depth exceeds `depth_m`, else 0 (NaN = nodata), under `parcels`; and the parcels in its CRS.

    Parameters
    ----------
    flood_depth : pathlib.Path
        The bundle's ``flood_depth.tif`` (100-year flood depth in metres).
    parcels : geopandas.GeoSeries
        Polygons with a CRS.
    depth_m : float
        ``rules["readiness.flood_depth_m"]``.
    """
    with rasterio.open(flood_depth) as ds:
        geoms = _in_raster_crs(ds, parcels)
        win = read_window(ds, _bounds(geoms), margin=1) if len(geoms) else None
    if win is None:
        return None, geoms
    # nodata stays NaN: the zonal mean skips it, so the share is over the valid cells only
    flooded = np.where(np.isnan(win.values), np.nan, np.where(win.values > depth_m, 1.0, 0.0))
    return RasterWindow(flooded, win.extent, win.crs), geoms


def site_rasters(
    parcels: gpd.GeoSeries, dem: Path | None, flood_depth: Path | None, depth_m: float
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Mean slope (%) and flood share (0–1) of each parcel; None for a raster that is not given.

    Both rasters are summarized in one exactextract pass when they share a CRS and compatible grids. NaN where a
    raster has no valid cell under the parcel.

    Parameters
    ----------
    parcels : geopandas.GeoSeries
        The examined parcels, with a CRS.
    dem, flood_depth : pathlib.Path or None
        The bundle's rasters.
    depth_m : float
        Flood depth threshold (``rules["readiness.flood_depth_m"]``).
    """
    n = len(parcels)
    jobs: list[tuple[str, RasterWindow | None, np.ndarray]] = []
    if dem is not None:
        jobs.append(("slope", *slope_window(dem, parcels)))
    if flood_depth is not None:
        jobs.append(("flood", *flood_window(flood_depth, parcels, depth_m)))
    result: dict[str, np.ndarray] = {name: np.full(n, np.nan) for name, _, _ in jobs}
    pending = [job for job in jobs if job[1] is not None]
    while pending:
        crs = pending[0][1].crs  # type: ignore[union-attr]
        same = [job[1].crs.equals(crs) for job in pending]  # type: ignore[union-attr]
        group = [job for job, ok in zip(pending, same, strict=True) if ok]
        means = zonal_means([job[1] for job in group], group[0][2])  # type: ignore[misc]
        for (name, _, _), values in zip(group, means, strict=True):
            result[name] = values
        pending = [job for job, ok in zip(pending, same, strict=True) if not ok]
    return result.get("slope"), result.get("flood")


def mean_slope_pct(dem: Path, parcels: gpd.GeoSeries) -> np.ndarray:
    """Area-weighted mean Horn slope (%) of each parcel from `dem`; NaN where the DEM has no valid cell."""
    slope, _ = site_rasters(parcels, dem, None, 0.0)
    assert slope is not None
    return slope


def flood_share(flood_depth: Path, parcels: gpd.GeoSeries, depth_m: float) -> np.ndarray:
    """Share (0–1) of each parcel's valid-cell area where the flood depth exceeds `depth_m`; NaN with no valid cell."""
    _, share = site_rasters(parcels, None, flood_depth, depth_m)
    assert share is not None
    return share
