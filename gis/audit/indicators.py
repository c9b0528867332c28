"""Development-zone intensive-use indicators (开发区土地集约利用评价, DOMAIN.md §5.3) from parcel fields.

The evaluation's land-status classes are read off the parcels layer as of the audit date:

- D (已供应国有建设用地): parcels with ``supply_status = supplied`` and ``supplied_on`` empty or ≤ as-of.
- A (已建成城镇建设用地): supplied parcels that are built (``completed_on`` ≤ as-of or an ``operating_status``).
  A1 = built ``residential``; A2 (工矿仓储) = built ``industrial`` or ``warehouse``.
- B21 (已达到供地条件的其他土地): land not built that meets supply conditions: supplied but not built, plus
  unsupplied parcels with compensation done, no dispute and — when a ``batches`` layer exists — lying ≥ 99 %
  inside approved batches. 三通一平 is not tested here (it belongs to readiness), so B21 is an upper bound.
- A + B: all parcels (the parcels layer is taken as the zone's developable land; C is not known).
- E (尚可供应土地): unsupplied parcels; G (闲置土地): parcels with the ``idle`` finding.

Every indicator is an object with ``name`` (Chinese), ``value``, ``unit``, ``formula``, ``basis`` (the
operationalization above), ``source``, ``status`` (DOMAIN.md verification mark) and, when ``value`` is null,
``note`` saying which data is missing. Rates are shares (0–1), like the contract's supply rates.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from gis.audit._columns import as_timestamp, dates, happened, numbers, texts
from gis.audit.findings import cite
from gis.rules import Rules
from gis.units import M2_PER_HA

__all__ = ["INDICATOR_NAMES", "zone_indicators"]

INDICATOR_NAMES = {
    "land_development_rate": "土地开发率",
    "land_supply_rate": "土地供应率",
    "land_built_rate": "土地建成率",
    "industrial_land_rate": "工业用地率",
    "hitech_land_rate": "高新技术产业用地率",
    "composite_far": "综合容积率",
    "building_density": "建筑密度",
    "industrial_far": "工业用地综合容积率",
    "industrial_building_coefficient": "工业用地建筑系数",
    "industrial_fai_intensity": "工业用地固定资产投入强度",
    "industrial_tax_per_ha": "工业用地地均税收",
    "composite_tax_per_ha": "综合地均税收",
    "population_density": "人口密度",
    "idle_land_rate": "土地闲置率",
    "idle_disposal_rate": "闲置土地处置率",
    "remaining_supply_years": "尚可供应年限",
    "zone_type": "开发区类型",
}
_SHARE = "比率(0–1)"


def zone_indicators(
    parcels: pd.DataFrame,
    area_m2: pd.Series,
    as_of: date,
    rules: Rules,
    *,
    supplied: np.ndarray,
    idle: np.ndarray,
    covered: np.ndarray | None,
) -> dict[str, dict[str, Any]]:
    """The §5.3 indicators the parcels support, each with its value, unit, formula, basis and source.

    Parameters
    ----------
    parcels : pandas.DataFrame
        The normalized parcels layer.
    area_m2 : pandas.Series
        Parcel areas in m².
    as_of : datetime.date
        The audit date.
    rules : gis.rules.Rules
        Uses ``zone.land_supply_years_window`` and ``readiness.covered_share``.
    supplied, idle : numpy.ndarray
        Boolean masks: supplied by as-of; with the ``idle`` finding.
    covered : numpy.ndarray or None
        Share of each parcel inside batches approved by as-of, or None without a ``batches`` layer.

    Returns
    -------
    dict
        Indicator field name -> indicator object (see the module docstring).
    """
    ts = as_timestamp(as_of)
    area = area_m2.to_numpy(dtype=float)
    use = texts(parcels, "planned_use")
    built = supplied & (
        happened(dates(parcels, "completed_on"), ts) | texts(parcels, "operating_status").notna().to_numpy()
    )
    a2 = built & use.isin(("industrial", "warehouse")).to_numpy()
    a1 = built & (use == "residential").fillna(False).to_numpy(dtype=bool)
    unsupplied = ~supplied
    conditions = _bools(parcels, "compensation_done", True) & ~_bools(parcels, "disputed", False) & unsupplied
    if covered is not None:
        conditions &= np.asarray(covered, dtype=float) >= float(rules["readiness.covered_share"]) - 1e-9
    b21 = (supplied & ~built) | conditions

    A, A1, A2, D = (float(area[m].sum()) for m in (built, a1, a2, supplied))
    B21, G, E = float(area[b21].sum()), float(area[idle].sum()), float(area[unsupplied].sum())
    total = float(area.sum())
    b21_basis = "B21 = 已供未建地块 + 未供且补偿已落实、无争议" + (
        "、位于已批批次内" if covered is not None else ""
    )
    b21_basis += "的地块（未检验三通一平）"

    out: dict[str, dict[str, Any]] = {}

    def put(
        key: str,
        value: float | str | None,
        unit: str,
        formula: str,
        basis: str,
        status: str,
        note: str = "",
        source: str = "DOMAIN.md §5.3 [S36, S56]",
        **extra: Any,
    ) -> None:
        entry: dict[str, Any] = {
            "name": INDICATOR_NAMES[key],
            "value": value,
            "unit": unit,
            "formula": formula,
            "basis": basis,
            "source": source,
            "status": status,
        }
        if value is None and note:
            entry["note"] = note
        entry.update(extra)
        out[key] = entry

    put(
        "land_development_rate",
        _ratio(A + B21, total),
        _SHARE,
        "(A + B21) ÷ (A + B)",
        f"A + B = 全部地块面积（C 不可建设土地未知）；{b21_basis}",
        "partial",
        "无地块面积",
    )
    put(
        "land_supply_rate",
        _ratio(D, A + B21),
        _SHARE,
        "D ÷ (A + B21)",
        f"D = 截至评价日已供地块；{b21_basis}",
        "verified",
        "无已建成或达到供地条件的土地",
    )
    put(
        "land_built_rate",
        _ratio(A, D),
        _SHARE,
        "A ÷ D",
        "A = 已供且已竣工或有经营状态的地块",
        "verified",
        "无已供应土地",
    )
    put(
        "industrial_land_rate",
        _ratio(A2, A),
        _SHARE,
        "A2 ÷ A",
        "A2 = 已建成工业、仓储地块",
        "verified",
        "无已建成土地",
    )
    put(
        "hitech_land_rate",
        None,
        _SHARE,
        "H ÷ A",
        "地块图层无高新技术企业标识",
        "verified",
        "数据缺少高新技术产业用地（H）标识",
    )
    put(
        "composite_far",
        _weighted(numbers(parcels, "floor_area_m2"), area, built, 1.0),
        "—",
        "已建成城镇建设用地总建筑面积 ÷ A",
        "按有总建筑面积的已建成地块计算",
        "verified",
        "已建成地块缺少总建筑面积",
    )
    put(
        "building_density",
        _weighted(numbers(parcels, "footprint_m2"), area, built, 1.0),
        _SHARE,
        "建筑基底总面积 ÷ A",
        "按有建(构)筑物及堆场占地的已建成地块计算",
        "verified",
        "已建成地块缺少建(构)筑物及堆场占地",
    )
    put(
        "industrial_far",
        _weighted(numbers(parcels, "floor_area_m2"), area, a2, 1.0),
        "—",
        "已建成工矿仓储用地总建筑面积 ÷ A2",
        "按有总建筑面积的已建成工业、仓储地块计算",
        "verified",
        "已建成工业、仓储地块缺少总建筑面积",
    )
    put(
        "industrial_building_coefficient",
        _weighted(numbers(parcels, "footprint_m2"), area, a2, 1.0),
        _SHARE,
        "工矿仓储建(构)筑物基底及堆场 ÷ A2",
        "按有占地数据的已建成工业、仓储地块计算",
        "partial",
        "已建成工业、仓储地块缺少占地数据",
    )
    put(
        "industrial_fai_intensity",
        _weighted(numbers(parcels, "fixed_investment_wan"), area, a2, M2_PER_HA),
        "万元/公顷",
        "工业(物流)企业累计固定资产投资总额 ÷ A2",
        "按有固定资产投资的已建成工业、仓储地块计算",
        "partial",
        "已建成工业、仓储地块缺少固定资产投资",
    )
    put(
        "industrial_tax_per_ha",
        _weighted(numbers(parcels, "annual_tax_wan"), area, a2, M2_PER_HA),
        "万元/公顷",
        "工业(物流)企业税收总额 ÷ A2",
        "按有年税收的已建成工业、仓储地块计算",
        "partial",
        "已建成工业、仓储地块缺少年税收",
    )
    put(
        "composite_tax_per_ha",
        _weighted(numbers(parcels, "annual_tax_wan"), area, built, M2_PER_HA),
        "万元/公顷",
        "二、三产业税收总额 ÷ A",
        "按有年税收的已建成地块计算（分母取 A）",
        "unverified",
        "已建成地块缺少年税收",
    )
    put(
        "population_density",
        None,
        "人/公顷",
        "常住人口 ÷ A",
        "地块图层无人口数据",
        "partial",
        "数据缺少常住人口",
    )
    put(
        "idle_land_rate",
        _ratio(G, D),
        _SHARE,
        "G ÷ D",
        "G = 有闲置认定（idle_1y、idle_2y、stalled）的地块",
        "partial",
        "无已供应土地",
    )
    put(
        "idle_disposal_rate",
        None,
        _SHARE,
        "已处置闲置土地 ÷ 认定闲置土地",
        "处置进展在台账中登记，不在地块图层",
        "unverified",
        "数据缺少闲置土地处置结果",
    )

    years = int(rules["zone.land_supply_years_window"])
    supplied_on = dates(parcels, "supplied_on")
    window = supplied & (supplied_on > ts - pd.DateOffset(years=years)).to_numpy() & happened(supplied_on, ts)
    per_year = float(area[window].sum()) / years
    put(
        "remaining_supply_years",
        round(E / per_year, 2) if per_year > 0 else None,
        "年",
        f"尚可供应土地 E ÷ 近{years}年年均供地面积",
        f"E = 截至评价日未供地块；年均供地 = 近{years}年供地日期在窗口内的地块面积 ÷ {years}",
        "partial",
        f"近{years}年无供地记录",
        source=cite(rules, "zone.land_supply_years_window"),
    )

    zone_type = None
    if A > 0:
        s2, s1 = A2 / A, A1 / A
        zone_type = (
            "工业主导型" if s2 > 0.30 and s1 < 0.25 else "产城融合型" if s2 <= 0.30 and s1 >= 0.25 else "其他"
        )
    put(
        "zone_type",
        zone_type,
        "—",
        "A2/A > 30% 且 A1/A < 25% → 工业主导型；A2/A ≤ 30% 且 A1/A ≥ 25% → 产城融合型",
        "A1 = 已建成住宅地块",
        "partial",
        "无已建成土地",
        source="DOMAIN.md §5.2 [S56]",
    )
    return out


def _ratio(num: float, den: float) -> float | None:
    return round(num / den, 6) if den > 0 else None


def _weighted(values: pd.Series, area: np.ndarray, mask: np.ndarray, per_m2: float) -> float | None:
    """Σ value ÷ Σ area (× `per_m2`) over the masked parcels that have the value; None when none do."""
    has = mask & values.notna().to_numpy()
    den = float(area[has].sum())
    if den <= 0:
        return None
    return round(float(values.to_numpy(dtype=float)[has].sum()) / den * per_m2, 6)


def _bools(df: pd.DataFrame, name: str, default: bool) -> np.ndarray:
    if name not in df:
        return np.full(len(df), default)
    return df[name].astype(object).where(df[name].notna(), default).astype(bool).to_numpy()
