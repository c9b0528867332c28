"""Idle land (闲置土地) under 《闲置土地处置办法》 (国土资源部令第53号): stage, disposal, fee and days (CONTRACT §4.1).

Every test is a column operation; anniversaries are calendar anniversaries (``pd.DateOffset(years=n)``, so
29 Feb + 1 year = 28 Feb) and a date after as-of counts as not yet happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from gis.audit._columns import add_years, as_timestamp, dates, happened, numbers, supplied_mask, texts
from gis.rules import Rules

__all__ = [
    "IDLE_DISPOSALS",
    "IDLE_FINDING_STAGES",
    "IDLE_STAGES",
    "IdleAssessment",
    "assess_idle",
]

IDLE_STAGES = ("none", "overdue_start", "idle_1y", "idle_2y", "stalled", "overdue_completion")
#: stages that are idle land (finding ``idle``); the others are early warnings at most
IDLE_FINDING_STAGES = ("idle_1y", "idle_2y", "stalled")
IDLE_DISPOSALS = ("none", "idle_fee", "reclaim", "negotiate", "review", "warn")
#: causes under Art. 8 that switch the disposal from fee / reclaim to negotiation
NEGOTIATED_CAUSES = ("government", "force_majeure")


@dataclass
class IdleAssessment:
    """The §4.1 columns for every parcel, and which inputs a case needed but lacked.

    Attributes
    ----------
    frame : pandas.DataFrame
        ``idle_stage``, ``idle_since``, ``idle_disposal``, ``idle_fee_wan``, ``idle_days``, same index as the parcels.
    missing : dict of str to numpy.ndarray
        Field name -> boolean mask of parcels that needed it, in the order they are listed in ``missing_inputs``.
    """

    frame: pd.DataFrame
    missing: dict[str, np.ndarray]


def assess_idle(parcels: pd.DataFrame, as_of: date, rules: Rules) -> IdleAssessment:
    """Classify every parcel's idle stage and disposal as of `as_of`.

    Parameters
    ----------
    parcels : pandas.DataFrame
        The normalized parcels layer (CONTRACT §2.1 fields; absent optional fields count as empty).
    as_of : datetime.date
        The audit date; later dates have not happened.
    rules : gis.rules.Rules
        Thresholds ``idle.*``.

    Returns
    -------
    IdleAssessment

    Examples
    --------
    >>> import pandas as pd
    >>> from datetime import date
    >>> from gis.rules import load_rules
    >>> p = pd.DataFrame({"supply_status": ["supplied"], "agreed_start_on": pd.to_datetime(["2020-02-29"])})
    >>> assess_idle(p, date(2021, 2, 28), load_rules()).frame["idle_stage"].tolist()
    ['idle_1y']
    """
    ts = as_timestamp(as_of)
    n = len(parcels)
    agreed_start = dates(parcels, "agreed_start_on")
    agreed_completion = dates(parcels, "agreed_completion_on")
    suspended_on = dates(parcels, "suspended_on")

    supplied = supplied_mask(parcels, ts)
    completed = happened(dates(parcels, "completed_on"), ts)
    examined = supplied & ~completed
    started = happened(dates(parcels, "started_on"), ts)
    not_started = examined & ~started

    # started but developed < 1/3 or invested < 25 %, and suspended: 53号令 Art. 2 para. 2
    developed = numbers(parcels, "developed_fraction")
    invested = numbers(parcels, "invested_wan")
    total = numbers(parcels, "total_investment_wan")
    share = invested / total.where(total > 0)
    low_dev = (developed < float(rules["idle.stalled_developed_fraction"])).to_numpy()
    low_inv = (share < float(rules["idle.stalled_investment_share"])).to_numpy()
    low_progress = low_dev | low_inv
    suspended = happened(suspended_on, ts)
    stall_case = examined & started & suspended
    stall_due = (ts >= add_years(suspended_on, rules["idle.stalled_after_years"])).to_numpy()
    stalled = stall_case & low_progress & stall_due
    # before the suspension's anniversary (or with enough progress) a started parcel is judged on completion
    other_started = examined & started & ~stalled

    since = pd.Series(pd.NaT, index=parcels.index, dtype=agreed_start.dtype)
    since = since.mask(not_started, agreed_start)
    since = since.mask(stalled, suspended_on)
    since = since.mask(other_started, agreed_completion)

    stage = np.full(n, "none", dtype=object)
    has_start = not_started & agreed_start.notna().to_numpy()
    fee_due = (ts >= add_years(agreed_start, rules["idle.fee_after_years"])).to_numpy()
    reclaim_due = (ts >= add_years(agreed_start, rules["idle.reclaim_after_years"])).to_numpy()
    stage[has_start & (ts > agreed_start).to_numpy()] = "overdue_start"
    stage[has_start & fee_due] = "idle_1y"
    stage[has_start & reclaim_due] = "idle_2y"
    stage[stalled] = "stalled"
    stage[other_started & (ts > agreed_completion).to_numpy()] = "overdue_completion"

    cause = texts(parcels, "delay_cause")
    negotiated = cause.isin(NEGOTIATED_CAUSES).to_numpy()
    disposal = np.full(n, "none", dtype=object)
    disposal[(stage == "overdue_start") | (stage == "overdue_completion")] = "warn"
    disposal[(stage == "idle_1y") & ~negotiated] = "idle_fee"
    disposal[(stage == "idle_2y") & ~negotiated] = "reclaim"
    disposal[(stage == "stalled") & ~negotiated] = "review"
    disposal[np.logical_or.reduce([stage == s for s in IDLE_FINDING_STAGES]) & negotiated] = "negotiate"

    price = numbers(parcels, "land_price_wan")
    fee = (float(rules["idle.fee_rate"]) * price).where(disposal == "idle_fee")
    active = stage != "none"
    days = pd.Series((ts - since).dt.days, index=parcels.index).astype("Int64").where(active)

    frame = pd.DataFrame(
        {
            "idle_stage": pd.Series(stage, index=parcels.index, dtype="str"),
            "idle_since": since,
            "idle_disposal": pd.Series(disposal, index=parcels.index, dtype="str"),
            "idle_fee_wan": fee,
            "idle_days": days,
        },
        index=parcels.index,
    )
    # a suspended, started parcel whose progress ratios are unknown cannot be tested for the stalled case
    unknown_progress = stall_case & ~low_progress
    missing = {
        "agreed_start_on": not_started & agreed_start.isna().to_numpy(),
        "agreed_completion_on": other_started & agreed_completion.isna().to_numpy(),
        "developed_fraction": unknown_progress & developed.isna().to_numpy(),
        "invested_wan": unknown_progress & invested.isna().to_numpy(),
        "total_investment_wan": unknown_progress & ~(total > 0).to_numpy(),
        "land_price_wan": (disposal == "idle_fee") & price.isna().to_numpy(),
    }
    return IdleAssessment(frame, missing)
