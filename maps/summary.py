"""The summary panel: 三清 totals in 亩, industrial development intensity against the provincial benchmark, the
five-year supply rate, and small inline-SVG bar charts (no chart library, nothing fetched).
"""

from __future__ import annotations

from html import escape
from typing import Any

import numpy as np
import pandas as pd

from maps.cards import jsonable
from maps.i18n import label
from maps.styles import layer_style

__all__ = ["bar_chart", "summary_html"]


def bar_chart(items: list[tuple[str, float, str]], title: str, *, unit: str = "", width: int = 300) -> str:
    """A horizontal bar chart as inline SVG: one (label, value, colour) per bar."""
    bar_h, gap, label_w, top = 16, 5, 124, 20
    height = top + len(items) * (bar_h + gap) + 4
    peak = max((v for _, v, _ in items), default=0.0) or 1.0
    span = width - label_w - 64
    parts = [
        f'<svg class="lr-chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f'<text x="0" y="13" font-size="12" font-weight="bold">{escape(title)}</text>',
    ]
    for i, (name, value, colour) in enumerate(items):
        y = top + i * (bar_h + gap)
        w = max(1.0, span * value / peak) if value > 0 else 0.0
        text = f"{value:,.1f}".rstrip("0").rstrip(".") if value % 1 else f"{value:,.0f}"
        parts.append(
            f'<text x="{label_w - 4}" y="{y + 12}" font-size="11" text-anchor="end">{escape(name)}</text>'
        )
        parts.append(
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}"><title>'
            f"{escape(name)}: {text}{escape(unit)}</title></rect>"
        )
        parts.append(f'<text x="{label_w + w + 4:.1f}" y="{y + 12}" font-size="11">{text}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _pct(value: Any) -> str:
    value = jsonable(value)
    return "—" if value is None else f"{float(value):.1%}"


def _unsupplied_by_year(unsupplied: Any, lang: str) -> str:
    if unsupplied is None or not len(unsupplied) or "approved_on" not in unsupplied.columns:
        return ""
    year = pd.to_datetime(unsupplied["approved_on"], errors="coerce").dt.year
    mu = pd.to_numeric(unsupplied.get("unsupplied_mu"), errors="coerce")
    by_year = mu.groupby(year).sum().sort_index()
    bucket = unsupplied.get("age_bucket")
    colours = layer_style("unsupplied").palette
    year_colour: dict[Any, str] = {}
    if bucket is not None:
        for y, b in zip(year, bucket.astype(object), strict=True):
            year_colour.setdefault(y, colours.get(str(b), colours["2to5y"]))
    items = [
        (str(int(y)), float(v), year_colour.get(y, colours["2to5y"]))
        for y, v in by_year.items()
        if not np.isnan(y)
    ]
    return bar_chart(items, label("chart.unsupplied_by_year", lang), unit=label("mu", lang)) if items else ""


def _grades(parcels: Any, lang: str) -> str:
    if parcels is None or "mujun_grade" not in parcels.columns:
        return ""
    counts = parcels["mujun_grade"].astype(object).value_counts()
    palette = layer_style("low_efficiency").palette
    items = [(label(f"mujun_grade.{g}", lang), float(counts.get(g, 0)), palette[g]) for g in "ABCD"]
    return bar_chart(items, label("chart.grades", lang)) if any(v for _, v, _ in items) else ""


def _idle_stages(summary: dict[str, Any], lang: str) -> str:
    stages = summary.get("idle_stages") or {}
    palette = layer_style("idle").palette
    items = [
        (label(f"idle_stage.{s}", lang), float(v.get("mu") or 0), palette.get(s, "#999"))
        for s, v in stages.items()
        if isinstance(v, dict)
    ]
    return bar_chart(items, label("chart.idle_stages", lang), unit=label("mu", lang)) if items else ""


def summary_html(results: Any, lang: str = "zh") -> str:
    """The panel's HTML, from `results.audit.summary` (CONTRACT §4.4) and the audit layers."""
    audit = results.audit
    summary: dict[str, Any] = audit.summary or {}
    totals = summary.get("totals") or {}
    rows = []
    for key in ("approved_unsupplied", "idle", "low_efficiency"):
        t = totals.get(key) or {}
        mu = jsonable(t.get("mu"))
        ha = jsonable(t.get("ha"))
        rows.append(
            f'<tr data-total="{key}"><th>{escape(label(f"total.{key}", lang))}</th>'
            f'<td class="num">{"—" if mu is None else f"{mu:,.1f}"}</td>'
            f'<td class="num">{"—" if ha is None else f"{ha:,.2f}"}</td>'
            f'<td class="num">{jsonable(t.get("count")) if t.get("count") is not None else "—"}</td></tr>'
        )
    intensity = summary.get("industrial_development_intensity") or {}
    value, bench = jsonable(intensity.get("value")), jsonable(intensity.get("province_benchmark"))
    below = value is not None and bench is not None and value < bench
    rate = summary.get("five_year_supply_rate")
    zone_ha = jsonable(summary.get("zone_area_ha"))
    parts = [
        f'<div class="lr-summary-body"><div class="lr-asof">{escape(label("as_of", lang))} '
        f"{escape(str(summary.get('as_of') or results.as_of))}"
        + (
            f" · {escape(label('zone_area', lang))} {zone_ha * 15:,.0f} {escape(label('mu', lang))}"
            if zone_ha is not None
            else ""
        )
        + "</div>",
        f'<table class="lr-totals"><thead><tr><th>{escape(label("totals", lang))}</th>'
        f"<th>{escape(label('mu', lang))}</th><th>{escape(label('ha', lang))}</th>"
        f"<th>{escape(label('count', lang))}</th></tr></thead><tbody>{''.join(rows)}</tbody></table>",
        f'<div class="lr-kpi{" lr-bad" if below else ""}" data-kpi="intensity">{escape(label("intensity", lang))}: '
        f"<b>{_pct(value)}</b> <span>({escape(label('benchmark', lang))} {_pct(bench)})</span>"
        + _gauge(value, bench)
        + "</div>",
        f'<div class="lr-kpi" data-kpi="supply_rate">{escape(label("supply_rate_5y", lang))}: <b>{_pct(rate)}</b>'
        + _gauge(jsonable(rate), _floor(results))
        + "</div>",
        _unsupplied_by_year(getattr(audit, "unsupplied", None), lang),
        _idle_stages(summary, lang),
        _grades(audit.parcels, lang),
    ]
    warnings = summary.get("warnings") or []
    if warnings:
        items = "".join(f"<li>{escape(str(w))}</li>" for w in warnings[:20])
        parts.append(
            f'<details class="lr-warn"><summary>{escape(label("warnings", lang))} ({len(warnings)})'
            f"</summary><ul>{items}</ul></details>"
        )
    parts.append("</div>")
    return "".join(p for p in parts if p)


def _floor(results: Any) -> float | None:
    try:
        return float(results.rules["unsupplied.supply_rate_floor"])
    except (KeyError, TypeError, AttributeError):
        return None


def _gauge(value: float | None, mark: float | None, width: int = 200) -> str:
    """A bar from 0 to 100 % with the value filled and the benchmark marked."""
    if value is None:
        return ""
    fill = max(0.0, min(1.0, float(value))) * width
    colour = "#1a9850" if mark is None or value >= mark else "#d73027"
    svg = [
        f'<svg class="lr-gauge" xmlns="http://www.w3.org/2000/svg" width="{width}" height="10">',
        f'<rect width="{width}" height="10" fill="#eee"/><rect width="{fill:.1f}" height="10" fill="{colour}"/>',
    ]
    if mark is not None:
        x = max(0.0, min(1.0, float(mark))) * width
        svg.append(f'<rect x="{x - 1:.1f}" width="2" height="10" fill="#000"/>')
    svg.append("</svg>")
    return "".join(svg)
