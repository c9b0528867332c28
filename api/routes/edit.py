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
from api.publish import publish
from api.responses import GEOJSON, JSON, cache_control
from gis.crs import AREA_OF_USE_ERROR_DEG, degrees_outside_area, to_lonlat
from gis.errors import InputError, PreconditionFailedError, PreconditionRequiredError
from gis.store.tokens import Principal

__all__ = [
    "current_etag",
    "merge_patch",
    "need_if_match",
    "read_json",
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
