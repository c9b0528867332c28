"""Plain HTML views of the OGC API documents (conformance class ``html``): no scripts, no embedded GeoJSON."""

from __future__ import annotations

import json
from html import escape
from typing import Any

__all__ = ["render_document", "render_items"]

_PAGE = """<!DOCTYPE html>
<html lang="zh"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;margin:1.5em;max-width:80em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:2px 6px;font-size:90%;text-align:left;vertical-align:top}}</style>
</head><body><h1>{title}</h1>{body}</body></html>"""


def _links(links: list[dict[str, Any]]) -> str:
    items = "".join(
        f'<li><a href="{escape(link["href"])}">{escape(link.get("title") or link["href"])}</a> '
        f"<small>({escape(link.get('rel', ''))}, {escape(link.get('type', ''))})</small></li>"
        for link in links
    )
    return f"<h2>链接 Links</h2><ul>{items}</ul>" if items else ""


def _value(value: Any) -> str:
    if isinstance(value, dict | list):
        return f"<code>{escape(json.dumps(value, ensure_ascii=False))}</code>"
    return escape("" if value is None else str(value))


def render_document(title: str, doc: dict[str, Any]) -> str:
    """A JSON document as a page: its scalar members, nested lists as tables, and its links."""
    rows = []
    for key, value in doc.items():
        if key == "links":
            continue
        if key == "collections" and isinstance(value, list):
            body = "".join(
                f'<tr><td><a href="{escape(next((lk["href"] for lk in c.get("links", []) if lk.get("rel") == "self"), ""))}'
                f'?f=html">{escape(c["id"])}</a></td><td>{escape(c.get("title", ""))}</td>'
                f"<td>{escape(c.get('description', ''))}</td></tr>"
                for c in value
            )
            rows.append(f"<tr><th>{escape(key)}</th><td><table>{body}</table></td></tr>")
        else:
            rows.append(f"<tr><th>{escape(key)}</th><td>{_value(value)}</td></tr>")
    body = f"<table>{''.join(rows)}</table>{_links(doc.get('links', []))}"
    return _PAGE.format(title=escape(title), body=body)


def render_items(title: str, features: list[dict[str, Any]], doc: dict[str, Any]) -> str:
    """A page of features as a table of their properties (geometry omitted: the map draws geometries)."""
    names: list[str] = []
    for feature in features:
        for name in feature.get("properties") or {}:
            if name not in names:
                names.append(name)
    head = "".join(f"<th>{escape(n)}</th>" for n in ["id", *names])
    body = "".join(
        "<tr>"
        + f"<td>{escape(str(f.get('id')))}</td>"
        + "".join(f"<td>{_value((f.get('properties') or {}).get(n))}</td>" for n in names)
        + "</tr>"
        for f in features
    )
    summary = "".join(
        f"<p>{escape(k)}: {escape(str(doc[k]))}</p>" for k in ("numberMatched", "numberReturned") if k in doc
    )
    return _PAGE.format(
        title=escape(title),
        body=f"{summary}<table><tr>{head}</tr>{body}</table>{_links(doc.get('links', []))}",
    )
