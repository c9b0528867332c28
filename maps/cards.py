"""What a click shows: a parcel's card (area, status, dates, findings with evidence and rule, readiness checklist)
or another feature's properties, already labelled in the page's language.

No finding is computed here: every value comes from the audit and readiness rows; the rule citations come from the
rules the audit ran with.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from maps.i18n import TEXT, label

__all__ = ["feature_card", "jsonable", "parcel_card"]

_DATES = (
    "supplied_on",
    "agreed_start_on",
    "started_on",
    "agreed_completion_on",
    "completed_on",
    "suspended_on",
)
_STATUS = ("planned_use", "supply_status", "supply_method", "operating_status")

# the evidence shown for each finding, and the rules it rests on
_EVIDENCE = {
    "approved_unsupplied": ("supply_status", "planned_use", "batch_covered_share", "batch_id", "batch_ids"),
    "idle": (
        "idle_stage",
        "idle_since",
        "idle_days",
        "idle_disposal",
        "idle_fee_wan",
        "land_price_wan",
        "agreed_start_on",
        "started_on",
        "suspended_on",
        "developed_fraction",
        "invested_wan",
        "total_investment_wan",
        "delay_cause",
    ),
    "low_efficiency": (
        "low_efficiency_reasons",
        "mujun_score",
        "mujun_grade",
        "industry_code",
        "far",
        "far_required",
        "building_coefficient",
        "coverage_required",
        "investment_per_mu",
        "investment_required_wan_per_mu",
        "tax_per_mu",
        "tax_required_wan_per_mu",
        "output_per_mu",
        "operating_status",
    ),
}
_RULE_KEYS = {
    "approved_unsupplied": ("unsupplied.lapse_years", "unsupplied.supply_rate_floor"),
    "idle_1y": ("idle.fee_after_years", "idle.fee_rate"),
    "idle_2y": ("idle.reclaim_after_years",),
    "stalled": (
        "idle.stalled_developed_fraction",
        "idle.stalled_investment_share",
        "idle.stalled_after_years",
    ),
    "far": ("low_efficiency.far_min_by_division",),
    "coverage": ("low_efficiency.coverage_min",),
    "investment": ("low_efficiency.investment_min_wan_per_mu",),
    "tax": ("low_efficiency.tax_min_wan_per_mu",),
    "mujun_d": ("low_efficiency.mujun_grade_cutoffs",),
}
_ENUM_FIELDS = {
    "planned_use",
    "supply_status",
    "supply_method",
    "operating_status",
    "idle_stage",
    "idle_disposal",
    "delay_cause",
    "mujun_grade",
    "readiness_tier",
    "age_bucket",
}


def jsonable(value: Any) -> Any:
    """A cell as JSON: NaN/NaT → None, dates → ISO text, numpy → Python, JSON text lists → lists."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, pd.Timestamp | datetime | date):
        return None if pd.isna(value) else value.strftime("%Y-%m-%d")
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _as_list(value: Any) -> list[Any]:
    value = jsonable(value)
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _number(value: float, field: str) -> str:
    if field in ("developed_fraction", "supply_rate", "batch_covered_share", "building_coefficient"):
        return f"{value:.1%}"
    if field.endswith("_days") or field == "age_years":
        return f"{value:.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".") if abs(value) < 1e6 else f"{value:,.0f}"


def display(field: str, value: Any, lang: str) -> str:
    """One property value as the planner reads it: coded values labelled, numbers rounded, lists joined."""
    value = jsonable(value)
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return label("yes" if value else "no", lang)
    if isinstance(value, list):
        prefix = "reason" if field == "low_efficiency_reasons" else field
        return "、".join(display_code(prefix, v, lang) for v in value) if value else "—"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {display(field, v, lang)}" for k, v in value.items())
    if field in _ENUM_FIELDS:
        return display_code(field, value, lang)
    if isinstance(value, int | float):
        return _number(float(value), field)
    return str(value)


def display_code(prefix: str, value: Any, lang: str) -> str:
    """A coded value's label, e.g. ``idle_stage.idle_1y`` → 闲置满1年."""
    return label(f"{prefix}.{value}", lang)


def _row_value(rows: list[pd.Series], field: str) -> Any:
    for row in rows:
        if field in row.index:
            value = jsonable(row[field])
            if value is not None:
                return value
    return None


def _rule_texts(rules: Any, keys: tuple[str, ...]) -> list[str]:
    out = []
    for key in keys:
        try:
            out.append(rules.source(key))
        except (KeyError, AttributeError):
            continue
    return out


def _finding(finding: str, rows: list[pd.Series], rules: Any, lang: str, action: Any) -> dict[str, Any]:
    evidence = [
        [label(f"field.{f}", lang), display(f, v, lang)]
        for f in _EVIDENCE.get(finding, ())
        if (v := _row_value(rows, f)) is not None
    ]
    keys: tuple[str, ...] = _RULE_KEYS.get(finding, ())
    if finding == "idle":
        keys = _RULE_KEYS.get(str(_row_value(rows, "idle_stage")), ())
    if finding == "low_efficiency":
        reasons = _as_list(_row_value(rows, "low_efficiency_reasons"))
        keys = tuple(k for r in reasons for k in _RULE_KEYS.get(str(r), ()))
    return {
        "key": finding,
        "label": label(f"finding.{finding}", lang),
        "evidence": evidence,
        "action": action,
        "rules": _rule_texts(rules, keys),
    }


def _actions(value: Any, findings: list[str]) -> dict[str, str]:
    value = jsonable(value)
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    if isinstance(value, list) and len(value) == len(findings):
        return {f: str(a) for f, a in zip(findings, value, strict=True)}
    if isinstance(value, list | str) and value:
        text = "；".join(map(str, value)) if isinstance(value, list) else value
        return dict.fromkeys(findings, text)
    return {}


