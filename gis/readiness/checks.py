"""The checks of 标准地 readiness (CONTRACT §4.5), one function per row of the table, all vectorized over parcels.

Each check returns `Check`s: the code, a boolean array (raised or not) over the examined parcels, and a function
that builds the evidence of the raised parcels only (evidence is for people; it is built for the few who need it).

Decisions where the contract leaves room:

- `net:hv_line` uses the same overlap tolerance as the constraints (> ``overlap_min_m2`` and > ``overlap_min_share``
  of the parcel): a corridor that only grazes the parcel by a digitizing sliver is not an obstacle to building.
- `approval:not_approved` counts a batch whose ``approved_on`` is empty as not approved.
- `infra:<kind>`: a feature is "within" its service distance when the edge-to-edge distance is ≤ that distance.
- `zoning:not_industrial` is raised for an empty ``planned_use`` too (it is not industrial or warehouse).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

import geopandas as gpd
import shapely
from shapely import STRtree

from gis.bundle import Bundle
from gis.readiness.codes import CONSTRAINT_LAYERS, SEVEN_KINDS
from gis.readiness.overlay import dissolved_pieces, overlap_area
from gis.readiness.proximity import nearest_distance
from gis.readiness.terrain import site_rasters

__all__ = ["Check", "Examined", "Networks"]

Evidence = Callable[[np.ndarray], list[dict[str, Any]]]

#: decimals of the reported slope (%) and flood share; the site rules compare these rounded values, so that float32
#: noise on a plane of exactly the limit does not fail it, and the reported value always agrees with the verdict
SLOPE_DIGITS = 2
SHARE_DIGITS = 4


@dataclass
class Examined:
    """The examined (unsupplied) parcels: their rows, geometries and areas, positionally aligned."""

    frame: gpd.GeoDataFrame
    geoms: np.ndarray
    area: np.ndarray

    @classmethod
    def of(cls, frame: gpd.GeoDataFrame) -> Examined:
        """Wrap `frame` (a subset of the parcels, in the bundle's projected CRS)."""
        geoms = np.asarray(frame.geometry.values, dtype=object)
        return cls(frame, geoms, shapely.area(geoms))

    @cached_property
    def tree(self) -> STRtree:
        """Spatial index of the parcels, shared by every overlay."""
        return STRtree(self.geoms)

    def overlap(self, pieces: np.ndarray) -> np.ndarray:
        """Area (m²) of each parcel inside the union of non-overlapping `pieces`."""
        return overlap_area(self.geoms, pieces, self.area, self.tree)

    def __len__(self) -> int:
        return len(self.geoms)


@dataclass
class Check:
    """One `missing` code over the examined parcels."""

    code: str
    raised: np.ndarray
    evidence: Evidence


# ── helpers ─────────────────────────────────────────────────────────────────────────────────────


def _num(x: float, ndigits: int) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), ndigits)


def _nums(values: np.ndarray, ndigits: int) -> list[float | None]:
    """Rounded Python floats, None for NaN: `_num` over an array without a Python call per value."""
    values = np.asarray(values, dtype=float)
    out = np.round(values, ndigits).astype(object)
    out[~np.isfinite(values)] = None
    return out.tolist()


def _iso(dates: pd.Series) -> np.ndarray:
    """ISO date strings (None for NaT) as an object array, for evidence."""
    text = dates.dt.strftime("%Y-%m-%d").astype(object)
    return text.where(dates.notna(), None).to_numpy(dtype=object)


def _dates(frame: pd.DataFrame, name: str) -> pd.Series:
    if name not in frame:
        return pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    return pd.to_datetime(frame[name], errors="coerce")


def _flags(frame: pd.DataFrame, name: str, default: bool) -> np.ndarray:
    if name not in frame:
        return np.full(len(frame), default)
    return frame[name].astype("boolean").fillna(default).to_numpy(dtype=bool)


def _geoms(layer: gpd.GeoDataFrame | None) -> np.ndarray:
    if layer is None or len(layer) == 0:
        return np.empty(0, dtype=object)
    return np.asarray(layer.geometry.values, dtype=object)


