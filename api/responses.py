"""Media types, content negotiation and conditional GETs (ETag, Cache-Control, 304)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from fastapi import Request, Response

from api.errors import NotAcceptableError

__all__ = [
    "GEOJSON",
    "HTML",
    "JSON",
    "OPENAPI_30",
    "SCHEMA_JSON",
    "cache_control",
    "conditional",
    "wants_html",
]

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
SCHEMA_JSON = "application/schema+json"
OPENAPI_30 = "application/vnd.oai.openapi+json;version=3.0"
_FORMATS = {"json": False, "geojson": False, "html": True}


def _accept(header: str) -> list[tuple[str, float]]:
    ranges = []
    for part in header.split(","):
        fields = [f.strip() for f in part.split(";")]
        if not fields[0]:
            continue
        q = 1.0
        for f in fields[1:]:
            if f.startswith("q="):
                try:
                    q = float(f[2:])
                except ValueError:
                    q = 0.0
        ranges.append((fields[0].lower(), q))
    return ranges


def wants_html(request: Request) -> bool:
    """HTML only when asked for: ``f=html``, or an Accept header preferring text/html over JSON.

    No Accept header, ``*/*`` or any JSON type gives JSON (OWSLib sends a bare GET and calls ``.json()``).
    """
    f = request.query_params.get("f")
    if f is not None:
        if f not in _FORMATS:
            raise NotAcceptableError(f"unknown format f={f!r}; use json or html")
        return _FORMATS[f]
    ranges = _accept(request.headers.get("accept", ""))
    html = max((q for t, q in ranges if t in ("text/html", "application/xhtml+xml")), default=0.0)
    json_q = max((q for t, q in ranges if "json" in t), default=0.0)
    return html > 0 and html >= json_q


def _etag(request: Request, version: str, variant: str) -> str:
    query = "&".join(sorted(f"{k}={v}" for k, v in request.query_params.multi_items()))
    digest = hashlib.blake2b(f"{version}\n{request.url.path}\n{query}\n{variant}".encode(), digest_size=12)
    return f'W/"{digest.hexdigest()}"'


def _matches(header: str, etag: str) -> bool:
    if header.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == opaque for tag in header.split(","))


def cache_control(request: Request, max_age: int) -> str:
    """Cache-Control of a read: data that edits can change is revalidated on every use (its ETag makes that a cheap
    304), so nobody sees totals from before an edit; data behind tokens is never kept by shared caches."""
    state = request.app.state
    editable = getattr(state, "edit_store", None) is not None
    settings = getattr(state, "settings", None)
    scope = "private" if settings is not None and settings.auth == "all" else "public"
    return f"{scope}, no-cache" if editable else f"{scope}, max-age={max_age}"


def conditional(
    request: Request, version: str, variant: str, max_age: int, build: Callable[[], Response]
) -> Response:
    """A read-only response with an ETag; 304 without building the body when the client's copy is current.

    The ETag is derived from the data version, the URL and the representation, so it is known before any work.
    """
    etag = _etag(request, version, variant)
    headers = {
        "ETag": etag,
        "Cache-Control": cache_control(request, max_age),
        "Vary": "Accept",  # the gzip middleware adds Accept-Encoding
    }
    inm = request.headers.get("if-none-match")
    if inm is not None and _matches(inm, etag):
        return Response(status_code=304, headers=headers)
    response = build()
    response.headers.update(headers)
    return response
