"""Demo enterprises: industries, names, and the economics of built parcels, calibrated to the 低效用地 total."""

from __future__ import annotations

import numpy as np
import pandas as pd

from data._demo_calibrate import (
    MU_PER_M2,
    TARGETS,
    examined_mask,
    mujun_grades,
    thresholds,
)
from data._demo_names import QUARTZ_DEEP, QUARTZ_PRODUCTS, enterprise_names, pick_code, product_for
from data._demo_supply import HILL

__all__ = ["economics", "enterprises", "unsupplied_details"]

_USE_CN = {
    "industrial": "工业",
    "warehouse": "仓储",
    "commercial": "商服",
    "residential": "住宅",
    "public": "公共服务",
    "green": "绿地",
}
_CHAIN_WEIGHTS = {"新能源装备": 0.36, "绿色食品精深加工": 0.26, "新材料": 0.18, "其他制造业": 0.20}


def enterprises(p: pd.DataFrame, rng: np.random.Generator) -> None:
    """Industry chain, GB/T 4754-2017 division, enterprise and project name of every supplied parcel."""
    for col in ("industry_chain", "industry_code", "enterprise", "name", "delay_note"):
        if col not in p:
            p[col] = None
    chains = list(_CHAIN_WEIGHTS)
    weights = np.array(list(_CHAIN_WEIGHTS.values()))
    block_chain = {b: str(rng.choice(chains, p=weights)) for b in sorted(p["block"].unique())}
    holders = p.index[(p["supply_status"] == "supplied")]
    names = iter(enterprise_names(len(holders), rng))

    # the quartz cluster: the built industrial parcels nearest the hills (where the sand is quarried)
    built_ind = p[(p["planned_use"] == "industrial") & p["completed_on"].notna()]
    d_hill = np.hypot(built_ind["lx"] - HILL[0], built_ind["ly"] - HILL[1])
    small = built_ind[(built_ind["area_m2"] * MU_PER_M2).between(10, 90)]
    near = small.loc[d_hill[small.index].sort_values(kind="stable").index[:15]]
    quartz = list(near.index[:12])
    deep = list(near.index[12:15])
    p["quartz"] = None
    for i in holders:
        use = p.at[i, "planned_use"]
        zihao = next(names)
        if use == "industrial":
            if i in quartz or i in deep:
                k = quartz.index(i) if i in quartz else deep.index(i)
                product = QUARTZ_PRODUCTS[k % len(QUARTZ_PRODUCTS)] if i in quartz else QUARTZ_DEEP[k]
                code = "B10" if i in quartz and ("开采" in product or k % 2 == 0) else "C30"
                p.at[i, "quartz"] = "processing" if i in quartz else "deep"
                p.at[i, "industry_chain"] = "新材料"
                p.at[i, "industry_code"] = code
                p.at[i, "enterprise"] = (
                    f"示范县{zihao}石英材料有限公司" if i in deep else f"示范县{zihao}石英砂有限公司"
                )
                p.at[i, "name"] = f"{zihao}{product}项目"
                continue
            chain = (
                block_chain[p.at[i, "block"]] if rng.random() < 0.8 else str(rng.choice(chains, p=weights))
            )
            code = pick_code(chain, rng)
        elif use == "warehouse":
            chain, code = "现代物流", "G59"
        else:
            p.at[i, "enterprise"] = _holder(use, zihao)
            p.at[i, "name"] = _non_industrial_name(use, zihao, p.at[i, "place"])
            continue
        product, word = product_for(code, rng)
        qty = int(rng.choice([1, 2, 3, 5, 10, 20, 30, 50]))
        unit = (
            "GW" if product in ("光伏组件",) else "GWh" if "电池" in product or "储能" in product else "万吨"
        )
        unit = "万平方米" if code in ("G59",) else unit
        prov = "安徽" if rng.random() < 0.6 else "示范县"
        p.at[i, "industry_chain"] = chain
        p.at[i, "industry_code"] = code
        p.at[i, "enterprise"] = f"{prov}{zihao}{word}有限公司"
        p.at[i, "name"] = (
            f"{zihao}年产{qty}{unit}{product}项目" if code != "G59" else f"{zihao}{product}中心项目"
        )


