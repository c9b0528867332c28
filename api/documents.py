"""The OGC API – Features JSON documents: landing page, conformance, collections and queryables."""

from __future__ import annotations

from typing import Any

from api.collections import Collection
from api.crs import CRS84
from api.responses import GEOJSON, HTML, JSON, OPENAPI_30, SCHEMA_JSON

__all__ = ["CONFORMANCE", "collection_doc", "landing_doc", "link", "queryables_doc", "schema_doc"]

_F1 = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
_F3 = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/"
_CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf/"

#: every class listed is implemented and tested (tests/test_api_filter.py, tests/test_api_crs.py …)
CONFORMANCE = [
    _F1 + "core",
    _F1 + "geojson",
    _F1 + "oas30",
    _F1 + "html",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    _F3 + "queryables",
    _F3 + "filter",
    _F3 + "features-filter",
    _CQL2 + "cql2-text",
    _CQL2 + "cql2-json",
    _CQL2 + "basic-cql2",
    _CQL2 + "advanced-comparison-operators",
    _CQL2 + "basic-spatial-functions",
    _CQL2 + "basic-spatial-functions-plus",
    _CQL2 + "spatial-functions",
]


def link(href: str, rel: str, type_: str, title: str | None = None) -> dict[str, Any]:
    """A typed link."""
    out = {"href": href, "rel": rel, "type": type_}
    if title:
        out["title"] = title
    return out


def landing_doc(base: str, root: str, title: str, description: str) -> dict[str, Any]:
    """The landing page; `base` is the absolute URL of /ogc, `root` of the server."""
    return {
        "title": title,
        "description": description,
        "links": [
            link(f"{base}", "self", JSON, "本文档 This document"),
            link(f"{base}?f=html", "alternate", HTML, "网页 This document as HTML"),
            link(f"{base}/api", "service-desc", OPENAPI_30, "OpenAPI 3.0 定义 API definition"),
            link(f"{base}/api.html", "service-doc", HTML, "接口说明 API documentation"),
            link(f"{base}/conformance", "conformance", JSON, "符合类 Conformance classes"),
            link(f"{base}/collections", "data", JSON, "要素集合 Feature collections"),
            link(f"{root}/", "related", HTML, "地图 Map"),
        ],
    }


def collection_doc(c: Collection, base: str) -> dict[str, Any]:
    """One collection's metadata, with CRS84 extents and the CRSs offered (Part 2)."""
    href = f"{base}/collections/{c.id}"
    spatial: dict[str, Any] = {"crs": CRS84}
    if c.bbox_crs84 is not None:
        spatial["bbox"] = [c.bbox_crs84]
    return {
        "id": c.id,
        "title": c.title,
        "description": c.description,
        "itemType": "feature",
        "extent": {
            "spatial": spatial,
            "temporal": {
                "interval": [c.interval],
                "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
            },
        },
        "crs": c.crs_offered,
        "storageCrs": c.storage_crs_uri,
        "links": [
            link(href, "self", JSON, c.title),
            link(f"{href}?f=html", "alternate", HTML, c.title),
            link(f"{href}/items", "items", GEOJSON, "要素 Features"),
            link(f"{href}/items?f=html", "items", HTML, "要素 Features"),
            link(
                f"{href}/queryables",
                "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                SCHEMA_JSON,
                "可查询字段",
            ),
            link(f"{href}/schema", "describedby", SCHEMA_JSON, "字段 Schema"),
        ],
    }


def _object_schema(c: Collection, href: str, title: str, properties: dict[str, Any]) -> dict[str, Any]:
    geometry = {"format": "geometry-any", "x-ogc-role": "primary-geometry", "title": "几何 geometry"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": href,
        "type": "object",
        "title": f"{c.title} — {title}",
        "properties": {"geometry": geometry, **properties},
        "additionalProperties": False,
    }


def queryables_doc(c: Collection, base: str) -> dict[str, Any]:
    """The properties a filter or sortby may use, as JSON Schema (Part 3)."""
    return _object_schema(c, f"{base}/collections/{c.id}/queryables", "可查询字段 queryables", c.queryables)


def schema_doc(c: Collection, base: str) -> dict[str, Any]:
    """Every property of the features; those not filterable (objects) have no type constraint."""
    props = {name: c.property_schema(name) for name in c.property_names}
    return _object_schema(c, f"{base}/collections/{c.id}/schema", "字段 schema", props)
