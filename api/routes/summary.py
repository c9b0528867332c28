"""The audit summary and one parcel with all its properties at /api."""

from __future__ import annotations

import json
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Request, Response

from api.crs import CRS84, parse_crs
from api.deps import SettingsDep, StoreDep, base_urls, get_results
from api.documents import link
from api.features import feature_json
from api.responses import GEOJSON, JSON, conditional
from gis.errors import NotFoundError
from gis.outputs import json_default

__all__ = ["router"]

router = APIRouter()


@router.get("/summary", summary="Audit summary 汇总", response_class=Response)
async def summary(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    """``summary.json`` of the audit (CONTRACT §4.4)."""
    results = get_results(request)
    if results is None:
        raise NotFoundError("no audit is loaded")

    def build() -> Response:
        body = json.dumps(results.audit.summary, ensure_ascii=False, default=json_default)
        return Response(body.encode(), media_type=JSON)

    return conditional(request, store.version, "json", settings.cache_max_age, build)


@router.get("/parcels/{parcel_id:path}", summary="One parcel 地块", response_class=Response)
async def parcel(
    request: Request,
    parcel_id: Annotated[str, Path(description="地块编号 parcel_id")],
    store: StoreDep,
    settings: SettingsDep,
) -> Response:
    """One parcel as a GeoJSON Feature (CRS84) with every audit and readiness property."""
    parcels = store.get("parcels")
    row = parcels.position(parcel_id)
    crs84 = parse_crs(CRS84, [CRS84], param="crs")

    def build() -> Response:
        _, base = base_urls(request)
        links = [
            link(
                f"{base}/collections/parcels/items/{quote(parcel_id, safe='')}",
                "alternate",
                GEOJSON,
                "OGC API",
            )
        ]
        return Response(feature_json(parcels, row, crs84, None, links), media_type=GEOJSON)

    return conditional(request, store.version, "geojson", settings.cache_max_age, build)
