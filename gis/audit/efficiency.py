"""Low-efficiency land (低效用地): control indicators, 亩均 score and grade (CONTRACT §4.2).

Control minimums come from the parcel's own contract values when set, else from the rules (the 2008 national FAR
table re-keyed to GB/T 4754-2017 divisions, DOMAIN.md §4.4). The 亩均 grade is by rank among rated parcels.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from gis.audit._columns import as_timestamp, dates, happened, numbers, supplied_mask, texts
from gis.rules import Rules
from gis.units import mu

__all__ = [
    "LOW_EFFICIENCY_REASONS",
    "EfficiencyAssessment",
    "assess_efficiency",
    "industry_division",
    "mujun_grades",
]

LOW_EFFICIENCY_REASONS = ("far", "coverage", "investment", "tax", "stopped", "mujun_d")
EXAMINED_USES = ("industrial", "warehouse")
#: reason -> the inputs it needs (listed in ``missing_inputs`` when empty on an examined parcel)
REASON_INPUTS = {
    "far": ("floor_area_m2",),
    "coverage": ("footprint_m2",),
    "investment": ("fixed_investment_wan",),
    "tax": ("annual_tax_wan",),
    "mujun_d": ("annual_tax_wan", "annual_output_wan"),
}
_SCORE_DECIMALS = 6  # scores are rounded so that equal inputs tie despite float noise in parcel areas
_EPS = 1e-12


@dataclass
class EfficiencyAssessment:
    """The §4.2 columns for every parcel.

    Attributes
    ----------
    frame : pandas.DataFrame
        ``far``, ``building_coefficient``, ``investment_per_mu``, ``tax_per_mu``, ``output_per_mu``, the minimums
        applied (``far_required`` …), ``mujun_score``, ``mujun_grade`` and ``examined_low_efficiency``.
    reasons : dict of str to numpy.ndarray
        Reason code -> boolean mask, in the §4.2 order.
    missing : dict of str to numpy.ndarray
        Input field -> boolean mask of examined parcels that lack it.
    """

    frame: pd.DataFrame
    reasons: dict[str, np.ndarray]
    missing: dict[str, np.ndarray]


def industry_division(codes: pd.Series) -> pd.Series:
    """The GB/T 4754-2017 division (two digits) of industry codes like ``C38``, ``38``, ``3811`` or ``C3811``.

    >>> industry_division(pd.Series(["C38", "38", "3811", " c3811 ", "x", None])).tolist()
    ['38', '38', '38', '38', nan, nan]
    """
    # a zone has few distinct codes: parse each once
    position, distinct = pd.factorize(codes.astype(object).where(codes.notna()))
    parsed = pd.Series(pd.Index(distinct).astype("str")).str.extract(r"^\s*[A-Za-z]?\s*(\d{2})", expand=False)
    parsed = np.append(parsed.astype(object).to_numpy(), np.nan)  # position -1 (missing) takes the last
    return pd.Series(parsed[position], index=codes.index, dtype=object)


def mujun_grades(score: pd.Series, cutoffs: dict[str, float]) -> pd.Series:
    """A/B/C/D by rank among the scored rows (rank = 1 + rows with a higher score, p = rank ÷ N).

    Rows with a null score get null.

    >>> mujun_grades(pd.Series([90.0, 80.0, 80.0, 10.0]), {"A": 0.25, "B": 0.70, "C": 0.95}).tolist()
    ['A', 'B', 'B', 'D']
    """
    rated = score.notna().to_numpy()
    values = score.to_numpy(dtype=float)[rated]
    grade = np.full(len(score), None, dtype=object)
    if len(values):
        ordered = np.sort(values)
        higher = len(values) - np.searchsorted(ordered, values, side="right")
        p = (1 + higher) / len(values)
        letters = np.full(len(values), "D", dtype=object)
        for letter in ("C", "B", "A"):  # best last, so that it wins
            letters[p <= float(cutoffs[letter]) + _EPS] = letter
        grade[rated] = letters
    return pd.Series(grade, index=score.index, dtype=object)


def assess_efficiency(
    parcels: pd.DataFrame, area_m2: pd.Series, as_of: date, rules: Rules
) -> EfficiencyAssessment:
    """Control indicators, low-efficiency reasons and 亩均 grades as of `as_of`.

    Parameters
    ----------
    parcels : pandas.DataFrame
        The normalized parcels layer.
    area_m2 : pandas.Series
        Parcel areas in m² (projected CRS), same index.
    as_of : datetime.date
        The audit date.
    rules : gis.rules.Rules
        Thresholds ``low_efficiency.*``.

    Returns
    -------
    EfficiencyAssessment
    """
    ts = as_timestamp(as_of)
    area = area_m2.astype(float).where(area_m2 > 0)
    area_mu = mu(area)
    operating = texts(parcels, "operating_status")
    built = happened(dates(parcels, "completed_on"), ts) | operating.notna().to_numpy()
    uses = texts(parcels, "planned_use").isin(EXAMINED_USES).to_numpy()
    examined = supplied_mask(parcels, ts) & uses & built

    floor = numbers(parcels, "floor_area_m2")
    footprint = numbers(parcels, "footprint_m2")
    fixed = numbers(parcels, "fixed_investment_wan")
    tax = numbers(parcels, "annual_tax_wan")
    output = numbers(parcels, "annual_output_wan")
    far = floor / area
    coefficient = footprint / area
    investment = fixed / area_mu
    tax_mu = tax / area_mu
    output_mu = output / area_mu

    table = {str(k): float(v) for k, v in rules["low_efficiency.far_min_by_division"].items()}
    division = industry_division(texts(parcels, "industry_code"))
    by_table = division.map(table).astype(float).fillna(float(rules["low_efficiency.far_min_default"]))
    far_required = numbers(parcels, "far_min").fillna(by_table)
    coverage_required = numbers(parcels, "coverage_min").fillna(float(rules["low_efficiency.coverage_min"]))
    investment_required = numbers(parcels, "investment_min_wan_per_mu").fillna(
        float(rules["low_efficiency.investment_min_wan_per_mu"])
    )
    tax_required = numbers(parcels, "tax_min_wan_per_mu").fillna(
        float(rules["low_efficiency.tax_min_wan_per_mu"])
    )

    stopped = examined & (operating == "stopped").fillna(False).to_numpy(dtype=bool)
    rated = examined & tax_mu.notna().to_numpy() & output_mu.notna().to_numpy() & ~stopped
    score = _mujun_scores(tax_mu, output_mu, rated, rules)
    grade = mujun_grades(score, rules["low_efficiency.mujun_grade_cutoffs"])
    grade = grade.mask(stopped, "D")

    reasons = {
        "far": examined & (far < far_required).to_numpy(),
        "coverage": examined & (coefficient < coverage_required).to_numpy(),
        "investment": examined & (investment < investment_required).to_numpy(),
        "tax": examined & (tax_mu < tax_required).to_numpy(),
        "stopped": stopped,
        "mujun_d": (grade == "D").to_numpy(),
    }
    columns = {"floor_area_m2": floor, "footprint_m2": footprint, "fixed_investment_wan": fixed}
    columns |= {"annual_tax_wan": tax, "annual_output_wan": output}
    missing: dict[str, np.ndarray] = {}
    for reason, fields in REASON_INPUTS.items():
        # a stopped parcel is D whatever its figures, so its 亩均 inputs are not missing
        needs = examined & ~stopped if reason == "mujun_d" else examined
        for name in fields:
            flag = needs & columns[name].isna().to_numpy()
            missing[name] = missing[name] | flag if name in missing else flag

    frame = pd.DataFrame(
        {
            "far": far,
            "building_coefficient": coefficient,
            "investment_per_mu": investment,
            "tax_per_mu": tax_mu,
            "output_per_mu": output_mu,
            "industry_division": division,
            "far_required": far_required,
            "coverage_required": coverage_required,
            "investment_required_wan_per_mu": investment_required,
            "tax_required_wan_per_mu": tax_required,
            "mujun_score": score,
            "mujun_grade": grade,
            "examined_low_efficiency": examined,
        },
        index=parcels.index,
    )
    return EfficiencyAssessment(frame, reasons, missing)


def _mujun_scores(tax_mu: pd.Series, output_mu: pd.Series, rated: np.ndarray, rules: Rules) -> pd.Series:
    """100 × (w_tax × tax/mean tax + w_out × output/mean output) over the rated parcels; null elsewhere."""
    score = pd.Series(np.nan, index=tax_mu.index, dtype=float)
    if not rated.any():
        return score
    t = tax_mu.to_numpy(dtype=float)[rated]
    o = output_mu.to_numpy(dtype=float)[rated]
    w_tax = float(rules["low_efficiency.mujun_weight_tax"])
    w_out = float(rules["low_efficiency.mujun_weight_output"])
    # a zero mean (nobody pays tax, say) gives that term no weight instead of dividing by zero
    t_mean, o_mean = t.mean(), o.mean()
    part_t = t / t_mean if t_mean != 0 else np.zeros_like(t)
    part_o = o / o_mean if o_mean != 0 else np.zeros_like(o)
    score[rated] = np.round(100.0 * (w_tax * part_t + w_out * part_o), _SCORE_DECIMALS)
    return score
