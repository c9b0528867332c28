"""The demo zone's parcels and batches: layout, history, enterprises and calibration, in one seeded pass."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

import shapely

from data._demo_calibrate import MU_PER_M2, figures
from data._demo_economics import economics, enterprises, unsupplied_details
from data._demo_layout import Layout, build_layout, to_crs_frame
from data._demo_progress import apply_idle_cases, progress
from data._demo_supply import add_months, assign_phases, choose_unsupplied, make_batches, supply_dates
from gis.schema import LAYERS

__all__ = ["PARCEL_COLUMNS", "Zone", "build_zone"]

PARCEL_COLUMNS = [
    *(f.name for f in LAYERS["parcels"].fields),
    # extra fields, passed through by the reader
    "enterprise",
    "industry_chain",
    "delay_note",
    "batch_id",
]
_USE_CODE = {
    "industrial": "M",
    "warehouse": "W",
    "commercial": "B",
    "residential": "R",
    "public": "A",
    "green": "G",
}


class Zone:
    """Parcels (with helper columns) and batches of the demo zone, geometry in EPSG:4527."""

    def __init__(self, layout: Layout, parcels: pd.DataFrame, batches: pd.DataFrame) -> None:
        self.layout = layout
        self.parcels = parcels
        self.batches = batches

    def figures(self) -> dict[str, float]:
        """The generator's own 批而未供 / 低效 / intensity figures as of the calibration date."""
        return figures(_typed(self.parcels), self.batches)


def _typed(p: pd.DataFrame) -> pd.DataFrame:
    out = p.copy()
    for c in [c for c in out.columns if c.endswith("_on")]:
        out[c] = pd.to_datetime(out[c])
    return out


def build_zone(seed: int) -> Zone:
    """Build the calibrated demo zone from a seed."""
    rng = np.random.default_rng(seed)
    layout = build_layout(rng)
    p = layout.parcels.copy()
    local = p["geometry"].to_numpy()
    cent = shapely.get_coordinates(shapely.centroid(local))
    p["lx"], p["ly"] = cent[:, 0], cent[:, 1]
    p["local_geometry"] = local
    p["geometry"] = to_crs_frame(local)
    p["area_m2"] = shapely.area(p["geometry"].to_numpy())
    p = _ids(p)

    assign_phases(p, rng)
    p["approved_on"] = None
    batches = make_batches(p, rng)
    choose_unsupplied(p, batches, rng)
    supply_dates(p, rng)
    p["supply_status"] = np.where(p["supplied"], "supplied", "unsupplied")
    for col in ("delay_cause", "delay_note", "developed_fraction", "invested_wan", "total_investment_wan"):
        p[col] = None if col.startswith("delay") else np.nan
    for col in ("agreed_start_on", "agreed_completion_on", "started_on", "completed_on", "suspended_on"):
        p[col] = None
    apply_idle_cases(p, rng)
    progress(p, rng)
    _late_supply(p, rng)
    enterprises(p, rng)
    economics(p, rng)
    unsupplied_details(p, rng)
    _contract_minimums(p)
    _waiting_for_hv_line(p)
    p.loc[p["supply_status"] == "supplied", "delay_cause"] = p.loc[
        p["supply_status"] == "supplied", "delay_cause"
    ].fillna("owner")
    return Zone(layout, p, batches)


def _ids(p: pd.DataFrame) -> pd.DataFrame:
    """Control-plan style ids: block number, use letter, parcel number (西南→东北)."""
    p = p.assign(_k=np.round(p["ly"] / 50) * 1e5 + p["lx"]).sort_values(["block", "_k"], kind="stable")
    k = p.groupby("block").cumcount() + 1
    p["parcel_id"] = [
        f"SF{b:02d}-{_USE_CODE[u]}{n:02d}" for b, u, n in zip(p["block"], p["planned_use"], k, strict=True)
    ]
    return p.drop(columns="_k").reset_index(drop=True)


def _late_supply(p: pd.DataFrame, rng: np.random.Generator) -> None:
    """One parcel whose contract was signed after the calibration date: unsupplied as of then, supplied now."""
    pool = p.index[
        ~p["supplied"]
        & (p["planned_use"] == "industrial")
        & p["phase"].eq(3)
        & (p["area_m2"] * MU_PER_M2).between(10, 30)
        & ~p["lapse_batch"]
    ]
    if not len(pool):
        return
    i = int(rng.choice(pool))
    on = dt.date(2025, 10, 15)
    p.at[i, "supply_status"] = "supplied"
    p.at[i, "supplied_on"] = on
    p.at[i, "supply_method"] = "transfer"
    p.at[i, "land_price_wan"] = round(26.5 * p.at[i, "area_m2"] * MU_PER_M2, 2)
    p.at[i, "agreed_start_on"] = add_months(on, 6)
    p.at[i, "agreed_completion_on"] = add_months(on, 30)
    p.at[i, "delay_cause"] = "owner"


def _waiting_for_hv_line(p: pd.DataFrame) -> None:
    """The expansion parcel a new-energy project waits for until the 220 kV line over it is moved."""
    mu = p["area_m2"] * MU_PER_M2
    pool = p[
        (p["phase"] == 4) & (p["planned_use"] == "industrial") & mu.between(40, 160) & p["batch_id"].isna()
    ]
    target = pool.index[np.argmin(np.hypot(pool["lx"] - 4300, pool["ly"] - 3500))]
    p["hv_waiting"] = p.index == target
    p.at[target, "name"] = f"{p.at[target, 'place']}新能源装备产业园地块（待供）"
    p.at[target, "industry_chain"] = "新能源装备"
    p.at[target, "delay_note"] = "意向项目：储能装备制造；需待220kV线路迁改后方可供地"


def _contract_minimums(p: pd.DataFrame) -> None:
    """标准地 contracts since 2021 carry their own control values (they override the default minimums)."""
    on = pd.to_datetime(p["supplied_on"])
    std = (p["supply_status"] == "supplied") & (on >= "2021-01-01") & p["completed_on"].isna()
    std &= p["planned_use"] == "industrial"
    p["far_min"] = np.where(std, 1.2, np.nan)
    p["coverage_min"] = np.where(std, 0.45, np.nan)
    p["investment_min_wan_per_mu"] = np.where(std, 300.0, np.nan)
    p["tax_min_wan_per_mu"] = np.where(std, 15.0, np.nan)
