"""The bundle a server serves: the files plus the edits kept in a store (embedded or PostGIS)."""

from __future__ import annotations

import json
import tempfile
from dataclasses import replace
from pathlib import Path

import geopandas as gpd

from gis.bundle import Bundle, StoreState
from gis.errors import InputError
from gis.io import normalize_layer, read_bundle
from gis.schema import RASTERS
from gis.store import embedded_store_path
from gis.store.base import Store
from gis.store.embedded import EmbeddedStore
from gis.store.postgis import PostgisStore

__all__ = ["open_served", "store_parcels"]


def store_parcels(store: Store) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
    """The store's parcels, typed like the reader's, and their ETags by parcel id."""
    raw = store.read_parcels()
    etags = dict(zip(raw["parcel_id"].astype(str), raw.pop("_etag"), strict=True))
    return normalize_layer(raw, "parcels", source=_origin(store)), etags


def open_served(
    bundle: Path | None, db: str | None, *, cache_dir: Path | None = None
) -> tuple[Bundle, Store]:
    """The bundle to serve and its store.

    With a bundle path: the files, with the parcels taken from the embedded store inside the bundle (created from
    the files on first start). With a database URL: everything from PostGIS (rasters are written to `cache_dir`).
    """
    if db is not None:
        pg = PostgisStore(db)
        return _bundle_from_postgis(pg, cache_dir), pg
    if bundle is None:
        raise InputError("give a bundle or a database URL", field="bundle")
    data = read_bundle(bundle)
    path = embedded_store_path(data.path)
    store = EmbeddedStore(path) if path.exists() else EmbeddedStore.create(path, data.parcels)
    cursor = store.change_cursor()
    parcels, etags = store_parcels(store)
    state = StoreState(cursor, etags, store.generation())
    return replace(data, layers={**data.layers, "parcels": parcels}, store_state=state), store


def _bundle_from_postgis(store: PostgisStore, cache_dir: Path | None) -> Bundle:
    meta = store.meta()
    cursor = store.change_cursor()
    parcels, etags = store_parcels(store)
    layers = {"parcels": parcels}
    for name in json.loads(meta.get("layers", "[]")):
        layers[name] = normalize_layer(store.read_layer(name), name, source=_origin(store))
    directory = Path(cache_dir or tempfile.mkdtemp(prefix="landready-rasters-"))
    directory.mkdir(parents=True, exist_ok=True)
    rasters: dict[str, Path] = {}
    for name, data in store.read_rasters().items():
        target = directory / RASTERS.get(name, f"{name}.tif")
        target.write_bytes(data)
        rasters[name] = target
    return Bundle(
        path=Path(meta.get("source", "postgis")),
        crs=store.crs,
        layers=layers,
        rasters=rasters,
        zone=json.loads(meta.get("zone", "{}")),
        warnings=json.loads(meta.get("warnings", "[]")),
        store_state=StoreState(cursor, etags, meta.get("load_id")),
    )


def _origin(store: Store) -> str:
    if isinstance(store, PostgisStore):
        from gis.store.postgis import _safe

        return _safe(store.url)
    return str(getattr(store, "path", "store"))
