"""Demo zone layout: boundary, river, road grid, blocks between the roads and parcels subdivided from the blocks.

Everything here is built in a local frame (metres, origin at the zone's south-west corner) and placed into
EPSG:4527 by `to_crs_frame` at the end, so the layout reads like a plan and not like a coordinate soup.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

import shapely
from shapely.geometry import LineString, Polygon, box

__all__ = ["Layout", "build_layout", "to_crs_frame", "to_local"]

#: local origin in EPSG:4527 (3° zone 39 with prefix, CM 117°E): about 116.87°E, 33.98°N
ORIGIN_E = 39_486_400.0
ORIGIN_N = 3_760_800.0
#: the road grid may be turned (many zones follow an old canal or highway); 0 keeps the grid north-up, which keeps
#: shared parcel edges exactly collinear after rounding (no slivers between neighbours)
ROTATION_DEG = 0.0
ROTATION_CENTRE = (2900.0, 2100.0)

_OUTLINE = [
    (0, 440),
    (1580, 0),
    (4540, 0),
    (6220, 740),
    (6220, 3480),
    (4960, 4540),
    (2000, 4540),
    (740, 4010),
    (0, 2850),
]
_RIVER = [
    (-420, 2480),
    (320, 2270),
    (840, 1850),
    (1210, 1500),
    (1530, 1250),
    (1950, 800),
    (2370, 400),
    (2950, -420),
]

# target parcel size by planned use, 亩: (median, lognormal sigma, min, max)
_TARGET_MU = {
    "industrial": (60.0, 0.8, 12.0, 280.0),
    "warehouse": (55.0, 0.5, 20.0, 180.0),
    "residential": (70.0, 0.4, 30.0, 160.0),
    "commercial": (22.0, 0.5, 8.0, 60.0),
    "public": (55.0, 0.5, 15.0, 120.0),
    "green": (400.0, 0.1, 50.0, 2000.0),
}
_M2_PER_MU = 10_000.0 / 15.0


@dataclass
class Layout:
    """The zone's geometry in the local frame (metres)."""

    boundary: Polygon
    river: LineString
    #: road centre lines: kind ('ns'/'ew'), index, name, width, geometry (full length, clipped to the zone)
    roads: pd.DataFrame
    #: road segments between intersections: name, width, geometry, block ids on both sides
    segments: pd.DataFrame
    #: parcels: block, local geometry, planned_use, name (from the bounding roads), order (development order)
    parcels: pd.DataFrame


def _road_positions(rng: np.random.Generator, start: float, stop: float, lo: float, hi: float) -> np.ndarray:
    pos = [start]
    while pos[-1] + hi < stop:
        pos.append(pos[-1] + float(rng.uniform(lo, hi)))
    return np.round(np.array(pos), 0)


