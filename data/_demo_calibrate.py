"""The generator's own, independent reckoning of the three headline figures the demo is calibrated to.

These follow CONTRACT §4.2–4.4 literally, but share no code with `gis.audit`: the demo is calibrated against this
module while it is generated, and the real audit must then agree (tests/test_demo_calibration.py).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

import shapely

from data import RULES_FILE

__all__ = [
    "AS_OF",
    "TARGETS",
    "figures",
    "low_efficiency_mask",
    "mujun_grades",
    "thresholds",
    "unsupplied_mu",
]

#: the audit date the demo is calibrated for
AS_OF = dt.date(2025, 8, 31)
#: 批而未供 亩, 低效 亩, industrial development intensity
TARGETS = {"approved_unsupplied_mu": 800.0, "low_efficiency_mu": 2200.0, "intensity": 0.45}
MU_PER_M2 = 15.0 / 10_000.0


def thresholds() -> dict:
    """Default low-efficiency minimums from the rules file (read directly, not through gis.rules)."""
    import tomllib

    with RULES_FILE.open("rb") as fh:
        raw = tomllib.load(fh)
    le = raw["low_efficiency"]
    return {
        "far_default": le["far_min_default"]["value"],
        "far_by_division": le["far_min_by_division"]["value"],
        "coverage": le["coverage_min"]["value"],
        "investment": le["investment_min_wan_per_mu"]["value"],
        "tax": le["tax_min_wan_per_mu"]["value"],
        "w_tax": le["mujun_weight_tax"]["value"],
        "w_output": le["mujun_weight_output"]["value"],
        "cut_c": le["mujun_grade_cutoffs"]["value"]["C"],
    }


def _ts(as_of: dt.date) -> pd.Timestamp:
    return pd.Timestamp(as_of)


def _supplied(parcels: pd.DataFrame, as_of: dt.date) -> np.ndarray:
    on = pd.to_datetime(parcels["supplied_on"])
    return ((parcels["supply_status"] == "supplied") & on.notna() & (on <= _ts(as_of))).to_numpy()


def unsupplied_mu(parcels: pd.DataFrame, batches: pd.DataFrame, as_of: dt.date = AS_OF) -> float:
    """Σ over batches approved by as-of of batch area − area(batch ∩ union of supplied parcels), in 亩."""
    live = batches[pd.to_datetime(batches["approved_on"]) <= _ts(as_of)]
    geoms = np.asarray(live.geometry.values if hasattr(live, "geometry") else live["geometry"], dtype=object)
    supplied = shapely.union_all(
        np.asarray(parcels["geometry"].to_numpy(), dtype=object)[_supplied(parcels, as_of)]
    )
    covered = shapely.area(shapely.intersection(geoms, supplied))
    return float((shapely.area(geoms) - covered).sum() * MU_PER_M2)


def _far_min(codes: pd.Series, th: dict) -> np.ndarray:
    div = codes.fillna("").astype(str).str.extract(r"(\d{2})")[0]
    return div.map(
        lambda d: th["far_by_division"].get(d, th["far_default"]) if isinstance(d, str) else th["far_default"]
    ).to_numpy(dtype=float)


def examined_mask(parcels: pd.DataFrame, as_of: dt.date = AS_OF) -> np.ndarray:
    """Supplied industrial/warehouse parcels that are built (completed by as-of or with an operating status)."""
    done = pd.to_datetime(parcels["completed_on"]) <= _ts(as_of)
    built = (done | parcels["operating_status"].notna()).to_numpy()
    use = parcels["planned_use"].isin(["industrial", "warehouse"]).to_numpy()
    return _supplied(parcels, as_of) & use & built


def mujun_grades(parcels: pd.DataFrame, examined: np.ndarray, th: dict) -> pd.Series:
    """亩均 grade per CONTRACT §4.2 (None where unrated)."""
    area_mu = shapely.area(np.asarray(parcels["geometry"].to_numpy(), dtype=object)) * MU_PER_M2
    tax = parcels["annual_tax_wan"].to_numpy(dtype=float) / area_mu
    out = parcels["annual_output_wan"].to_numpy(dtype=float) / area_mu
    stopped = (parcels["operating_status"] == "stopped").to_numpy()
    rated = examined & ~np.isnan(tax) & ~np.isnan(out) & ~stopped
    grades = pd.Series([None] * len(parcels), index=parcels.index, dtype=object)
    if rated.any():
        score = 100 * (th["w_tax"] * tax / tax[rated].mean() + th["w_output"] * out / out[rated].mean())
        s = score[rated]
        rank = 1 + (s[None, :] > s[:, None]).sum(axis=1)
        p = rank / rated.sum()
        g = np.where(p <= 0.25, "A", np.where(p <= 0.70, "B", np.where(p <= th["cut_c"], "C", "D")))
        grades[rated] = g
    grades[examined & stopped] = "D"
    return grades


def low_efficiency_mask(parcels: pd.DataFrame, as_of: dt.date = AS_OF, th: dict | None = None) -> np.ndarray:
    """Examined parcels with at least one §4.2 reason."""
    th = th or thresholds()
    examined = examined_mask(parcels, as_of)
    area = shapely.area(np.asarray(parcels["geometry"].to_numpy(), dtype=object))
    area_mu = area * MU_PER_M2

    def own(col: str, default: np.ndarray | float) -> np.ndarray:
        v = parcels[col].to_numpy(dtype=float) if col in parcels else np.full(len(parcels), np.nan)
        return np.where(np.isnan(v), default, v)

    with np.errstate(invalid="ignore"):
        far = parcels["floor_area_m2"].to_numpy(dtype=float) / area < own(
            "far_min", _far_min(parcels["industry_code"], th)
        )
        cov = parcels["footprint_m2"].to_numpy(dtype=float) / area < own("coverage_min", th["coverage"])
        inv = parcels["fixed_investment_wan"].to_numpy(dtype=float) / area_mu < own(
            "investment_min_wan_per_mu", th["investment"]
        )
        tax = parcels["annual_tax_wan"].to_numpy(dtype=float) / area_mu < own("tax_min_wan_per_mu", th["tax"])
    stopped = (parcels["operating_status"] == "stopped").to_numpy()
    grade_d = (mujun_grades(parcels, examined, th) == "D").to_numpy()
    return examined & (far | cov | inv | tax | stopped | grade_d)


def intensity(parcels: pd.DataFrame, as_of: dt.date = AS_OF) -> float:
    """Area of built industrial parcels ÷ area of all industrial parcels."""
    ind = (parcels["planned_use"] == "industrial").to_numpy()
    done = pd.to_datetime(parcels["completed_on"]) <= _ts(as_of)
    built = (done | parcels["operating_status"].notna()).to_numpy()
    area = shapely.area(np.asarray(parcels["geometry"].to_numpy(), dtype=object))
    return float(area[ind & built].sum() / area[ind].sum())


def figures(parcels: pd.DataFrame, batches: pd.DataFrame, as_of: dt.date = AS_OF) -> dict[str, float]:
    """The three calibrated figures, computed independently of gis.audit."""
    area_mu = shapely.area(np.asarray(parcels["geometry"].to_numpy(), dtype=object)) * MU_PER_M2
    return {
        "approved_unsupplied_mu": unsupplied_mu(parcels, batches, as_of),
        "low_efficiency_mu": float(area_mu[low_efficiency_mask(parcels, as_of)].sum()),
        "intensity": intensity(parcels, as_of),
    }
