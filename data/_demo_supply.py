"""Demo zone history: development phases, approval batches (2016–2025) and land supply, calibrated to 批而未供."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from dateutil.relativedelta import relativedelta

import shapely

from data._demo_calibrate import AS_OF, MU_PER_M2, TARGETS

__all__ = ["assign_phases", "choose_unsupplied", "make_batches", "supply_dates"]

#: cumulative share of the parcel area developed by the end of each phase (1: stock before 2016, 2: batches
#: 2016–2020, 3: batches 2021–2025, 4: expansion land not yet approved)
PHASE_SHARES = (0.30, 0.53, 0.72)
CORE = (2300.0, 1000.0)
HILL = (5900.0, 4300.0)


def _day(rng: np.random.Generator, start: dt.date, end: dt.date) -> dt.date:
    """A random day in [start, end], never a weekend (documents are signed on working days)."""
    span = max((end - start).days, 0)
    d = start + dt.timedelta(days=int(rng.integers(0, span + 1)))
    while d.weekday() >= 5:
        d -= dt.timedelta(days=1)
    return max(d, start)


def assign_phases(p: pd.DataFrame, rng: np.random.Generator) -> None:
    """Development order from the core outwards (blocks develop together), cut into phases by area."""
    blocks = p["block"].to_numpy()
    noise = rng.normal(0.0, 380.0, blocks.max() + 1)
    d_core = np.hypot(p["lx"] - CORE[0], p["ly"] - CORE[1]).to_numpy()
    d_hill = np.hypot(p["lx"] - HILL[0], p["ly"] - HILL[1]).to_numpy()
    key = d_core + noise[blocks] + np.where(d_hill < 1300, 1500.0, 0.0)
    key = key - np.where(p["planned_use"].isin(["residential", "commercial"]), 900.0, 0.0)
    key = key + rng.uniform(0, 60, len(p))  # order of parcels within a block
    p["order_key"] = key
    order = np.argsort(key, kind="stable")
    area = p["area_m2"].to_numpy()
    cum = np.empty(len(p))
    cum[order] = np.cumsum(area[order]) / area.sum()
    p["phase"] = np.searchsorted(np.array(PHASE_SHARES), cum) + 1
    p.loc[p["planned_use"] == "green", "phase"] = 0


def make_batches(p: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """One approval batch per block and phase (2 and 3), approved in development order; plus one after as-of."""
    p["batch_id"] = None
    groups = (
        p[p["phase"].isin([2, 3])]
        .groupby(["phase", "block"])
        .agg(key=("order_key", "mean"), m2=("area_m2", "sum"))
        .reset_index()
        .sort_values(["phase", "key"])
    )
    rows = []
    for phase, window in (
        (2, (dt.date(2016, 2, 29), dt.date(2020, 12, 20))),
        (3, (dt.date(2021, 3, 1), dt.date(2025, 6, 30))),
    ):
        g = groups[groups["phase"] == phase]
        n = len(g)
        span = (window[1] - window[0]).days
        days = np.sort(rng.uniform(0, span, n)).astype(int)
        days[0] = 0
        for (_, r), d in zip(g.iterrows(), days, strict=True):
            rows.append((phase, int(r["block"]), window[0] + dt.timedelta(days=int(d))))
    # the expansion's first batch: approved after the as-of date, so it does not yet exist then
    exp = p[p["phase"] == 4].sort_values("order_key")
    late_block = int(exp["block"].iloc[0])
    rows.append((4, late_block, dt.date(2025, 10, 20)))

    batches = []
    seq: dict[int, int] = {}
    doc = dict.fromkeys(range(2016, 2026), 0)
    for phase, block, approved in sorted(rows, key=lambda r: r[2]):
        year = approved.year
        seq[year] = seq.get(year, 0) + 1
        doc[year] = doc[year] + int(rng.integers(18, 95))
        bid = f"{year}-{seq[year]:02d}"
        members = (p["block"] == block) & (p["phase"] == phase)
        if phase == 4:  # only the first few parcels of that block (~30 亩)
            idx = p.index[members].to_numpy()
            idx = idx[np.argsort(p.loc[idx, "order_key"].to_numpy())]
            keep = idx[np.cumsum(p.loc[idx, "area_m2"].to_numpy()) * MU_PER_M2 <= 45][:2]
            members = p.index.isin(keep if len(keep) else idx[:1])
        p.loc[members, "batch_id"] = bid
        p.loc[members, "approved_on"] = approved
        batches.append(
            {
                "batch_id": bid,
                "batch_name": f"示范县{year}年度第{seq[year]}批次城镇建设用地",
                "approved_on": approved,
                "approval_doc": f"皖政地〔{year}〕{doc[year]}号",
                "geometry": shapely.union_all(p.loc[members, "geometry"].to_numpy()),
            }
        )
    return pd.DataFrame(batches)


def choose_unsupplied(p: pd.DataFrame, batches: pd.DataFrame, rng: np.random.Generator) -> None:
    """Pick the parcels in batches that are still unsupplied at as-of so the remainders sum to the target.

    Sets ``p["supplied"]`` (as of the calibration date). The batches approved latest are the least supplied;
    one whole batch approved more than two years ago is untouched (lapse risk), and two 2016–2020 parcels remain.
    """
    as_of = pd.Timestamp(AS_OF)
    target = TARGETS["approved_unsupplied_mu"]
    in_batch = p["batch_id"].notna() & (pd.to_datetime(p["approved_on"]) <= as_of) & (p["phase"] != 0)
    p["supplied"] = p["phase"].isin([0, 1]) | in_batch
    mu = p["area_m2"].to_numpy() * MU_PER_M2

    approved = pd.to_datetime(batches["approved_on"])
    b_mu = batches["batch_id"].map(p.groupby("batch_id")["area_m2"].sum() * MU_PER_M2)
    lapse = batches[(approved >= "2021-06-01") & (approved <= "2023-06-30") & (b_mu.between(40, 180))]
    lapse_id = lapse.sort_values("approved_on")["batch_id"].iloc[0] if len(lapse) else None

    forced = list(p.index[p["batch_id"] == lapse_id]) if lapse_id else []
    old = p.index[in_batch & (p["phase"] == 2) & (mu > 8) & (mu < 40)]
    forced += list(rng.choice(old, size=min(2, len(old)), replace=False))
    # propensity to be still unsupplied: late approval, plus noise
    age = (as_of - pd.to_datetime(p["approved_on"])).dt.days.to_numpy(dtype=float)
    score = -age + rng.normal(0, 260, len(p))
    cands = [
        i
        for i in p.index[in_batch][np.argsort(-score[in_batch.to_numpy()], kind="stable")]
        if i not in forced
    ]
    total = 0.0
    chosen = []
    for i in forced + cands:
        if total + mu[p.index.get_loc(i)] <= target + 4:
            chosen.append(i)
            total += mu[p.index.get_loc(i)]
        if target - total < 3:
            break
    p.loc[chosen, "supplied"] = False
    p["lapse_batch"] = p["batch_id"] == lapse_id


def supply_dates(p: pd.DataFrame, rng: np.random.Generator) -> None:
    """Supply date, method and price for the parcels supplied by as-of."""
    p["supplied_on"] = None
    p["supply_method"] = None
    p["land_price_wan"] = np.nan
    for i in p.index[p["supplied"]]:
        phase, use = p.at[i, "phase"], p.at[i, "planned_use"]
        if phase == 0:
            on = _day(rng, dt.date(2012, 3, 1), dt.date(2016, 12, 31))
        elif phase == 1:
            on = _day(rng, dt.date(2006, 4, 1), dt.date(2015, 11, 30))
        else:
            approved = p.at[i, "approved_on"]
            lag = int(rng.gamma(2.0, 160.0)) + 45
            on = min(approved + dt.timedelta(days=lag), AS_OF - dt.timedelta(days=20))
            on = _day(rng, on, on)
        p.at[i, "supplied_on"] = on
        if use in ("public", "green", "infrastructure"):
            p.at[i, "supply_method"] = "allocation"
            continue
        p.at[i, "supply_method"] = "lease" if use == "industrial" and rng.random() < 0.06 else "transfer"
        per_mu = {"industrial": 19.2, "warehouse": 21.0, "commercial": 95.0, "residential": 168.0}[use]
        per_mu *= 1.0 + 0.035 * (on.year - 2006) + rng.normal(0, 0.06)
        p.at[i, "land_price_wan"] = round(per_mu * p.at[i, "area_m2"] * MU_PER_M2, 2)


def add_months(d: dt.date, months: int) -> dt.date:
    """Calendar month arithmetic (29 Feb + 12 months = 28 Feb)."""
    return d + relativedelta(months=months)
