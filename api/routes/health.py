"""Liveness at /healthz."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import StoreDep

__all__ = ["router"]

router = APIRouter()


@router.get("/healthz", summary="Liveness")
async def healthz(store: StoreDep) -> dict[str, Any]:
    """Up, with the data version and the number of features per collection."""
    return {
        "status": "ok",
        "version": store.version,
        "collections": {c.id: len(c) for c in store.collections()},
    }
