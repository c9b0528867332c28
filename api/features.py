"""GeoJSON of features in any offered CRS, assembled from JSON prepared once per collection."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import orjson

import shapely

from api.collections import Collection, json_rows
from api.crs import CRS84, OutputCRS, crs_key, from_storage, parse_crs

__all__ = ["dumps", "feature_collection_bytes", "feature_json", "geometry_json", "prepare_default_geometry"]


def dumps(value: Any) -> bytes:
    """UTF-8 JSON of plain values (links, counts)."""
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY)


def _round(geoms: np.ndarray, decimals: int) -> np.ndarray:
    return shapely.transform(geoms, lambda xy: np.round(xy, decimals))


def _geometry_text(collection: Collection, rows: np.ndarray, crs: OutputCRS) -> list[bytes]:
    geoms = shapely.orient_polygons(collection.geometry[rows], exterior_cw=False)
    stored = crs_key(collection.crs) == crs_key(crs.crs)
    geoms = from_storage(geoms, collection.crs, crs)
    if not stored:
        geoms = _round(geoms, 7 if crs.geographic else 3)
    return [g.encode() if g is not None else b"null" for g in shapely.to_geojson(geoms).tolist()]


def prepare_default_geometry(collection: Collection) -> None:
    """Write every geometry of `collection` in CRS84 once, so that pages in the default CRS only copy text."""
    crs84 = parse_crs(CRS84, [CRS84], param="crs")
    text = _geometry_text(collection, np.arange(len(collection)), crs84)
    collection.geometry_text[CRS84] = np.asarray(text, dtype=object)


def geometry_json(collection: Collection, rows: np.ndarray, crs: OutputCRS) -> list[bytes]:
    """GeoJSON geometries of `rows` in `crs` and its axis order; exteriors counter-clockwise (RFC 7946).

    Coordinates in the storage CRS are served as stored; others are rounded to 7 decimals of a degree (about 1 cm)
    or 1 mm.
    """
    prepared = collection.geometry_text.get(crs.uri)
    if prepared is not None:
        return prepared[rows].tolist()
    return _geometry_text(collection, rows, crs)


def _features(
    collection: Collection, rows: np.ndarray, crs: OutputCRS, names: Sequence[str] | None
) -> list[bytes]:
    geometries = geometry_json(collection, rows, crs)
    if names is None:
        props = collection.props_json[rows].tolist()
    else:
        props = json_rows(collection.properties[list(names)].iloc[rows]).tolist()
    ids = collection.ids[rows].tolist()
    return [
        b'{"type":"Feature","id":' + dumps(fid) + b',"geometry":' + g + b',"properties":' + p + b"}"
        for fid, g, p in zip(ids, geometries, props, strict=True)
    ]


def feature_collection_bytes(
    collection: Collection,
    rows: np.ndarray,
    crs: OutputCRS,
    names: Sequence[str] | None,
    extra: dict[str, Any],
) -> bytes:
    """A FeatureCollection of `rows` with the members of `extra` (links, numberMatched …) appended."""
    features = b",".join(_features(collection, rows, crs, names))
    tail = b"".join(b"," + dumps(k) + b":" + dumps(v) for k, v in extra.items())
    return b'{"type":"FeatureCollection","features":[' + features + b"]" + tail + b"}"


def feature_json(
    collection: Collection, row: int, crs: OutputCRS, names: Sequence[str] | None, links: list[dict[str, Any]]
) -> bytes:
    """One Feature with its links."""
    text = _features(collection, np.asarray([row]), crs, names)[0]
    return text[:-1] + b',"links":' + dumps(links) + b"}"
