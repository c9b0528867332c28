"""Boundary-point rows (界址点: one row per vertex) to polygons or lines, vectorized.

See `gis.io.tables` for the columns. A ring starts at a new id, a new ring number (圈号), or after a row that
repeats a vertex of its ring (closure); rings become shells or holes by containment (even nesting depth =
shell, odd = hole), so ring numbers ≥ 2 may be holes or extra parts as they are in real files (FORMATS.md §1.6).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

import shapely

from gis.io.fields import parse_numbers
from gis.io.geometry import collect
from gis.io.where import ROW, Where
from gis.schema import LayerSpec

__all__ = ["COORDINATE_ROLES", "coordinate_role", "rings_to_features"]

#: header keys (`gis.io.headers.clean_header`) of the columns of boundary-point rows, by role; ``*_cn`` are the
#: Chinese surveying headers, where X is the northing
COORDINATE_ROLES = {
    "north_cn": {"x坐标", "纵坐标", "x(北)", "x坐标(北)", "x(n)"},
    "east_cn": {"y坐标", "横坐标", "y(东)", "y坐标(东)", "y(e)"},
    "east": {"x", "easting", "east", "东坐标", "e"},
    "north": {"y", "northing", "north", "北坐标", "n"},
    "lon": {"经度", "lon", "lng", "long", "longitude"},
    "lat": {"纬度", "lat", "latitude"},
    "ring": {"圈号", "环号", "ring", "ring_no", "ring_id", "part", "部件号"},
    "point": {"点号", "界址点号", "point", "point_no", "point_id", "pt"},
}


def coordinate_role(key: str) -> str | None:
    """The role of a cleaned header (``north_cn``, ``lon``, ``ring``, …), or None."""
    for role, keys in COORDINATE_ROLES.items():
        if key in keys or re.sub(r"\(.*\)$", "", key) in keys:
            return role
    return None


def _looks_north(v: float) -> bool:
    return 1e6 <= v < 1e7


def _looks_east(v: float) -> bool:
    return 1e5 <= v < 1e6 or 1.3e7 <= v < 4.6e7


def _axes(
    frame: pd.DataFrame, roles: dict[str, str], where: Where, warnings: list[str]
) -> tuple[np.ndarray, np.ndarray, bool, str]:
    """Easting/longitude and northing/latitude arrays, whether they are lon/lat, and a column for messages."""
    if "lon" in roles and "lat" in roles:
        a_col, b_col, lonlat = roles["lon"], roles["lat"], True
    elif "north_cn" in roles and "east_cn" in roles:
        a_col, b_col, lonlat = roles["east_cn"], roles["north_cn"], False
    elif "east" in roles and "north" in roles:
        a_col, b_col, lonlat = roles["east"], roles["north"], False
    else:
        raise where.error(
            "坐标列不完整 (need X坐标 and Y坐标, x and y, or 经度 and 纬度)", field="X坐标/Y坐标"
        )
    xs, bad_x = parse_numbers(frame[a_col])
    where.fail_rows(
        frame, bad_x | xs.isna(), "坐标不是数字 (coordinate is not a number)", a_col, frame[a_col]
    )
    ys, bad_y = parse_numbers(frame[b_col])
    where.fail_rows(
        frame, bad_y | ys.isna(), "坐标不是数字 (coordinate is not a number)", b_col, frame[b_col]
    )
    x, y = xs.to_numpy(), ys.to_numpy()
    mx, my = float(np.median(x)), float(np.median(y))
    if lonlat:
        swapped = abs(mx) <= 90 < abs(my)
    else:
        swapped = _looks_north(mx) and _looks_east(my)
    if swapped:
        warnings.append(
            f"{where.layer}: {where.file.name} 的 {a_col}/{b_col} 两列数值互换, 已自动纠正 "
            f"(the values of {a_col} and {b_col} are swapped against their headers; swapped back)"
        )
        x, y = y, x
    return x, y, lonlat, a_col


def rings_to_features(
    frame: pd.DataFrame,
    roles: dict[str, str],
    id_col: str | None,
    spec: LayerSpec,
    where: Where,
    warnings: list[str],
) -> tuple[pd.DataFrame, np.ndarray, bool, str]:
    """One feature per id from vertex rows: (attribute frame, geometries, lon/lat?, coordinate column)."""
    if spec.geometry == "line_or_polygon":
        raise where.error("该图层请用 WKT 列 (use a wkt column for this layer)", field="wkt")
    x, y, lonlat, coord_col = _axes(frame, roles, where, warnings)
    n = len(frame)
    ids = frame[id_col].ffill() if id_col else pd.Series("1", index=frame.index)
    if id_col:
        where.fail_rows(frame, ids.isna(), "界址点缺少编号 (vertex row without an id)", id_col)
    group = pd.factorize(ids, sort=False)[0]
    ring_no = (
        parse_numbers(frame[roles["ring"]].ffill())[0].fillna(1).to_numpy() if "ring" in roles else np.ones(n)
    )
    if "point" in roles:
        order = _point_order(frame[roles["point"]], group, ring_no)
        if order is not None:
            warnings.append(
                f"{where.layer}: {where.file.name} 的界址点未按点号排列, 已按点号排序 "
                f"(vertex rows were not in {roles['point']} order; sorted by it)"
            )
            frame, ids = frame.iloc[order].reset_index(drop=True), ids.iloc[order].reset_index(drop=True)
            x, y, group, ring_no = x[order], y[order], group[order], ring_no[order]
    # a ring starts at a new id, a new ring number, or after a row that repeats a vertex of its ring (closure)
    keys = pd.DataFrame({"g": group, "r": ring_no, "x": x, "y": y})
    first = np.ones(n, dtype=bool)
    first[1:] = (group[1:] != group[:-1]) | (ring_no[1:] != ring_no[:-1])
    start = first.copy()
    if spec.geometry != "line":  # a line may pass a point twice; a ring only closes on its first one
        repeat = keys.assign(seg=np.cumsum(first)).duplicated(["seg", "x", "y"]).to_numpy()
        start[1:] |= repeat[:-1] & ~first[1:]
    ring = np.cumsum(start) - 1
    coords = np.column_stack([x, y])
    ring_group = group[start]
    distinct = keys.assign(ring=ring).drop_duplicates(["ring", "x", "y"]).groupby("ring").size().to_numpy()
    if spec.geometry == "line":
        short = distinct < 2
        if short.any():
            _fail_short(
                frame,
                ids,
                id_col,
                coord_col,
                start,
                short,
                where,
                "线的点数少于 2 (line with fewer than 2 points)",
            )
        lines = shapely.linestrings(coords, indices=ring)
        geoms = collect(lines, ring_group, group.max() + 1, "line")
    else:
        short = distinct < 3
        if short.any():
            _fail_short(
                frame,
                ids,
                id_col,
                coord_col,
                start,
                short,
                where,
                "环的点数少于 3 (ring with fewer than 3 points)",
            )
        polygons = shapely.polygons(shapely.linearrings(coords, indices=ring))
        geoms = _assemble(polygons, ring_group, group.max() + 1)
    attrs = frame.drop(columns=list(roles.values()))
    if id_col:
        attrs[id_col] = ids
    grouped = attrs.assign(__g=group).groupby("__g", sort=True)
    out = grouped.first()
    out[ROW] = grouped[ROW].min()
    return out.reset_index(drop=True), geoms, lonlat, coord_col


def _point_order(names: pd.Series, group: np.ndarray, ring_no: np.ndarray) -> np.ndarray | None:
    """Row order by point number (J1, J2, …, J10; the closing repeat of the first point last), or None when
    the rows are already in that order or the numbers cannot order them (restarting or repeated names)."""
    text = names.astype("str").str.strip()
    seg = pd.DataFrame({"g": group, "r": ring_no}).groupby(["g", "r"], sort=False).ngroup().to_numpy()
    frame = pd.DataFrame({"seg": seg, "name": text.to_numpy()})
    repeated = frame.duplicated(["seg", "name"]).to_numpy()
    first_name = frame.groupby("seg")["name"].transform("first").to_numpy()
    closing = repeated & (text.to_numpy() == first_name)
    number = pd.to_numeric(text.str.extract(r"(\d+)\D*$", expand=False), errors="coerce").to_numpy(
        dtype=float
    )
    if (repeated & ~closing).any() or np.isnan(number[~closing]).any():
        return None
    key = np.where(closing, np.inf, number)
    same_seg = seg[1:] == seg[:-1]
    if not (np.diff(key)[same_seg] < 0).any():
        return None
    return np.lexsort((key, seg))


def _fail_short(
    frame: pd.DataFrame,
    ids: pd.Series,
    id_col: str | None,
    coord_col: str,
    start: np.ndarray,
    short: np.ndarray,
    where: Where,
    message: str,
) -> None:
    """Raise for the first ring (or line) with too few distinct points, naming its first row."""
    mask = np.zeros(len(frame), dtype=bool)
    mask[np.flatnonzero(start)[short]] = True
    labelled = frame.assign(**{where.id_field: ids}) if id_col and where.id_field else frame
    where.fail_rows(labelled, mask, message, id_col or coord_col)


def _assemble(polygons: np.ndarray, ring_group: np.ndarray, n: int) -> np.ndarray:
    """Polygons with holes and parts from rings by containment (even depth = shell, odd depth = hole)."""
    depth = np.zeros(len(polygons), dtype=int)
    multi = np.bincount(ring_group, minlength=n)[ring_group] > 1
    if multi.any():
        cand = np.flatnonzero(multi)
        tree = shapely.STRtree(polygons[cand])
        inner, outer = tree.query(polygons[cand], predicate="within")
        same = (ring_group[cand[inner]] == ring_group[cand[outer]]) & (inner != outer)
        depth[cand] = np.bincount(inner[same], minlength=len(cand))
    result = collect(polygons[depth == 0], ring_group[depth == 0], n, "polygon")
    for level in range(1, int(depth.max()) + 1):
        at = depth == level
        level_geoms = collect(polygons[at], ring_group[at], n, "polygon")
        has = ~shapely.is_missing(level_geoms)
        op = shapely.difference if level % 2 else shapely.union
        result[has] = op(result[has], level_geoms[has])
    return result
