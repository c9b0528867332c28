"""OGC API – Features Part 3 filters: CQL2 text and JSON parsed by pygeofilter, evaluated over a collection.

Parsing is pygeofilter's (maintained, no hand-written grammar). Evaluation is ours because pygeofilter's geopandas
backend neither transforms geometry literals from ``filter-crs`` nor implements SQL's three-valued logic: here every
predicate yields a nullable boolean column (unknown where an operand is null), NOT/AND/OR follow Kleene logic, and
only rows whose result is true match — so ``NOT (x = 'a')`` does not match a row whose ``x`` is null, as in CQL2.
"""

from __future__ import annotations

import json
import operator
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
from pygeofilter import ast, values
from pygeofilter.backends.evaluator import Evaluator, handle
from pygeofilter.parsers.cql2_json import parse as parse_cql2_json
from pygeofilter.parsers.cql2_text import parse as parse_cql2_text
from pygeofilter.util import like_pattern_to_re

import shapely
from shapely.geometry.base import BaseGeometry

from api.collections import Collection
from api.crs import OutputCRS, to_storage
from gis.errors import InputError

__all__ = ["FILTER_LANGS", "GEOMETRY_NAMES", "evaluate_filter", "parse_filter"]

FILTER_LANGS = ("cql2-text", "cql2-json")
#: the names a filter may use for a feature's geometry
GEOMETRY_NAMES = ("geometry", "geom")