def _holder(use: str, zihao: str) -> str:
    if use == "public":
        return "示范县经济开发区管理委员会"
    if use == "green":
        return "示范县城市管理局"
    return f"示范县{zihao}置业有限公司"


def _non_industrial_name(use: str, zihao: str, place: str) -> str:
    if use == "residential":
        return f"{zihao}·{place[:3]}人才公寓"
    if use == "commercial":
        return f"{zihao}商业综合体"
    if use == "public":
        return f"{place}公共服务设施"
    return f"{place}滨河绿地"


def _fill(order: list[int], mu: pd.Series, goal: float) -> list[int]:
    picked, total = [], 0.0
    for i in order:
        if total + mu[i] <= goal + 3:
            picked.append(i)
            total += mu[i]
        if goal - total < 2:
            break
    return picked


def economics(p: pd.DataFrame, rng: np.random.Generator) -> None:
    """Floor area, footprint, investment, output and tax of built parcels: the low-efficiency set sums to the target."""
    th = thresholds()
    mu = p["area_m2"] * MU_PER_M2
    for col in (
        "floor_area_m2",
        "footprint_m2",
        "fixed_investment_wan",
        "annual_output_wan",
        "annual_tax_wan",
    ):
        p[col] = np.nan
    p["operating_status"] = None
    built = p["completed_on"].notna()
    examined = examined_mask(p.assign(completed_on=pd.to_datetime(p["completed_on"])))
    e_idx = p.index[examined]

    # who is low-efficiency: quartz sand works first, then the oldest stock, by chance
    prio = pd.Series(rng.normal(0, 1, len(p)), index=p.index)
    prio += np.where(p["quartz"] == "processing", 4.0, 0.0) - np.where(p["quartz"] == "deep", 9.0, 0.0)
    prio += np.where(p["phase"] == 1, 0.9, 0.0)
    order = list(prio[e_idx].sort_values(ascending=False, kind="stable").index)
    low = set(_fill(order, mu, TARGETS["low_efficiency_mu"]))

    far_table = (
        p["industry_code"].fillna("").str[1:].map(lambda d: th["far_by_division"].get(d, th["far_default"]))
    )
    for i in p.index[built]:
        area, a_mu = p.at[i, "area_m2"], mu[i]
        use = p.at[i, "planned_use"]
        if use not in ("industrial", "warehouse"):
            far = (
                float(rng.uniform(1.2, 2.6))
                if use in ("commercial", "residential")
                else float(rng.uniform(0.5, 1.2))
            )
            p.at[i, "floor_area_m2"] = round(far * area, 0)
            if use == "commercial":  # shops and offices pay tax too (counted in the zone's 综合地均税收)
                p.at[i, "annual_tax_wan"] = round(float(rng.uniform(15, 60)) * a_mu, 1)
            continue
        fmin = float(far_table[i])
        if i in low:
            reasons = _reasons(rng, p.at[i, "quartz"] == "processing")
        else:
            reasons = set()
        status = (
            "stopped"
            if "stopped" in reasons
            else ("partial" if rng.random() < (0.25 if reasons else 0.05) else "operating")
        )
        far = (
            fmin * float(rng.uniform(0.3, 0.85)) if "far" in reasons else fmin * float(rng.uniform(1.08, 1.9))
        )
        cov = float(rng.uniform(0.18, 0.37)) if "coverage" in reasons else float(rng.uniform(0.43, 0.68))
        inv = float(rng.uniform(60, 185)) if "investment" in reasons else float(rng.uniform(215, 480))
        if status == "stopped":
            tax, ratio = float(rng.uniform(0.0, 1.2)), float(rng.uniform(6, 15))
        elif "tax" in reasons:
            tax, ratio = float(rng.uniform(0.8, 8.8)), float(rng.uniform(10, 22))
        else:
            tax, ratio = float(rng.uniform(11.5, 42.0)), float(rng.uniform(12, 26))
        p.at[i, "operating_status"] = status
        p.at[i, "floor_area_m2"] = round(far * area, 0)
        p.at[i, "footprint_m2"] = round(cov * area, 0)
        p.at[i, "fixed_investment_wan"] = round(inv * a_mu, 0)
        p.at[i, "annual_tax_wan"] = round(tax * a_mu, 1)
        p.at[i, "annual_output_wan"] = round(tax * ratio * a_mu, 0)
        land = p.at[i, "land_price_wan"] if not np.isnan(p.at[i, "land_price_wan"]) else 0.0
        p.at[i, "total_investment_wan"] = round(max(inv * a_mu - land, 0.0), 0)
        p.at[i, "invested_wan"] = p.at[i, "total_investment_wan"]
    # a few efficient enterprises never reported floor area or tax (the audit lists them as missing inputs)
    fine = [i for i in e_idx if i not in low]
    for i in rng.choice(fine, size=min(6, len(fine)), replace=False):
        p.at[i, "floor_area_m2" if rng.random() < 0.5 else "annual_tax_wan"] = np.nan
    _no_efficient_grade_d(p, low, th)


