"""Feature collections as the API reads them, behind a small store interface.

A `Collection` holds one layer in its storage CRS with what serving needs prepared once: feature ids, each feature's
properties as JSON, filterable columns (built on first use), a spatial index, extents and queryables. A store maps
collection ids to collections; `MemoryStore` is built from GeoDataFrames, and a database store (issue 7) can offer
the same interface.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

import numpy as np
import orjson
import pandas as pd

import geopandas as gpd
import shapely
from pyproj import CRS

from api.crs import CRS84, crs_key, from_storage, offered_crs, parse_crs
from gis.errors import NotFoundError
from gis.outputs import json_default

__all__ = ["Collection", "FeatureStore", "MemoryStore", "json_rows", "json_values"]

#: how many distinct selections (bbox, filter, datetime, sort) each collection remembers
SELECTION_CACHE_SIZE = 128


def _is_datetime(s: pd.Series) -> bool:
    return pd.api.types.is_datetime64_any_dtype(s.dtype)


def _clean_object(value: Any) -> Any:
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, pd.Timestamp | date):
        return value.strftime("%Y-%m-%d")
    return value


def json_values(s: pd.Series) -> list[Any]:
    """A column as plain Python values for JSON: dates ISO, NaN/NaT null, lists and dicts kept."""
    if _is_datetime(s):
        text = s.dt.strftime("%Y-%m-%d")
        return text.astype(object).where(s.notna(), None).tolist()
    if pd.api.types.is_bool_dtype(s.dtype) or (pd.api.types.is_string_dtype(s.dtype) and s.dtype != object):
        return s.astype(object).where(s.notna(), None).tolist()
    if pd.api.types.is_numeric_dtype(s.dtype):
        values = s.astype(object).where(s.notna(), None).tolist()
        return [
            v if v is None or isinstance(v, bool) else (int(v) if isinstance(v, np.integer) else v)
            for v in values
        ]
    return [_clean_object(v) for v in s.astype(object).tolist()]


def json_rows(frame: pd.DataFrame) -> np.ndarray:
    """Each row's properties as UTF-8 JSON (bytes); orjson writes NaN as null and numpy values natively."""
    names = [str(c) for c in frame.columns]
    if not names:
        return np.full(len(frame), b"{}", dtype=object)
    columns = [
        (frame[c].dt.strftime("%Y-%m-%d") if _is_datetime(frame[c]) else frame[c]).tolist()
        for c in frame.columns
    ]
    rows = [
        orjson.dumps(
            dict(zip(names, values, strict=True)), option=orjson.OPT_SERIALIZE_NUMPY, default=_json_default
        )
        for values in zip(*columns, strict=True)
    ]
    return np.asarray(rows, dtype=object)


def _json_default(value: Any) -> Any:
    if isinstance(value, pd.Timestamp | date):  # dates inside object columns: date only, as everywhere else
        return value.strftime("%Y-%m-%d")
    return json_default(value)


