"""Findings, their Chinese actions and rule citations per parcel (CONTRACT §4.4), built per combination of codes.

A parcel's findings, idle disposal, low-efficiency reasons and contract overrides form a small integer key; the
lists of codes, action texts and citations are built once per distinct key.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from gis.audit._columns import lists_from_keys
from gis.audit.efficiency import LOW_EFFICIENCY_REASONS
from gis.audit.idle import IDLE_DISPOSALS, IDLE_STAGES
from gis.rules import Rules

__all__ = [
    "DISPOSAL_LABELS",
    "FINDINGS",
    "FINDING_LABELS",
    "OVERRIDE_FIELDS",
    "REASON_LABELS",
    "STAGE_LABELS",
    "cite",
    "finding_lists",
]

FINDINGS = ("approved_unsupplied", "idle", "low_efficiency")
FINDING_LABELS = {"approved_unsupplied": "批而未供", "idle": "闲置土地", "low_efficiency": "低效用地"}
STAGE_LABELS = {
    "none": "无",
    "overdue_start": "逾期未动工（预警）",
    "idle_1y": "未动工满一年",
    "idle_2y": "未动工满两年",
    "stalled": "中止开发建设满一年",
    "overdue_completion": "逾期未竣工（预警）",
}
DISPOSAL_LABELS = {
    "none": "无",
    "idle_fee": "征缴土地闲置费",
    "reclaim": "无偿收回",
    "negotiate": "协商处置",
    "review": "调查认定",
    "warn": "预警督促",
}
REASON_LABELS = {
    "far": "容积率低于下限",
    "coverage": "建筑系数低于下限",
    "investment": "投资强度不达标",
    "tax": "亩均税收不达标",
    "stopped": "停产",
    "mujun_d": "亩均效益评价D类",
}
#: parcel field overriding a rule -> the rule it overrides, in reason order
OVERRIDE_FIELDS = {
    "far_min": "low_efficiency.far_min_by_division",
    "coverage_min": "low_efficiency.coverage_min",
    "investment_min_wan_per_mu": "low_efficiency.investment_min_wan_per_mu",
    "tax_min_wan_per_mu": "low_efficiency.tax_min_wan_per_mu",
}
_REASON_RULES = {
    "far": ("far_min", "low_efficiency.far_min_by_division"),
    "coverage": ("coverage_min", "low_efficiency.coverage_min"),
    "investment": ("investment_min_wan_per_mu", "low_efficiency.investment_min_wan_per_mu"),
    "tax": ("tax_min_wan_per_mu", "low_efficiency.tax_min_wan_per_mu"),
}
_CONTRACT_REF = "国有建设用地使用权出让合同 / 标准地投资建设协议约定的控制指标（地块 {field} 字段）"
_APPROVED_REF = "批而未供：已批准农用地转用、土地征收但尚未办理供地手续的土地（增存挂钩，DOMAIN.md §2.1）"
_NEGOTIATE_REF = "《闲置土地处置办法》第八条、第十二条、第十三条：政府原因或不可抗力造成闲置的处置方式"
_COMPLETION_REF = "出让合同约定的竣工期限（逾期竣工属合同违约，不属于《闲置土地处置办法》所称闲置土地）"
_STOPPED_REF = (
    "低效用地认定：建成后未投产、停产或半停产（闽侯县《低效用地认定及处置办法(试行)》等，DOMAIN.md §3.2）"
)

_B_DISPOSAL, _B_REASONS, _B_STAGE, _B_OVERRIDE = 3, 6, 12, 15


def cite(rules: Rules, key: str) -> str:
    """The citation of rule `key`; when zone.toml overrode it, also the value applied, since the source alone
    would cite a threshold the audit did not use.

    >>> from gis.rules import load_rules
    >>> rules = load_rules(overrides={"low_efficiency": {"coverage_min": 0.3}})
    >>> cite(rules, "low_efficiency.coverage_min").endswith("（zone.toml: low_efficiency.coverage_min=0.3）")
    True
    """
    rule = rules.rule(key)
    if not rule.overridden:
        return rule.source
    # a table (FAR by division) is too long to quote in every row; the parcel's own minimum is in its columns
    value = (
        " 已覆盖 overridden"
        if isinstance(rule.value, dict)
        else "=" + json.dumps(rule.value, ensure_ascii=False)
    )
    return f"{rule.source}（zone.toml: {key}{value}）"


def finding_lists(
    findings: dict[str, np.ndarray],
    stage: pd.Series,
    disposal: pd.Series,
    reasons: dict[str, np.ndarray],
    overrides: dict[str, np.ndarray],
    rules: Rules,
) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """``findings``, ``actions``, ``rule_refs`` and ``low_efficiency_reasons`` as list columns.

    Parameters
    ----------
    findings : dict of str to numpy.ndarray
        Finding code -> mask, for every code of `FINDINGS`.
    stage, disposal : pandas.Series
        ``idle_stage`` and ``idle_disposal``.
    reasons : dict of str to numpy.ndarray
        Low-efficiency reason -> mask, for every code of `LOW_EFFICIENCY_REASONS`.
    overrides : dict of str to numpy.ndarray
        Contract field of `OVERRIDE_FIELDS` -> mask of parcels whose own value was applied.
    rules : gis.rules.Rules
        For the citations and the fee rate in the texts.

    Returns
    -------
    tuple of pandas.Series
        findings, actions, rule_refs, low_efficiency_reasons (positional index).
    """
    key = np.zeros(len(stage), dtype=np.int64)
    for bit, code in enumerate(FINDINGS):
        key |= np.asarray(findings[code], dtype=np.int64) << bit
    key |= _index_of(disposal, IDLE_DISPOSALS) << _B_DISPOSAL
    for bit, code in enumerate(LOW_EFFICIENCY_REASONS):
        key |= np.asarray(reasons[code], dtype=np.int64) << (_B_REASONS + bit)
    key |= _index_of(stage, IDLE_STAGES) << _B_STAGE
    for bit, name in enumerate(OVERRIDE_FIELDS):
        key |= np.asarray(overrides[name], dtype=np.int64) << (_B_OVERRIDE + bit)

    def codes(k: int) -> list[str]:
        return [code for bit, code in enumerate(FINDINGS) if k >> bit & 1]

    def reason_codes(k: int) -> list[str]:
        return [code for bit, code in enumerate(LOW_EFFICIENCY_REASONS) if k >> (_B_REASONS + bit) & 1]

    def actions(k: int) -> list[str]:
        texts = []
        for code in codes(k):
            if code == "approved_unsupplied":
                texts.append(
                    "批而未供：地块位于已批准批次内尚未供应，纳入批而未供土地处置，加快组织供地；"
                    "确实无法供应的，按规定申请撤回用地批准或调整使用"
                )
            elif code == "idle":
                texts.append(_idle_action(IDLE_DISPOSALS[k >> _B_DISPOSAL & 7], rules))
            else:
                listed = "、".join(REASON_LABELS[r] for r in reason_codes(k))
                texts.append(
                    f"低效用地（{listed}）：纳入低效用地再开发，督促企业增资扩产、提高容积率和亩均效益，"
                    "未达合同约定的依约追究违约责任，必要时协议收回"
                )
        return texts

    def refs(k: int) -> list[str]:
        out: list[str] = []
        found = codes(k)
        if "approved_unsupplied" in found:
            out += [_APPROVED_REF, cite(rules, "readiness.covered_share")]
        stage_code = IDLE_STAGES[k >> _B_STAGE & 7]
        if stage_code in ("overdue_start", "idle_1y"):
            out.append(cite(rules, "idle.fee_after_years"))
        if IDLE_DISPOSALS[k >> _B_DISPOSAL & 7] == "idle_fee":
            out.append(cite(rules, "idle.fee_rate"))
        if stage_code == "idle_2y":
            out.append(cite(rules, "idle.reclaim_after_years"))
        if stage_code == "stalled":
            out += [cite(rules, f"idle.stalled_{n}") for n in ("developed_fraction", "investment_share")]
            out.append(cite(rules, "idle.stalled_after_years"))
        if stage_code == "overdue_completion":
            out.append(_COMPLETION_REF)
        if IDLE_DISPOSALS[k >> _B_DISPOSAL & 7] == "negotiate":
            out.append(_NEGOTIATE_REF)
        for reason in reason_codes(k):
            if reason in _REASON_RULES:
                field, rule = _REASON_RULES[reason]
                bit = list(OVERRIDE_FIELDS).index(field)
                own = k >> (_B_OVERRIDE + bit) & 1
                out.append(_CONTRACT_REF.format(field=field) if own else cite(rules, rule))
            elif reason == "stopped":
                out.append(_STOPPED_REF)
            else:
                out.append(cite(rules, "low_efficiency.mujun_grade_cutoffs"))
                out.append(cite(rules, "low_efficiency.mujun_weight_tax"))
        return list(dict.fromkeys(out))

    found, texts, cited, listed = lists_from_keys(key, codes, actions, refs, reason_codes)
    return found, texts, cited, listed


def _idle_action(disposal: str, rules: Rules) -> str:
    rate = float(rules["idle.fee_rate"]) * 100
    return {
        "idle_fee": f"未动工开发满一年：下达《征缴土地闲置费决定书》，按出让或划拨价款的{rate:g}%征缴土地闲置费"
        "（不得列入生产成本）",
        "reclaim": "未动工开发满两年：报有批准权的人民政府批准后，下达《收回国有建设用地使用权决定书》，"
        "无偿收回国有建设用地使用权",
        "negotiate": "政府原因或不可抗力造成闲置：与使用权人协商，选择延长动工开发期限（不超过一年）、调整用途或"
        "规划条件、政府安排临时使用（不超过两年）、协议有偿收回或置换土地等方式处置",
        "review": "已动工但开发面积不足三分之一或投资不足25%且中止开发建设满一年：调查核实后可认定为闲置土地，"
        "下达《闲置土地认定书》后依法处置",
    }.get(disposal, "闲置土地：调查核实后依《闲置土地处置办法》处置")


def _index_of(values: pd.Series, codes: tuple[str, ...]) -> np.ndarray:
    """Position of each value in `codes` (0 for anything else)."""
    return np.maximum(pd.Categorical(values, categories=list(codes)).codes, 0).astype(np.int64)
