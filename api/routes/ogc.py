"""OGC API – Features Parts 1, 2 and 3 at /ogc."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

import numpy as np
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse

from api.collections import Collection, FeatureStore
from api.crs import CRS84, parse_crs
from api.deps import SettingsDep, StoreDep, base_urls, get_collection
from api.documents import CONFORMANCE, collection_doc, landing_doc, link, queryables_doc, schema_doc
from api.features import feature_collection_bytes, feature_json
from api.html import render_document, render_items
from api.openapi import openapi_30, openapi_html
from api.query import ItemsQuery, parse_items_query, select_rows
from api.responses import GEOJSON, HTML, JSON, OPENAPI_30, SCHEMA_JSON, cache_control, conditional, wants_html
from api.routes.edit import current_etag
from api.settings import Settings
from gis.errors import InputError

__all__ = ["router"]

router = APIRouter()
CollectionDep = Annotated[Collection, Depends(get_collection)]


def _json(doc: dict[str, Any], media_type: str = JSON) -> Response:
    return Response(json.dumps(doc, ensure_ascii=False).encode(), media_type=media_type)


def _doc_response(
    request: Request,
    version: str,
    max_age: int,
    title: str,
    build: Callable[[], dict[str, Any]],
    media: str = JSON,
) -> Response:
    html = wants_html(request)

    def render() -> Response:
        doc = build()
        return HTMLResponse(render_document(title, doc)) if html else _json(doc, media)

    return conditional(request, version, "html" if html else "json", max_age, render)


@router.get("", summary="Landing page 首页")
@router.get("/", include_in_schema=False)  # OWSLib asks for the landing page with a trailing slash
async def landing(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    """The landing page: JSON by default, HTML when asked for."""
    root, base = base_urls(request)
    title = request.app.title
    return _doc_response(
        request,
        store.version,
        settings.cache_max_age,
        title,
        lambda: landing_doc(base, root, title, request.app.description),
    )


@router.get("/conformance", summary="Conformance classes 符合类")
async def conformance(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    """The conformance classes implemented."""
    _, base = base_urls(request)
    return _doc_response(
        request,
        store.version,
        settings.cache_max_age,
        "符合类 Conformance",
        lambda: {"conformsTo": CONFORMANCE, "links": [link(f"{base}/conformance", "self", JSON)]},
    )


@router.get("/collections", summary="Feature collections 要素集合")
async def collections(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    """All collections, with extents in CRS84 and the CRSs offered."""
    _, base = base_urls(request)

    def build() -> dict[str, Any]:
        return {
            "links": [
                link(f"{base}/collections", "self", JSON),
                link(f"{base}/collections?f=html", "alternate", HTML),
            ],
            "collections": [collection_doc(c, base) for c in store.collections()],
            "crs": [CRS84],
        }

    return _doc_response(request, store.version, settings.cache_max_age, "要素集合 Collections", build)


@router.get("/collections/{collectionId}", summary="One collection 集合")
async def collection(request: Request, c: CollectionDep, store: StoreDep, settings: SettingsDep) -> Response:
    """One collection's metadata."""
    _, base = base_urls(request)
    return _doc_response(
        request, store.version, settings.cache_max_age, c.title, lambda: collection_doc(c, base)
    )


@router.get("/collections/{collectionId}/queryables", summary="Queryables 可查询字段")
async def queryables(request: Request, c: CollectionDep, store: StoreDep, settings: SettingsDep) -> Response:
    """The properties that filters and sortby may use (JSON Schema)."""
    _, base = base_urls(request)
    title = f"{c.title} 可查询字段"
    return _doc_response(
        request, store.version, settings.cache_max_age, title, lambda: queryables_doc(c, base), SCHEMA_JSON
    )


