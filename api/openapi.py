"""An OpenAPI document that really is 3.0 (FastAPI writes 3.1; OGC's ``oas30`` class and OWSLib expect 3.0)."""

from __future__ import annotations

import copy
from html import escape
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.settings import Settings

__all__ = ["downgrade_schema", "openapi_30", "openapi_html"]

OPENAPI_VERSION = "3.0.3"


def downgrade_schema(schema: Any) -> Any:
    """A JSON Schema (2020-12, as OpenAPI 3.1 uses) rewritten into the OpenAPI 3.0 schema dialect.

    ``anyOf: [X, {type: null}]`` and ``type: [X, "null"]`` become ``X`` with ``nullable: true``; ``const``
    becomes a one-value ``enum``; ``examples`` becomes ``example``; numeric ``exclusiveMinimum/Maximum`` become
    the boolean form; a ``$ref`` with siblings is wrapped in ``allOf``.
    """
    if isinstance(schema, list):
        return [downgrade_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {
        k: downgrade_schema(v) for k, v in schema.items() if k not in ("$schema", "$id", "contentMediaType")
    }
    for key in ("anyOf", "oneOf"):
        if key in out:
            # FastAPI writes an optional parameter as anyOf [X, {}] or anyOf [X, {type: null}]
            options = [o for o in out[key] if o not in ({"type": "null"}, {})]
            if len(options) < len(out[key]):
                out["nullable"] = True
                if len(options) == 1:
                    del out[key]
                    single = options[0]
                    if "$ref" in single:
                        out["allOf"] = [single]
                    else:
                        out = {**single, **out}
                else:
                    out[key] = options
    if isinstance(out.get("type"), list):
        types = [t for t in out["type"] if t != "null"]
        if len(types) < len(out["type"]):
            out["nullable"] = True
        out["type"] = types[0] if len(types) == 1 else "string"
    if out.get("type") == "null":
        del out["type"]
        out["nullable"] = True
    if "const" in out:
        out["enum"] = [out.pop("const")]
    if "examples" in out:
        examples = out.pop("examples")
        if isinstance(examples, list) and examples:
            out["example"] = examples[0]
    for bound, flag in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(out.get(bound), int | float) and not isinstance(out.get(bound), bool):
            out[flag] = out.pop(bound)
            out[bound] = True
    if "$ref" in out and len(out) > 1:
        ref = out.pop("$ref")
        out["allOf"] = [{"$ref": ref}]
    if "prefixItems" in out:
        out.pop("prefixItems")
        out.setdefault("items", {})
    if out.get("nullable") and "type" not in out and not any(k in out for k in ("allOf", "anyOf", "oneOf")):
        out.pop("nullable")  # 3.0 ignores nullable without a type
    return out


def _schemas_of_operation(op: dict[str, Any]) -> None:
    for param in op.get("parameters", []):
        if "schema" in param:
            param["schema"] = downgrade_schema(param["schema"])
    for media in op.get("requestBody", {}).get("content", {}).values():
        if "schema" in media:
            media["schema"] = downgrade_schema(media["schema"])
    for response in op.get("responses", {}).values():
        for media in response.get("content", {}).values():
            if "schema" in media:
                media["schema"] = downgrade_schema(media["schema"])


def _build(app: FastAPI, settings: Settings, root: str) -> dict[str, Any]:
    doc = get_openapi(
        title=app.title,
        version=app.version,
        openapi_version=OPENAPI_VERSION,
        description=app.description,
        routes=app.routes,
        servers=[{"url": f"{root}/ogc"}],
    )
    doc = copy.deepcopy(doc)
    # OGC paths relative to the landing page (/collections/{collectionId}/items, as OGC's own examples and GDAL
    # expect); the other paths keep the server root through a path-level server
    paths: dict[str, Any] = {}
    for path, item in doc.get("paths", {}).items():
        if path == "/ogc" or path.startswith("/ogc/"):
            paths[path.removeprefix("/ogc") or "/"] = item
        else:
            paths[path] = {**item, "servers": [{"url": root}]}
    doc["paths"] = paths
    for path in doc["paths"].values():
        for op in path.values():
            if isinstance(op, dict):
                _schemas_of_operation(op)
                for param in op.get("parameters", []):
                    # GDAL sizes its pages from the limit's maximum; publish the configured one
                    if param.get("name") == "limit" and param.get("in") == "query":
                        param["schema"] = {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": settings.max_limit,
                            "default": settings.default_limit,
                        }
                        param["style"], param["explode"] = "form", False
    components = doc.get("components", {})
    if "schemas" in components:
        components["schemas"] = {k: downgrade_schema(v) for k, v in components["schemas"].items()}
    return doc


def openapi_30(app: FastAPI, settings: Settings, root: str) -> dict[str, Any]:
    """The app's OpenAPI 3.0 document with `root` as its server, built once per root URL."""
    cache: dict[str, dict[str, Any]] = app.state.openapi_30  # created empty by create_app
    if root not in cache:
        cache[root] = _build(app, settings, root)
    return cache[root]


def openapi_html(doc: dict[str, Any]) -> str:
    """A plain HTML page listing the paths, parameters and responses of an OpenAPI document."""
    parts = [f"<h1>{escape(doc['info']['title'])}</h1><p>{escape(doc['info'].get('description', ''))}</p>"]
    for path, ops in doc.get("paths", {}).items():
        for method, op in ops.items():
            if not isinstance(op, dict):
                continue
            params = "".join(
                f"<li><code>{escape(p['name'])}</code> ({escape(p['in'])}) {escape(p.get('description', ''))}</li>"
                for p in op.get("parameters", [])
            )
            parts.append(
                f"<h2><code>{escape(method.upper())} {escape(path)}</code></h2>"
                f"<p>{escape(op.get('summary', ''))} — {escape(op.get('description', ''))}</p>"
                f"<ul>{params}</ul>"
            )
    return (
        '<!DOCTYPE html><html lang="zh"><head><meta charset="utf-8"><title>API</title></head><body>'
        + "".join(parts)
        + "</body></html>"
    )