def _sample(s: pd.Series, n: int = 500) -> pd.Series:
    values = s.dropna()
    return values.iloc[:: max(len(values) // n, 1)]


def _is_list(v: Any) -> bool:
    return isinstance(v, list | tuple | np.ndarray)


def _queryable_kind(s: pd.Series) -> str | None:
    """How filters see a column: date, boolean, integer, number, string, list; None when not filterable."""
    if _is_datetime(s):
        return "date"
    if pd.api.types.is_bool_dtype(s.dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(s.dtype):
        return "integer"
    if pd.api.types.is_numeric_dtype(s.dtype):
        return "number"
    if pd.api.types.is_string_dtype(s.dtype) and s.dtype != object:
        return "string"
    sample = _sample(s)
    if sample.empty or sample.map(lambda v: isinstance(v, str)).all():
        return "string"
    if sample.map(_is_list).all():
        return "list"
    return None  # dicts and mixed objects are served but not filterable


def _schema(kind: str, title: str | None) -> dict[str, Any]:
    schema: dict[str, Any] = {"title": title} if title else {}
    if kind == "date":
        return {**schema, "type": "string", "format": "date"}
    if kind == "list":
        # CQL2 text has no array literals in pygeofilter; a list is filterable as its comma-joined text
        return {
            **schema,
            "type": "string",
            "description": "comma-separated list; match one value with LIKE '%value%'",
        }
    return {**schema, "type": kind}


def _filter_column(s: pd.Series, kind: str) -> pd.Series:
    if kind == "list":
        joined = [",".join(map(str, v)) if _is_list(v) else None for v in s.tolist()]
        return pd.Series(joined, index=s.index, dtype="str")
    if kind == "string" and s.dtype == object:
        return pd.Series(s, dtype="str")
    return s


@dataclass
class Collection:
    """One feature collection, prepared for serving."""

    id: str
    title: str
    description: str
    gdf: gpd.GeoDataFrame
    #: column holding the feature id; None numbers the features 1..n
    id_field: str | None = None
    #: date column the ``datetime`` parameter filters on; None when the collection has none
    temporal_field: str | None = None
    #: a field name -> title, e.g. Chinese headers, for queryables
    titles: dict[str, str] = field(default_factory=dict)
    #: changes when the data changes: part of every ETag
    version: str = "0"
    #: each row's properties as JSON when already known (a subset of another collection); else computed
    prepared_json: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.gdf.crs is None:
            raise ValueError(f"collection {self.id}: layer has no CRS")
        gdf = self.gdf.reset_index(drop=True)
        self.gdf = gdf
        self.crs: CRS = gdf.crs
        self.geometry: np.ndarray = np.asarray(gdf.geometry.values, dtype=object)
        columns = [c for c in gdf.columns if c != gdf.geometry.name]
        props = pd.DataFrame(gdf[columns])
        if self.id_field is not None:
            ids = props[self.id_field].astype("str").to_numpy(dtype=object)
        else:
            ids = np.asarray([str(i) for i in range(1, len(gdf) + 1)], dtype=object)
        self.ids = ids
        self.index_of: dict[str, int] = {fid: i for i, fid in enumerate(ids)}
        self.properties = props
        self.property_names: list[str] = columns
        self.props_json: np.ndarray = (
            self.prepared_json
            if self.prepared_json is not None and len(self.prepared_json) == len(props)
            else json_rows(props)
        )
        self.prepared_json = None
        self._kinds = {name: kind for name in columns if (kind := _queryable_kind(props[name])) is not None}
        self.queryables: dict[str, dict[str, Any]] = {
            name: _schema(kind, self.titles.get(name)) for name, kind in self._kinds.items()
        }
        self._filter_columns: dict[str, pd.Series] = {}
        self.tree = shapely.STRtree(self.geometry)
        #: GeoJSON geometry text per CRS URI, filled by `api.features` (CRS84, the default, at start)
        self.geometry_text: dict[str, np.ndarray] = {}
        self._cache: OrderedDict[Hashable, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._extent()

    def _extent(self) -> None:
        valid = self.geometry[~shapely.is_empty(self.geometry)] if len(self.geometry) else self.geometry
        if len(valid):
            minx, miny, maxx, maxy = shapely.total_bounds(valid)
            # the box outline as a line: a flat box (one horizontal line) would vanish as a polygon
            corners = [(minx, miny), (maxx, miny), (maxx, maxy), (minx, maxy), (minx, miny)]
            ring = shapely.segmentize(shapely.LineString(corners), max(maxx - minx, maxy - miny) / 32 or 1)
            crs84 = parse_crs(CRS84, [CRS84], param="crs")
            wgs = from_storage(np.asarray([ring], dtype=object), self.crs, crs84)[0]
            self.bbox_crs84: list[float] | None = [round(v, 7) for v in shapely.bounds(wgs).tolist()]
            lon = (self.bbox_crs84[0] + self.bbox_crs84[2]) / 2
        else:
            self.bbox_crs84 = None
            lon = 117.0
        self.crs_offered = offered_crs(self.crs, lon)
        self.interval: list[str | None] = [None, None]
        if self.temporal_field is not None and self.temporal_field in self.gdf:
            dates = self.gdf[self.temporal_field].dropna()
            if len(dates):
                self.interval = [
                    pd.Timestamp(dates.min()).strftime("%Y-%m-%dT00:00:00Z"),
                    pd.Timestamp(dates.max()).strftime("%Y-%m-%dT00:00:00Z"),
                ]

    @property
    def storage_crs_uri(self) -> str:
        """The OGC URI of the storage CRS."""
        key = crs_key(self.crs)
        return f"http://www.opengis.net/def/crs/EPSG/0/{key[5:]}" if key.startswith("EPSG:") else CRS84

    def __len__(self) -> int:
        return len(self.ids)

    def property_schema(self, name: str) -> dict[str, Any]:
        """The JSON Schema of a property as served (lists as arrays, objects as objects)."""
        title = self.titles.get(name)
        kind = self._kinds.get(name)
        if kind == "list":
            return {**({"title": title} if title else {}), "type": "array", "items": {"type": "string"}}
        if kind is None:
            return {**({"title": title} if title else {}), "type": "object"}
        return _schema(kind, title)

    def filter_column(self, name: str) -> pd.Series:
        """A queryable column as filters and sortby see it (lists as comma-joined text), built on first use."""
        column = self._filter_columns.get(name)
        if column is None:
            column = _filter_column(self.properties[name], self._kinds[name])
            self._filter_columns[name] = column
        return column

    def position(self, fid: str) -> int:
        """Row of feature `fid`; NotFoundError when there is none."""
        pos = self.index_of.get(fid)
        if pos is None:
            raise NotFoundError(f"collection {self.id} has no feature {fid!r}")
        return pos

    def select(self, key: Hashable, compute: Callable[[Collection], np.ndarray]) -> np.ndarray:
        """The matching rows of a query, computed once per distinct `key` and then served from a small LRU cache.

        Paging through a result (and its ``numberMatched``) thus costs one evaluation, not one per page.
        """
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        rows = compute(self).astype(np.int32 if len(self) < 2**31 else np.int64, copy=False)
        rows.setflags(write=False)
        with self._lock:
            self._cache[key] = rows
            while len(self._cache) > SELECTION_CACHE_SIZE:
                self._cache.popitem(last=False)
        return rows


class FeatureStore(Protocol):
    """What the API reads: collections by id, and a version that changes with the data."""

    version: str

    def collections(self) -> Iterable[Collection]:
        """All collections, in display order."""
        ...

    def get(self, collection_id: str) -> Collection:
        """One collection; NotFoundError when there is none."""
        ...


class MemoryStore:
    """A read-only store of collections held in memory."""

    def __init__(self, collections: Iterable[Collection], *, version: str = "0") -> None:
        self._collections = {c.id: c for c in collections}
        self.version = version

    def collections(self) -> Iterable[Collection]:
        """All collections, in the order given."""
        return self._collections.values()

    def get(self, collection_id: str) -> Collection:
        """One collection; NotFoundError when there is none."""
        try:
            return self._collections[collection_id]
        except KeyError:
            raise NotFoundError(f"no collection {collection_id!r}") from None
