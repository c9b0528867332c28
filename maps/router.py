"""HTTP routes of the map: the page at ``/``, its static files, viewport features, cards, search, hillshade tiles.

Reads ``request.app.state.results`` (a `gis.pipeline.Results`); the API's `create_app` includes this router.
Optional ``request.app.state.map_settings`` (a `MapSettings`) picks the basemaps.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

from maps.assets import static_file
from maps.cards import feature_card, parcel_card
from maps.features import FeatureIndex
from maps.hillshade import render_tile
from maps.page import build_page
from maps.settings import MapSettings
from maps.styles import layer_style
from maps.summary import summary_html

__all__ = ["map_index", "router", "warm"]

router = APIRouter()
_lock = threading.Lock()
_default_settings: MapSettings | None = None


def _error(status: int, code: str, description: str) -> JSONResponse:
    return JSONResponse({"code": code, "description": description}, status_code=status)


def _settings(request: Request) -> MapSettings:
    global _default_settings
    settings = getattr(request.app.state, "map_settings", None)
    if settings is None:
        if _default_settings is None:
            _default_settings = MapSettings()
        settings = _default_settings
    return settings


@dataclass(frozen=True)
class _Built:
    """An index and the pages rendered from it, published together in one attribute assignment."""

    index: FeatureIndex
    pages: dict[str, str]  # lang -> HTML


def map_index(request: Request) -> FeatureIndex | None:
    """The map layers of the app's current results, built once per result set (None when there are none)."""
    built = _built(request.app.state)
    return None if built is None else built.index


def _built(state: Any) -> _Built | None:
    results = getattr(state, "results", None)
    if results is None:
        return None
    # Lock-free fast path: ``map_built`` is only ever set to a finished index with its own page cache, so a reader
    # sees the old pair or the new one, never an index without its pages (nor another index's pages).
    built = getattr(state, "map_built", None)
    if built is not None and built.index.results is results:
        return built
    with _lock:  # the warm() thread and early requests: one build, the others wait for it
        built = getattr(state, "map_built", None)
        if built is None or built.index.results is not results:
            built = _Built(FeatureIndex(results), {})
            state.map_built = built
            state.map_index = built.index  # read by tests and bench_map
    return built


def warm(app: Any) -> threading.Thread:
    """Build the map index in the background, so the first page view does not wait for it.

    Call it after ``app.state.results`` is set (e.g. in the lifespan); requests arriving meanwhile wait for the
    same build instead of starting another.
    """
    thread = threading.Thread(target=_built, args=(app.state,), name="landready-map-index", daemon=True)
    thread.start()
    return thread


def _no_results() -> JSONResponse:
    return _error(503, "NoData", "no results loaded")


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def map_page(request: Request, lang: Annotated[str, Query(pattern="^(zh|en)$")] = "zh") -> Response:
    """The interactive map (Chinese by default, ``?lang=en`` for English)."""
    built = _built(request.app.state)
    if built is None:
        return _no_results()
    index, pages = built.index, built.pages
    if lang not in pages:
        results = index.results
        dem = (getattr(results.bundle, "rasters", None) or {}).get("dem")
        pages[lang] = build_page(
            index,
            lang,
            _settings(request),
            hillshade_url="/maps/tiles/hillshade/{z}/{x}/{y}.png" if dem else None,
            summary=summary_html(results, lang),
        )
    return HTMLResponse(pages[lang])


@router.get("/maps/static/{path:path}", include_in_schema=False)
def static(path: str) -> Response:
    """Vendored scripts, stylesheets and images (nothing is loaded from a CDN)."""
    target = static_file(path)
    if target is None:
        return _error(404, "NotFound", f"no static file {path!r}")
    return FileResponse(target, headers={"Cache-Control": "public, max-age=86400"})


def _parse_bbox(text: str) -> tuple[float, float, float, float] | None:
    try:
        w, s, e, n = (float(v) for v in text.split(","))
    except ValueError:
        return None
    if not all(math.isfinite(v) for v in (w, s, e, n)) or w > e or s > n:
        return None
    return w, s, e, n


