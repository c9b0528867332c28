"""Downloads at /exports/{layer}.{fmt}."""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from api.deps import SettingsDep, StoreDep, get_results
from api.exports import FORMATS, LEDGER_LAYERS, content_disposition, export_bytes, export_name
from api.responses import conditional

__all__ = ["router"]

router = APIRouter()
_lock = threading.Lock()


@router.get("/{layer}.{fmt}", summary="Download a layer 下载", response_class=Response)
def export(
    request: Request,
    layer: Annotated[str, Path(description="集合 collection id, or ledger")],
    fmt: Annotated[str, Path(description="geojson gpkg csv xlsx zip txt")],
    store: StoreDep,
    settings: SettingsDep,
    lang: Annotated[str | None, Query(pattern="^(zh|en)$", description="ledger language")] = None,
) -> Response:
    """One layer as a file, named in Chinese (RFC 5987) with an ASCII fallback; built once, then cached."""
    results = get_results(request)
    language = lang or settings.lang
    tag = f"{fmt}-{language}"
    followups = None
    edit_store = getattr(request.app.state, "edit_store", None)
    if fmt == "xlsx" and layer in LEDGER_LAYERS and edit_store is not None:
        # the auditors' follow-ups change without a new bundle version: they are part of the tag
        followups = edit_store.ledger_entries()
        digest = hashlib.sha1(json.dumps(followups, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
        tag += "-" + digest[:12]

    def build() -> Response:
        cache: dict[tuple[str, str, str], bytes] = request.app.state.export_cache
        key = (layer, fmt, f"{tag}@{store.version}")  # an export built during an edit is not kept past it
        body = cache.get(key)
        if body is None:
            body = export_bytes(store, results, layer, fmt, lang=language, followups=followups)
            with _lock:
                cache[key] = body
        title = store.get(layer).title if layer != "ledger" else "三清台账"
        zone = results.bundle.name if results is not None else ""
        name, ascii_name = export_name(layer, fmt, title, zone)
        return Response(
            body,
            media_type=FORMATS[fmt],
            headers={"Content-Disposition": content_disposition(name, ascii_name)},
        )

    return conditional(request, store.version, tag, settings.cache_max_age, build)
