"""Distance from each parcel to the nearest feature of a layer: exact, vectorized, uncapped.

GEOS's nearest-neighbour query costs tens of microseconds per parcel, which is too slow for 100 000 parcels and
seven networks. Instead, lines are split into two-point segments (tight bounding boxes, cheap distances) and:

1. candidates are the features whose bounding box lies within a search distance r of the parcel's bounding box
   (an envelope-only STRtree query); their box-to-box distance is a lower bound of the true distance;
2. exact distances are computed first for each parcel's candidates with the smallest lower bound, then for the
   candidates whose bound is below the distance found (branch and bound in two vectorized GEOS calls);
3. a parcel whose best distance is ≤ r is exact (every feature that close is a candidate); the others search
   again with r × 4 (25 m, 100 m, 400 m, …, with a round at exactly ``radius``), and those still unresolved when
   the candidates become too many, or r exceeds 64 × ``radius``, go to GEOS's nearest query, which is exact at
   any distance.

With ``radius`` = the service distance, the checks (distance ≤ service distance) are decided in step 1–2 and the
reported distances are the true nearest distances, however far.
"""

from __future__ import annotations

import numpy as np

import shapely
from shapely import STRtree

__all__ = ["as_segments", "nearest_distance"]

#: first search distance (m); it grows 4x per round, through the service distance, up to MAX_GROWTH times it
START_RADIUS = 25.0
#: floor of ``radius``: the search distance only grows by multiplying, so it must start above 0
MIN_RADIUS = 1.0
MAX_GROWTH = 64.0
#: beyond the service distance, a round with more candidate pairs per parcel than this goes to GEOS instead
MAX_PAIRS_PER_PARCEL = 64


def as_segments(geoms: np.ndarray) -> np.ndarray:
    """Lines as two-point segments; polygons and points unchanged (None and empty dropped).

    Examples
    --------
    >>> from shapely import LineString
    >>> [g.wkt for g in as_segments(np.array([LineString([(0, 0), (1, 0), (1, 1)])]))]
    ['LINESTRING (0 0, 1 0)', 'LINESTRING (1 0, 1 1)']
    """
    geoms = np.asarray(geoms, dtype=object)
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    if np.all(shapely.get_num_coordinates(geoms) == 2) and np.all(
        shapely.get_type_id(geoms) == shapely.GeometryType.LINESTRING
    ):
        return geoms  # already segments
    parts = shapely.get_parts(geoms)
    lines = shapely.get_type_id(parts) == shapely.GeometryType.LINESTRING
    coords, index = shapely.get_coordinates(parts[lines], return_index=True)
    same = index[1:] == index[:-1]
    starts, ends = coords[:-1][same], coords[1:][same]
    segments = shapely.linestrings(np.stack([starts, ends], axis=1))
    return np.concatenate([segments, parts[~lines]])


def _box_gap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance between axis-aligned boxes (rows of xmin, ymin, xmax, ymax): a lower bound of geometry distance."""
    dx = np.maximum(0.0, np.maximum(a[:, 0] - b[:, 2], b[:, 0] - a[:, 2]))
    dy = np.maximum(0.0, np.maximum(a[:, 1] - b[:, 3], b[:, 1] - a[:, 3]))
    return np.hypot(dx, dy)


def _best_of_candidates(
    parcels: np.ndarray, features: np.ndarray, pi: np.ndarray, fj: np.ndarray, bound: np.ndarray, n: int
) -> np.ndarray:
    """Min exact distance per parcel over its candidate pairs, skipping pairs whose lower bound cannot win.

    Two vectorized rounds: first the candidates with the smallest bound of their parcel, then only the pairs whose
    bound is below the distance found (no sorting of the pairs).
    """
    best = np.full(n, np.inf)
    if len(pi) == 0:
        return best
    low = np.full(n, np.inf)
    np.minimum.at(low, pi, bound)
    first = bound <= low[pi]
    np.minimum.at(best, pi[first], shapely.distance(parcels[pi[first]], features[fj[first]]))
    rest = np.flatnonzero(~first & (bound < best[pi]))
    if len(rest):
        np.minimum.at(best, pi[rest], shapely.distance(parcels[pi[rest]], features[fj[rest]]))
    return best


def nearest_distance(
    parcels: np.ndarray,
    features: np.ndarray,
    radius: float = 100.0,
    box_cache: dict[float, np.ndarray] | None = None,
) -> np.ndarray:
    """Edge-to-edge distance (CRS units) from each parcel to its nearest feature; NaN when there are no features.

    Parameters
    ----------
    parcels : numpy.ndarray of shapely polygons
    features : numpy.ndarray of shapely geometries
        Lines or polygons in the same projected CRS.
    radius : float
        Distance within which the vectorized search is used (the service distance); farther parcels use GEOS's
        nearest query. Any value gives the same result; it only moves work between the two paths. Values below
        `MIN_RADIUS` (0 included) are raised to it.

    Returns
    -------
    numpy.ndarray
        One distance per parcel; 0 where a feature touches or crosses the parcel.

    Examples
    --------
    >>> from shapely import box, LineString
    >>> lines = np.array([LineString([(0, 15), (10, 15)]), LineString([(0, 500), (10, 500)])])
    >>> nearest_distance(np.array([box(0, 0, 10, 10), box(0, 480, 10, 490)]), lines, radius=30)
    array([ 5., 10.])
    >>> nearest_distance(np.array([box(0, 0, 10, 10)]), lines, radius=1).tolist()
    [5.0]
    >>> nearest_distance(np.array([box(0, 0, 10, 10), box(0, 15, 10, 20)]), lines, radius=0).tolist()
    [5.0, 0.0]
    """
    radius = max(float(radius), MIN_RADIUS)
    n = len(parcels)
    out = np.full(n, np.nan)
    features = as_segments(features)
    if n == 0 or len(features) == 0:
        return out
    tree = STRtree(features)
    pb = shapely.bounds(parcels)
    fb = shapely.bounds(features)
    todo = np.arange(n)
    # growing search boxes: most parcels have a feature close by, and a small box means few candidate pairs
    r = min(radius, START_RADIUS)
    while len(todo) and r <= radius * MAX_GROWTH:
        b = pb[todo]
        if box_cache is not None and len(todo) == n:
            if r not in box_cache:
                box_cache[r] = shapely.box(pb[:, 0] - r, pb[:, 1] - r, pb[:, 2] + r, pb[:, 3] + r)
            boxes = box_cache[r]
        else:
            boxes = shapely.box(b[:, 0] - r, b[:, 1] - r, b[:, 2] + r, b[:, 3] + r)
        pi, fj = tree.query(boxes)
        if r > radius and len(pi) > MAX_PAIRS_PER_PARCEL * len(todo):
            break  # far from a dense network: GEOS's nearest query is cheaper than this many pairs
        best = _best_of_candidates(parcels[todo], features, pi, fj, _box_gap(b[pi], fb[fj]), len(todo))
        near = best <= r
        out[todo[near]] = best[near]
        todo = todo[~near]
        r = min(radius, r * 4) if r < radius else r * 4
    if len(todo):
        (qi, _), dist = tree.query_nearest(parcels[todo], return_distance=True, all_matches=False)
        out[todo[qi]] = dist
    return out