def _checklist(ready: pd.Series, rules: Any, lang: str) -> list[dict[str, Any]]:
    """Every readiness check in CONTRACT §4.5 order: passed, or missing with the department that clears it."""
    missing = [str(c) for c in _as_list(ready.get("missing"))]
    detail = {
        str(d.get("code")): d
        for d in _as_list(ready.get("missing_detail"))
        if isinstance(d, dict) and d.get("code")
    }
    codes = [
        "constraint:basic_farmland",
        "constraint:eco_redline",
        "zoning:not_industrial",
        "approval:not_approved",
    ]
    codes += ["net:compensation", "net:dispute", "net:hv_line"]
    try:
        codes += [f"assessment:{k}" for k in rules["readiness.required_assessments"]]
        codes += [f"infra:{k}" for k in rules["readiness.required_infrastructure"]]
        codes += ["site:leveling", "site:flood"]
        codes += [f"indicators:{k}" for k in rules["readiness.required_indicators"]]
    except (KeyError, TypeError):
        pass
    codes += [c for c in missing if c not in codes]
    items = []
    for code in codes:
        is_missing = code in missing
        info = detail.get(code, {})
        items.append(
            {
                "code": code,
                "label": _check_label(code, lang),
                "ok": not is_missing,
                "department": info.get("department") if is_missing else None,
                "evidence": _evidence_text(info.get("evidence")) if is_missing else None,
            }
        )
    return items


def _evidence_text(value: Any) -> str | None:
    value = jsonable(value)
    if value is None or value == "" or value == {} or value == []:
        return None
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v}" for k, v in value.items() if v is not None)
    if isinstance(value, list):
        return "; ".join(map(str, value))
    return str(value)


def _check_label(code: str, lang: str) -> str:
    group, _, kind = code.partition(":")
    if group == "assessment":
        return label("check.assessment", lang) + label(f"assessment.{kind}", lang)
    if group == "infra":
        return label("check.infra", lang) + label(f"infra_kind.{kind}", lang)
    if group == "indicators":
        return label("check.indicators", lang) + label(f"indicator.{kind}", lang)
    return label(f"check.{code}", lang)


def parcel_card(
    audit_row: pd.Series, ready_row: pd.Series | None, rules: Any, lang: str = "zh"
) -> dict[str, Any]:
    """The card of one parcel, labelled in `lang`."""
    rows = [audit_row] + ([ready_row] if ready_row is not None else [])
    pid = str(audit_row["parcel_id"])
    findings = [str(f) for f in _as_list(audit_row.get("findings"))]
    actions = _actions(audit_row.get("actions"), findings)
    area_mu = _row_value(rows, "area_mu")
    area_m2 = _row_value(rows, "area_m2")
    if area_m2 is None and area_mu is not None:
        area_m2 = area_mu * 10_000 / 15
    card: dict[str, Any] = {
        "kind": "parcel",
        "id": pid,
        "name": _row_value(rows, "name") or "",
        "area": {
            "mu": None if area_m2 is None else round(area_m2 * 15 / 10_000, 2),
            "ha": None if area_m2 is None else round(area_m2 / 10_000, 4),
        },
        "status": [
            [label(f"field.{f}", lang), display(f, v, lang)]
            for f in _STATUS
            if (v := _row_value(rows, f)) is not None
        ],
        "dates": [[label(f"field.{f}", lang), v] for f in _DATES if (v := _row_value(rows, f)) is not None],
        "findings": [_finding(f, rows, rules, lang, actions.get(f)) for f in findings],
        "missing_inputs": [str(m) for m in _as_list(audit_row.get("missing_inputs"))],
        "rule_refs": [],
        "readiness": None,
        "links": {
            "geojson": f"/ogc/collections/parcels/items/{pid}",
            "history": f"/api/parcels/{pid}/history",
        },
    }
    shown = {r for f in card["findings"] for r in f["rules"]}
    card["rule_refs"] = [
        r for r in (_ref_text(x) for x in _as_list(audit_row.get("rule_refs"))) if r not in shown
    ]
    if ready_row is not None and str(jsonable(ready_row.get("readiness_tier"))) not in ("None", "supplied"):
        card["readiness"] = {
            "tier": jsonable(ready_row.get("readiness_tier")),
            "tier_label": display("readiness_tier", ready_row.get("readiness_tier"), lang),
            "score": jsonable(ready_row.get("readiness_score")),
            "served_by": jsonable(ready_row.get("served_by")),
            "checklist": _checklist(ready_row, rules, lang),
        }
    return card


def _ref_text(ref: Any) -> str:
    return "：".join(map(str, ref.values())) if isinstance(ref, dict) else str(ref)


def feature_card(layer: str, row: pd.Series, lang: str = "zh") -> dict[str, Any]:
    """Another layer's feature: its properties with labels."""
    rows = []
    for field in row.index:
        if field in ("geometry",) or field == getattr(row, "geometry_name", None):
            continue
        value = jsonable(row[field])
        if value is None or (isinstance(value, dict | list) and not value):
            continue
        if hasattr(value, "geom_type"):
            continue
        name = label(f"field.{field}", lang) if f"field.{field}" in TEXT else field
        if field == "kind" and layer == "infrastructure":
            shown = display_code("infra_kind", value, lang)
        elif field == "kind" and layer == "assessments":
            shown = display_code("assessment", value, lang)
        elif field == "status" and layer == "infrastructure":
            shown = display_code("infra_status", value, lang)
        else:
            shown = display(field, value, lang)
        rows.append([name, shown])
    return {"kind": "feature", "title": label(f"layer.{layer}", lang), "rows": rows}