@router.get("/maps/features/{layer}", include_in_schema=False)
def features(
    request: Request,
    layer: str,
    bbox: Annotated[str, Query(description="minLon,minLat,maxLon,maxLat (EPSG:4326)")],
    zoom: Annotated[float, Query(ge=0, le=24)] = 14,
) -> Response:
    """Compact GeoJSON of one layer's features in a box, simplified for `zoom`, at most `feature_cap` of them.

    ``{layer}`` may list several layers separated by commas: the answer is then ``{"<layer>": FeatureCollection}``
    (one request per screen tile instead of one per tile and layer).
    """
    index = map_index(request)
    if index is None:
        return _no_results()
    names = layer.split(",")
    unknown = [n for n in names if n not in index.layers]
    if unknown or len(set(names)) != len(names):
        return _error(404, "NotFound", f"no map layer {','.join(unknown) or layer!r}")
    box = _parse_bbox(bbox)
    if box is None:
        return _error(400, "InvalidParameterValue", "bbox must be minLon,minLat,maxLon,maxLat")
    cap = _settings(request).feature_cap
    parts, total, cut = [], 0, False
    for name in names:
        body, count, truncated = index.layers[name].query(box, zoom, cap, layer_style(name).min_px)
        parts.append((name, body))
        total, cut = total + count, cut or truncated
    if len(parts) == 1:
        content = parts[0][1]
    else:
        content = b"{" + b",".join(json.dumps(n).encode() + b":" + body for n, body in parts) + b"}"
    headers = {"X-Feature-Count": str(total), "X-Truncated": "1" if cut else "0"}
    return Response(
        content, media_type="application/geo+json" if len(parts) == 1 else "application/json", headers=headers
    )


@router.get("/maps/card/{layer}/{fid}", include_in_schema=False)
def card(
    request: Request, layer: str, fid: str, lang: Annotated[str, Query(pattern="^(zh|en)$")] = "zh"
) -> Response:
    """The card shown when a feature is clicked (parcels: findings, evidence, rules, readiness checklist)."""
    index = map_index(request)
    if index is None:
        return _no_results()
    results = index.results
    if layer == "parcels" or (layer in index.layers and layer_style(layer).parcel_card):
        rows = index.parcel_rows(fid)
        if rows is None:
            return _error(404, "NotFound", f"no parcel {fid!r}")
        content: dict[str, Any] = parcel_card(rows[0], rows[1], results.rules, lang)
    else:
        found = index.feature_row(layer, fid)
        if found is None:
            return _error(404, "NotFound", f"no feature {fid!r} in {layer!r}")
        content = feature_card(layer, found[0], lang)
    return JSONResponse(content)


@router.get("/maps/search", include_in_schema=False)
def search(request: Request, q: Annotated[str, Query(max_length=100)] = "") -> Response:
    """Parcels whose id or name contains `q`, with their bounds (EPSG:4326)."""
    index = map_index(request)
    if index is None:
        return _no_results()
    return JSONResponse(index.search(q))


@router.get("/maps/tiles/hillshade/{z}/{x}/{y}.png", include_in_schema=False)
def hillshade_tile(request: Request, z: int, x: int, y: int) -> Response:
    """A hillshade tile from the bundle's dem.tif (the offline basemap)."""
    results = getattr(request.app.state, "results", None)
    dem = (getattr(results.bundle, "rasters", None) or {}).get("dem") if results is not None else None
    if dem is None:
        return _error(404, "NotFound", "the bundle has no dem.tif")
    if not (0 <= z <= 22 and 0 <= x < 2**z and 0 <= y < 2**z):
        return _error(400, "InvalidParameterValue", "tile out of range")
    return Response(
        render_tile(dem, z, x, y), media_type="image/png", headers={"Cache-Control": "public, max-age=3600"}
    )
