"""The app factory: settings in, a FastAPI app out; the lifespan loads the bundle and computes once."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.util import find_spec
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.middleware.gzip import GZipMiddleware

from api.auth import remember_page_token, require_read
from api.collections import FeatureStore
from api.errors import add_error_handlers
from api.head import HeadAsGet
from api.routes import edit, exports, health, history, ledger, ogc, summary
from api.settings import Settings, get_settings
from api.store import build_store, served_version
from api.sync import start_sync, sync_edits
from gis.errors import InputError

__all__ = ["create_app", "load_results", "open_edit_store", "store_from_results"]

log = logging.getLogger(__name__)


def load_results(settings: Settings) -> Any:
    """Open the served data and compute the audit and readiness as of ``settings.as_of`` (`gis.pipeline.Results`).

    A bundle's parcels come from its embedded store (created from the files on first start); with ``settings.db``
    everything comes from PostGIS (`gis.store.served.open_served`).
    """
    if settings.bundle is None and settings.db is None:
        raise InputError("no bundle to serve: pass BUNDLE or set LANDREADY_BUNDLE", field="bundle")
    # imported here: the API package loads without the domain's heavy imports
    from gis.pipeline import compute
    from gis.store.served import open_served

    bundle, store = open_served(settings.bundle, settings.db)
    store.close()
    return compute(bundle, settings.as_of)


def open_edit_store(settings: Settings) -> Any:
    """The store that edits, the ledger, history and tokens go to (`gis.store.Store`), or None for none."""
    from gis.store import EmbeddedStore, PostgisStore, embedded_store_path

    if settings.db is not None:
        return PostgisStore(settings.db)
    if settings.bundle is not None:
        path = embedded_store_path(settings.bundle)
        return EmbeddedStore(path) if path.exists() else None
    return None


def store_from_results(results: Any, version: str) -> FeatureStore:
    """The collections of CONTRACT §5 for computed results."""
    layers = {name: gdf for name, gdf in results.bundle.layers.items() if name != "parcels"}
    return build_store(
        results.audit.parcels if results.audit is not None else results.bundle.parcels,
        unsupplied=results.audit.unsupplied if results.audit is not None else None,
        readiness=results.readiness,
        layers=layers,
        version=version,
    )


def create_app(
    settings: Settings | None = None,
    *,
    results: Any = None,
    store: FeatureStore | None = None,
    edit_store: Any = None,
) -> FastAPI:
    """The web app of CONTRACT §5.

    `results` (computed `gis.pipeline.Results`) or `store` skip reading ``settings.bundle``: tests and the CLI's
    ``demo`` pass data they already have. `edit_store` (a `gis.store.Store`) takes the edits; without it the
    store of ``settings`` is opened when the app serves computed results, and none with a ready-made `store`.
    """
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loaded = results
        if loaded is None and store is None:
            loaded = load_results(settings)
        app.state.results = loaded
        app.state.edit_store = edit_store if edit_store is not None or store is not None else None
        if store is not None:
            app.state.store = store
        else:
            if app.state.edit_store is None:
                app.state.edit_store = open_edit_store(settings)
            app.state.store = store_from_results(loaded, served_version(settings, loaded))
            if app.state.edit_store is not None and loaded is not None:
                start_sync(app.state, app.state.edit_store, loaded)
        if loaded is not None:
            app.title = f"landready · {loaded.bundle.name}"
            if _has_module("maps.router"):
                from maps.router import warm

                warm(app)  # build the map's index now, not on the first page view
        yield

    app = FastAPI(
        title="landready",
        description="开发区三清（批而未供、闲置、低效）审计与标准地出让条件 OGC API – Features",
        version="0.1.0",
        lifespan=lifespan,
        # --auth all: reads need a token too; then other processes' edits to the same store
        dependencies=[Depends(require_read), Depends(sync_edits)],
        openapi_url=None,  # the OpenAPI 3.0 document is at /ogc/api (service-desc)
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.openapi_30 = {}
    app.state.export_cache = {}
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=5)
    app.add_middleware(HeadAsGet)  # 9 costs 3x the CPU for ~5 % less
    add_error_handlers(app)
    remember_page_token(app)
    app.include_router(ogc.router, prefix="/ogc", tags=["OGC API – Features"])
    app.include_router(edit.router, prefix="/ogc", tags=["editing"])
    app.include_router(exports.router, prefix="/exports", tags=["exports"])
    # history before summary: /api/parcels/{id} would otherwise swallow /api/parcels/{id}/history
    app.include_router(history.router, prefix="/api", tags=["history"])
    app.include_router(ledger.router, prefix="/api", tags=["ledger"])
    app.include_router(summary.router, prefix="/api", tags=["audit"])
    app.include_router(health.router, tags=["health"])
    if _has_module("maps.router"):
        from maps.router import router as map_router
        from maps.settings import MapSettings

        app.state.map_settings = MapSettings(
            osm=settings.osm, tianditu_key=settings.tianditu_key or "", amap=settings.amap
        )
        app.include_router(map_router)
    return app


def _has_module(name: str) -> bool:
    try:
        return find_spec(name) is not None
    except ModuleNotFoundError:
        return False
