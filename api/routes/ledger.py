"""The auditors' follow-up of each parcel (CONTRACT §5.1): 责任单位, 处置期限, 处置进展 and a note, role auditor.

``GET /api/ledger/{parcel_id}`` returns the entry and its ETag; ``PATCH`` merges any of ``responsible_unit``,
``deadline`` (YYYY-MM-DD), ``progress`` (pending in_progress done) and ``note`` (null clears one) and needs
``If-Match`` with the current ETag (428 without, 412 when stale). Every change is a history row.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request, Response
from fastapi.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from api.auth import edit_store, require
from api.responses import JSON
from api.routes.edit import if_match_value, need_if_match, read_json
from gis.store.base import LEDGER_FIELDS, LedgerEntry, check_ledger_changes

__all__ = ["router"]

router = APIRouter()
ParcelId = Annotated[str, Path(description="地块编号 parcel_id")]


def _store(request: Request) -> Any:
    store = edit_store(request)
    if store is None:
        raise HTTPException(404, "this server keeps no ledger (no store)")
    return store


def _response(entry: LedgerEntry) -> Response:
    body = {"parcel_id": entry.parcel_id, **{name: entry.values.get(name) for name in LEDGER_FIELDS}}
    return Response(
        json.dumps(body, ensure_ascii=False).encode(),
        media_type=JSON,
        headers={"ETag": entry.etag, "Cache-Control": "no-cache"},
    )


@router.get("/ledger/{parcel_id:path}", summary="Ledger entry 台账", response_class=Response)
def get_ledger(request: Request, parcel_id: ParcelId) -> Response:
    """A parcel's ledger entry (empty values before anyone wrote it) with its ETag."""
    store = _store(request)
    store.get(parcel_id)  # 404 for a parcel that does not exist
    return _response(store.get_ledger(parcel_id))


@router.patch("/ledger/{parcel_id:path}", summary="Update the ledger 更新台账", response_class=Response)
async def patch_ledger(
    request: Request,
    parcel_id: ParcelId,
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
) -> Response:
    """Merge changes into a parcel's ledger entry; role auditor, needs ``If-Match``."""
    principal = require(request, "ledger")
    need_if_match(if_match)
    store = _store(request)
    changes = check_ledger_changes(read_json(await request.body()))

    def work() -> LedgerEntry:
        store.get(parcel_id)
        tag = if_match_value(if_match, store.get_ledger(parcel_id).etag)
        return store.write_ledger(parcel_id, changes, if_match=tag, actor=principal.name)

    return _response(await run_in_threadpool(work))
