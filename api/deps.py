"""Dependencies: the app's state, the requested collection, absolute base URLs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Request

from api.collections import Collection, FeatureStore
from api.settings import Settings

__all__ = [
    "SettingsDep",
    "StoreDep",
    "base_urls",
    "get_collection",
    "get_results",
    "get_settings",
    "get_store",
]


async def get_settings(request: Request) -> Settings:
    """The settings the app was built with."""
    settings: Settings = request.app.state.settings
    return settings


async def get_store(request: Request) -> FeatureStore:
    """The feature store loaded by the lifespan."""
    store: FeatureStore = request.app.state.store
    return store


def get_results(request: Request) -> Any:
    """The computed audit and readiness (`gis.pipeline.Results`)."""
    return request.app.state.results


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[FeatureStore, Depends(get_store)]


async def get_collection(
    collectionId: Annotated[str, Path(description="集合标识 collection id, e.g. parcels")],
    store: StoreDep,
) -> Collection:
    """The collection named in the path; NotFoundError (404) when there is none.

    Dependencies are ``async`` so that FastAPI runs them inline instead of in its thread pool: they do no I/O.
    """
    return store.get(collectionId)


def base_urls(request: Request) -> tuple[str, str]:
    """Absolute URLs of the server root and of /ogc (absolute links: GDAL < 3.9 and QGIS need them)."""
    root = str(request.base_url).rstrip("/")
    return root, f"{root}/ogc"