def _counts(overlap: np.ndarray, area: np.ndarray, rules: Mapping[str, Any]) -> np.ndarray:
    """The §3 tolerance: an overlap counts when > ``overlap_min_m2`` and > ``overlap_min_share`` of the parcel."""
    return (overlap > rules["readiness.overlap_min_m2"]) & (
        overlap > rules["readiness.overlap_min_share"] * area
    )


def _share(part: np.ndarray, area: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(area > 0, part / area, 0.0)


def _pairs(
    ex: Examined, idx: np.ndarray, features: np.ndarray, *, from_parcels: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """(parcel position, feature position) pairs that intersect, for the parcels at `idx` (sorted by parcel).

    By default each feature is prepared once and tested against the parcel tree; `from_parcels` prepares the
    parcels instead, which is faster for few long features (a diagonal line's box covers most parcels).
    """
    if len(idx) == 0 or len(features) == 0:
        return np.empty(0, dtype=int), np.empty(0, dtype=int)
    if from_parcels:
        qi, fj = STRtree(features).query(ex.geoms[idx], predicate="intersects")
        return idx[qi], fj
    fj, pi = ex.tree.query(features, predicate="intersects")
    keep = np.isin(pi, idx)
    pi, fj = pi[keep], fj[keep]
    order = np.lexsort((fj, pi))
    return pi[order], fj[order]


def _overlap_evidence(overlap: np.ndarray, area: np.ndarray, **extra: Any) -> Evidence:
    def build(idx: np.ndarray) -> list[dict[str, Any]]:
        return [
            {**extra, "overlap_m2": o, "overlap_share": s}
            for o, s in zip(_nums(overlap[idx], 2), _nums(_share(overlap[idx], area[idx]), 4), strict=True)
        ]

    return build


# ── constraint:*, zoning:* ──────────────────────────────────────────────────────────────────────


def constraint_checks(ex: Examined, bundle: Bundle, rules: Mapping[str, Any]) -> list[Check]:
    """``constraint:basic_farmland`` and ``constraint:eco_redline`` (only for layers the bundle has)."""
    out = []
    for name in CONSTRAINT_LAYERS:
        layer = bundle.layer(name)
        if layer is None:
            continue
        overlap = ex.overlap(dissolved_pieces(_geoms(layer)))
        out.append(
            Check(f"constraint:{name}", _counts(overlap, ex.area, rules), _overlap_evidence(overlap, ex.area))
        )
    return out


def zoning_check(ex: Examined) -> Check:
    """``zoning:not_industrial``: planned use neither industrial nor warehouse (empty counts as neither)."""
    use = ex.frame["planned_use"] if "planned_use" in ex.frame else pd.Series(None, index=ex.frame.index)
    raised = ~use.isin(["industrial", "warehouse"]).to_numpy(dtype=bool)
    values = use.astype(object).to_numpy()

    def build(idx: np.ndarray) -> list[dict[str, Any]]:
        return [{"planned_use": None if pd.isna(v) else str(v)} for v in values[idx]]

    return Check("zoning:not_industrial", raised, build)


# ── approval:* ─────────────────────────────────────────────────────────────────────────────────


def approval_check(ex: Examined, bundle: Bundle, as_of: date, rules: Mapping[str, Any]) -> Check | None:
    """``approval:not_approved``: less than ``covered_share`` of the parcel inside batches approved by as-of.

    None without a `batches` layer (the check does not exist then).
    """
    batches = bundle.layer("batches")
    if batches is None:
        return None
    approved_on = _dates(batches, "approved_on")
    approved = (approved_on <= pd.Timestamp(as_of)).to_numpy(dtype=bool)
    geoms = _geoms(batches)
    covered = ex.overlap(dissolved_pieces(geoms[approved])) if len(geoms) else np.zeros(len(ex))
    share = _share(covered, ex.area)
    raised = share < rules["readiness.covered_share"]
    later = np.flatnonzero(~approved) if len(geoms) else np.empty(0, dtype=int)
    ids = (
        batches["batch_id"].astype(object).tolist()
        if "batch_id" in batches
        else list(range(1, len(batches) + 1))
    )
    approved_iso = _iso(approved_on)

    def build(idx: np.ndarray) -> list[dict[str, Any]]:
        pi, fj = _pairs(ex, idx, geoms[later])
        pending: dict[int, list[dict[str, Any]]] = {}
        for p, f in zip(pi.tolist(), later[fj].tolist(), strict=True):
            pending.setdefault(p, []).append({"batch_id": ids[f], "approved_on": approved_iso[f]})
        return [
            {"covered_share": c, "later_batches": pending.get(i, [])}
            for i, c in zip(idx.tolist(), _nums(share[idx], 4), strict=True)
        ]

    return Check("approval:not_approved", raised, build)


# ── net:* ──────────────────────────────────────────────────────────────────────────────────────


def hv_half_width(voltage_kv: np.ndarray, rules: Mapping[str, Any]) -> np.ndarray:
    """Corridor half-width (m) by voltage: the largest ``hv_corridor_half_width_m`` key ≤ the voltage, else default.

    Examples
    --------
    >>> from gis.rules import load_rules
    >>> hv_half_width(np.array([500, 220, 110, 35, np.nan]), load_rules()).tolist()
    [37.5, 20.0, 12.5, 10.0, 10.0]
    """
    steps = sorted(
        ((float(k), float(v)) for k, v in rules["readiness.hv_corridor_half_width_m"].items()), reverse=True
    )
    v = np.asarray(voltage_kv, dtype=float)
    out = np.full(v.shape, float(rules["readiness.hv_corridor_default_m"]))
    done = np.zeros(v.shape, dtype=bool)
    for kv, width in steps:
        hit = ~done & (v >= kv)
        out[hit] = width
        done |= hit
    return out


def net_checks(ex: Examined, bundle: Bundle, rules: Mapping[str, Any]) -> list[Check]:
    """``net:compensation``, ``net:dispute`` and ``net:hv_line`` (the last passes when there is no hv_lines layer)."""
    not_compensated = ~_flags(ex.frame, "compensation_done", True)
    disputed = _flags(ex.frame, "disputed", False)
    out = [
        Check("net:compensation", not_compensated, lambda idx: [{"compensation_done": False} for _ in idx]),
        Check("net:dispute", disputed, lambda idx: [{"disputed": True} for _ in idx]),
    ]
    lines = bundle.layer("hv_lines")
    geoms = _geoms(lines)
    if len(geoms) == 0:
        out.append(Check("net:hv_line", np.zeros(len(ex), dtype=bool), lambda idx: []))
        return out
    assert lines is not None
    voltage = (
        lines["voltage_kv"].to_numpy(dtype=float) if "voltage_kv" in lines else np.full(len(lines), np.nan)
    )
    width = hv_half_width(voltage, rules)
    corridors = shapely.buffer(geoms, width)
    overlap = ex.overlap(dissolved_pieces(corridors))
    raised = _counts(overlap, ex.area, rules)
    shares = _share(overlap, ex.area)

    def build(idx: np.ndarray) -> list[dict[str, Any]]:
        # the widest corridor over each parcel (then the highest voltage) is the one to report
        pi, fj = _pairs(ex, idx, corridors, from_parcels=True)
        order = np.lexsort((voltage[fj], width[fj], pi))
        pi, fj = pi[order], fj[order]
        last = np.r_[pi[1:] != pi[:-1], True]
        top = dict(zip(pi[last].tolist(), fj[last].tolist(), strict=True))
        return [
            {
                "overlap_m2": _num(overlap[i], 2),
                "overlap_share": _num(shares[i], 4),
                "voltage_kv": _num(float(voltage[top[i]]), 1) if i in top else None,
                "half_width_m": _num(float(width[top[i]]), 1) if i in top else None,
            }
            for i in idx.tolist()
        ]

    out.append(Check("net:hv_line", raised, build))
    return out


# ── assessment:* ───────────────────────────────────────────────────────────────────────────────


def assessment_checks(ex: Examined, bundle: Bundle, as_of: date, rules: Mapping[str, Any]) -> list[Check]:
    """``assessment:<kind>`` for each required kind, in the rules' order.

    An assessment is valid on as-of when ``completed_on`` ≤ as-of and ``valid_until`` is empty or ≥ as-of; the
    valid assessments of a kind are unioned, and the parcel is covered when ≥ ``covered_share`` of it is inside.
    """
    layer = bundle.layer("assessments")
    geoms = _geoms(layer)
    day = pd.Timestamp(as_of)
    if len(geoms):
        assert layer is not None
        kinds = layer["kind"].astype(object).to_numpy()
        completed = _dates(layer, "completed_on")
        until = _dates(layer, "valid_until")
        valid = ((completed <= day) & (until.isna() | (until >= day))).to_numpy(dtype=bool)
        names = layer[_name_column(layer)].astype(object).to_numpy() if _name_column(layer) else None
        completed_iso, until_iso = _iso(completed), _iso(until)
        not_completed = (completed.isna() | (completed > day)).to_numpy(dtype=bool)
    out = []
    for kind in rules["readiness.required_assessments"]:
        if len(geoms) == 0:
            share = np.zeros(len(ex))
            out.append(Check(f"assessment:{kind}", np.ones(len(ex), dtype=bool), _assessment_evidence(share)))
            continue
        of_kind = kinds == kind
        covered = ex.overlap(dissolved_pieces(geoms[of_kind & valid]))
        share = _share(covered, ex.area)
        invalid = np.flatnonzero(of_kind & ~valid)

        def build(
            idx: np.ndarray, share: np.ndarray = share, invalid: np.ndarray = invalid
        ) -> list[dict[str, Any]]:
            pi, fj = _pairs(ex, idx, geoms[invalid])
            found: dict[int, list[dict[str, Any]]] = {}
            for p, f in zip(pi.tolist(), invalid[fj].tolist(), strict=True):
                item = {
                    "feature": f + 1,
                    "completed_on": completed_iso[f],
                    "valid_until": until_iso[f],
                    "reason": "not_completed" if not_completed[f] else "expired",
                }
                if names is not None:
                    item["name"] = None if pd.isna(names[f]) else str(names[f])
                found.setdefault(p, []).append(item)
            return [
                {"covered_share": c, "invalid": found.get(i, [])}
                for i, c in zip(idx.tolist(), _nums(share[idx], 4), strict=True)
            ]

        out.append(Check(f"assessment:{kind}", share < rules["readiness.covered_share"], build))
    return out


def _name_column(layer: pd.DataFrame) -> str | None:
    return next((c for c in ("assessment_id", "name") if c in layer), None)


def _assessment_evidence(share: np.ndarray) -> Evidence:
    return lambda idx: [{"covered_share": c, "invalid": []} for c in _nums(share[idx], 4)]


# ── infra:* ────────────────────────────────────────────────────────────────────────────────────


class Networks:
    """The infrastructure layer split by kind and status, with distances from the examined parcels."""

    def __init__(self, ex: Examined, bundle: Bundle, rules: Mapping[str, Any]) -> None:
        layer = bundle.layer("infrastructure")
        self.ex = ex
        self.limits = {k: float(v) for k, v in rules["readiness.service_distance_m"].items()}
        self.geoms = _geoms(layer)
        self._boxes: dict[float, np.ndarray] = {}
        if len(self.geoms):
            assert layer is not None
            self.kinds = layer["kind"].astype(object).to_numpy()
            status = layer["status"].astype(object).fillna("built") if "status" in layer else None
            self.built = (
                np.ones(len(layer), dtype=bool) if status is None else (status == "built").to_numpy(bool)
            )

    def distance(self, kind: str, *, built: bool = True, idx: np.ndarray | None = None) -> np.ndarray:
        """Distance (m) from each examined parcel (or those at `idx`) to the nearest built (planned) `kind`."""
        parcels = self.ex.geoms if idx is None else self.ex.geoms[idx]
        if len(self.geoms) == 0:
            return np.full(len(parcels), np.nan)
        pick = (self.kinds == kind) & (self.built if built else ~self.built)
        cache = self._boxes if idx is None else None
        return nearest_distance(
            parcels, self.geoms[pick], radius=self.limits.get(kind, 100.0), box_cache=cache
        )

    def built_distances(self) -> dict[str, np.ndarray]:
        """kind -> distance to the nearest built feature, for the seven kinds (NaN: none of that kind is built)."""
        return {kind: self.distance(kind) for kind in SEVEN_KINDS}


def infra_checks(networks: Networks, built: dict[str, np.ndarray], rules: Mapping[str, Any]) -> list[Check]:
    """``infra:<kind>`` for each required kind: no built feature within its service distance (no layer = missing).

    The evidence also gives the distance to the nearest *planned* feature of the kind (computed for the raised
    parcels only).
    """
    out = []
    n = len(networks.ex)
    for kind in rules["readiness.required_infrastructure"]:
        limit = float(rules["readiness.service_distance_m"][kind])
        dist = built.get(kind, np.full(n, np.nan))
        raised = ~(dist <= limit)  # NaN (nothing built) is missing

        def build(idx: np.ndarray, kind: str = kind, dist: np.ndarray = dist, limit: float = limit):  # type: ignore[no-untyped-def]
            plan = networks.distance(kind, built=False, idx=idx)
            return [
                {"distance_m": d, "service_distance_m": limit, "planned_distance_m": p}
                for d, p in zip(_nums(dist[idx], 2), _nums(plan, 2), strict=True)
            ]

        out.append(Check(f"infra:{kind}", raised, build))
    return out


# ── site:* ─────────────────────────────────────────────────────────────────────────────────────


def site_values(
    ex: Examined, bundle: Bundle, rules: Mapping[str, Any]
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Mean slope (%) and flood share of each parcel; None for a raster the bundle does not have."""
    parcels = gpd.GeoSeries(ex.geoms, crs=bundle.crs)
    depth = float(rules["readiness.flood_depth_m"])
    return site_rasters(parcels, bundle.rasters.get("dem"), bundle.rasters.get("flood_depth"), depth)


def site_checks(slope: np.ndarray | None, share: np.ndarray | None, rules: Mapping[str, Any]) -> list[Check]:
    """``site:leveling`` and ``site:flood``, only for the rasters that exist (NaN = no data there: not raised).

    The values are compared as reported (`SLOPE_DIGITS`, `SHARE_DIGITS`).
    """
    out = []
    if slope is not None:
        limit = float(rules["readiness.max_slope_pct"])
        out.append(
            Check(
                "site:leveling",
                np.round(slope, SLOPE_DIGITS) > limit,
                lambda idx: [
                    {"slope_mean_pct": s, "max_slope_pct": limit} for s in _nums(slope[idx], SLOPE_DIGITS)
                ],
            )
        )
    if share is not None:
        depth = float(rules["readiness.flood_depth_m"])
        most = float(rules["readiness.flood_max_share"])
        out.append(
            Check(
                "site:flood",
                np.round(share, SHARE_DIGITS) > most,
                lambda idx: [
                    {"flood_share": s, "flood_depth_m": depth, "flood_max_share": most}
                    for s in _nums(share[idx], SHARE_DIGITS)
                ],
            )
        )
    return out


# ── indicators:* ───────────────────────────────────────────────────────────────────────────────


def _field_evidence(name: str) -> Evidence:
    return lambda idx: [{"field": name} for _ in idx]


def indicator_checks(ex: Examined, rules: Mapping[str, Any]) -> list[Check]:
    """``indicators:<name>`` for each required 标准地 indicator that is empty (a missing column is empty)."""
    out = []
    for name in rules["readiness.required_indicators"]:
        if name in ex.frame:
            empty = pd.to_numeric(ex.frame[name], errors="coerce").isna().to_numpy(dtype=bool)
        else:
            empty = np.ones(len(ex), dtype=bool)
        out.append(Check(f"indicators:{name}", empty, _field_evidence(name)))
    return out
