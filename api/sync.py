"""Edits that other server processes made in the same store, found in its history and applied here.

Several ``landready serve --db`` processes (or two laptops serving one bundle) share one store; each keeps its
results in memory. Before a request, at most every ``settings.sync_seconds``, a process asks the store which parcels
were written since it last looked and recomputes those as stored, like its own edits (`api.publish.publish`).
A parcel whose stored ETag this process already serves (its own write, or one it has applied) is skipped.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from api.publish import publish
from api.routes.edit import validate, write_lock
from gis.errors import NotFoundError

__all__ = ["catch_up", "start_sync", "sync_edits"]

log = logging.getLogger(__name__)

#: more parcels changed elsewhere than this since the last look: one full recompute instead of one per parcel
BULK = 20


def start_sync(state: Any, store: Any, results: Any) -> None:
    """Follow `store` from where `results` were read (or from now when they did not come from it)."""
    snapshot = results.bundle.store_state if results is not None else None
    if snapshot is None:
        state.sync_cursor, state.sync_generation = store.change_cursor(), store.generation()
    else:
        state.sync_cursor, state.sync_generation = snapshot.cursor, snapshot.generation
        state.parcel_etags = dict(snapshot.etags)
    state.sync_due = 0.0


async def sync_edits(request: Request) -> None:
    """App-wide dependency: apply other processes' edits when it is time to look (inline check, no thread hop)."""
    state = request.app.state
    if getattr(state, "sync_cursor", None) is None or time.monotonic() < state.sync_due:
        return
    if request.url.path == "/healthz":  # liveness must not wait on the store
        return
    await run_in_threadpool(catch_up, request)


def catch_up(request: Request) -> int:
    """Apply every parcel written by others since the last look; returns how many were applied.

    Never makes other requests wait: while a write or another look holds the lock they read from memory, and the
    next look is due only after this one, so a slow or unreachable store (a `landready load` under way) delays one
    request, not all. A store that cannot be reached is logged and asked again later; a parcel that cannot be
    applied is logged and skipped.
    """
    state = request.app.state
    store = state.edit_store
    lock = write_lock(request)
    if not lock.acquire(blocking=False):
        return 0
    try:
        if time.monotonic() < state.sync_due:  # another request looked meanwhile
            return 0
        state.sync_due = time.monotonic() + state.settings.sync_seconds
        if store.generation() != state.sync_generation:
            _reload(state, store)  # `landready load` replaced everything: batches and rasters too
            return 0
        cursor, parcel_ids = store.changes_since(state.sync_cursor)
        if len(parcel_ids) > BULK:
            _recompute_all(state, store, parcel_ids)
            state.sync_cursor = cursor
            return len(parcel_ids)
        applied = 0
        for parcel_id in parcel_ids:
            try:
                applied += _apply_stored(state, store, parcel_id)
            except Exception:
                log.exception("could not apply the stored edit of parcel %s; skipped", parcel_id)
        state.sync_cursor = cursor
        return applied
    except Exception as exc:  # unreachable, or locked by a load under way
        log.warning("could not look for the store's latest edits (%s); trying again later", exc)
        return 0
    finally:
        lock.release()


def _recompute_all(state: Any, store: Any, parcel_ids: list[str]) -> None:
    """Every parcel as stored, computed in one go: after a burst of edits elsewhere that beats one incremental
    recompute per parcel (each costs about a second at 100 000 parcels)."""
    from dataclasses import replace

    from api.app import store_from_results
    from gis.pipeline import compute
    from gis.store.served import store_parcels

    log.info("%d parcels were edited elsewhere; computing everything again", len(parcel_ids))
    parcels, etags = store_parcels(store)
    old = state.results
    results = compute(
        replace(old.bundle, layers={**old.bundle.layers, "parcels": parcels}), old.as_of, old.rules
    )
    steps = "|".join(f"{pid}={etags.get(pid, 'deleted')}" for pid in sorted(parcel_ids))
    version = hashlib.blake2b(f"{state.store.version}|{steps}".encode(), digest_size=8).hexdigest()
    state.results, state.store = results, store_from_results(results, version)
    state.export_cache = {}
    state.parcel_etags = etags  # after the collections: an ETag is never newer than what is served


def _reload(state: Any, store: Any) -> None:
    """Serve the store as now loaded, computed afresh (the slow, sure way; a re-load is rare)."""
    from api.app import load_results, store_from_results
    from api.store import served_version

    log.warning("the store was re-loaded; computing everything again")
    results = load_results(state.settings)
    state.results, state.store = results, store_from_results(results, served_version(state.settings, results))
    state.export_cache = {}
    start_sync(state, store, results)  # the new load's cursor and ETags


def _apply_stored(state: Any, store: Any, parcel_id: str) -> bool:
    etags: dict[str, str] = getattr(state, "parcel_etags", {})
    try:
        stored = store.get(parcel_id)
    except NotFoundError:
        if not _served(state, parcel_id):
            return False
        publish(state, store, parcel_id, None, None)
        return True
    if etags.get(parcel_id) == stored.etag:
        return False
    row, _ = validate(parcel_id, stored.properties, stored.geometry, store.crs)
    publish(state, store, parcel_id, row, stored)
    return True


def _served(state: Any, parcel_id: str) -> bool:
    try:
        state.store.get("parcels").position(parcel_id)
    except NotFoundError:
        return False
    return True