def _reasons(rng: np.random.Generator, quartz: bool) -> set[str]:
    if quartz:  # open yards: low FAR, low investment and tax, but a high building coefficient (堆场 counts)
        out = {"far", "tax"} | ({"investment"} if rng.random() < 0.7 else set())
        return out | ({"stopped"} if rng.random() < 0.15 else set())
    weights = {"far": 0.5, "coverage": 0.35, "investment": 0.35, "tax": 0.55, "stopped": 0.1}
    out = {k for k, w in weights.items() if rng.random() < w}
    return out or {str(rng.choice(["far", "tax", "coverage"]))}


def _no_efficient_grade_d(p: pd.DataFrame, low: set, th: dict) -> None:
    """Grade D is the bottom 5 %: lift any efficient parcel that falls there (it must only hit listed parcels)."""
    frame = p.assign(completed_on=pd.to_datetime(p["completed_on"]))
    examined = examined_mask(frame)
    for _ in range(50):
        grades = mujun_grades(frame, examined, th)
        bad = [i for i in p.index[(grades == "D").to_numpy()] if i not in low]
        if not bad:
            return
        for col in ("annual_tax_wan", "annual_output_wan"):
            p.loc[bad, col] = (p.loc[bad, col] * 1.4).round(1)
            frame.loc[bad, col] = p.loc[bad, col]
    raise RuntimeError("could not keep efficient parcels out of grade D")


def unsupplied_details(p: pd.DataFrame, rng: np.random.Generator) -> None:
    """Names, 标准地 indicator packages and land-acquisition flags of the unsupplied parcels."""
    for col in ("std_investment", "std_far", "std_tax", "std_energy", "std_emission"):
        p[col] = np.nan
    p["compensation_done"] = True
    p["disputed"] = False
    open_ = p["supply_status"] == "unsupplied"
    for i in p.index[open_]:
        use = p.at[i, "planned_use"]
        p.at[i, "name"] = f"{p.at[i, 'place']}{_USE_CN[use]}地块"
        if use not in ("industrial", "warehouse"):
            continue
        share = 0.55 if p.at[i, "batch_id"] is not None else 0.3
        r = rng.random()
        if r < share:
            keys = ["std_investment", "std_far", "std_tax", "std_energy", "std_emission"]
        elif r < share + 0.15:
            # an incomplete package: energy and emission not yet set by the 发改 / 生态环境 side
            keys = ["std_investment", "std_far", "std_tax"]
        else:
            continue
        values = {
            "std_investment": float(rng.choice([250, 280, 300, 350])),
            "std_far": float(rng.choice([1.0, 1.2, 1.5])),
            "std_tax": float(rng.choice([12, 15, 18, 20])),
            "std_energy": float(rng.choice([1.5, 2.0, 2.5])),
            "std_emission": float(rng.choice([80, 100, 150])),
        }
        for k in keys:
            p.at[i, k] = values[k]
    lapse = p.index[p["lapse_batch"].fillna(False).astype(bool) & open_]
    p.loc[lapse[: max(1, len(lapse) // 2)], "compensation_done"] = False
    newest = p.loc[open_ & p["approved_on"].notna()].sort_values("approved_on").index[-2:]
    p.loc[newest, "compensation_done"] = False
    pool = p.index[open_ & (p["planned_use"] == "industrial")]
    p.loc[rng.choice(pool, size=min(2, len(pool)), replace=False), "disputed"] = True
