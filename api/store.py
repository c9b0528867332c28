"""The collections served for one computed bundle (CONTRACT §5): audit, readiness and the bundle's own layers."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import geopandas as gpd

from api.collections import Collection, MemoryStore
from api.features import prepare_default_geometry
from gis.schema import LAYERS

__all__ = [
    "LAYER_COLLECTIONS",
    "build_store",
    "bundle_version",
    "parcel_table",
    "readiness_examined",
    "served_version",
]

#: the bundle layers served under their own names: (title, description, id field, temporal field)
LAYER_COLLECTIONS: dict[str, tuple[str, str, str | None, str | None]] = {
    "batches": ("批次", "农转用、征收批次 Approved batches", "batch_id", "approved_on"),
    "zone_boundary": ("开发区边界", "Zone boundary", None, None),
    "basic_farmland": ("永久基本农田", "Permanent basic farmland", None, None),
    "eco_redline": ("生态保护红线", "Ecological protection red line", None, None),
    "hv_lines": ("高压线", "High-voltage lines", None, None),
    "infrastructure": ("基础设施", "Infrastructure networks", None, None),
    "assessments": ("区域评估", "Regional assessments", None, "completed_on"),
}


def _titles(layer: str) -> dict[str, str]:
    spec = LAYERS.get(layer)
    return {f.name: f.alias for f in spec.fields if f.alias} if spec is not None else {}


def _contains(series: pd.Series, value: str) -> np.ndarray:
    exploded = series.explode()
    hit = exploded[exploded == value].index.unique()
    return series.index.isin(hit)


def parcel_table(audit_parcels: gpd.GeoDataFrame, readiness: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """Audit parcels with the readiness properties merged in by ``parcel_id`` (audit values win on overlap)."""
    if readiness is None or "parcel_id" not in readiness:
        return audit_parcels
    extra = [c for c in readiness.columns if c not in audit_parcels.columns and c != readiness.geometry.name]
    if not extra:
        return audit_parcels
    right = pd.DataFrame(readiness[["parcel_id", *extra]]).drop_duplicates("parcel_id")
    merged = pd.DataFrame(audit_parcels).merge(right, on="parcel_id", how="left", sort=False)
    geom = audit_parcels.geometry.name
    merged = merged[[c for c in merged.columns if c != geom] + [geom]]
    return gpd.GeoDataFrame(merged, geometry=geom, crs=audit_parcels.crs)


def bundle_version(path: Path | None, as_of: date, *extra: Any) -> str:
    """A token that changes when a bundle file, the as-of date or `extra` changes (for ETags)."""
    h = hashlib.blake2b(digest_size=8)
    h.update(f"{as_of.isoformat()}|{extra!r}".encode())
    if path is not None:
        files = (
            sorted(p for p in Path(path).rglob("*") if p.is_file()) if Path(path).is_dir() else [Path(path)]
        )
        for p in files:
            st = p.stat()
            h.update(f"{p.name}|{st.st_size}|{st.st_mtime_ns}".encode())
    return h.hexdigest()


def served_version(settings: Any, results: Any) -> str:
    """The data version behind every read ETag: the bundle's files, the as-of date, the database and its load."""
    snapshot = results.bundle.store_state if results is not None else None
    return bundle_version(
        settings.bundle, settings.as_of, settings.db, snapshot.generation if snapshot else None
    )


def readiness_examined(readiness: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The parcels readiness examined: unsupplied *as of* the date (one supplied later is still unsupplied), which
    is what its tier says, not the raw ``supply_status``."""
    return readiness[(readiness["readiness_tier"] != "supplied").fillna(True).to_numpy(dtype=bool)]


def build_store(
    parcels: gpd.GeoDataFrame,
    *,
    unsupplied: gpd.GeoDataFrame | None = None,
    readiness: gpd.GeoDataFrame | None = None,
    layers: dict[str, gpd.GeoDataFrame] | None = None,
    version: str = "0",
) -> MemoryStore:
    """The collections of CONTRACT §5 from audit parcels (readiness merged in), batch remainders and bundle layers."""
    titles = _titles("parcels")
    parcels = parcel_table(parcels, readiness)
    collections = [
        Collection(
            "parcels",
            "地块",
            "地块：全部审计（闲置、低效、批而未供）与标准地属性 Parcels with audit and readiness properties",
            parcels,
            id_field="parcel_id",
            temporal_field="supplied_on" if "supplied_on" in parcels else None,
            titles=titles,
            version=version,
        )
    ]
    if unsupplied is not None:
        collections.append(
            Collection(
                "unsupplied",
                "批而未供",
                "批次中未供应的部分 Approved but unsupplied land (batch remainders)",
                unsupplied,
                id_field="batch_id",
                temporal_field="approved_on" if "approved_on" in unsupplied else None,
                titles=_titles("batches"),
                version=version,
            )
        )
    if "findings" in parcels:
        for finding, title, description in (
            ("idle", "闲置土地", "认定为闲置的地块 Idle parcels (idle_1y, idle_2y, stalled)"),
            ("low_efficiency", "低效用地", "认定为低效的地块 Low-efficiency parcels"),
        ):
            mask = _contains(parcels["findings"], finding)
            subset = parcels[mask]
            collections.append(
                Collection(
                    finding,
                    title,
                    description,
                    subset,
                    id_field="parcel_id",
                    temporal_field="supplied_on" if "supplied_on" in subset else None,
                    titles=titles,
                    version=version,
                    prepared_json=collections[0].props_json[mask],  # the parcels' JSON, not encoded twice
                )
            )
    if readiness is not None:
        examined = readiness_examined(readiness)
        collections.append(
            Collection(
                "readiness",
                "标准地",
                "未供地块的标准地出让条件 Standard-land readiness of unsupplied parcels",
                examined,
                id_field="parcel_id",
                titles=titles,
                version=version,
            )
        )
    for name, (title, description, id_field, temporal) in LAYER_COLLECTIONS.items():
        layer = (layers or {}).get(name)
        if layer is None:
            continue
        if id_field is not None and (
            id_field not in layer or layer[id_field].isna().any() or layer[id_field].duplicated().any()
        ):
            id_field = None
        collections.append(
            Collection(
                name,
                title,
                description,
                layer,
                id_field=id_field,
                temporal_field=temporal if temporal in layer else None,
                titles=_titles(name),
                version=version,
            )
        )
    for c in collections:
        prepare_default_geometry(c)
    return MemoryStore(collections, version=version)