@router.get("/collections/{collectionId}/schema", summary="Schema 字段")
async def schema(request: Request, c: CollectionDep, store: StoreDep, settings: SettingsDep) -> Response:
    """Every property of the collection's features (JSON Schema)."""
    _, base = base_urls(request)
    title = f"{c.title} 字段"
    return _doc_response(
        request, store.version, settings.cache_max_age, title, lambda: schema_doc(c, base), SCHEMA_JSON
    )


def _param(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
        "style": "form",
        "explode": False,
    }


#: the items parameters as the OpenAPI document shows them (`api.openapi` fills in the configured limit maximum)
ITEMS_PARAMETERS = [
    _param("limit", "每页要素数 features per page", {"type": "integer", "minimum": 1}),
    _param("offset", "跳过的要素数 features to skip", {"type": "integer", "minimum": 0, "default": 0}),
    _param("bbox", "minx,miny,maxx,maxy (or 6 numbers) in the axis order of bbox-crs"),
    _param("bbox-crs", "CRS URI of bbox (default CRS84)"),
    _param("datetime", "RFC 3339 instant or interval a/b, open ends as .."),
    _param("crs", "CRS URI of the response geometries (default CRS84)"),
    _param("filter", "CQL2 filter"),
    _param(
        "filter-lang",
        "cql2-text (default) or cql2-json",
        {"type": "string", "enum": ["cql2-text", "cql2-json"]},
    ),
    _param("filter-crs", "CRS URI of filter geometries (default CRS84)"),
    _param("sortby", "comma-separated properties, - for descending"),
    _param("properties", "comma-separated properties to return"),
    _param("f", "json or html", {"type": "string", "enum": ["json", "html"]}),
]


@dataclass(frozen=True)
class ItemsRequest:
    """A checked items request with what serving it needs."""

    collection: Collection
    query: ItemsQuery
    version: str
    max_age: int


async def items_request(
    request: Request,
    collectionId: Annotated[str, PathParam(description="集合标识 collection id, e.g. parcels")],
) -> ItemsRequest:
    """Parse an items request with one parser (`api.query`); FastAPI's per-parameter validation is skipped.

    One ``async`` dependency: the work is CPU-bound and short (milliseconds), so it runs on the event loop instead
    of paying a thread-pool hop, and FastAPI resolves one dependency instead of five on this hot path.
    """
    settings: Settings = request.app.state.settings
    store: FeatureStore = request.app.state.store
    c = store.get(collectionId)
    query = parse_items_query(
        dict(request.query_params), c, default_limit=settings.default_limit, max_limit=settings.max_limit
    )
    return ItemsRequest(c, query, store.version, settings.cache_max_age)


def _page_links(
    request: Request, c: Collection, q: ItemsQuery, matched: int, base: str
) -> list[dict[str, Any]]:
    url = request.url.remove_query_params("f")
    links = [
        link(str(url), "self", GEOJSON, "本页 this page"),
        link(str(url.include_query_params(f="html")), "alternate", HTML, "网页 as HTML"),
        link(f"{base}/collections/{c.id}", "collection", JSON, c.title),
    ]
    if q.offset + q.limit < matched:
        nxt = url.include_query_params(offset=q.offset + q.limit, limit=q.limit)
        links.append(link(str(nxt), "next", GEOJSON, "下一页 next page"))
    if q.offset > 0:
        prev = url.include_query_params(offset=max(q.offset - q.limit, 0), limit=q.limit)
        links.append(link(str(prev), "prev", GEOJSON, "上一页 previous page"))
    return links


