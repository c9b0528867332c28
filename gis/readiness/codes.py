"""The codes of `missing` (CONTRACT §4.5): their order, Chinese and English labels and responsible department."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "BLOCKING_PREFIXES",
    "CONSTRAINT_LAYERS",
    "SEVEN_KINDS",
    "department",
    "label",
]

#: the constraint layers, in the order of the §4.5 table
CONSTRAINT_LAYERS = ("basic_farmland", "eco_redline")

#: a parcel with any of these codes is `blocked`
BLOCKING_PREFIXES = ("constraint:", "zoning:")

#: the kinds of 七通一平 (DOMAIN §6.2 B): 给水、排水、电、讯、路、燃气、热力
SEVEN_KINDS = ("road", "water", "drainage", "power", "telecom", "gas", "heat")

_FIXED: dict[str, tuple[str, str]] = {
    "constraint:basic_farmland": ("占用永久基本农田", "Overlaps permanent basic farmland"),
    "constraint:eco_redline": ("占用生态保护红线", "Overlaps the ecological protection red line"),
    "zoning:not_industrial": ("规划用途不是工业或仓储", "Planned use is neither industrial nor warehouse"),
    "approval:not_approved": (
        "未纳入已批准的用地批次",
        "Not covered by land batches approved by the as-of date",
    ),
    "net:compensation": ("征地补偿安置未落实", "Land acquisition compensation not settled"),
    "net:dispute": ("存在权属争议", "Ownership is disputed"),
    "net:hv_line": ("高压线走廊压占地块", "A high-voltage line corridor overlaps the parcel"),
    "site:leveling": ("场地平整未达标（平均坡度过大）", "Site not level (mean slope too steep)"),
    "site:flood": (
        "洪水淹没风险（百年一遇淹没面积过大）",
        "Flood risk (too much of the parcel floods in a 100-year flood)",
    ),
}

_ASSESSMENTS: dict[str, tuple[str, str]] = {
    "energy": ("区域节能评价", "regional energy assessment"),
    "eia": ("区域环境影响评价", "regional environmental impact assessment"),
    "flood": ("区域防洪影响评价", "regional flood impact assessment"),
    "soil_water": ("区域水土保持方案", "regional soil and water conservation plan"),
    "water_resources": ("区域水资源论证", "regional water resources assessment"),
    "mineral": ("压覆重要矿产资源评估", "assessment of overlain mineral resources"),
    "geohazard": ("地质灾害危险性评估", "geological hazard assessment"),
    "heritage": ("文物保护评估（考古调查勘探）", "cultural heritage survey"),
    "seismic": ("地震安全性评价", "seismic safety assessment"),
    "climate": ("气候可行性论证", "climate feasibility study"),
    "survey": ("土地勘测", "land survey"),
}

_INFRA: dict[str, tuple[str, str]] = {
    "road": ("未通路", "road"),
    "water": ("未通给水", "water supply"),
    "drainage": ("未通排水", "drainage"),
    "power": ("未通电", "power"),
    "telecom": ("未通讯", "telecommunications"),
    "gas": ("未通燃气", "gas"),
    "heat": ("未通热力", "district heating"),
}

_INDICATORS: dict[str, tuple[str, str]] = {
    "std_investment": ("投资强度", "investment intensity"),
    "std_far": ("容积率", "floor area ratio"),
    "std_tax": ("亩均税收", "tax per mu"),
    "std_energy": ("单位能耗增加值", "value added per unit of energy"),
    "std_emission": ("单位排放增加值", "value added per unit of emissions"),
}


def label(code: str) -> tuple[str, str]:
    """The Chinese and English label of a `missing` code.

    Examples
    --------
    >>> label("infra:road")
    ('未通路', 'No built road within its service distance')
    >>> label("indicators:std_far")[0]
    '未设定标准地控制指标：容积率'
    """
    if code in _FIXED:
        return _FIXED[code]
    group, _, name = code.partition(":")
    if group == "assessment":
        zh, en = _ASSESSMENTS.get(name, (name, name))
        return f"缺少有效的区域评估：{zh}", f"No valid {en} covers the parcel"
    if group == "infra":
        zh, en = _INFRA.get(name, (f"未通{name}", name))
        return zh, f"No built {en} within its service distance"
    if group == "indicators":
        zh, en = _INDICATORS.get(name, (name, name))
        return f"未设定标准地控制指标：{zh}", f"标准地 indicator not set: {en}"
    return code, code


def department(code: str, departments: Mapping[str, Any]) -> str | None:
    """Who usually clears `code`, from ``rules["readiness.departments"]`` (``indicators:*`` share one entry)."""
    if code in departments:
        return str(departments[code])
    group = code.partition(":")[0]
    value = departments.get(group)
    return None if value is None else str(value)
