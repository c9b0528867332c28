"""Editing parcels through OGC API – Features Part 4 verbs (CONTRACT §5.1), role editor.

``POST /ogc/collections/parcels/items`` creates a parcel from a GeoJSON Feature (no ``If-Match``: there is nothing
to be stale against; an existing id is 409). ``PUT`` replaces, ``PATCH`` merges (RFC 7396 merge patch of
``properties`` and/or ``geometry``) and ``DELETE`` removes ``/ogc/collections/parcels/items/{parcel_id}``; each needs
``If-Match`` with the item's current ETag (428 without, 412 when stale, and nothing changes).

Geometries come in CRS84 unless a ``Content-Crs`` header names EPSG:4326, EPSG:4490 or the storage CRS (in that
CRS's axis order); they are stored in the storage CRS. The edited parcel is validated like a bundle's parcels
(`gis.io.normalize_layer`), written with its history row in one store transaction, and the results are recomputed
(`gis.recompute.apply_edit`) under one lock, so the response and every later GET show the new audit and readiness.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from typing import Annotated, Any
from urllib.parse import quote

import numpy as np
from fastapi import APIRouter, Header, Path, Request, Response
from fastapi.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from api.auth import edit_store, require
from api.crs import CRS84, cached_transformer, crs_key, crs_uri, parse_crs
from api.deps import base_urls
from api.documents import link
from api.features import feature_json
from api.responses import GEOJSON, JSON, cache_control
from gis.crs import AREA_OF_USE_ERROR_DEG, degrees_outside_area, to_lonlat
from gis.errors import InputError, PreconditionFailedError, PreconditionRequiredError
from gis.store.tokens import Principal

__all__ = [
    "current_etag",
    "merge_patch",
    "need_if_match",
    "publish",
    "read_json",
    "refresh_collections",
    "router",
    "write_lock",
]

log = logging.getLogger(__name__)
router = APIRouter()

_ITEMS = "/collections/parcels/items"
_FEATURE_KEYS = frozenset({"type", "id", "properties", "geometry", "links", "bbox"})
_state_lock = threading.Lock()


# ── helpers shared with the ledger routes and the item GET ────────────────────────────────────────────────────
def write_lock(request: Request) -> threading.Lock:
    """The lock that serializes writes and the in-memory update of the results (one per app)."""
    state = request.app.state
    lock = getattr(state, "write_lock", None)
    if lock is None:
        with _state_lock:
            lock = getattr(state, "write_lock", None)
            if lock is None:
                lock = state.write_lock = threading.Lock()
    return lock


def current_etag(request: Request, parcel_id: str) -> str | None:
    """The store's ETag of a parcel (remembered after the first look-up), or None without a store."""
    store = edit_store(request)
    if store is None:
        return None
    state = request.app.state
    etags: dict[str, str] | None = getattr(state, "parcel_etags", None)
    if etags is None:
        etags = state.parcel_etags = {}
    etag = etags.get(parcel_id)
    if etag is None:
        # setdefault: a write that finished meanwhile has stored the newer ETag, which must win
        etag = etags.setdefault(parcel_id, store.get(parcel_id).etag)
    return etag


def need_if_match(header: str | None) -> None:
    """428 for a write without ``If-Match`` (checked before anything else is looked at)."""
    if header is None or not header.strip():
        raise PreconditionRequiredError("this write needs an If-Match header with the item's current ETag")


def if_match_value(header: str | None, current: str) -> str:
    """The ETag a write presents: ``*`` or a list naming the current one matches; 412 otherwise."""
    need_if_match(header)
    assert header is not None
    tags = [t.strip() for t in header.split(",") if t.strip()]
    if "*" in tags or current in tags:
        return current
    raise PreconditionFailedError("the If-Match ETag is stale: the item was changed since it was read")