_COMPARE = {
    "=": operator.eq,
    "<>": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _normalize_json(node: Any) -> Any:
    # pygeofilter 0.4 departs from CQL2 1.0 twice, fixed here: it reads {"bbox": [minx, miny, maxx, maxy]} as
    # Envelope(x1, x2, y1, y2), mixing up x and y, and it expects BETWEEN as the draft's [value, [low, high]]
    if isinstance(node, dict):
        if set(node) == {"bbox"} and isinstance(node["bbox"], list):
            box = node["bbox"]
            if len(box) == 6:
                box = [box[0], box[1], box[3], box[4]]
            if len(box) != 4:
                raise InputError("a bbox literal has 4 or 6 numbers", field="filter")
            return {"bbox": [box[0], box[2], box[1], box[3]]}
        if node.get("op") == "between" and isinstance(node.get("args"), list) and len(node["args"]) == 3:
            # CQL2 1.0 writes [value, low, high]; pygeofilter 0.4 still expects the draft's [value, [low, high]]
            value, low, high = node["args"]
            node = {**node, "args": [value, [low, high]]}
        return {k: _normalize_json(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_normalize_json(v) for v in node]
    return node


def parse_filter(text: str, lang: str | None) -> ast.Node:
    """The AST of a ``filter`` parameter in ``filter-lang`` (default cql2-text); InputError when it is invalid."""
    lang = lang or "cql2-text"
    if lang not in FILTER_LANGS:
        raise InputError(
            f"unsupported filter-lang {lang!r}; use one of {', '.join(FILTER_LANGS)}", field="filter-lang"
        )
    try:
        if lang == "cql2-json":
            root = parse_cql2_json(_normalize_json(json.loads(text)))
        else:
            root = parse_cql2_text(text)
    except InputError:
        raise
    except Exception as exc:  # lark and the JSON walker raise many types; all mean a bad filter
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"invalid {lang} filter: {first}", field="filter") from None
    if not isinstance(root, ast.Condition | ast.Predicate):
        raise InputError(f"a {lang} filter must be a condition, not {type(root).__name__}", field="filter")
    return root


class _Geometry:
    """The feature geometry as an operand of a spatial predicate."""


_GEOMETRY = _Geometry()


def _literal(value: Any) -> Any:
    if isinstance(value, datetime):
        ts = pd.Timestamp(value)
        return ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo is not None else ts
    if isinstance(value, date):
        return pd.Timestamp(value)
    return value


def _unknown(*operands: Any) -> pd.Series | bool:
    out: pd.Series | bool = False
    for v in operands:
        if isinstance(v, pd.Series):
            out = v.isna() | out
        elif v is None:
            return True
    return out


def _kleene(result: Any, unknown: pd.Series | bool, index: pd.Index) -> pd.Series:
    series = pd.Series(result, index=index).astype("boolean")
    if isinstance(unknown, pd.Series):
        series[unknown.to_numpy(dtype=bool)] = pd.NA
    elif unknown:
        series[:] = pd.NA
    return series


class _FrameEvaluator(Evaluator):
    """Evaluates a CQL2 AST over the rows `rows` of a collection into a nullable boolean Series."""

    def __init__(self, collection: Collection, rows: np.ndarray, filter_crs: OutputCRS) -> None:
        self.collection = collection
        self.rows = rows
        self.index = pd.RangeIndex(len(rows))
        self.filter_crs = filter_crs

    # --- operands
    @handle(ast.Attribute)
    def attribute(self, node: ast.Attribute) -> Any:
        if node.name in GEOMETRY_NAMES:
            return _GEOMETRY
        if node.name not in self.collection.queryables:
            known = ", ".join(self.collection.queryables)
            raise InputError(f"unknown property {node.name!r}; queryables: {known}", field="filter")
        return self.collection.filter_column(node.name).iloc[self.rows].reset_index(drop=True)

    @handle(*values.LITERALS)
    def literal(self, node: Any) -> Any:
        return _literal(node)

    @handle(values.Geometry)
    def geometry(self, node: values.Geometry) -> BaseGeometry:
        try:
            geom = shapely.geometry.shape(node.geometry)
        except Exception as exc:
            raise InputError(f"invalid geometry literal: {exc}", field="filter") from None
        return to_storage(geom, self.filter_crs, self.collection.crs)

    @handle(values.Envelope)
    def envelope(self, node: values.Envelope) -> BaseGeometry:
        return self._box(node.x1, node.y1, node.x2, node.y2)

    @handle(ast.Function)
    def function(self, node: ast.Function, *args: Any) -> Any:
        # CQL2 text writes a bbox literal as BBOX(minx, miny, maxx, maxy); pygeofilter parses it as a function call
        if node.name.lower() == "bbox" and len(args) in (4, 6):
            nums = [args[0], args[1], args[-3], args[-2]] if len(args) == 6 else list(args)
            return self._box(*nums)
        raise InputError(f"unsupported function {node.name!r}", field="filter")

    def _box(self, minx: Any, miny: Any, maxx: Any, maxy: Any) -> BaseGeometry:
        try:
            a, b, c, d = (float(v) for v in (minx, miny, maxx, maxy))
        except (TypeError, ValueError):
            raise InputError("a bbox literal needs numbers", field="filter") from None
        if a > c or b > d:
            raise InputError("a bbox literal needs min <= max on both axes", field="filter")
        return to_storage(shapely.box(a, b, c, d), self.filter_crs, self.collection.crs)

    @handle(ast.Arithmetic, subclasses=True)
    def arithmetic(self, node: ast.Arithmetic, lhs: Any, rhs: Any) -> Any:
        ops = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}
        try:
            return ops[node.op.value](lhs, rhs)
        except TypeError as exc:
            raise InputError(f"invalid arithmetic: {exc}", field="filter") from None

    # --- predicates
    def _series(self, value: Any) -> pd.Series:
        return value if isinstance(value, pd.Series) else pd.Series(value, index=self.index)

    def _check_not_geometry(self, *operands: Any) -> None:
        if any(isinstance(v, _Geometry | BaseGeometry) for v in operands):
            raise InputError(
                "geometries can only be compared with spatial functions (S_INTERSECTS …)", field="filter"
            )

    @handle(ast.Comparison, subclasses=True)
    def comparison(self, node: ast.Comparison, lhs: Any, rhs: Any) -> pd.Series:
        self._check_not_geometry(lhs, rhs)
        try:
            result = _COMPARE[node.op.value](self._series(lhs), rhs)
        except TypeError as exc:
            raise InputError(f"cannot compare {node.lhs} with {node.rhs}: {exc}", field="filter") from None
        return _kleene(result, _unknown(lhs, rhs), self.index)

    @handle(ast.Between)
    def between(self, node: ast.Between, lhs: Any, low: Any, high: Any) -> pd.Series:
        self._check_not_geometry(lhs, low, high)
        try:
            result = self._series(lhs).between(low, high)
        except TypeError as exc:
            raise InputError(f"invalid BETWEEN: {exc}", field="filter") from None
        out = _kleene(result, _unknown(lhs, low, high), self.index)
        return ~out if node.not_ else out

    @handle(ast.Like)
    def like(self, node: ast.Like, lhs: Any) -> pd.Series:
        series = self._series(lhs)
        if not (pd.api.types.is_string_dtype(series.dtype) or series.isna().all()):
            raise InputError(f"LIKE needs a text property, not {node.lhs}", field="filter")
        # CQL2's wildcards are % and _ (pygeofilter's parsers hand over "." as the single character)
        regex = like_pattern_to_re(node.pattern, node.nocase, "%", "_", "\\")
        result = series.astype("string").str.fullmatch(regex.pattern, flags=regex.flags, na=False)
        out = _kleene(result, _unknown(series), self.index)
        return ~out if node.not_ else out

    @handle(ast.In)
    def in_(self, node: ast.In, lhs: Any, *options: Any) -> pd.Series:
        self._check_not_geometry(lhs, *options)
        result = self._series(lhs).isin([o for o in options if o is not None])
        out = _kleene(result, _unknown(lhs), self.index)
        return ~out if node.not_ else out

    @handle(ast.IsNull)
    def is_null(self, node: ast.IsNull, lhs: Any) -> pd.Series:
        if isinstance(lhs, _Geometry):
            result = shapely.is_missing(self.collection.geometry[self.rows])
        else:
            result = self._series(lhs).isna().to_numpy()
        out = pd.Series(result, index=self.index).astype("boolean")
        return ~out if node.not_ else out

    @handle(ast.Include)
    def include(self, node: ast.Include) -> pd.Series:
        return pd.Series(not node.not_, index=self.index).astype("boolean")

    @handle(ast.Not)
    def not_(self, node: ast.Not, sub: pd.Series) -> pd.Series:
        return ~sub

    @handle(ast.And)
    def and_(self, node: ast.And, lhs: pd.Series, rhs: pd.Series) -> pd.Series:
        return lhs & rhs

    @handle(ast.Or)
    def or_(self, node: ast.Or, lhs: pd.Series, rhs: pd.Series) -> pd.Series:
        return lhs | rhs

    @handle(ast.SpatialComparisonPredicate, subclasses=True)
    def spatial(self, node: ast.SpatialComparisonPredicate, lhs: Any, rhs: Any) -> pd.Series:
        if isinstance(lhs, BaseGeometry) and isinstance(rhs, _Geometry):
            lhs, rhs = rhs, lhs
            op = {"CONTAINS": "WITHIN", "WITHIN": "CONTAINS"}.get(node.op.name, node.op.name)
        else:
            op = node.op.name
        if not (isinstance(lhs, _Geometry) and isinstance(rhs, BaseGeometry)):
            raise InputError(
                "a spatial function compares the geometry property with a geometry literal", field="filter"
            )
        return pd.Series(self._spatial(op, rhs), index=self.index).astype("boolean")

    def _spatial(self, op: str, literal: BaseGeometry) -> np.ndarray:
        if op in ("INTERSECTS", "DISJOINT"):
            hits = self.collection.tree.query(
                literal, predicate="intersects"
            )  # the spatial index, not a scan
            found = np.isin(self.rows, hits)
            return ~found if op == "DISJOINT" else found
        geoms = self.collection.geometry[self.rows]
        funcs = {
            "CONTAINS": shapely.contains,
            "WITHIN": shapely.within,
            "TOUCHES": shapely.touches,
            "CROSSES": shapely.crosses,
            "OVERLAPS": shapely.overlaps,
            "EQUALS": shapely.equals,
        }
        return np.asarray(funcs[op](geoms, literal), dtype=bool)

    @handle(ast.BBox)
    def bbox(self, node: ast.BBox, lhs: Any) -> pd.Series:
        if not isinstance(lhs, _Geometry):
            raise InputError("BBOX() applies to the geometry property", field="filter")
        box = self._box(node.minx, node.miny, node.maxx, node.maxy)
        return pd.Series(self._spatial("INTERSECTS", box), index=self.index).astype("boolean")

    def adopt(self, node: Any, *sub_args: Any) -> Any:
        raise InputError(f"unsupported in filters: {type(node).__name__}", field="filter")


def evaluate_filter(
    root: ast.Node, collection: Collection, rows: np.ndarray, filter_crs: OutputCRS
) -> np.ndarray:
    """The subset of `rows` (positions in `collection`) for which the filter is true."""
    result = _FrameEvaluator(collection, rows, filter_crs).evaluate(root)
    if not isinstance(result, pd.Series):
        raise InputError("the filter is not a condition", field="filter")
    return rows[result.fillna(False).to_numpy(dtype=bool)]
