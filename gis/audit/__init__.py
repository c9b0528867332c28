"""The 三清 audit of a development zone: 批而未供, 闲置 and 低效 land (CONTRACT §4.1–4.4).

`run_audit` reads a normalized bundle as of a date and returns the audited parcels, the batch overlay and the
summary; `gis.audit.write.write_audit_outputs` writes the five output files.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

import geopandas as gpd
import shapely

from gis.audit._columns import as_timestamp, dates, happened, lists_from_flags, numbers, supplied_mask, texts
from gis.audit.efficiency import assess_efficiency
from gis.audit.findings import OVERRIDE_FIELDS, finding_lists
from gis.audit.idle import IDLE_FINDING_STAGES, assess_idle
from gis.audit.indicators import zone_indicators
from gis.audit.summary import NO_BATCHES_WARNING, build_summary, zone_area_m2
from gis.bundle import Bundle
from gis.rules import Rules
from gis.units import ha, mu

__all__ = ["AUDIT_COLUMNS", "AuditResult", "as_timestamp", "run_audit", "supplied_mask"]

#: the properties the audit adds to every parcel, in output order (after the input fields)
AUDIT_COLUMNS = [
    "area_m2",
    "area_ha",
    "area_mu",
    "findings",
    "actions",
    "rule_refs",
    "missing_inputs",
    "idle_stage",
    "idle_since",
    "idle_disposal",
    "idle_fee_wan",
    "idle_days",
    "low_efficiency_reasons",
    "far",
    "building_coefficient",
    "investment_per_mu",
    "tax_per_mu",
    "output_per_mu",
    "mujun_score",
    "mujun_grade",
    "industry_division",
    "far_required",
    "coverage_required",
    "investment_required_wan_per_mu",
    "tax_required_wan_per_mu",
    "batch_covered_share",
]


@dataclass
class AuditResult:
    """The audit of one bundle as of one date.

    Attributes
    ----------
    parcels : geopandas.GeoDataFrame
        Every input parcel with every input field plus `AUDIT_COLUMNS`, in the bundle CRS. List columns
        (``findings``, ``actions``, ``rule_refs``, ``missing_inputs``, ``low_efficiency_reasons``) hold lists.
    unsupplied : geopandas.GeoDataFrame or None
        Batch remainders (CONTRACT §4.3); None without a ``batches`` layer.
    batches : pandas.DataFrame or None
        One row per batch approved by as-of (``batches.csv`` columns first); None without a ``batches`` layer.
    summary : dict
        ``summary.json`` (CONTRACT §4.4).
    as_of : datetime.date or None
        The audit date.
    rules : gis.rules.Rules or None
        The rules applied (for citations in the ledger).
    zone_name : str
        The zone's name, for titles.
    """

    parcels: gpd.GeoDataFrame
    unsupplied: gpd.GeoDataFrame | None
    batches: pd.DataFrame | None
    summary: dict[str, Any]
    as_of: date | None = None
    rules: Rules | None = None
    zone_name: str = ""


def run_audit(bundle: Bundle, as_of: date, rules: Rules, *, overlay: Any = None) -> AuditResult:
    """Audit a bundle's parcels for 批而未供, 闲置 and 低效 land as of `as_of`.

    Parameters
    ----------
    bundle : gis.bundle.Bundle
        A normalized bundle (projected CRS in metres).
    as_of : datetime.date
        Every date after it counts as not yet happened.
    rules : gis.rules.Rules
        Thresholds (``idle.*``, ``low_efficiency.*``, ``unsupplied.*``, ``zone.*``, ``readiness.covered_share``).
    overlay : gis.audit.unsupplied.BatchAudit, optional
        The batch overlay when the caller already has it (`gis.recompute` splices one after an edit); computed
        here when None and the bundle has batches.

    Returns
    -------
    AuditResult
    """
    source = bundle.parcels
    n = len(source)
    ts = as_timestamp(as_of)
    geoms = source.geometry.to_numpy()
    area = pd.Series(shapely.area(geoms), index=source.index, dtype=float)
    supplied = supplied_mask(source, ts)

    idle = assess_idle(source, as_of, rules)
    eff = assess_efficiency(source, area, as_of, rules)

    warnings = list(bundle.warnings)
    batches_layer = bundle.layer("batches")
    covered: np.ndarray | None = None
    unsupplied = batch_table = None
    five_year = None
    if batches_layer is not None:
        if overlay is None:
            from gis.audit.unsupplied import audit_batches  # the overlay is only needed with a batches layer

            overlay = audit_batches(source, batches_layer, as_of, rules)
        covered = np.asarray(overlay.covered_share, dtype=float)
        unsupplied, batch_table, five_year = (
            overlay.unsupplied,
            overlay.batches,
            overlay.five_year_supply_rate,
        )
    else:
        warnings.append(NO_BATCHES_WARNING)

    # tolerance: a share computed from areas may fall a hair under the threshold for a fully covered parcel
    in_batches = (
        covered >= float(rules["readiness.covered_share"]) - 1e-9
        if covered is not None
        else np.zeros(n, bool)
    )
    idle_stage = idle.frame["idle_stage"]
    finding_masks = {
        "approved_unsupplied": ~supplied & in_batches,
        "idle": idle_stage.isin(IDLE_FINDING_STAGES).to_numpy(),
        "low_efficiency": np.logical_or.reduce(list(eff.reasons.values())),
    }
    overrides = {name: numbers(source, name).notna().to_numpy() for name in OVERRIDE_FIELDS}
    findings, actions, refs, reasons = finding_lists(
        finding_masks, idle_stage, idle.frame["idle_disposal"], eff.reasons, overrides, rules
    )
    missing_flags = [*idle.missing.items(), *eff.missing.items()]
    missing = lists_from_flags(missing_flags, n)
    warnings.extend(_missing_warnings(missing_flags))

    added = pd.DataFrame(
        {
            "area_m2": area,
            "area_ha": ha(area),
            "area_mu": mu(area),
            **{c: idle.frame[c] for c in idle.frame},
            **{c: eff.frame[c] for c in eff.frame if c != "examined_low_efficiency"},
            "batch_covered_share": pd.Series(covered, index=source.index) if covered is not None else np.nan,
        },
        index=source.index,
    )
    for name, values in (
        ("findings", findings),
        ("actions", actions),
        ("rule_refs", refs),
        ("missing_inputs", missing),
        ("low_efficiency_reasons", reasons),
    ):
        added[name] = values.set_axis(source.index)
    kept = [c for c in source.columns if c not in AUDIT_COLUMNS]
    parcels = gpd.GeoDataFrame(
        pd.concat([source[kept], added[AUDIT_COLUMNS]], axis=1), geometry=source.geometry.name, crs=source.crs
    )
    geom_name = source.geometry.name
    parcels = parcels[[c for c in kept if c != geom_name] + AUDIT_COLUMNS + [geom_name]]

    indicators = zone_indicators(
        source, area, as_of, rules, supplied=supplied, idle=finding_masks["idle"], covered=covered
    )
    industrial = (texts(source, "planned_use") == "industrial").fillna(False).to_numpy(dtype=bool)
    built = happened(dates(source, "completed_on"), ts) | texts(source, "operating_status").notna().to_numpy()
    industrial_m2 = float(area[industrial].sum())
    intensity = float(area[industrial & built].sum()) / industrial_m2 if industrial_m2 > 0 else None

    summary = build_summary(
        as_of=as_of,
        zone_area=zone_area_m2(source, bundle.layer("zone_boundary")),
        parcels=parcels,
        finding_masks=finding_masks,
        batches=batch_table,
        five_year_supply_rate=five_year,
        indicators=indicators,
        industrial_intensity=intensity,
        rules=rules,
        warnings=warnings,
    )
    return AuditResult(
        parcels=parcels,
        unsupplied=unsupplied,
        batches=batch_table,
        summary=summary,
        as_of=as_of,
        rules=rules,
        zone_name=bundle.name,
    )


def _missing_warnings(flags: list[tuple[str, np.ndarray]]) -> list[str]:
    """One line naming how many parcels lack each input the audit needed (details in ``missing_inputs``)."""
    counts: dict[str, int] = {}
    for name, flag in flags:
        counts[name] = counts.get(name, 0) + int(np.count_nonzero(flag))
    listed = "，".join(f"{name} {count} 宗" for name, count in counts.items() if count)
    return [f"部分地块缺少审计所需数据（详见 missing_inputs）：{listed}"] if listed else []
