"""``summary.json`` of the 三清 audit (CONTRACT §4.4)."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd

import geopandas as gpd
import shapely

from gis.audit.idle import IDLE_STAGES
from gis.rules import Rules
from gis.units import ha, mu

__all__ = ["NO_BATCHES_WARNING", "area_totals", "build_summary", "zone_area_m2"]

NO_BATCHES_WARNING = "无批次图层：未计算批而未供"


def area_totals(m2: float | None, count: int | None) -> dict[str, float | int | None]:
    """``{"m2", "ha", "mu", "count"}`` of an area (rounded for reading; all null when unknown).

    >>> area_totals(10_000, 2)
    {'m2': 10000.0, 'ha': 1.0, 'mu': 15.0, 'count': 2}
    """
    if m2 is None:
        return {"m2": None, "ha": None, "mu": None, "count": None}
    m2 = float(m2)
    return {
        "m2": round(m2, 2),
        "ha": round(ha(m2), 6),
        "mu": round(mu(m2), 4),
        "count": int(count or 0),
    }


def zone_area_m2(parcels: gpd.GeoDataFrame, boundary: gpd.GeoDataFrame | None) -> float:
    """The zone's area: its boundary's (union) area, else the area of the union of all parcels.

    Parcels that overlap no other parcel add their own area; only overlapping ones are unioned, so a zone of
    a million adjacent parcels does not pay for a million-polygon union.
    """
    if boundary is not None and len(boundary):
        geoms = boundary.geometry.to_numpy()
        return float(shapely.area(shapely.union_all(geoms)) if len(geoms) > 1 else shapely.area(geoms[0]))
    geoms = parcels.geometry.to_numpy()
    if len(geoms) == 0:
        return 0.0
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    pairs = left < right
    left, right = left[pairs], right[pairs]
    # neighbours that share only an edge are common; keep the pairs whose interiors meet
    inner = ~shapely.touches(geoms[left], geoms[right])
    overlapping = np.zeros(len(geoms), dtype=bool)
    overlapping[left[inner]] = True
    overlapping[right[inner]] = True
    area = float(shapely.area(geoms[~overlapping]).sum())
    if overlapping.any():
        area += float(shapely.area(shapely.union_all(geoms[overlapping])))
    return area


def build_summary(
    *,
    as_of: date,
    zone_area: float,
    parcels: pd.DataFrame,
    finding_masks: dict[str, np.ndarray],
    batches: pd.DataFrame | None,
    five_year_supply_rate: float | None,
    indicators: dict[str, Any],
    industrial_intensity: float | None,
    rules: Rules,
    warnings: list[str],
) -> dict[str, Any]:
    """The summary dict with exactly the §4.4 keys.

    Parameters
    ----------
    as_of : datetime.date
        The audit date.
    zone_area : float
        Zone area in m² (`zone_area_m2`).
    parcels : pandas.DataFrame
        Audited parcels: ``area_m2`` and ``idle_stage``.
    finding_masks : dict of str to numpy.ndarray
        Finding code -> mask of the parcels with that finding.
    batches : pandas.DataFrame or None
        The batch table (``unsupplied_m2``), or None without a ``batches`` layer.
    five_year_supply_rate, industrial_intensity : float or None
        Pooled five-year supply rate; built ÷ all industrial area.
    indicators : dict
        From `gis.audit.indicators.zone_indicators`.
    rules : gis.rules.Rules
        For the province benchmark and the sliver tolerance.
    warnings : list of str
        Bundle warnings and the audit's own.

    Returns
    -------
    dict
    """
    area = parcels["area_m2"].to_numpy(dtype=float)
    totals: dict[str, Any] = {}
    if batches is None:
        totals["approved_unsupplied"] = area_totals(None, None)
    else:
        remainder = batches["unsupplied_m2"].to_numpy(dtype=float)
        with_remainder = remainder >= float(rules["unsupplied.sliver_m2"])
        totals["approved_unsupplied"] = area_totals(float(remainder.sum()), int(with_remainder.sum()))
    for code in ("idle", "low_efficiency"):
        has = np.asarray(finding_masks[code], dtype=bool)
        totals[code] = area_totals(float(area[has].sum()), int(has.sum()))
    stage = parcels["idle_stage"].to_numpy()
    idle_stages = {
        s: area_totals(float(area[stage == s].sum()), int((stage == s).sum()))
        for s in IDLE_STAGES
        if s != "none"
    }
    return {
        "as_of": as_of.isoformat(),
        "zone_area_ha": round(ha(zone_area), 6),
        "totals": totals,
        "idle_stages": idle_stages,
        "five_year_supply_rate": None if five_year_supply_rate is None else round(five_year_supply_rate, 6),
        "industrial_development_intensity": {
            "value": None if industrial_intensity is None else round(industrial_intensity, 6),
            "province_benchmark": float(rules["zone.industrial_intensity_benchmark"]),
        },
        "indicators": indicators,
        "warnings": list(warnings),
    }
