"""The columns of the 三清 台账 sheets: source field, Chinese and English headers, width and rendering."""

from __future__ import annotations

from dataclasses import dataclass

from gis.audit.findings import DISPOSAL_LABELS, REASON_LABELS, STAGE_LABELS

__all__ = ["BATCH_COLUMNS", "IDLE_COLUMNS", "LOW_COLUMNS", "TRACKING_COLUMNS", "WARNING_COLUMNS", "Column"]

_USE_LABELS = {
    "industrial": "工业",
    "warehouse": "仓储",
    "commercial": "商服",
    "residential": "住宅",
    "public": "公共",
    "infrastructure": "基础设施",
    "green": "绿地",
    "other": "其他",
}
_CAUSE_LABELS = {"owner": "企业原因", "government": "政府原因", "force_majeure": "不可抗力"}
_OPERATING_LABELS = {"operating": "正常", "partial": "半停产", "stopped": "停产"}
_METHOD_LABELS = {"transfer": "出让", "allocation": "划拨", "lease": "租赁"}
_BUCKET_LABELS = {"lt2y": "不满2年", "2to5y": "2至5年", "ge5y": "5年及以上"}
_TRACKING = (
    ("responsible_unit", "责任单位", "Responsible unit", 16),
    ("deadline", "处置期限", "Deadline", 12),
    ("progress", "处置进展", "Progress", 20),
)


@dataclass(frozen=True)
class Column:
    """One ledger column: source field, headers, width and how to render it."""

    key: str
    zh: str
    en: str
    width: float = 12
    kind: str = "text"  # text, date, number, share, list, label
    decimals: int = 2
    labels: dict[str, str] | None = None


def _c(
    key: str, zh: str, en: str, width: float = 12, kind: str = "text", decimals: int = 2, labels=None
) -> Column:
    return Column(key, zh, en, width, kind, decimals, labels)


_PARCEL_HEAD = (
    _c("parcel_id", "地块编号", "Parcel ID", 14),
    _c("name", "地块名称", "Name", 24),
    _c("planned_use", "规划用途", "Planned use", 10, "label", labels=_USE_LABELS),
    _c("area_mu", "面积（亩）", "Area (mu)", 11, "number", 2),
    _c("area_ha", "面积（公顷）", "Area (ha)", 11, "number", 4),
)
_RULE_TAIL = (
    _c("actions", "处置建议", "Action", 48, "list"),
    _c("rule_refs", "依据", "Rule citations", 60, "list"),
    _c("missing_inputs", "缺少数据", "Missing inputs", 20, "list"),
)
IDLE_COLUMNS = (
    *_PARCEL_HEAD,
    _c("supply_method", "供地方式", "Supply method", 9, "label", labels=_METHOD_LABELS),
    _c("supplied_on", "供地日期", "Supplied on", 11, "date"),
    _c("agreed_start_on", "约定开工日期", "Agreed start", 12, "date"),
    _c("started_on", "实际开工日期", "Started on", 12, "date"),
    _c("agreed_completion_on", "约定竣工日期", "Agreed completion", 12, "date"),
    _c("suspended_on", "停工日期", "Suspended on", 11, "date"),
    _c("developed_fraction", "已开发面积比例", "Developed fraction", 10, "share", 4),
    _c("invested_wan", "已投资额（万元）", "Invested (10k CNY)", 11, "number", 2),
    _c("total_investment_wan", "总投资额（万元）", "Total investment (10k CNY)", 11, "number", 2),
    _c("idle_since", "闲置起算日", "Idle since", 11, "date"),
    _c("idle_days", "闲置天数", "Idle days", 9, "number", 0),
    _c("idle_stage", "闲置阶段", "Idle stage", 16, "label", labels=STAGE_LABELS),
    _c("delay_cause", "闲置原因", "Delay cause", 10, "label", labels=_CAUSE_LABELS),
    _c("idle_disposal", "处置方式", "Disposal", 13, "label", labels=DISPOSAL_LABELS),
    _c("land_price_wan", "出让价款（万元）", "Land price (10k CNY)", 11, "number", 2),
    _c("idle_fee_wan", "土地闲置费（万元）", "Idle fee (10k CNY)", 11, "number", 2),
    *_RULE_TAIL,
)
LOW_COLUMNS = (
    *_PARCEL_HEAD,
    _c("industry_code", "行业代码", "Industry code", 9),
    _c("completed_on", "实际竣工日期", "Completed on", 12, "date"),
    _c("operating_status", "经营状态", "Operating status", 9, "label", labels=_OPERATING_LABELS),
    _c("far", "容积率", "FAR", 8, "number", 2),
    _c("far_required", "容积率下限", "FAR minimum", 8, "number", 2),
    _c("building_coefficient", "建筑系数", "Building coefficient", 9, "share", 4),
    _c("coverage_required", "建筑系数下限", "Coefficient minimum", 9, "share", 4),
    _c("investment_per_mu", "投资强度（万元/亩）", "Investment (10k CNY/mu)", 11, "number", 2),
    _c("investment_required_wan_per_mu", "投资强度下限", "Investment minimum", 11, "number", 2),
    _c("tax_per_mu", "亩均税收（万元/亩）", "Tax per mu (10k CNY)", 11, "number", 2),
    _c("tax_required_wan_per_mu", "亩均税收下限", "Tax minimum", 11, "number", 2),
    _c("output_per_mu", "亩均产值（万元/亩）", "Output per mu (10k CNY)", 11, "number", 2),
    _c("mujun_score", "亩均效益得分", "Mujun score", 9, "number", 2),
    _c("mujun_grade", "亩均效益等级", "Mujun grade", 8),
    _c("low_efficiency_reasons", "低效原因", "Reasons", 30, "list", labels=REASON_LABELS),
    *_RULE_TAIL,
)
WARNING_COLUMNS = tuple(c for c in IDLE_COLUMNS if c.key not in ("idle_fee_wan", "land_price_wan"))
BATCH_COLUMNS = (
    _c("batch_id", "批次编号", "Batch ID", 14),
    _c("batch_name", "批次名称", "Batch name", 24),
    _c("approval_doc", "批准文号", "Approval document", 20),
    _c("approved_on", "批准日期", "Approved on", 11, "date"),
    _c("batch_mu", "批次面积（亩）", "Batch area (mu)", 11, "number", 2),
    _c("batch_ha", "批次面积（公顷）", "Batch area (ha)", 11, "number", 4),
    _c("supplied_mu", "已供面积（亩）", "Supplied (mu)", 11, "number", 2),
    _c("supplied_ha", "已供面积（公顷）", "Supplied (ha)", 11, "number", 4),
    _c("unsupplied_mu", "批而未供面积（亩）", "Unsupplied (mu)", 12, "number", 2),
    _c("unsupplied_ha", "批而未供面积（公顷）", "Unsupplied (ha)", 12, "number", 4),
    _c("supply_rate", "供地率", "Supply rate", 8, "share", 4),
    _c("age_years", "批准年限（年）", "Age (years)", 9, "number", 0),
    _c("age_bucket", "账龄", "Age bucket", 10, "label", labels=_BUCKET_LABELS),
    _c("lapse_risk", "失效风险", "Lapse risk", 9, "label", labels={"True": "是", "False": "否"}),
    _c("rule_refs", "依据", "Rule citations", 60, "list"),
)
#: the empty columns the county fills in: 责任单位, 处置期限, 处置进展
TRACKING_COLUMNS = tuple(Column(key, zh, en, width) for key, zh, en, width in _TRACKING)
