"""Recompute the results after one parcel is created, changed or deleted, without redoing the whole zone.

What an edit of one parcel can change, and how each part is brought up to date:

- the parcel's idle stage and control indicators, and every rated parcel's 亩均 grade (grades are ranks over all
  rated parcels): the vectorized idle and efficiency steps rerun on all parcels (cheap, under a second at 100 k);
- the batches its old and new geometry touch: `gis.audit.unsupplied.audit_batches` on just those batches and the
  parcels inside them, spliced into the previous batch table and remainders; every other batch is unchanged;
- its readiness: `gis.readiness.run_readiness` on a one-parcel view of the bundle (readiness never depends on
  other parcels), with the overlap layers cut to the parcel's neighbourhood;
- the findings, zone totals and summary, assembled as `gis.audit.run_audit` assembles them.

`apply_edit` returns new `Results` and never mutates the old ones, so readers holding the old results keep a
consistent view. The equality with a full recompute is a test (tests/test_api_edit_recompute.py).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry

from gis.audit import AuditResult, run_audit
from gis.audit._columns import as_timestamp
from gis.audit.unsupplied import audit_batches
from gis.bundle import Bundle
from gis.pipeline import Results
from gis.readiness import READINESS_COLUMNS, run_readiness
from gis.rules import Rules

__all__ = ["apply_edit"]

#: layers whose readiness checks are overlaps: cut to this many metres around the edited parcel (the widest HV
#: corridor is 37.5 m; infrastructure is a distance to the nearest feature and is never cut)
_NEIGHBOURHOOD_M = 1000.0
_OVERLAP_LAYERS = ("basic_farmland", "eco_redline", "batches", "hv_lines", "assessments")


def apply_edit(results: Results, parcel_id: str, row: gpd.GeoDataFrame | None) -> Results:
    """The results after parcel `parcel_id` became `row` (None: deleted).

    Parameters
    ----------
    results : gis.pipeline.Results
        The current results (not modified).
    parcel_id : str
        The edited parcel.
    row : geopandas.GeoDataFrame or None
        The parcel as the reader normalizes it (one row, the bundle's CRS), or None when it was deleted.

    Returns
    -------
    gis.pipeline.Results
        New results whose audit parcels, batches, remainders, summary and readiness reflect the edit.
    """
    bundle, as_of, rules = results.bundle, results.as_of, results.rules
    old = bundle.parcels
    ids = old["parcel_id"].astype(str).to_numpy()
    hit = np.flatnonzero(ids == parcel_id)
    old_geom: BaseGeometry | None = old.geometry.iloc[hit[0]] if len(hit) else None
    new_geom: BaseGeometry | None = None if row is None else row.geometry.iloc[0]

    # where each new row comes from in the old frame (-1: the edited parcel)
    keep = np.ones(len(old), dtype=bool)
    keep[hit] = False
    positions = np.arange(len(old))
    if row is None:
        source_pos = positions[keep]
        parcels = old.iloc[source_pos]
    elif len(hit):
        i = int(hit[0])
        source_pos = np.concatenate([positions[:i], [-1], positions[i + 1 :]])
        parcels = _concat([old.iloc[:i], row, old.iloc[i + 1 :]], old)
    else:
        source_pos = np.concatenate([positions, [-1]])
        parcels = _concat([old, row], old)
    parcels = parcels.reset_index(drop=True)
    edited = np.flatnonzero(source_pos == -1)
    new_bundle = replace(bundle, layers={**bundle.layers, "parcels": parcels})

    overlay = _batch_overlay(results.audit, new_bundle, source_pos, edited, old_geom, new_geom, as_of, rules)
    audit = assemble_audit(new_bundle, as_of, rules, overlay)
    readiness = _readiness(results.readiness, new_bundle, parcels, source_pos, edited, as_of, rules)
    return Results(new_bundle, as_of, rules, audit, readiness)


def _concat(frames: list[gpd.GeoDataFrame], like: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Rows of `frames` in order, each column back in the dtype of `like` (a one-row frame may type it otherwise)."""
    geom = like.geometry.name
    frames = [f.rename_geometry(geom) if f.geometry.name != geom else f for f in frames]
    out = pd.concat(frames, ignore_index=True)
    for name in like.columns:
        if name == geom or name not in out or out[name].dtype == like[name].dtype:
            continue
        out[name] = _as_dtype(out[name], like[name].dtype)
    return gpd.GeoDataFrame(out, geometry=geom, crs=like.crs)


def _as_dtype(column: pd.Series, dtype: Any) -> pd.Series:
    """`column` in `dtype` when it converts (object columns hold None for missing, as the full run makes them)."""
    if pd.api.types.is_object_dtype(dtype):
        return column.astype(object).where(column.notna(), None)
    try:
        return column.astype(dtype)
    except (TypeError, ValueError):
        return column


# ── batches ──────────────────────────────────────────────────────────────────────────────────────────────────
class _Overlay:
    """The batch overlay as `assemble_audit` needs it."""

    def __init__(
        self,
        covered: np.ndarray,
        unsupplied: gpd.GeoDataFrame,
        batches: pd.DataFrame,
        five_year: float | None,
    ) -> None:
        self.covered_share = covered
        self.unsupplied = unsupplied
        self.batches = batches
        self.five_year_supply_rate = five_year


def _batch_overlay(
    prev: AuditResult,
    bundle: Bundle,
    source_pos: np.ndarray,
    edited: np.ndarray,
    old_geom: BaseGeometry | None,
    new_geom: BaseGeometry | None,
    as_of: date,
    rules: Rules,
) -> Any:
    batches = bundle.layer("batches")
    parcels = bundle.parcels
    if batches is None:
        return None
    ids = batches["batch_id"].astype(str) if "batch_id" in batches else None
    if (
        prev.batches is None
        or prev.unsupplied is None
        or ids is None
        or ids.duplicated().any()
        or "batch_covered_share" not in prev.parcels
    ):
        return audit_batches(parcels, batches, as_of, rules)  # nothing to splice into: the whole overlay

    # every parcel but the edited one keeps its share of batch cover
    covered = np.zeros(len(parcels))
    kept = source_pos >= 0
    covered[kept] = prev.parcels["batch_covered_share"].to_numpy(dtype=float)[source_pos[kept]]
    geoms = [g for g in (old_geom, new_geom) if g is not None]
    touched = np.unique(batches.sindex.query(np.asarray(geoms, dtype=object), predicate="intersects")[1])
    if len(touched) == 0:
        return _Overlay(covered, prev.unsupplied, prev.batches, prev.summary.get("five_year_supply_rate"))

    part = batches.iloc[touched]
    tree = shapely.STRtree(parcels.geometry.to_numpy())
    near = np.unique(tree.query(part.geometry.to_numpy(), predicate="intersects")[1])
    sub = audit_batches(parcels.iloc[near], part, as_of, rules)
    if len(edited):
        where = np.flatnonzero(near == edited[0])
        covered[edited[0]] = float(sub.covered_share[where[0]]) if len(where) else 0.0

    # splice the touched batches' rows into the previous table (same rows, same order: batch order)
    table = prev.batches.copy()
    new_rows = sub.batches.assign(batch_id=sub.batches["batch_id"].astype(str)).set_index("batch_id")
    table_ids = table["batch_id"].astype(str)
    mine = table_ids.isin(new_rows.index).to_numpy()
    for name in ("supplied_m2", "unsupplied_m2", "supply_rate"):
        table.loc[mine, name] = new_rows.loc[table_ids[mine], name].to_numpy()

    order = {bid: i for i, bid in enumerate(table_ids)}
    kept_rem = prev.unsupplied[~prev.unsupplied["batch_id"].astype(str).isin(new_rows.index).to_numpy()]
    remainders = pd.concat([kept_rem, sub.unsupplied], ignore_index=True)
    rank = remainders["batch_id"].astype(str).map(order).to_numpy()
    remainders = gpd.GeoDataFrame(
        remainders.iloc[np.argsort(rank, kind="stable")].reset_index(drop=True),
        geometry=prev.unsupplied.geometry.name,
        crs=prev.unsupplied.crs,
    )

    # the five-year supply rate over the spliced table, as audit_batches computes it
    approved_on = pd.to_datetime(table["approved_on"])
    window_start = as_timestamp(as_of) - pd.DateOffset(
        years=int(rules["unsupplied.supply_rate_window_years"])
    )
    in_window = (approved_on > window_start).to_numpy()
    total = float(table["batch_m2"].to_numpy(dtype=float)[in_window].sum())
    supplied = float(table["supplied_m2"].to_numpy(dtype=float)[in_window].sum())
    five_year = supplied / total if in_window.any() and total > 0 else None
    return _Overlay(covered, remainders, table, five_year)


# ── audit ────────────────────────────────────────────────────────────────────────────────────────────────────
def assemble_audit(bundle: Bundle, as_of: date, rules: Rules, overlay: Any) -> AuditResult:
    """`gis.audit.run_audit` with the spliced batch overlay (None: the bundle has no batches)."""
    return run_audit(bundle, as_of, rules, overlay=overlay)


# ── readiness ────────────────────────────────────────────────────────────────────────────────────────────────
def _readiness(
    prev: gpd.GeoDataFrame,
    bundle: Bundle,
    parcels: gpd.GeoDataFrame,
    source_pos: np.ndarray,
    edited: np.ndarray,
    as_of: date,
    rules: Rules,
) -> gpd.GeoDataFrame:
    """Readiness of every parcel: the previous rows, and the edited parcel's computed on a one-parcel view."""
    cols = [c for c in READINESS_COLUMNS if c in prev]
    previous = pd.DataFrame(prev[cols]).iloc[source_pos[source_pos >= 0]]
    if len(edited):
        e = int(edited[0])
        layers = dict(bundle.layers)
        layers["parcels"] = parcels.iloc[[e]]
        around = shapely.box(*parcels.geometry.iloc[e].buffer(_NEIGHBOURHOOD_M).bounds)
        for name in _OVERLAP_LAYERS:
            layer = layers.get(name)
            if layer is not None:
                layers[name] = layer.iloc[np.sort(layer.sindex.query(around))]
        mine = pd.DataFrame(run_readiness(replace(bundle, layers=layers), as_of, rules)[cols])
        values = pd.concat([previous.iloc[:e], mine, previous.iloc[e:]], ignore_index=True)
    else:
        values = previous.reset_index(drop=True)
    out = parcels.copy()
    for name in cols:
        column = values[name]
        if column.dtype != prev[name].dtype:
            column = _as_dtype(column, prev[name].dtype)
        out[name] = pd.Series(column.to_numpy(), index=out.index, dtype=column.dtype)
    return out