def _cn_number(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 20:
        return "十" + (digits[n - 10] if n > 10 else "")
    return digits[n // 10] + "十" + (digits[n % 10] if n % 10 else "")


def _zoning(cx: float, cy: float) -> str:
    """Planned use of a block by where it lies (the local plan, 控制性详细规划, in one function)."""
    if cx < 1500 and cy > 2300:
        return "residential"
    if 1900 < cx < 2700 and 1900 < cy < 2500:
        return "commercial"
    if cx > 4700 and cy < 1500:
        return "warehouse"
    return "industrial"


def _split(poly: Polygon, target_m2: float, rng: np.random.Generator, depth: int = 0) -> list[Polygon]:
    """Guillotine subdivision: cut the piece across its longer side until it is near the target size."""
    area = poly.area
    minx, miny, maxx, maxy = poly.bounds
    w, h = maxx - minx, maxy - miny
    if area <= target_m2 * 1.35 or min(w, h) < 90 or depth > 7:
        return [poly]
    share = (
        float(np.clip(target_m2 / area, 0.28, 0.5)) if rng.random() < 0.6 else float(rng.uniform(0.38, 0.62))
    )
    if w >= h:
        cut = round(minx + w * share, 1)
        a, b = box(minx - 1, miny - 1, cut, maxy + 1), box(cut, miny - 1, maxx + 1, maxy + 1)
    else:
        cut = round(miny + h * share, 1)
        a, b = box(minx - 1, miny - 1, maxx + 1, cut), box(minx - 1, cut, maxx + 1, maxy + 1)
    out: list[Polygon] = []
    for half in (a, b):
        piece = poly.intersection(half)
        if piece.geom_type == "MultiPolygon":  # a boundary notch: keep the pieces separately
            pieces = [g for g in piece.geoms if g.area > 1.0]
        else:
            pieces = [piece] if piece.area > 1.0 else []
        for p in pieces:
            out.extend(_split(p, target_m2, rng, depth + 1))
    return out


def _target_m2(use: str, rng: np.random.Generator) -> float:
    median, sigma, lo, hi = _TARGET_MU[use]
    return float(np.clip(median * np.exp(rng.normal(0.0, sigma)), lo, hi)) * _M2_PER_MU


def build_layout(rng: np.random.Generator) -> Layout:
    """Boundary, roads, blocks and parcels of the demo zone, in the local frame."""
    outline = Polygon(_OUTLINE)
    river = LineString(_RIVER)
    # the zone stops at the river's north-east bank (the far side is the old town's farmland)
    ne_side = shapely.buffer(river, 5000, single_sided=True)
    if not ne_side.contains(shapely.Point(3000, 3000)):
        ne_side = shapely.buffer(river, -5000, single_sided=True)
    boundary = outline.intersection(ne_side).difference(river.buffer(35))
    boundary = max(getattr(boundary, "geoms", [boundary]), key=lambda g: g.area)
    boundary = shapely.set_precision(boundary, 0.01)

    xs = _road_positions(rng, 270.0, 6080.0, 430.0, 650.0)
    ys = _road_positions(rng, 250.0, 4400.0, 400.0, 570.0)
    # arterial roads (主干道) every third line, the rest secondary roads
    wx = np.where(np.arange(len(xs)) % 3 == 1, 40.0, 28.0)
    wy = np.where(np.arange(len(ys)) % 3 == 1, 40.0, 28.0)
    big = 20000.0
    roads = []
    for i, (x, w) in enumerate(zip(xs, wx, strict=True)):
        geom = LineString([(x, -big), (x, big)]).intersection(boundary)
        roads.append(("ns", i, f"经{_cn_number(i + 1)}路", w, geom))
    for j, (y, w) in enumerate(zip(ys, wy, strict=True)):
        geom = LineString([(-big, y), (big, y)]).intersection(boundary)
        roads.append(("ew", j, f"纬{_cn_number(j + 1)}路", w, geom))
    roads_df = pd.DataFrame(roads, columns=["axis", "index", "name", "width", "geometry"])
    roads_df = roads_df[~shapely.is_empty(roads_df["geometry"].to_numpy())].reset_index(drop=True)

    green_belt = river.buffer(140).intersection(boundary)
    x_edges = np.concatenate([[-big], xs, [big]])
    y_edges = np.concatenate([[-big], ys, [big]])
    wxe = np.concatenate([[0.0], wx, [0.0]])
    wye = np.concatenate([[0.0], wy, [0.0]])
    rows = []
    block_no = 0
    for i in range(len(x_edges) - 1):
        for j in range(len(y_edges) - 1):
            cell = box(
                x_edges[i] + wxe[i] / 2,
                y_edges[j] + wye[j] / 2,
                x_edges[i + 1] - wxe[i + 1] / 2,
                y_edges[j + 1] - wye[j + 1] / 2,
            )
            block = cell.intersection(boundary)
            if block.is_empty or block.area < 4000:
                continue
            green = block.intersection(green_belt)
            built = block.difference(green_belt)
            # kerb radius at the corners (道路转弯半径), so blocks do not look like bare rectangles
            built = built.buffer(-12, join_style="mitre").buffer(12, quad_segs=2)
            green = green.difference(built)  # complementary, so the green strip never overlaps a parcel
            bounds = (x_edges[i], x_edges[i + 1], y_edges[j], y_edges[j + 1])
            west = roads_df.loc[(roads_df["axis"] == "ns") & (roads_df["index"] == i - 1), "name"]
            south = roads_df.loc[(roads_df["axis"] == "ew") & (roads_df["index"] == j - 1), "name"]
            place = (f"{west.iloc[0]}东" if len(west) else "") + ("、" if len(west) and len(south) else "")
            place += f"{south.iloc[0]}北" if len(south) else ""
            place = place or "园区西南"
            block_no += 1
            for piece in getattr(built, "geoms", [built]):
                if piece.area < 4000:
                    continue
                c = piece.centroid
                use = _zoning(c.x, c.y)
                rows.extend(_block_parcels(piece, use, block_no, place, bounds, rng))
            for piece in getattr(green, "geoms", [green]):
                if piece.area > 3000:
                    rows.append(
                        {"block": block_no, "geometry": piece, "planned_use": "green", "place": place}
                    )
    parcels = pd.DataFrame(rows)
    parcels["geometry"] = shapely.normalize(parcels["geometry"].to_numpy())
    parcels = parcels[shapely.area(parcels["geometry"].to_numpy()) > 2000].reset_index(drop=True)
    segments = _segments(roads_df, xs, ys)
    return Layout(boundary, river, roads_df, segments, parcels)


def _block_parcels(
    piece: Polygon, use: str, block: int, place: str, bounds: tuple[float, ...], rng: np.random.Generator
) -> list[dict]:
    rows = []
    if use == "residential" and rng.random() < 0.35:
        # frontage shops along the residential blocks
        use_parts = [("commercial", piece.intersection(box(bounds[0], bounds[2], bounds[1], bounds[2] + 90)))]
        use_parts.append(("residential", piece.difference(use_parts[0][1])))
    elif use == "industrial" and rng.random() < 0.04:
        use_parts = [("public", piece)]
    else:
        use_parts = [(use, piece)]
    for part_use, part in use_parts:
        for g in getattr(part, "geoms", [part]):
            if g.area < 2500:
                continue
            target = _target_m2(part_use if part_use in _TARGET_MU else "industrial", rng)
            for sub in _split(g, target, rng):
                rows.append({"block": block, "geometry": sub, "planned_use": part_use, "place": place})
    return rows


def _segments(roads: pd.DataFrame, xs: np.ndarray, ys: np.ndarray) -> pd.DataFrame:
    """Road centre lines cut at every crossing: the pieces the utilities are laid along."""
    rows = []
    for _, r in roads.iterrows():
        geom = r["geometry"]
        for line in getattr(geom, "geoms", [geom]):
            coords = np.asarray(line.coords)
            along = coords[:, 1] if r["axis"] == "ns" else coords[:, 0]
            other = ys if r["axis"] == "ns" else xs
            lo, hi = float(along.min()), float(along.max())
            stops = np.unique(np.concatenate([[lo, hi], other[(other > lo) & (other < hi)]]))
            fixed = coords[0, 0] if r["axis"] == "ns" else coords[0, 1]
            for a, b in itertools.pairwise(stops):
                if b - a < 30:
                    continue
                seg = (
                    LineString([(fixed, a), (fixed, b)])
                    if r["axis"] == "ns"
                    else LineString([(a, fixed), (b, fixed)])
                )
                rows.append({"name": r["name"], "width": r["width"], "axis": r["axis"], "geometry": seg})
    return pd.DataFrame(rows)


def _rotation() -> np.ndarray:
    a = np.deg2rad(ROTATION_DEG)
    return np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])


def to_crs_frame(geoms: np.ndarray) -> np.ndarray:
    """Rotate the local frame and move it into EPSG:4527, rounding to the millimetre."""
    rot, centre = _rotation(), np.array(ROTATION_CENTRE)
    shift = centre + np.array([ORIGIN_E, ORIGIN_N])
    return shapely.transform(
        np.asarray(geoms, dtype=object), lambda c: np.round((c - centre) @ rot.T + shift, 3)
    )


def to_local(xy: np.ndarray) -> np.ndarray:
    """EPSG:4527 coordinates (n, 2) back into the local frame."""
    rot, centre = _rotation(), np.array(ROTATION_CENTRE)
    return (xy - centre - np.array([ORIGIN_E, ORIGIN_N])) @ rot + centre
