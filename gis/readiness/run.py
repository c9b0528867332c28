"""`run_readiness`: 标准地 readiness of every parcel of a bundle as of a date (CONTRACT §4.5)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

import geopandas as gpd

from gis.bundle import Bundle
from gis.readiness import checks as ck
from gis.readiness.codes import SEVEN_KINDS, department, label
from gis.readiness.scoring import readiness_score, readiness_tier, served_by

__all__ = ["READINESS_COLUMNS", "examined_mask", "run_readiness"]

#: the columns `run_readiness` adds to the parcels, in this order
READINESS_COLUMNS = (
    "readiness_tier",
    "missing",
    "readiness_score",
    "slope_mean_pct",
    "flood_share",
    "infra_distance_m",
    "served_by",
    "missing_detail",
)


def examined_mask(parcels: pd.DataFrame, as_of: date) -> np.ndarray:
    """True for parcels unsupplied on `as_of`: ``supply_status`` unsupplied, or supplied after as-of.

    A supplied parcel without ``supplied_on`` counts as supplied (the date is unknown, the supply is not).
    """
    status = (
        parcels["supply_status"]
        if "supply_status" in parcels
        else pd.Series("unsupplied", index=parcels.index)
    )
    supplied = (status.astype(object).fillna("unsupplied") == "supplied").to_numpy(dtype=bool)
    if "supplied_on" in parcels:
        later = (pd.to_datetime(parcels["supplied_on"], errors="coerce") > pd.Timestamp(as_of)).to_numpy(
            dtype=bool
        )
    else:
        later = np.zeros(len(parcels), dtype=bool)
    return ~supplied | later


def run_readiness(bundle: Bundle, as_of: date, rules: Mapping[str, Any]) -> gpd.GeoDataFrame:
    """标准地 readiness of the bundle's parcels as of `as_of`.

    Parameters
    ----------
    bundle : Bundle
        Normalized layers in one projected CRS (metres) and the paths of ``dem.tif`` / ``flood_depth.tif``.
    as_of : datetime.date
        Dates after it have not happened (a supply, an approval, an assessment's completion).
    rules : Rules
        Thresholds (``readiness.*`` keys of ``data/rules/rules.toml`` with the zone's overrides).

    Returns
    -------
    geopandas.GeoDataFrame
        The parcels (bundle CRS, every input field) plus `READINESS_COLUMNS`. Supplied parcels get
        ``readiness_tier = "supplied"`` and null in the other columns. ``gdf.attrs["timings"]`` holds wall
        seconds per step, ``gdf.attrs["cpu_timings"]`` CPU seconds, and ``gdf.attrs["warnings"]`` notes about
        parcels that a raster does not cover.
    """
    timings: dict[str, float] = {}
    cpu: dict[str, float] = {}
    clock, cpu_clock = time.perf_counter(), time.process_time()

    def lap(step: str) -> None:
        nonlocal clock, cpu_clock
        now, cpu_now = time.perf_counter(), time.process_time()
        timings[step] = timings.get(step, 0.0) + now - clock
        cpu[step] = cpu.get(step, 0.0) + cpu_now - cpu_clock
        clock, cpu_clock = now, cpu_now

    parcels = bundle.parcels
    mask = examined_mask(parcels, as_of)
    ex = ck.Examined.of(parcels[mask])
    n = len(ex)
    lap("select")

    checks: list[ck.Check] = ck.constraint_checks(ex, bundle, rules)
    lap("constraints")
    checks.append(ck.zoning_check(ex))
    approval = ck.approval_check(ex, bundle, as_of, rules)
    if approval is not None:
        checks.append(approval)
    lap("approval")
    checks += ck.net_checks(ex, bundle, rules)
    lap("net")
    checks += ck.assessment_checks(ex, bundle, as_of, rules)
    lap("assessments")
    networks = ck.Networks(ex, bundle, rules)
    built = networks.built_distances()
    checks += ck.infra_checks(networks, built, rules)
    lap("infrastructure")
    slope, flood = ck.site_values(ex, bundle, rules)
    checks += ck.site_checks(slope, flood, rules)
    lap("rasters")
    checks += ck.indicator_checks(ex, rules)

    raised = {c.code: c.raised for c in checks}
    tier = readiness_tier(raised, n)
    score = readiness_score(
        raised,
        n,
        rules,
        has_batches=approval is not None,
        leveling_checked=None if slope is None else ~np.isnan(slope),
        flood_checked=None if flood is None else ~np.isnan(flood),
    )
    limits = rules["readiness.service_distance_m"]
    within = {k: built[k] <= float(limits[k]) for k in SEVEN_KINDS}
    leveled = np.ones(n, dtype=bool) if slope is None else ~raised["site:leveling"]
    level = served_by(within, leveled)
    lap("scoring")

    details = _details(checks, n, rules["readiness.departments"])
    distances = _distance_objects(built, n)
    lap("details")

    out = parcels.copy()
    rows = np.flatnonzero(mask)
    out["readiness_tier"] = _column(out.index, rows, tier, fill="supplied")
    out["missing"] = _column(out.index, rows, [[d["code"] for d in row] for row in details])
    out["readiness_score"] = _floats(len(out), rows, score)
    out["slope_mean_pct"] = _floats(
        len(out), rows, None if slope is None else np.round(slope, ck.SLOPE_DIGITS)
    )
    out["flood_share"] = _floats(len(out), rows, None if flood is None else np.round(flood, ck.SHARE_DIGITS))
    out["infra_distance_m"] = _column(out.index, rows, distances)
    out["served_by"] = _column(out.index, rows, level)
    out["missing_detail"] = _column(out.index, rows, details)
    lap("assemble")
    out.attrs["timings"] = timings
    out.attrs["cpu_timings"] = cpu
    out.attrs["warnings"] = _raster_warnings(bundle, slope, flood)
    return out


def _details(checks: list[ck.Check], n: int, departments: Mapping[str, Any]) -> list[list[dict[str, Any]]]:
    """Per parcel, the missing codes as {code, label_zh, label_en, department, evidence}, in the checks' order."""
    rows: list[list[dict[str, Any]]] = [[] for _ in range(n)]
    for check in checks:
        idx = np.flatnonzero(check.raised)
        if len(idx) == 0:
            continue
        zh, en = label(check.code)
        dept = department(check.code, departments)
        for i, evidence in zip(idx.tolist(), check.evidence(idx), strict=True):
            rows[i].append(
                {"code": check.code, "label_zh": zh, "label_en": en, "department": dept, "evidence": evidence}
            )
    return rows


def _distance_objects(built: dict[str, np.ndarray], n: int) -> list[dict[str, float | None]]:
    """kind -> metres (2 decimals) for the seven kinds; None where the layer has no built feature of the kind."""
    cols = [[None if v != v else v for v in np.round(built[k], 2).tolist()] for k in SEVEN_KINDS]
    return [dict(zip(SEVEN_KINDS, row, strict=True)) for row in zip(*cols, strict=True)] if n else []


def _column(index: pd.Index, rows: np.ndarray, values: Any, fill: Any = None) -> pd.Series:
    """An object column: `values` at positions `rows`, `fill` elsewhere (lists and dicts stay whole)."""
    full = [fill] * len(index)
    for r, v in zip(rows.tolist(), values, strict=True):
        full[r] = v
    return pd.Series(full, index=index, dtype=object)


def _floats(size: int, rows: np.ndarray, values: np.ndarray | None) -> np.ndarray:
    out = np.full(size, np.nan)
    if values is not None:
        out[rows] = values
    return out


def _raster_warnings(bundle: Bundle, slope: np.ndarray | None, flood: np.ndarray | None) -> list[str]:
    notes = []
    for name, values in (("dem.tif", slope), ("flood_depth.tif", flood)):
        if values is not None and np.isnan(values).any():
            count = int(np.isnan(values).sum())
            notes.append(f"{name} 未覆盖 {count} 宗未供地块（或仅有无效值），这些地块未做相应检查")
    return notes