def read_json(body: bytes) -> dict[str, Any]:
    """The request body as a JSON object (400 otherwise)."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InputError("the request body is not valid JSON", field="body") from None
    if not isinstance(doc, dict):
        raise InputError("the request body must be a JSON object", field="body")
    return doc


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON merge patch: objects merge recursively, null removes a member, anything else replaces.

    >>> merge_patch({"a": 1, "b": {"c": 2, "d": 3}}, {"a": None, "b": {"c": 5}, "e": [1]})
    {'b': {'c': 5, 'd': 3}, 'e': [1]}
    """
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def _require_store(request: Request) -> Any:
    store = edit_store(request)
    if store is None:
        raise HTTPException(405, "this server serves read-only data (no store to write to)")
    return store


# ── geometry and validation ──────────────────────────────────────────────────────────────────────────────────
def _input_crs(request: Request, storage: CRS) -> Any:
    header = request.headers.get("content-crs")
    offered = [CRS84, crs_uri(CRS.from_epsg(4326)), crs_uri(CRS.from_epsg(4490))]
    if storage.to_epsg() is not None and crs_uri(storage) not in offered:
        offered.append(crs_uri(storage))
    if header is None:
        return parse_crs(CRS84, offered, param="Content-Crs")
    return parse_crs(header.strip().removeprefix("<").removesuffix(">"), offered, param="Content-Crs")


def _geometry(value: Any, request: Request, storage: CRS) -> BaseGeometry:
    """A GeoJSON geometry in the request's CRS and axis order → shapely in the storage CRS (x/y)."""
    if not isinstance(value, dict):
        raise InputError("a parcel needs a GeoJSON geometry object", field="geometry")
    try:
        geom = shapely.from_geojson(json.dumps(value))
    except (shapely.errors.GEOSException, ValueError, TypeError) as exc:
        raise InputError(f"not a GeoJSON geometry: {exc}", field="geometry") from None
    src = _input_crs(request, storage)
    if src.swap:
        geom = shapely.transform(geom, lambda xy: xy[:, ::-1])
    if crs_key(src.crs) != crs_key(storage):
        transformer = cached_transformer(crs_key(src.crs), crs_key(storage))
        geom = shapely.transform(geom, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))
    if not np.all(np.isfinite(shapely.bounds(geom))):
        raise InputError("the geometry cannot be transformed into the data's CRS", field="geometry")
    if not _within_area_of_use(geom, storage):
        raise InputError(
            f"the geometry lies outside the area of {src.uri}: check the axis order "
            "(EPSG:4490 and the Gauss-Kruger zones list northing first)",
            field="geometry",
        )
    return geom


def _within_area_of_use(geom: BaseGeometry, crs: CRS) -> bool:
    """Whether every vertex lies within the bundle reader's reach of the CRS's area of use.

    Swapped axes put a parcel tens of thousands of kilometres away, which a projection still computes.
    """
    xy = shapely.get_coordinates(geom)
    lon, lat = to_lonlat(crs, xy[:, 0], xy[:, 1])
    return bool((degrees_outside_area(crs, lon, lat) <= AREA_OF_USE_ERROR_DEG).all())


def validate(
    parcel_id: str, properties: dict[str, Any], geometry: BaseGeometry, crs: CRS
) -> tuple[Any, dict]:
    """The parcel normalized like a bundle's (`gis.io.normalize_layer`) and its properties as stored (JSON).

    Raises InputError naming the field for a bad value.
    """
    from gis.audit import AUDIT_COLUMNS
    from gis.io import normalize_layer
    from gis.readiness import READINESS_COLUMNS
    from gis.store.base import frame_from_json, records_json

    # computed properties are not input (a client may PUT back what it read); an empty value is the same as an
    # absent one (the reader fills the default)
    computed = {"parcel_id", *AUDIT_COLUMNS, *READINESS_COLUMNS}
    props = {k: v for k, v in properties.items() if v is not None and k not in computed}
    raw = frame_from_json(
        [parcel_id], [json.dumps(props, ensure_ascii=False)], [shapely.to_wkb(geometry)], crs
    )
    row = normalize_layer(raw, "parcels", source="request")
    stored = json.loads(records_json(row.drop(columns=["parcel_id"]))[0])
    return row, stored


