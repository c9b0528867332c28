"""The bundle's layers and fields (CONTRACT §2): English names, Chinese aliases, types and value aliases.

This is data only; `gis.io` applies it when reading and the exporters use the Chinese names when writing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "LAYERS",
    "PLANNED_USES",
    "FieldSpec",
    "LayerSpec",
    "chinese_name",
]

FieldType = Literal["str", "date", "number", "bool", "enum"]
GeomKind = Literal["polygon", "line", "line_or_polygon"]

PLANNED_USES = (
    "industrial",
    "warehouse",
    "commercial",
    "residential",
    "public",
    "infrastructure",
    "green",
    "other",
)


@dataclass(frozen=True)
class FieldSpec:
    """One attribute of a layer."""

    name: str
    alias: str | None = None
    type: FieldType = "str"
    #: enum only: accepted value -> canonical value (canonical values map to themselves)
    values: dict[str, str] = field(default_factory=dict)
    default: object = None
    #: numbers only: inclusive bounds checked on read
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class LayerSpec:
    """One vector layer of a bundle."""

    name: str
    geometry: GeomKind
    required: bool
    fields: tuple[FieldSpec, ...]
    required_fields: tuple[str, ...] = ()
    title: str = ""

    def field(self, name: str) -> FieldSpec:
        """The spec of field `name`."""
        return next(f for f in self.fields if f.name == name)


def _enum(canonical_to_aliases: dict[str, tuple[str, ...]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for canonical, aliases in canonical_to_aliases.items():
        out[canonical] = canonical
        for alias in aliases:
            out[alias] = canonical
    return out


_PARCEL_FIELDS = (
    FieldSpec("parcel_id", "地块编号"),
    FieldSpec("name", "地块名称"),
    FieldSpec(
        "planned_use",
        "规划用途",
        "enum",
        _enum(
            {
                # the short names and the 用地 names of GB/T 21010 and the 国土空间 classification that
                # county spreadsheets and 勘测定界 files use
                "industrial": ("工业", "工业用地", "工矿用地"),
                "warehouse": ("仓储", "仓储用地", "物流仓储", "物流仓储用地"),
                "commercial": ("商服", "商业", "商业服务业", "商服用地", "商业用地", "商业服务业用地"),
                "residential": ("住宅", "居住", "住宅用地", "居住用地", "城镇住宅用地"),
                "public": ("公共", "公共管理与公共服务", "公共服务", "公共管理与公共服务用地"),
                "infrastructure": ("基础设施", "交通", "公用设施", "交通运输用地", "公用设施用地"),
                "green": ("绿地", "绿地与广场", "绿地与广场用地", "绿地与开敞空间用地"),
                "other": ("其他", "其他用地"),
            }
        ),
    ),
    FieldSpec(
        "supply_status",
        "供应状态",
        "enum",
        _enum({"supplied": ("已供", "已供应"), "unsupplied": ("未供", "未供应")}),
        default="unsupplied",
    ),
    FieldSpec("supplied_on", "供地日期", "date"),
    FieldSpec(
        "supply_method",
        "供地方式",
        "enum",
        _enum({"transfer": ("出让",), "allocation": ("划拨",), "lease": ("租赁",)}),
    ),
    FieldSpec("land_price_wan", "出让价款", "number", minimum=0),
    FieldSpec("agreed_start_on", "约定开工日期", "date"),
    FieldSpec("started_on", "实际开工日期", "date"),
    FieldSpec("agreed_completion_on", "约定竣工日期", "date"),
    FieldSpec("completed_on", "实际竣工日期", "date"),
    FieldSpec("developed_fraction", "已开发面积比例", "number", minimum=0, maximum=1),
    FieldSpec("invested_wan", "已投资额", "number", minimum=0),
    FieldSpec("total_investment_wan", "总投资额", "number", minimum=0),
    FieldSpec("suspended_on", "停工日期", "date"),
    FieldSpec(
        "delay_cause",
        "闲置原因",
        "enum",
        _enum(
            {
                "owner": ("企业", "企业原因"),
                "government": ("政府", "政府原因"),
                "force_majeure": ("不可抗力",),
            }
        ),
        default="owner",
    ),
    FieldSpec(
        "operating_status",
        "经营状态",
        "enum",
        _enum({"operating": ("正常", "正常生产"), "partial": ("半停产",), "stopped": ("停产",)}),
    ),
    FieldSpec("industry_code", "行业代码"),
    FieldSpec("floor_area_m2", "总建筑面积", "number", minimum=0),
    FieldSpec("footprint_m2", "建(构)筑物及堆场占地", "number", minimum=0),
    FieldSpec("fixed_investment_wan", "固定资产投资", "number", minimum=0),
    FieldSpec("annual_output_wan", "年产值", "number", minimum=0),
    FieldSpec("annual_tax_wan", "年税收", "number"),
    FieldSpec("far_min", "容积率下限", "number", minimum=0),
    FieldSpec("coverage_min", "建筑系数下限", "number", minimum=0, maximum=1),
    FieldSpec("investment_min_wan_per_mu", "投资强度下限", "number", minimum=0),
    FieldSpec("tax_min_wan_per_mu", "亩均税收下限", "number", minimum=0),
    FieldSpec("std_investment", "标准地投资强度", "number"),
    FieldSpec("std_far", "标准地容积率", "number"),
    FieldSpec("std_tax", "标准地亩均税收", "number"),
    FieldSpec("std_energy", "标准地单位能耗增加值", "number"),
    FieldSpec("std_emission", "标准地单位排放增加值", "number"),
    FieldSpec("compensation_done", "征地补偿已落实", "bool", default=True),
    FieldSpec("disputed", "权属争议", "bool", default=False),
)

LAYERS: dict[str, LayerSpec] = {
    spec.name: spec
    for spec in (
        LayerSpec("parcels", "polygon", True, _PARCEL_FIELDS, ("parcel_id",), "地块"),
        LayerSpec(
            "batches",
            "polygon",
            False,
            (
                FieldSpec("batch_id", "批次编号"),
                FieldSpec("batch_name", "批次名称"),
                FieldSpec("approved_on", "批准日期", "date"),
                FieldSpec("approval_doc", "批准文号"),
            ),
            ("batch_id", "approved_on"),
            "批次",
        ),
        LayerSpec("zone_boundary", "polygon", False, (FieldSpec("name", "名称"),), (), "开发区边界"),
        LayerSpec("basic_farmland", "polygon", False, (), (), "永久基本农田"),
        LayerSpec("eco_redline", "polygon", False, (), (), "生态保护红线"),
        LayerSpec(
            "hv_lines",
            "line",
            False,
            (FieldSpec("voltage_kv", "电压等级", "number", minimum=0),),
            (),  # optional: an empty voltage gets the default corridor half-width (CONTRACT §3 "otherwise 10 m")
            "高压线",
        ),
        LayerSpec(
            "infrastructure",
            "line_or_polygon",
            False,
            (
                FieldSpec(
                    "kind",
                    "类型",
                    "enum",
                    _enum(
                        {
                            "road": ("道路",),
                            "water": ("给水", "供水"),
                            "drainage": ("排水", "雨污水"),
                            "power": ("电力", "供电"),
                            "telecom": ("通信", "电信"),
                            "gas": ("燃气",),
                            "heat": ("热力", "供热"),
                        }
                    ),
                ),
                FieldSpec(
                    "status", "状态", "enum", _enum({"built": ("已建",), "planned": ("规划",)}), "built"
                ),
            ),
            ("kind",),
            "基础设施",
        ),
        LayerSpec(
            "assessments",
            "polygon",
            False,
            (
                FieldSpec(
                    "kind",
                    "评估类型",
                    "enum",
                    _enum(
                        {
                            "energy": ("区域能评", "节能评价"),
                            "eia": ("区域环评", "环境影响评价"),
                            "flood": ("防洪影响评价", "洪水影响评价"),
                            "soil_water": ("水土保持",),
                            "water_resources": ("水资源论证",),
                            "mineral": ("压覆矿产",),
                            "geohazard": ("地质灾害",),
                            "heritage": ("文物", "考古"),
                            "seismic": ("地震安全性评价",),
                            "climate": ("气候可行性论证",),
                            "survey": ("土地勘测",),
                        }
                    ),
                ),
                FieldSpec("completed_on", "完成日期", "date"),
                FieldSpec("valid_until", "有效期至", "date"),
            ),
            ("kind",),
            "区域评估",
        ),
    )
}

RASTERS = {"dem": "dem.tif", "flood_depth": "flood_depth.tif"}


def chinese_name(layer: str, name: str) -> str:
    """The Chinese header of a field, or the field name itself when it has none."""
    spec = LAYERS.get(layer)
    if spec is None:
        return name
    for f in spec.fields:
        if f.name == name and f.alias:
            return f.alias
    return name
