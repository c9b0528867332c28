"""Who changed a parcel, when, and from what to what (CONTRACT §5.1): ``GET /api/parcels/{parcel_id}/history``.

History is append-only: the store refuses updates and deletes by trigger, and the API offers only GET here (any
other method is 405).
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from starlette.exceptions import HTTPException

from api.auth import edit_store
from api.responses import JSON
from gis.outputs import json_default

__all__ = ["router"]

router = APIRouter()


@router.get("/parcels/{parcel_id:path}/history", summary="Change history 变更记录", response_class=Response)
def history(request: Request, parcel_id: Annotated[str, Path(description="地块编号 parcel_id")]) -> Response:
    """Every change of the parcel and its ledger entry, oldest first: ``at``, ``actor``, ``action``, ``before``,
    ``after`` (geometries as GeoJSON in the storage CRS). A deleted parcel keeps its history.
    """
    store = edit_store(request)
    if store is None:
        raise HTTPException(404, "this server keeps no history (no store)")
    rows = store.history(parcel_id)
    if not rows:
        store.get(parcel_id)  # 404 for a parcel that never existed
    body = json.dumps(rows, ensure_ascii=False, default=json_default)
    return Response(body.encode(), media_type=JSON, headers={"Cache-Control": "no-cache"})
