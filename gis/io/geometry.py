"""Geometry checks on read: type per layer, null/empty features, make_valid repair (vectorized, shapely 2)."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import geopandas as gpd
import shapely
import shapely.errors

from gis.io.where import Where, one_line
from gis.schema import LayerSpec

__all__ = ["check_geometry", "collect", "polygonal"]

_TYPE_NAMES = {
    0: "Point",
    1: "LineString",
    2: "LinearRing",
    3: "Polygon",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
    7: "GeometryCollection",
}
_ALLOWED = {
    "polygon": ({3, 6}, "Polygon/MultiPolygon"),
    "line": ({1, 2, 5}, "LineString/MultiLineString"),
    "line_or_polygon": ({1, 2, 3, 5, 6}, "LineString/MultiLineString/Polygon/MultiPolygon"),
}
#: at most this many per-feature repair warnings per layer; the rest are counted in one line
MAX_WARNINGS = 20
#: layers at least this long are validated in threads
_THREADED_MIN = 50_000


def collect(parts: np.ndarray, index: np.ndarray, n: int, kind: str) -> np.ndarray:
    """Group `parts` into `n` multi-geometries by `index` (None where a position gets no part).

    Parameters
    ----------
    parts
        Geometries (polygons for ``kind="polygon"``, lines for ``kind="line"``).
    index
        Output position of each part, any order, gaps allowed.
    n
        Length of the output.
    kind
        ``"polygon"`` or ``"line"``.
    """
    out = np.full(n, None, dtype=object)
    if len(parts) == 0:
        return out
    order = np.argsort(index, kind="stable")
    parts, index = parts[order], index[order]
    positions, dense = np.unique(index, return_inverse=True)
    build = shapely.multipolygons if kind == "polygon" else shapely.multilinestrings
    grouped = build(parts, indices=dense)
    single = shapely.get_num_geometries(grouped) == 1
    grouped[single] = shapely.get_geometry(grouped[single], 0)
    out[positions] = grouped
    return out


def polygonal(geoms: np.ndarray) -> np.ndarray:
    """The polygonal part of each geometry (Polygon or MultiPolygon), None where there is none."""
    parts, index = shapely.get_parts(geoms, return_index=True)
    # a GeometryCollection may hold MultiPolygons: explode once more
    parts2, index2 = shapely.get_parts(parts, return_index=True)
    index = index[index2]
    keep = (shapely.get_type_id(parts2) == 3) & (shapely.area(parts2) > 0)
    return collect(parts2[keep], index[keep], len(geoms), "polygon")


def _lineal(geoms: np.ndarray) -> np.ndarray:
    parts, index = shapely.get_parts(geoms, return_index=True)
    parts2, index2 = shapely.get_parts(parts, return_index=True)
    index = index[index2]
    keep = np.isin(shapely.get_type_id(parts2), (1, 2)) & (shapely.length(parts2) > 0)
    return collect(parts2[keep], index[keep], len(geoms), "line")


def _in_threads(fn: Callable[[np.ndarray], np.ndarray], geoms: np.ndarray) -> np.ndarray:
    """Apply a vectorized shapely predicate in chunks on all cores (shapely releases the GIL inside GEOS)."""
    workers = min(os.cpu_count() or 1, 8)
    if workers < 2 or len(geoms) < _THREADED_MIN:
        return fn(geoms)
    chunks = np.array_split(geoms, workers)
    with ThreadPoolExecutor(workers) as pool:
        return np.concatenate(list(pool.map(fn, chunks)))


def _make_valid(gdf: gpd.GeoDataFrame, geoms: np.ndarray, bad: np.ndarray, where: Where) -> np.ndarray:
    try:
        return shapely.make_valid(geoms[bad])
    except shapely.errors.GEOSException:
        pass
    # GEOS gave up on one of them: find it, to name it (error path only)
    for position in bad:
        try:
            shapely.make_valid(geoms[position])
        except shapely.errors.GEOSException as exc:
            mask = np.zeros(len(geoms), dtype=bool)
            mask[position] = True
            where.fail_rows(
                gdf, mask, f"几何无法修复 (geometry cannot be repaired: {one_line(exc)})", "geometry"
            )
    raise AssertionError("make_valid failed on the array but on no single geometry")  # pragma: no cover


def check_geometry(
    gdf: gpd.GeoDataFrame, spec: LayerSpec, where: Where, warnings: list[str]
) -> gpd.GeoDataFrame:
    """Check and repair the geometries of one layer.

    Null, empty or wrongly typed geometries are an `InputError` naming the first offending feature; Z values are
    dropped; invalid geometries are repaired with ``shapely.make_valid`` (polygon layers keep only their
    polygonal parts) and each repair is reported in `warnings`.

    Parameters
    ----------
    gdf
        The layer, fields already normalized (the labels of features use its id field).
    spec
        The layer's spec (its geometry kind).
    where
        File and layer, for messages.
    warnings
        Receives one line per repaired feature.

    Returns
    -------
    geopandas.GeoDataFrame
        `gdf` with repaired 2D geometries.
    """
    geoms = np.asarray(gdf.geometry.array, dtype=object)
    missing = shapely.is_missing(geoms)
    where.fail_rows(gdf, missing, "要素没有几何 (null geometry)", field="geometry")
    where.fail_rows(gdf, shapely.is_empty(geoms), "几何为空 (empty geometry)", field="geometry")
    if shapely.has_z(geoms).any():
        geoms = shapely.force_2d(geoms)
    types = shapely.get_type_id(geoms)
    allowed, label = _ALLOWED[spec.geometry]
    wrong = ~np.isin(types, list(allowed))
    if wrong.any():
        first = int(np.flatnonzero(wrong)[0])
        where.fail_rows(
            gdf,
            wrong,
            f"几何类型错误 (geometry is {_TYPE_NAMES.get(int(types[first]), '?')}, expected {label})",
            field="geometry",
        )
    invalid = ~_in_threads(shapely.is_valid, geoms)
    if invalid.any():
        bad = np.flatnonzero(invalid)
        reasons = shapely.is_valid_reason(geoms[bad])
        broken = np.zeros(len(geoms), dtype=bool)
        broken[bad] = np.char.startswith(reasons.astype(str), "Invalid Coordinate")
        where.fail_rows(gdf, broken, "坐标无效 (NaN or infinite coordinate)", "geometry")
        fixed = _make_valid(gdf, geoms, bad, where)
        if spec.geometry == "polygon":
            fixed = polygonal(fixed)
        elif spec.geometry == "line":
            fixed = _lineal(fixed)
        else:
            was_polygon = np.isin(types[bad], (3, 6))
            fixed = np.where(was_polygon, polygonal(fixed), _lineal(fixed))
        collapsed = np.zeros(len(geoms), dtype=bool)
        collapsed[bad] = shapely.is_missing(fixed) | shapely.is_empty(fixed)
        where.fail_rows(
            gdf, collapsed, "几何退化, 修复后为空 (degenerate geometry, empty after make_valid)", "geometry"
        )
        geoms = geoms.copy()
        geoms[bad] = fixed
        labels = where.labels(gdf, bad[:MAX_WARNINGS])
        for label_, reason in zip(labels, reasons[:MAX_WARNINGS], strict=True):
            warnings.append(
                f"{where.layer}: {label_}: 无效几何已自动修复 (invalid geometry repaired with make_valid: {reason})"
            )
        if len(bad) > MAX_WARNINGS:
            warnings.append(
                f"{where.layer}: 另有 {len(bad) - MAX_WARNINGS} 个无效几何已修复 "
                f"({len(bad) - MAX_WARNINGS} more invalid geometries repaired)"
            )
    return gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))
