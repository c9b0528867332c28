"""Serving a parcel that changed in the store: recompute what the change can change, and publish results and
collections in an order that readers can rely on (the collections before the parcel's ETag).

Both this process's writes (`api.routes.edit.commit`) and other processes' (`api.sync`) come here.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import numpy as np

from api.crs import CRS84, parse_crs

__all__ = ["publish", "refresh_collections"]

log = logging.getLogger(__name__)


def publish(state: Any, store: Any, parcel_id: str, row: Any, written: Any) -> None:
    """Recompute what parcel `parcel_id` as now stored changes and serve it: results, collections, ETag.

    `row` is the parcel normalized like a bundle's and `written` its `StoredParcel` (both None after a delete).
    The caller holds the write lock: this process's own writes and those of others (`api.sync`) come here.
    """
    from api.app import store_from_results
    from gis.recompute import apply_edit

    try:
        results = apply_edit(state.results, parcel_id, row)
    except Exception:  # the edit is stored: never leave the served results behind it
        log.exception("incremental recompute failed after editing %s; recomputing everything", parcel_id)
        results = _full_recompute(state.results, store)
    # the data version follows the edits themselves, not a count of this process's: two servers that applied the
    # same edits hand out the same read ETags, and two that did not never do
    step = f"{state.store.version}|{parcel_id}|{written.etag if written is not None else 'deleted'}"
    version = hashlib.blake2b(step.encode(), digest_size=8).hexdigest()
    try:
        features = refresh_collections(state.store, results, version, parcel_id)
    except (LookupError, KeyError) as exc:
        log.warning("rebuilding every collection after an edit (%s)", exc)
        state.full_rebuilds = getattr(state, "full_rebuilds", 0) + 1
        features = store_from_results(results, version)
    state.results, state.store = results, features
    state.export_cache = {}
    etags: dict[str, str] | None = getattr(state, "parcel_etags", None)
    if etags is None:
        etags = state.parcel_etags = {}
    if written is None:
        etags.pop(parcel_id, None)
    else:
        etags[parcel_id] = written.etag


def _full_recompute(results: Any, store: Any) -> Any:
    """The results recomputed from the store's parcels and the bundle's other layers (the slow, sure way)."""
    from dataclasses import replace

    from gis.pipeline import compute
    from gis.store.served import store_parcels

    parcels, _ = store_parcels(store)
    bundle = replace(results.bundle, layers={**results.bundle.layers, "parcels": parcels})
    return compute(bundle, results.as_of, results.rules)


# ── the API's collections after an edit ──────────────────────────────────────────────────────────────────────
def _same(a: Any, b: Any) -> np.ndarray:
    """Elementwise equality of two aligned Series, counting two missing values as equal.

    Typed columns compare vectorized; object columns (lists, dicts) in numpy's C loop over Python ``==``.
    """
    both_missing = (a.isna() & b.isna()).to_numpy(dtype=bool)
    if a.dtype != object and b.dtype != object:
        try:
            return (a == b).fillna(False).to_numpy(dtype=bool) | both_missing
        except (TypeError, ValueError):
            pass
    x, y = a.to_numpy(dtype=object), b.to_numpy(dtype=object)
    try:
        equal = np.asarray(x == y, dtype=bool)
    except (TypeError, ValueError):  # a value whose == is not a plain bool: compare one by one
        equal = np.fromiter((_equal(u, v) for u, v in zip(x, y, strict=True)), dtype=bool, count=len(x))
    return equal | both_missing


def _equal(u: Any, v: Any) -> bool:
    try:
        return bool(u == v)
    except (TypeError, ValueError):
        return False


def _changed_rows(old: Any, new: Any, source: np.ndarray) -> np.ndarray:
    """Rows of `new` whose properties differ from their source row in `old` (every row without a source)."""
    changed = source < 0
    keep = np.flatnonzero(~changed)
    for name in new.columns:
        a = old[name].take(source[keep]).reset_index(drop=True)
        b = new[name].take(keep).reset_index(drop=True)
        changed[keep[~_same(a, b)]] = True
    return changed


def _collection_like(old: Any, gdf: Any, version: str, source: np.ndarray) -> Any:
    """A new collection with `old`'s metadata over `gdf`, reusing `old`'s JSON and CRS84 text of unchanged rows.

    `source[i]` is the row of `old` that row i of `gdf` was (-1: new or edited, geometry included).
    """
    from api.collections import Collection, json_rows
    from api.features import geometry_json

    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    if columns != old.property_names:
        raise LookupError("columns changed")
    props = gdf[columns].reset_index(drop=True)
    changed = _changed_rows(old.properties, props, source)
    encoded = np.empty(len(props), dtype=object)
    encoded[~changed] = old.props_json[source[~changed]]
    if changed.any():
        encoded[changed] = json_rows(props.iloc[np.flatnonzero(changed)])
    new = Collection(
        old.id,
        old.title,
        old.description,
        gdf,
        id_field=old.id_field,
        temporal_field=old.temporal_field,
        titles=old.titles,
        version=version,
        prepared_json=encoded,
    )
    text = old.geometry_text.get(CRS84)
    if text is not None:
        moved = source < 0
        geometry = np.empty(len(props), dtype=object)
        geometry[~moved] = text[source[~moved]]
        if moved.any():
            crs84 = parse_crs(CRS84, [CRS84], param="crs")
            geometry[moved] = geometry_json(new, np.flatnonzero(moved), crs84)
        new.geometry_text[CRS84] = geometry
    return new


def _subset(parent: Any, old: Any, mask: np.ndarray, version: str) -> Any:
    from api.collections import Collection

    new = Collection(
        old.id,
        old.title,
        old.description,
        parent.gdf[mask],
        id_field=old.id_field,
        temporal_field=old.temporal_field,
        titles=old.titles,
        version=version,
        prepared_json=parent.props_json[mask],
    )
    if CRS84 in parent.geometry_text:
        new.geometry_text[CRS84] = parent.geometry_text[CRS84][mask]
    return new


def _positions(old: Any, ids: np.ndarray, edited: str) -> np.ndarray:
    index = old.index_of
    out = np.fromiter((index.get(i, -1) for i in ids), dtype=np.int64, count=len(ids))
    out[ids == edited] = -1
    return out


def refresh_collections(previous: Any, results: Any, version: str, edited: str) -> Any:
    """The API's collections after parcel `edited` changed, reusing every unchanged row's prepared JSON and
    geometry text (rebuilding them all costs seconds at 100 k parcels). Collections built from the bundle's other
    layers do not change and are kept. Raises LookupError when the previous store cannot be reused; the caller
    then rebuilds everything (`api.app.store_from_results`). The parity with a full rebuild is tested.
    """
    from api.collections import Collection, MemoryStore
    from api.features import prepare_default_geometry
    from api.store import parcel_table, readiness_examined

    old = {c.id: c for c in previous.collections()}
    table = parcel_table(results.audit.parcels, results.readiness).reset_index(drop=True)
    ids = table["parcel_id"].astype(str).to_numpy(dtype=object)
    parcels = _collection_like(old["parcels"], table, version, _positions(old["parcels"], ids, edited))
    new: dict[str, Any] = {"parcels": parcels}
    for finding in ("idle", "low_efficiency"):
        if finding in old:
            mask = np.fromiter(
                (isinstance(f, list) and finding in f for f in table["findings"]),
                dtype=bool,
                count=len(table),
            )
            new[finding] = _subset(parcels, old[finding], mask, version)
    if "readiness" in old:
        rd = results.readiness
        examined = readiness_examined(rd)
        rids = examined["parcel_id"].astype(str).to_numpy(dtype=object)
        new["readiness"] = _collection_like(
            old["readiness"],
            examined.reset_index(drop=True),
            version,
            _positions(old["readiness"], rids, edited),
        )
    if "unsupplied" in old:
        if results.audit.unsupplied is None:
            raise LookupError("the batch remainders went away")
        was = old["unsupplied"]
        remainders = Collection(
            was.id,
            was.title,
            was.description,
            results.audit.unsupplied,
            id_field=was.id_field,
            temporal_field=was.temporal_field,
            titles=was.titles,
            version=version,
        )
        prepare_default_geometry(remainders)
        new["unsupplied"] = remainders
    collections = [new.get(cid, c) for cid, c in old.items()]
    return MemoryStore(collections, version=version)
