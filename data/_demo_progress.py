"""Demo zone construction progress: built parcels (calibrated to the development intensity), sites under
construction, and idle land in every stage of 《闲置土地处置办法》 with owner, government and force-majeure causes."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from data._demo_calibrate import AS_OF, MU_PER_M2, TARGETS
from data._demo_supply import _day, add_months

__all__ = ["IDLE_CASES", "apply_idle_cases", "progress"]

D = dt.date
#: idle land cases: (label, planned use, cause, note, kind, window). kind "start" places the agreed start date in
#: the window and leaves the parcel unstarted; "suspend" starts it and suspends it within the window; "complete"
#: starts it and places the agreed completion in the window.
IDLE_CASES: list[tuple[str, str, str, str | None, str, tuple[dt.date, dt.date]]] = [
    (
        "idle_2y",
        "industrial",
        "owner",
        "企业投资计划调整，未按约定动工",
        "start",
        (D(2021, 9, 1), D(2023, 3, 31)),
    ),
    (
        "idle_2y",
        "industrial",
        "government",
        "规划调整：{road}线位调整，用地红线待重新核定",
        "start",
        (D(2022, 5, 1), D(2023, 6, 30)),
    ),
    (
        "idle_2y",
        "industrial",
        "force_majeure",
        "2020年7月特大洪涝灾害，场地受淹，前期工作推迟",
        "start",
        (D(2020, 9, 1), D(2021, 12, 31)),
    ),
    (
        "idle_2y",
        "commercial",
        "owner",
        "开发企业资金紧张，未按期动工",
        "start",
        (D(2021, 6, 1), D(2023, 6, 30)),
    ),
    ("idle_1y", "industrial", "owner", None, "start", (D(2024, 2, 29), D(2024, 2, 29))),
    (
        "idle_1y",
        "industrial",
        "government",
        "110kV线路未完成迁改，不具备动工条件",
        "start",
        (D(2023, 10, 9), D(2024, 6, 28)),
    ),
    ("idle_1y", "warehouse", "owner", "企业经营困难，暂缓建设", "start", (D(2023, 9, 15), D(2024, 8, 1))),
    ("overdue_start", "industrial", "owner", None, "start", (D(2024, 9, 10), D(2025, 7, 31))),
    (
        "overdue_start",
        "industrial",
        "government",
        "征地拆迁扫尾未完成，未按约定交地",
        "start",
        (D(2024, 10, 8), D(2025, 6, 30)),
    ),
    (
        "stalled",
        "industrial",
        "owner",
        "企业资金链断裂，停工至今",
        "suspend",
        (D(2022, 10, 10), D(2024, 5, 31)),
    ),
    (
        "stalled",
        "industrial",
        "government",
        "规划调整：拟建高铁线位穿越，暂停建设",
        "suspend",
        (D(2023, 3, 1), D(2024, 6, 28)),
    ),
    (
        "suspended_recent",
        "industrial",
        "owner",
        "停工整改（未满一年）",
        "suspend",
        (D(2025, 3, 17), D(2025, 3, 17)),
    ),
    ("overdue_completion", "industrial", "owner", None, "complete", (D(2024, 6, 1), D(2025, 7, 31))),
    (
        "overdue_completion",
        "industrial",
        "owner",
        "设备进口延误，竣工推迟",
        "complete",
        (D(2024, 9, 1), D(2025, 6, 30)),
    ),
    ("overdue_completion", "residential", "owner", None, "complete", (D(2024, 3, 1), D(2025, 5, 30))),
]


def _pick(
    p: pd.DataFrame, use: str, latest_supply: dt.date, taken: set, rng: np.random.Generator
) -> int | None:
    mu = p["area_m2"] * MU_PER_M2
    ok = (
        p["supplied"]
        & (p["planned_use"] == use)
        & p["phase"].isin([2, 3])
        & mu.between(12, 160)
        & ~p.index.isin(list(taken))
        & (pd.to_datetime(p["approved_on"]) <= pd.Timestamp(latest_supply - dt.timedelta(days=40)))
    )
    idx = p.index[ok]
    if not len(
        idx
    ):  # no batch parcel of that use: fall back to the pre-2016 stock (approved before the batches)
        idx = p.index[
            p["supplied"] & (p["planned_use"] == use) & (p["phase"] == 1) & ~p.index.isin(list(taken))
        ]
    return int(rng.choice(idx)) if len(idx) else None


def apply_idle_cases(p: pd.DataFrame, rng: np.random.Generator) -> None:
    """Place every idle case on a suitable supplied parcel and give it consistent dates."""
    taken: set = set()
    p["idle_case"] = None
    for label, use, cause, note, kind, (lo, hi) in IDLE_CASES:
        key = _day(rng, lo, hi) if lo != hi else lo
        # supply 6 months before the agreed start (the usual 交地后6个月内开工 clause)
        start = (
            key if kind == "start" else _day(rng, key - dt.timedelta(days=900), key - dt.timedelta(days=500))
        )
        if kind == "complete":
            start = add_months(key, -24)
        supplied = add_months(start, -6)
        i = _pick(p, use, supplied, taken, rng)
        if i is None and use != "industrial":  # e.g. a seed whose warehouse blocks are all expansion land
            i = _pick(p, "industrial", supplied, taken, rng)
        if i is None:
            raise RuntimeError(f"no parcel for idle case {label} {use}")
        taken.add(i)
        p.at[i, "idle_case"] = label
        p.at[i, "supplied_on"] = supplied
        p.at[i, "agreed_start_on"] = start
        p.at[i, "agreed_completion_on"] = add_months(start, 24)
        p.at[i, "delay_cause"] = cause
        p.at[i, "delay_note"] = note.format(road=p.at[i, "place"].split("、")[0][:3]) if note else None
        total = round(float(rng.uniform(250, 420)) * p.at[i, "area_m2"] * MU_PER_M2, 0)
        p.at[i, "total_investment_wan"] = total
        if kind == "start":
            p.at[i, "invested_wan"] = round(total * float(rng.uniform(0.0, 0.06)), 0)
            p.at[i, "developed_fraction"] = 0.0
            continue
        p.at[i, "started_on"] = start + dt.timedelta(days=int(rng.integers(5, 60)))
        if kind == "suspend":
            p.at[i, "suspended_on"] = key
            p.at[i, "developed_fraction"] = round(float(rng.uniform(0.12, 0.3)), 2)
            p.at[i, "invested_wan"] = round(total * float(rng.uniform(0.1, 0.22)), 0)
            if label == "suspended_recent":
                p.at[i, "agreed_completion_on"] = key + dt.timedelta(days=60)
        else:
            p.at[i, "agreed_completion_on"] = key
            p.at[i, "developed_fraction"] = round(float(rng.uniform(0.5, 0.85)), 2)
            p.at[i, "invested_wan"] = round(total * float(rng.uniform(0.45, 0.8)), 0)


def _complete(p: pd.DataFrame, i: int, rng: np.random.Generator) -> None:
    s = p.at[i, "supplied_on"]
    start = p.at[i, "agreed_start_on"]
    started = max(start + dt.timedelta(days=int(rng.normal(-10, 45))), s + dt.timedelta(days=30))
    latest = AS_OF - dt.timedelta(days=20)
    done = started + dt.timedelta(days=int(rng.uniform(420, 900)))
    if done > latest:
        done = max(started + dt.timedelta(days=240), latest - dt.timedelta(days=int(rng.uniform(0, 60))))
    p.at[i, "started_on"] = min(started, done - dt.timedelta(days=200))
    p.at[i, "completed_on"] = done
    p.at[i, "developed_fraction"] = 1.0


def progress(p: pd.DataFrame, rng: np.random.Generator) -> None:
    """Agreed dates for every supplied parcel; built parcels up to the intensity target; the rest under way."""
    for col in ("agreed_start_on", "agreed_completion_on", "started_on", "completed_on", "suspended_on"):
        if col not in p:
            p[col] = None
    sup = p["supplied"] & p["idle_case"].isna()
    for i in p.index[sup]:
        start = add_months(p.at[i, "supplied_on"], 6)
        p.at[i, "agreed_start_on"] = start
        p.at[i, "agreed_completion_on"] = add_months(
            start, 24 if p.at[i, "planned_use"] != "residential" else 36
        )

    # built industrial parcels, oldest supply first, until the target share of all industrial land
    industrial = p["planned_use"] == "industrial"
    goal = TARGETS["intensity"] * p.loc[industrial, "area_m2"].sum()
    cands = p[sup & industrial].sort_values("supplied_on", kind="stable")
    built: list[int] = []
    total = 0.0
    for i, a in zip(cands.index, cands["area_m2"], strict=True):
        if total + a <= goal + 800:
            built.append(i)
            total += a
        if goal - total < 1500:
            break
    others = p.index[sup & ~industrial & (pd.to_datetime(p["supplied_on"]) <= pd.Timestamp("2022-09-30"))]
    for i in list(built) + list(others):
        _complete(p, i, rng)

    under_way = sup & p["completed_on"].isna()
    for i in p.index[under_way]:
        a = p.at[i, "agreed_start_on"]
        if a > AS_OF:
            s = p.at[i, "supplied_on"]
            if rng.random() < 0.35 and add_months(s, 3) < AS_OF:
                p.at[i, "started_on"] = add_months(s, 3)
                p.at[i, "developed_fraction"] = round(float(rng.uniform(0.05, 0.3)), 2)
            continue
        p.at[i, "started_on"] = max(a - dt.timedelta(days=int(rng.integers(0, 50))), p.at[i, "supplied_on"])
        p.at[i, "developed_fraction"] = round(float(rng.uniform(0.35, 0.9)), 2)
        if p.at[i, "agreed_completion_on"] <= AS_OF:
            # most late projects signed a supplementary agreement (补充协议) extending completion
            if rng.random() < 0.75:
                p.at[i, "agreed_completion_on"] = add_months(p.at[i, "agreed_completion_on"], 12)
                while p.at[i, "agreed_completion_on"] <= AS_OF:
                    p.at[i, "agreed_completion_on"] = add_months(p.at[i, "agreed_completion_on"], 6)
                p.at[i, "delay_note"] = "已签订补充协议，竣工期限延长"
