"""Overlap areas of parcels with a polygon layer, vectorized (STRtree pairs, one GEOS call per step).

A layer's features may overlap one another (two assessments of the same kind, two batches, two HV corridors), so a
parcel's overlap is measured against the layer's union: the layer is dissolved once, split into parts, and parts
with many vertices are cut into tiles so that each parcel is intersected with a small polygon. The pieces then do
not overlap, and the overlap area of a parcel is the sum of its pairwise intersections with them.
"""

from __future__ import annotations

import numpy as np

import shapely
from shapely import STRtree

__all__ = ["dissolved_pieces", "overlap_area"]

#: parts of a dissolved layer with more vertices than this are cut into tiles (keeps each intersection cheap)
MAX_PIECE_VERTICES = 256
#: parts longer than this (m) whose bounding box is mostly empty (a diagonal corridor) are cut too
MAX_SPARSE_EXTENT = 500.0
#: pieces this small (m) are never cut
MIN_EXTENT = 10.0


def dissolved_pieces(geoms: np.ndarray, max_vertices: int = MAX_PIECE_VERTICES) -> np.ndarray:
    """The union of `geoms` as non-overlapping polygons of at most about `max_vertices` vertices each.

    Parameters
    ----------
    geoms : numpy.ndarray of shapely geometries
        Polygons (None and empty geometries are ignored).
    max_vertices : int
        Parts with more vertices are split in halves along their longer side until they have fewer; so are parts
        longer than `MAX_SPARSE_EXTENT` whose bounding box is mostly empty.

    Returns
    -------
    numpy.ndarray
        Polygons whose union is the union of `geoms` and whose pairwise intersections have no area.

    Examples
    --------
    >>> from shapely import box
    >>> pieces = dissolved_pieces(np.array([box(0, 0, 2, 2), box(1, 1, 3, 3)]))
    >>> float(shapely.area(pieces).sum())
    7.0
    """
    geoms = np.asarray(geoms, dtype=object)
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    if len(geoms) == 0:
        return np.empty(0, dtype=object)
    parts = _polygons(_union_of_overlaps(_polygons(geoms)))
    b = shapely.bounds(parts)
    extent = np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
    maybe = (shapely.get_num_coordinates(parts) > max_vertices) | (extent > MAX_SPARSE_EXTENT)
    out = [parts[~maybe]]
    for big in parts[maybe]:
        out.append(_split(big, max_vertices, MAX_SPARSE_EXTENT))
    return np.concatenate(out)


def _union_of_overlaps(geoms: np.ndarray) -> np.ndarray:
    """Polygons with the same union as `geoms` and no overlaps: only the features that overlap another are unioned.

    A layer that is a coverage (batches, farmland patches: neighbours share edges, interiors apart) then needs no
    union at all, which for thousands of features is most of the cost.
    """
    i, j = STRtree(geoms).query(geoms, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    overlapping = shapely.relate_pattern(geoms[i], geoms[j], "T********")  # interiors meet
    involved = np.zeros(len(geoms), dtype=bool)
    involved[i[overlapping]] = True
    involved[j[overlapping]] = True
    alone = shapely.get_parts(geoms[~involved])
    if not involved.any():
        return alone
    return np.concatenate([alone, shapely.get_parts(shapely.union_all(geoms[involved]))])


def _polygons(geoms: np.ndarray) -> np.ndarray:
    geoms = shapely.get_parts(geoms)
    keep = (shapely.get_type_id(geoms) == shapely.GeometryType.POLYGON) & (shapely.area(geoms) > 0)
    return geoms[keep]


def _too_big(g: shapely.Geometry, max_vertices: int, max_extent: float) -> bool:
    """A piece to cut further: many vertices, or a long thin shape whose bounding box is mostly empty."""
    xmin, ymin, xmax, ymax = shapely.bounds(g)
    extent = max(xmax - xmin, ymax - ymin)
    if extent <= MIN_EXTENT:
        return False
    sparse = extent > max_extent and (xmax - xmin) * (ymax - ymin) > 4 * shapely.area(g)
    return bool(shapely.get_num_coordinates(g) > max_vertices or sparse)


def _split(geom: shapely.Geometry, max_vertices: int, max_extent: float) -> np.ndarray:
    """Halve `geom` along its longer side, recursively, until each piece is small (a loop over pieces, not parcels).

    Small pieces keep each intersection cheap; compact pieces keep the bounding boxes of a diagonal corridor from
    matching every parcel of the zone in the spatial index.
    """
    todo = [geom]
    done: list[shapely.Geometry] = []
    while todo:
        g = todo.pop()
        if not _too_big(g, max_vertices, max_extent):
            done.append(g)
            continue
        xmin, ymin, xmax, ymax = shapely.bounds(g)
        if xmax - xmin >= ymax - ymin:
            mid = (xmin + xmax) / 2
            halves = [shapely.box(xmin, ymin, mid, ymax), shapely.box(mid, ymin, xmax, ymax)]
        else:
            mid = (ymin + ymax) / 2
            halves = [shapely.box(xmin, ymin, xmax, mid), shapely.box(xmin, mid, xmax, ymax)]
        todo.extend(_polygons(shapely.intersection(g, np.array(halves, dtype=object))))
    return np.array(done, dtype=object)


def overlap_area(
    parcels: np.ndarray,
    pieces: np.ndarray,
    parcel_area: np.ndarray | None = None,
    tree: STRtree | None = None,
) -> np.ndarray:
    """Area (m²) of each parcel inside the union of `pieces` (non-overlapping, e.g. from `dissolved_pieces`).

    The query runs from the pieces into a tree of the parcels, so that each piece is prepared once and tested
    against many parcels (a piece is usually much larger than a parcel). A parcel wholly inside a piece needs no
    overlay; only the parcels crossing a piece's edge are intersected.

    Parameters
    ----------
    parcels : numpy.ndarray of shapely polygons
        In a projected CRS (metres), the same as `pieces`.
    pieces : numpy.ndarray of shapely polygons
        Pairwise non-overlapping polygons.
    parcel_area : numpy.ndarray, optional
        ``shapely.area(parcels)`` when the caller already has it.
    tree : shapely.STRtree, optional
        ``STRtree(parcels)`` when the caller already has it.

    Returns
    -------
    numpy.ndarray
        One overlap area per parcel, 0 where there is none.

    Examples
    --------
    >>> from shapely import box
    >>> overlap_area(np.array([box(0, 0, 10, 10), box(20, 0, 30, 10)]), np.array([box(5, 0, 25, 10)]))
    array([50., 50.])
    """
    n = len(parcels)
    if n == 0 or len(pieces) == 0:
        return np.zeros(n)
    if parcel_area is None:
        parcel_area = shapely.area(parcels)
    tree = tree if tree is not None else STRtree(parcels)
    pj, pi = tree.query(pieces, predicate="intersects")
    if len(pi) == 0:
        return np.zeros(n)
    inner_j, inner_i = tree.query(pieces, predicate="contains_properly")
    inside = np.isin(pi * len(pieces) + pj, inner_i * len(pieces) + inner_j)
    areas = np.where(inside, parcel_area[pi], 0.0)
    rest = np.flatnonzero(~inside)
    if len(rest):
        areas[rest] = shapely.area(shapely.intersection(parcels[pi[rest]], pieces[pj[rest]]))
    return np.minimum(np.bincount(pi, weights=areas, minlength=n), parcel_area)