def _feature_parts(doc: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    unknown = sorted(set(doc) - _FEATURE_KEYS)
    if unknown:
        raise InputError(f"unknown member {unknown[0]!r}; send a GeoJSON Feature", field=unknown[0])
    if doc.get("type", "Feature") != "Feature":
        raise InputError("send one GeoJSON Feature", field="type")
    props = doc.get("properties") or {}
    if not isinstance(props, dict):
        raise InputError("properties must be a JSON object", field="properties")
    return props, doc.get("geometry")


# ── the write itself ─────────────────────────────────────────────────────────────────────────────────────────
def commit(
    request: Request,
    action: str,
    parcel_id: str,
    row: Any,
    stored: dict[str, Any] | None,
    if_match: str | None,
    principal: Principal,
) -> str | None:
    """Write to the store (its compare-and-swap decides who wins) and bring the in-memory results up to date.

    Both happen under the app's write lock, so the results apply edits in the order the store took them.
    Returns the new ETag (None after a delete).
    """
    store = _require_store(request)
    with write_lock(request):
        geometry = None if row is None else row.geometry.iloc[0]
        written = store.write(
            action,  # type: ignore[arg-type]
            parcel_id,
            stored,
            geometry,
            if_match=if_match,
            actor=principal.name,
        )
        publish(request.app.state, store, parcel_id, row, written)
    return None if written is None else written.etag


def _same_or_new(geometry: BaseGeometry, stored: BaseGeometry, tolerance_m: float = 0.01) -> BaseGeometry:
    """The stored geometry when the sent one is it within a centimetre: a geometry read in CRS84 at 7 decimals and
    sent back has moved by millimetres, and must neither drift nor count as a change."""
    return stored if shapely.equals_exact(geometry, stored, tolerance=tolerance_m) else geometry


def _unchanged(current: Any, stored: dict[str, Any], row: Any) -> bool:
    """A write that changes nothing (an empty patch, computed fields sent back) is not a change: no history row."""
    return bool(stored == current.properties and row.geometry.iloc[0].equals_exact(current.geometry, 0))


def publish(state: Any, store: Any, parcel_id: str, row: Any, written: Any) -> None:
    """Recompute what parcel `parcel_id` as now stored changes and serve it: results, collections, ETag.

    `row` is the parcel normalized like a bundle's and `written` its `StoredParcel` (both None after a delete).
    The caller holds the write lock: this process's own writes and those of others (`api.sync`) come here.
    """
    from api.app import store_from_results
    from gis.recompute import apply_edit

    try:
        results = apply_edit(state.results, parcel_id, row)
    except Exception:  # the edit is stored: never leave the served results behind it
        log.exception("incremental recompute failed after editing %s; recomputing everything", parcel_id)
        results = _full_recompute(state.results, store)
    # the data version follows the edits themselves, not a count of this process's: two servers that applied the
    # same edits hand out the same read ETags, and two that did not never do
    step = f"{state.store.version}|{parcel_id}|{written.etag if written is not None else 'deleted'}"
    version = hashlib.blake2b(step.encode(), digest_size=8).hexdigest()
    try:
        features = refresh_collections(state.store, results, version, parcel_id)
    except (LookupError, KeyError) as exc:
        log.warning("rebuilding every collection after an edit (%s)", exc)
        state.full_rebuilds = getattr(state, "full_rebuilds", 0) + 1
        features = store_from_results(results, version)
    state.results, state.store = results, features
    state.export_cache = {}
    etags: dict[str, str] | None = getattr(state, "parcel_etags", None)
    if etags is None:
        etags = state.parcel_etags = {}
    if written is None:
        etags.pop(parcel_id, None)
    else:
        etags[parcel_id] = written.etag


def _full_recompute(results: Any, store: Any) -> Any:
    """The results recomputed from the store's parcels and the bundle's other layers (the slow, sure way)."""
    from dataclasses import replace

    from gis.pipeline import compute
    from gis.store.served import store_parcels

    parcels, _ = store_parcels(store)
    bundle = replace(results.bundle, layers={**results.bundle.layers, "parcels": parcels})
    return compute(bundle, results.as_of, results.rules)


def item_response(request: Request, parcel_id: str, etag: str, status: int = 200) -> Response:
    """The parcel as GET item serves it (CRS84, every audit and readiness property), with its store ETag."""
    parcels = request.app.state.store.get("parcels")
    row = parcels.position(parcel_id)
    _, base = base_urls(request)
    href = f"{base}/collections/parcels/items/{quote(parcel_id, safe='')}"
    links = [
        link(href, "self", GEOJSON),
        link(f"{base}/collections/parcels", "collection", JSON, parcels.title),
    ]
    out = parse_crs(CRS84, [CRS84], param="crs")
    headers = {"ETag": etag, "Cache-Control": cache_control(request, 0), "Content-Crs": f"<{CRS84}>"}
    if status == 201:
        headers["Location"] = href
    return Response(
        feature_json(parcels, row, out, None, links), status_code=status, media_type=GEOJSON, headers=headers
    )


# ── the API's collections after an edit ──────────────────────────────────────────────────────────────────────
def _same(a: Any, b: Any) -> np.ndarray:
    """Elementwise equality of two aligned Series, counting two missing values as equal.

    Typed columns compare vectorized; object columns (lists, dicts) in numpy's C loop over Python ``==``.
    """
    both_missing = (a.isna() & b.isna()).to_numpy(dtype=bool)
    if a.dtype != object and b.dtype != object:
        try:
            return (a == b).fillna(False).to_numpy(dtype=bool) | both_missing
        except (TypeError, ValueError):
            pass
    x, y = a.to_numpy(dtype=object), b.to_numpy(dtype=object)
    try:
        equal = np.asarray(x == y, dtype=bool)
    except (TypeError, ValueError):  # a value whose == is not a plain bool: compare one by one
        equal = np.fromiter((_equal(u, v) for u, v in zip(x, y, strict=True)), dtype=bool, count=len(x))
    return equal | both_missing


def _equal(u: Any, v: Any) -> bool:
    try:
        return bool(u == v)
    except (TypeError, ValueError):
        return False


def _changed_rows(old: Any, new: Any, source: np.ndarray) -> np.ndarray:
    """Rows of `new` whose properties differ from their source row in `old` (every row without a source)."""
    changed = source < 0
    keep = np.flatnonzero(~changed)
    for name in new.columns:
        a = old[name].take(source[keep]).reset_index(drop=True)
        b = new[name].take(keep).reset_index(drop=True)
        changed[keep[~_same(a, b)]] = True
    return changed


def _collection_like(old: Any, gdf: Any, version: str, source: np.ndarray) -> Any:
    """A new collection with `old`'s metadata over `gdf`, reusing `old`'s JSON and CRS84 text of unchanged rows.

    `source[i]` is the row of `old` that row i of `gdf` was (-1: new or edited, geometry included).
    """
    from api.collections import Collection, json_rows
    from api.features import geometry_json

    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    if columns != old.property_names:
        raise LookupError("columns changed")
    props = gdf[columns].reset_index(drop=True)
    changed = _changed_rows(old.properties, props, source)
    encoded = np.empty(len(props), dtype=object)
    encoded[~changed] = old.props_json[source[~changed]]
    if changed.any():
        encoded[changed] = json_rows(props.iloc[np.flatnonzero(changed)])
    new = Collection(
        old.id,
        old.title,
        old.description,
        gdf,
        id_field=old.id_field,
        temporal_field=old.temporal_field,
        titles=old.titles,
        version=version,
        prepared_json=encoded,
    )
    text = old.geometry_text.get(CRS84)
    if text is not None:
        moved = source < 0
        geometry = np.empty(len(props), dtype=object)
        geometry[~moved] = text[source[~moved]]
        if moved.any():
            crs84 = parse_crs(CRS84, [CRS84], param="crs")
            geometry[moved] = geometry_json(new, np.flatnonzero(moved), crs84)
        new.geometry_text[CRS84] = geometry
    return new


def _subset(parent: Any, old: Any, mask: np.ndarray, version: str) -> Any:
    from api.collections import Collection

    new = Collection(
        old.id,
        old.title,
        old.description,
        parent.gdf[mask],
        id_field=old.id_field,
        temporal_field=old.temporal_field,
        titles=old.titles,
        version=version,
        prepared_json=parent.props_json[mask],
    )
    if CRS84 in parent.geometry_text:
        new.geometry_text[CRS84] = parent.geometry_text[CRS84][mask]
    return new


def _positions(old: Any, ids: np.ndarray, edited: str) -> np.ndarray:
    index = old.index_of
    out = np.fromiter((index.get(i, -1) for i in ids), dtype=np.int64, count=len(ids))
    out[ids == edited] = -1
    return out


def refresh_collections(previous: Any, results: Any, version: str, edited: str) -> Any:
    """The API's collections after parcel `edited` changed, reusing every unchanged row's prepared JSON and
    geometry text (rebuilding them all costs seconds at 100 k parcels). Collections built from the bundle's other
    layers do not change and are kept. Raises LookupError when the previous store cannot be reused; the caller
    then rebuilds everything (`api.app.store_from_results`). The parity with a full rebuild is tested.
    """
    from api.collections import Collection, MemoryStore
    from api.features import prepare_default_geometry
    from api.store import parcel_table, readiness_examined

    old = {c.id: c for c in previous.collections()}
    table = parcel_table(results.audit.parcels, results.readiness).reset_index(drop=True)
    ids = table["parcel_id"].astype(str).to_numpy(dtype=object)
    parcels = _collection_like(old["parcels"], table, version, _positions(old["parcels"], ids, edited))
    new: dict[str, Any] = {"parcels": parcels}
    for finding in ("idle", "low_efficiency"):
        if finding in old:
            mask = np.fromiter(
                (isinstance(f, list) and finding in f for f in table["findings"]),
                dtype=bool,
                count=len(table),
            )
            new[finding] = _subset(parcels, old[finding], mask, version)
    if "readiness" in old:
        rd = results.readiness
        examined = readiness_examined(rd)
        rids = examined["parcel_id"].astype(str).to_numpy(dtype=object)
        new["readiness"] = _collection_like(
            old["readiness"],
            examined.reset_index(drop=True),
            version,
            _positions(old["readiness"], rids, edited),
        )
    if "unsupplied" in old:
        if results.audit.unsupplied is None:
            raise LookupError("the batch remainders went away")
        was = old["unsupplied"]
        remainders = Collection(
            was.id,
            was.title,
            was.description,
            results.audit.unsupplied,
            id_field=was.id_field,
            temporal_field=was.temporal_field,
            titles=was.titles,
            version=version,
        )
        prepare_default_geometry(remainders)
        new["unsupplied"] = remainders
    collections = [new.get(cid, c) for cid, c in old.items()]
    return MemoryStore(collections, version=version)


# ── routes ───────────────────────────────────────────────────────────────────────────────────────────────────
IfMatch = Annotated[str | None, Header(alias="If-Match", description="the item's current ETag")]
ParcelId = Annotated[str, Path(description="地块编号 parcel_id")]


@router.post(_ITEMS, summary="Create a parcel 新增地块", status_code=201, response_class=Response)
async def create_parcel(request: Request) -> Response:
    """Create a parcel from a GeoJSON Feature (id from ``properties.parcel_id`` or the feature ``id``).

    Needs no ``If-Match``; an existing id is 409.
    """
    principal = require(request, "edit")
    store = _require_store(request)
    doc = read_json(await request.body())
    props, geometry = _feature_parts(doc)
    pid, fid = props.get("parcel_id"), doc.get("id")
    if pid is None and fid is None:
        raise InputError("a new parcel needs properties.parcel_id (or a feature id)", field="parcel_id")
    if pid is not None and fid is not None and str(pid) != str(fid):
        raise InputError(f"feature id {fid!r} differs from parcel_id {pid!r}", field="parcel_id")
    parcel_id = str(pid if pid is not None else fid).strip()
    if not parcel_id:
        raise InputError("parcel_id is empty", field="parcel_id")

    def work() -> str | None:
        row, stored = validate(parcel_id, props, _geometry(geometry, request, store.crs), store.crs)
        return commit(request, "create", parcel_id, row, stored, None, principal)

    etag = await run_in_threadpool(work)
    assert etag is not None
    return item_response(request, parcel_id, etag, status=201)


@router.put(_ITEMS + "/{parcel_id:path}", summary="Replace a parcel 替换地块", response_class=Response)
async def replace_parcel(request: Request, parcel_id: ParcelId, if_match: IfMatch = None) -> Response:
    """Replace a parcel's properties and geometry with a GeoJSON Feature; needs ``If-Match``."""
    principal = require(request, "edit")
    need_if_match(if_match)
    store = _require_store(request)
    doc = read_json(await request.body())
    props, geometry = _feature_parts(doc)
    for given in (props.get("parcel_id"), doc.get("id")):
        if given is not None and str(given) != parcel_id:
            raise InputError(f"the body names parcel {given!r}, the URL {parcel_id!r}", field="parcel_id")

    def work() -> str | None:
        current = store.get(parcel_id)
        tag = if_match_value(if_match, current.etag)
        geom = _same_or_new(_geometry(geometry, request, store.crs), current.geometry)
        row, stored = validate(parcel_id, props, geom, store.crs)
        if _unchanged(current, stored, row):
            return current.etag
        return commit(request, "update", parcel_id, row, stored, tag, principal)

    etag = await run_in_threadpool(work)
    assert etag is not None
    return item_response(request, parcel_id, etag)


@router.patch(_ITEMS + "/{parcel_id:path}", summary="Change a parcel 修改地块", response_class=Response)
async def patch_parcel(request: Request, parcel_id: ParcelId, if_match: IfMatch = None) -> Response:
    """Merge-patch (RFC 7396) a parcel's ``properties`` and/or replace its ``geometry``; needs ``If-Match``."""
    principal = require(request, "edit")
    need_if_match(if_match)
    store = _require_store(request)
    doc = read_json(await request.body())
    props_patch, geometry = _feature_parts(doc)
    if "geometry" in doc and geometry is None:
        raise InputError("a parcel cannot lose its geometry", field="geometry")
    new_id = props_patch.get("parcel_id", parcel_id)
    if "parcel_id" in props_patch and str(new_id) != parcel_id:
        raise InputError(
            "parcel_id cannot change; create a new parcel and delete this one", field="parcel_id"
        )

    def work() -> str | None:
        current = store.get(parcel_id)
        tag = if_match_value(if_match, current.etag)
        props = merge_patch(current.properties, props_patch)
        geom = (
            current.geometry
            if geometry is None
            else _same_or_new(_geometry(geometry, request, store.crs), current.geometry)
        )
        row, stored = validate(parcel_id, props, geom, store.crs)
        if _unchanged(current, stored, row):
            return current.etag
        return commit(request, "update", parcel_id, row, stored, tag, principal)

    etag = await run_in_threadpool(work)
    assert etag is not None
    return item_response(request, parcel_id, etag)


@router.delete(_ITEMS + "/{parcel_id:path}", summary="Delete a parcel 删除地块", status_code=204)
async def delete_parcel(request: Request, parcel_id: ParcelId, if_match: IfMatch = None) -> Response:
    """Delete a parcel; needs ``If-Match``. Its history stays."""
    principal = require(request, "edit")
    need_if_match(if_match)
    store = _require_store(request)

    def work() -> None:
        current = store.get(parcel_id)
        tag = if_match_value(if_match, current.etag)
        commit(request, "delete", parcel_id, None, None, tag, principal)

    await run_in_threadpool(work)
    return Response(status_code=204)
