"""The query of an items request: parameters parsed and checked, then the matching rows of a collection."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pygeofilter import ast

import shapely
from shapely.geometry.base import BaseGeometry

from api.collections import Collection
from api.cql import evaluate_filter, parse_filter
from api.crs import CRS84, OutputCRS, parse_crs, to_storage
from gis.errors import InputError

__all__ = ["ITEMS_PARAMS", "ItemsQuery", "parse_items_query", "select_rows"]

#: every query parameter an items request accepts; any other is a 400 (OGC API – Features /req/core/query-param-unknown)
ITEMS_PARAMS = frozenset(
    {
        "f",
        "limit",
        "offset",
        "bbox",
        "bbox-crs",
        "datetime",
        "crs",
        "filter",
        "filter-lang",
        "filter-crs",
        "sortby",
        "properties",
    }
)


@dataclass(frozen=True)
class ItemsQuery:
    """A checked items query. `key` identifies the selection (not the page) for the selection cache."""

    limit: int
    offset: int
    crs: OutputCRS
    bbox: BaseGeometry | None
    interval: tuple[pd.Timestamp | None, pd.Timestamp | None, bool] | None
    filter: ast.Node | None
    filter_crs: OutputCRS
    sortby: tuple[tuple[str, bool], ...]
    properties: tuple[str, ...] | None
    key: tuple[Any, ...]


def _int(value: str | None, name: str, default: int, minimum: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise InputError(f"{name} must be an integer, not {value!r}", field=name) from None
    if number < minimum:
        raise InputError(f"{name} must be >= {minimum}, not {number}", field=name)
    return number


def _bbox(value: str, bbox_crs: OutputCRS, collection: Collection) -> BaseGeometry:
    parts = value.split(",")
    if len(parts) not in (4, 6):
        raise InputError(f"bbox needs 4 or 6 comma-separated numbers, not {value!r}", field="bbox")
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        raise InputError(f"bbox needs numbers, not {value!r}", field="bbox") from None
    if not all(math.isfinite(n) for n in nums):
        raise InputError("bbox numbers must be finite", field="bbox")
    a, b, c, d = (nums[0], nums[1], nums[3], nums[4]) if len(nums) == 6 else nums
    if a > c or b > d:
        # in axis order of bbox-crs; boxes across the antimeridian do not occur in Chinese zones
        raise InputError(f"bbox lower corner must not exceed the upper corner: {value!r}", field="bbox")
    if bbox_crs.geographic:
        lats = (a, c) if bbox_crs.swap else (b, d)
        if min(lats) < -90 or max(lats) > 90:
            raise InputError(f"bbox latitude outside -90..90 in {bbox_crs.uri}: {value!r}", field="bbox")
    try:
        return to_storage(shapely.box(a, b, c, d), bbox_crs, collection.crs)
    except InputError as exc:
        raise InputError(exc.message, field="bbox") from None


def _instant(text: str) -> pd.Timestamp | None:
    if text in ("", ".."):
        return None
    try:
        ts = pd.Timestamp(text)
    except (ValueError, TypeError):
        raise InputError(
            f"datetime must be RFC 3339 or an interval a/b, not {text!r}", field="datetime"
        ) from None
    return ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo is not None else ts


def _interval(value: str, collection: Collection) -> tuple[pd.Timestamp | None, pd.Timestamp | None, bool]:
    if collection.temporal_field is None:
        raise InputError(
            f"collection {collection.id} has no temporal property to filter on", field="datetime"
        )
    if "/" in value:
        start_text, _, end_text = value.partition("/")
        start, end = _instant(start_text), _instant(end_text)
        if start is not None and end is not None and start > end:
            raise InputError(f"datetime interval ends before it starts: {value!r}", field="datetime")
        return start, end, False
    instant = _instant(value)
    if instant is None:
        raise InputError("datetime needs an instant or an interval", field="datetime")
    return instant, instant, True


def _sortby(value: str, collection: Collection) -> tuple[tuple[str, bool], ...]:
    keys = []
    for raw in value.split(","):
        item = raw.strip()
        if not item:
            continue
        ascending = not item.startswith("-")
        name = item.lstrip("+-").strip()
        if name not in collection.queryables:
            raise InputError(
                f"cannot sort by {name!r}; sortable: {', '.join(collection.queryables)}", field="sortby"
            )
        keys.append((name, ascending))
    return tuple(keys)


def _properties(value: str, collection: Collection) -> tuple[str, ...]:
    names = tuple(p.strip() for p in value.split(",") if p.strip())
    unknown = [n for n in names if n not in collection.property_names]
    if unknown:
        raise InputError(f"unknown properties {', '.join(unknown)}", field="properties")
    return names


def parse_items_query(
    params: dict[str, str], collection: Collection, *, default_limit: int, max_limit: int
) -> ItemsQuery:
    """Check an items request's query parameters; InputError (400) names the first bad one."""
    unknown = sorted(set(params) - ITEMS_PARAMS)
    if unknown:
        raise InputError(
            f"unknown query parameter {unknown[0]!r}; accepted: {', '.join(sorted(ITEMS_PARAMS))}"
        )
    limit = _int(params.get("limit"), "limit", default_limit, 1)
    if limit > max_limit:
        raise InputError(f"limit must be <= {max_limit}, not {limit}", field="limit")
    offset = _int(params.get("offset"), "offset", 0, 0)
    offered = collection.crs_offered
    crs = parse_crs(params.get("crs") or CRS84, offered, param="crs")
    bbox_crs = parse_crs(params.get("bbox-crs") or CRS84, offered, param="bbox-crs")
    filter_crs = parse_crs(params.get("filter-crs") or CRS84, offered, param="filter-crs")
    bbox = _bbox(params["bbox"], bbox_crs, collection) if params.get("bbox") else None
    interval = _interval(params["datetime"], collection) if params.get("datetime") else None
    lang = params.get("filter-lang")
    root = parse_filter(params["filter"], lang) if params.get("filter") else None
    if root is None and lang:
        parse_filter("INCLUDE", lang)  # still reject an unknown filter-lang
    sortby = _sortby(params["sortby"], collection) if params.get("sortby") else ()
    properties = _properties(params["properties"], collection) if "properties" in params else None
    key = (
        None if bbox is None else shapely.to_wkb(bbox),
        params.get("datetime"),
        None if root is None else (repr(root), filter_crs.uri),
        sortby,
    )
    return ItemsQuery(limit, offset, crs, bbox, interval, root, filter_crs, sortby, properties, key)