@router.get(
    "/collections/{collectionId}/items",
    summary="Features 要素",
    response_class=Response,
    openapi_extra={"parameters": ITEMS_PARAMETERS},
)
async def items(request: Request, r: Annotated[ItemsRequest, Depends(items_request)]) -> Response:
    """A page of features: bbox (index in the storage CRS), CQL2 filter, datetime, sortby, crs, properties."""
    html = wants_html(request)
    c, q = r.collection, r.query

    def build() -> Response:
        _, base = base_urls(request)
        rows = select_rows(q, c)
        page = rows[q.offset : q.offset + q.limit] if q.offset < len(rows) else np.empty(0, dtype=np.int64)
        extra = {
            "numberMatched": len(rows),
            "numberReturned": len(page),
            "timeStamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "links": _page_links(request, c, q, len(rows), base),
        }
        body = feature_collection_bytes(c, page, q.crs, q.properties, extra)
        if html:
            return HTMLResponse(render_items(c.title, json.loads(body)["features"], extra))
        return Response(body, media_type=GEOJSON, headers={"Content-Crs": f"<{q.crs.uri}>"})

    return conditional(request, r.version, "html" if html else "geojson", r.max_age, build)


_ITEM_PARAMS = frozenset({"f", "crs", "properties"})


@router.get(
    "/collections/{collectionId}/items/{featureId:path}", summary="One feature 要素", response_class=Response
)
async def item(
    request: Request,
    c: CollectionDep,
    featureId: str,
    store: StoreDep,
    settings: SettingsDep,
    crs: Annotated[str | None, Query(description="CRS URI of the geometry (default CRS84)")] = None,
    properties: Annotated[str | None, Query(description="comma-separated properties to return")] = None,
    f: Annotated[str | None, Query(description="json or html")] = None,
) -> Response:
    """One feature by its stable id (parcel_id, batch_id, or its number in a bundle layer)."""
    unknown = sorted(set(request.query_params) - _ITEM_PARAMS)
    if unknown:
        raise InputError(f"unknown query parameter {unknown[0]!r}")
    etag = current_etag(request, featureId) if c.id == "parcels" else None
    if etag is not None:
        # the body from the collections as they are *after* the ETag was read (an edit publishes them before
        # its ETag), so a client never holds an ETag newer than what it was shown and cannot PUT over an edit
        store = request.app.state.store
        c = store.get(c.id)
    row = c.position(featureId)
    out = parse_crs(crs or CRS84, c.crs_offered, param="crs")
    names = None
    if properties is not None:
        names = [p.strip() for p in properties.split(",") if p.strip()]
        bad = [n for n in names if n not in c.property_names]
        if bad:
            raise InputError(f"unknown properties {', '.join(bad)}", field="properties")
    html = wants_html(request)

    def build() -> Response:
        _, base = base_urls(request)
        href = f"{base}/collections/{c.id}/items/{quote(featureId, safe='')}"
        links = [
            link(href, "self", GEOJSON),
            link(f"{href}?f=html", "alternate", HTML),
            link(f"{base}/collections/{c.id}", "collection", JSON, c.title),
        ]
        body = feature_json(c, row, out, names, links)
        if html:
            return HTMLResponse(render_items(f"{c.title} {featureId}", [json.loads(body)], {"links": links}))
        return Response(body, media_type=GEOJSON, headers={"Content-Crs": f"<{out.uri}>"})

    response = conditional(
        request, store.version, "html" if html else "geojson", settings.cache_max_age, build
    )
    if etag is not None:  # an editable parcel: the store's ETag, which a write's If-Match must name
        response.headers["ETag"] = etag
        response.headers["Cache-Control"] = cache_control(request, 0)
    return response


@router.get("/api", summary="OpenAPI 3.0 definition", include_in_schema=False)
async def api_definition(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    """The OpenAPI 3.0 document (``service-desc``)."""
    root, _ = base_urls(request)
    return conditional(
        request,
        store.version,
        "oas30",
        settings.cache_max_age,
        lambda: _json(openapi_30(request.app, settings, root), OPENAPI_30),
    )


@router.get("/api.html", summary="API documentation", include_in_schema=False)
async def api_documentation(request: Request, settings: SettingsDep) -> HTMLResponse:
    """The API documentation (``service-doc``): every path, its parameters and responses, without scripts."""
    root, _ = base_urls(request)
    return HTMLResponse(openapi_html(openapi_30(request.app, settings, root)))