def _compute(query: ItemsQuery, collection: Collection) -> np.ndarray:
    if query.bbox is not None:
        # the index, in the storage CRS; one query geometry gives each tree geometry at most once
        rows = np.sort(collection.tree.query(query.bbox, predicate="intersects"))
    else:
        rows = np.arange(len(collection))
    if query.interval is not None and collection.temporal_field is not None and len(rows):
        dates = pd.to_datetime(collection.gdf[collection.temporal_field].iloc[rows])
        start, end, instant = query.interval
        keep = dates.notna()
        if instant and start is not None:
            keep &= dates.dt.normalize() == start.normalize()
        else:
            if start is not None:
                keep &= dates >= start
            if end is not None:
                keep &= dates <= end
        rows = rows[keep.to_numpy(dtype=bool)]
    if query.filter is not None and len(rows):
        rows = evaluate_filter(query.filter, collection, rows, query.filter_crs)
    if query.sortby and len(rows):
        sub = pd.DataFrame(
            {name: collection.filter_column(name).iloc[rows].to_numpy() for name, _ in query.sortby}
        )
        order = sub.sort_values(
            [name for name, _ in query.sortby],
            ascending=[asc for _, asc in query.sortby],
            kind="stable",
            na_position="last",
        ).index.to_numpy()
        rows = rows[order]
    return np.asarray(rows, dtype=np.int64)


def select_rows(query: ItemsQuery, collection: Collection) -> np.ndarray:
    """All matching rows in order; cached per selection so that paging and ``numberMatched`` cost one evaluation."""
    return collection.select(query.key, lambda c: _compute(query, c))
