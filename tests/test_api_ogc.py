"""OGC API – Features Part 1 through the app factory: documents, links, paging, content types, errors, caching."""

from __future__ import annotations

import gzip
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from openapi_spec_validator import validate

from api.app import create_app
from api.documents import CONFORMANCE
from api.settings import Settings
from tests.test_api_support import feature_ids, store

OAS30 = "application/vnd.oai.openapi+json;version=3.0"


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    settings = Settings(_env_file=None, max_limit=50, default_limit=10)
    with TestClient(create_app(settings, store=store()), base_url="http://testserver") as c:
        yield c


def _links(doc: dict) -> dict[tuple[str, str], str]:
    return {(link["rel"], link["type"]): link["href"] for link in doc["links"]}


@pytest.mark.parametrize("accept", [None, "*/*", "application/json", "application/json, text/html;q=0.5"])
def test_landing_page_is_json_unless_html_is_preferred(client, accept):
    headers = {"Accept": accept} if accept else {}
    r = client.get("/ogc", headers=headers)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    links = _links(r.json())
    assert links[("service-desc", OAS30)] == "http://testserver/ogc/api"
    assert links[("conformance", "application/json")] == "http://testserver/ogc/conformance"
    assert links[("data", "application/json")] == "http://testserver/ogc/collections"
    assert ("service-doc", "text/html") in links


@pytest.mark.parametrize(
    ("headers", "params"),
    [({"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}, {}), ({}, {"f": "html"})],
    ids=["browser-accept", "f=html"],
)
def test_landing_page_html(client, headers, params):
    r = client.get("/ogc", headers=headers, params=params)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "http://testserver/ogc/collections" in r.text


def test_every_link_is_absolute_and_typed(client):
    for path in [
        "/ogc",
        "/ogc/collections",
        "/ogc/collections/parcels",
        "/ogc/collections/parcels/items?limit=3",
    ]:
        doc = client.get(path).json()
        links = doc["links"] + [lk for c in doc.get("collections", []) for lk in c["links"]]
        for link in links:
            assert link["href"].startswith("http://testserver/"), link
            assert link["type"], link


def test_conformance_lists_parts_1_2_3_and_the_cql2_classes(client):
    classes = client.get("/ogc/conformance").json()["conformsTo"]
    assert classes == CONFORMANCE
    for suffix in [
        "ogcapi-features-1/1.0/conf/core",
        "ogcapi-features-1/1.0/conf/geojson",
        "ogcapi-features-1/1.0/conf/oas30",
        "ogcapi-features-1/1.0/conf/html",
        "ogcapi-features-2/1.0/conf/crs",
        "ogcapi-features-3/1.0/conf/filter",
        "ogcapi-features-3/1.0/conf/features-filter",
        "cql2/1.0/conf/cql2-text",
        "cql2/1.0/conf/basic-cql2",
        "cql2/1.0/conf/basic-spatial-functions",
    ]:
        assert f"http://www.opengis.net/spec/{suffix}" in classes


def test_collections(client):
    doc = client.get("/ogc/collections").json()
    ids = [c["id"] for c in doc["collections"]]
    assert ids == [
        "parcels",
        "unsupplied",
        "idle",
        "low_efficiency",
        "readiness",
        "basic_farmland",
        "hv_lines",
    ]
    for c in doc["collections"]:
        assert "." not in c["id"] and c["title"] and c["itemType"] == "feature"
        (minx, miny, maxx, maxy) = c["extent"]["spatial"]["bbox"][0]
        assert 116.9 < minx <= maxx < 117.1 and 30.6 < miny <= maxy < 30.8  # CRS84: lon, lat near 117°E
        assert c["storageCrs"] == "http://www.opengis.net/def/crs/EPSG/0/4527"
        assert c["crs"][0] == "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
        rels = {(lk["rel"], lk["type"]) for lk in c["links"]}
        assert ("items", "application/geo+json") in rels
        assert ("describedby", "application/schema+json") in rels


def test_temporal_extent(client):
    doc = client.get("/ogc/collections/unsupplied").json()
    assert doc["extent"]["temporal"]["interval"] == [["2015-03-01T00:00:00Z", "2023-01-10T00:00:00Z"]]


def test_items_are_geojson_with_counts_and_links(client):
    r = client.get("/ogc/collections/parcels/items", params={"limit": 5, "offset": 5})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/geo+json"
    assert r.headers["content-crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    doc = r.json()
    assert doc["type"] == "FeatureCollection"
    assert doc["numberMatched"] == 24 and doc["numberReturned"] == 5
    assert feature_ids(doc) == ["P005", "P006", "P007", "P008", "P009"]
    links = _links(doc)
    assert "offset=10" in links[("next", "application/geo+json")]
    assert "offset=0" in links[("prev", "application/geo+json")]
    assert links[("collection", "application/json")] == "http://testserver/ogc/collections/parcels"
    assert ("alternate", "text/html") in links and ("self", "application/geo+json") in links


def test_default_limit_and_last_page_has_no_next(client):
    doc = client.get("/ogc/collections/parcels/items").json()
    assert doc["numberReturned"] == 10  # default_limit of the fixture's settings
    last = client.get("/ogc/collections/parcels/items", params={"offset": 20}).json()
    assert last["numberReturned"] == 4
    assert "next" not in {lk["rel"] for lk in last["links"]}
    beyond = client.get("/ogc/collections/parcels/items", params={"offset": 100}).json()
    assert beyond["features"] == [] and beyond["numberMatched"] == 24


def test_following_next_links_visits_every_feature_once(client):
    url, seen = "/ogc/collections/parcels/items?limit=7", []
    while url:
        doc = client.get(url).json()
        seen += feature_ids(doc)
        url = next((lk["href"] for lk in doc["links"] if lk["rel"] == "next"), None)
    assert seen == [f"P{k:03d}" for k in range(24)]


def test_feature_properties_keep_lists_objects_dates_and_nulls(client):
    feature = client.get("/ogc/collections/parcels/items/P004").json()
    assert feature["id"] == "P004"
    props = feature["properties"]
    assert props["findings"] == ["idle", "low_efficiency"]
    assert props["infra_distance_m"] == {"road": 4.0, "gas": None}
    assert props["supplied_on"] == "2014-05-15"
    assert props["name"] == "地块4号"
    assert props["readiness_tier"] == "supplied"  # readiness merged into parcels
    unsupplied = client.get("/ogc/collections/parcels/items/P000").json()["properties"]
    assert unsupplied["supplied_on"] is None and unsupplied["land_price_wan"] is None
    assert unsupplied["missing"] == ["infra:gas"]


def test_derived_collections(client):
    idle = feature_ids(client.get("/ogc/collections/idle/items", params={"limit": 50}).json())
    assert idle == [f"P{k:03d}" for k in range(24) if k % 5 in (1, 4)]
    ready = client.get("/ogc/collections/readiness/items", params={"limit": 50}).json()
    assert feature_ids(ready) == [f"P{k:03d}" for k in range(0, 24, 3)]
    batch = client.get("/ogc/collections/unsupplied/items/B02").json()
    assert batch["properties"]["approved_on"] == "2019-06-30"
    line = client.get("/ogc/collections/hv_lines/items/1").json()
    assert line["geometry"]["type"] == "LineString"


def test_properties_and_sortby(client):
    doc = client.get(
        "/ogc/collections/parcels/items",
        params={"properties": "parcel_id,land_price_wan", "sortby": "-land_price_wan"},
    ).json()
    assert all(set(f["properties"]) == {"parcel_id", "land_price_wan"} for f in doc["features"])
    prices = [f["properties"]["land_price_wan"] for f in doc["features"]]
    assert prices == sorted(prices, reverse=True) and prices[0] == 330.0
    empty = client.get("/ogc/collections/parcels/items", params={"properties": "", "limit": 1}).json()
    assert empty["features"][0]["properties"] == {}
    by_two = client.get(
        "/ogc/collections/parcels/items", params={"sortby": "planned_use,-parcel_id", "limit": 50}
    ).json()
    uses = [f["properties"]["planned_use"] for f in by_two["features"]]
    assert uses[-4:] == [None] * 4  # nulls last
    assert uses[:-4] == sorted(uses[:-4])


def test_bbox_uses_crs84_by_default(client):
    # the first parcel spans x 0..100 m, y 0..80 m from the zone origin (117°E, ~30.72°N)
    first = client.get("/ogc/collections/parcels/items/P000").json()["geometry"]["coordinates"][0]
    lon = sorted(p[0] for p in first)
    lat = sorted(p[1] for p in first)
    bbox = f"{lon[0] + 1e-6},{lat[0] + 1e-6},{lon[-1] - 1e-6},{lat[-1] - 1e-6}"
    doc = client.get("/ogc/collections/parcels/items", params={"bbox": bbox}).json()
    assert feature_ids(doc) == ["P000"]
    assert doc["numberMatched"] == 1


def test_datetime(client):
    doc = client.get("/ogc/collections/unsupplied/items", params={"datetime": "2016-01-01/.."}).json()
    assert feature_ids(doc) == ["B02", "B03"]
    doc = client.get("/ogc/collections/unsupplied/items", params={"datetime": "2019-06-30"}).json()
    assert feature_ids(doc) == ["B02"]
    doc = client.get(
        "/ogc/collections/unsupplied/items", params={"datetime": "../2019-06-30T00:00:00Z"}
    ).json()
    assert feature_ids(doc) == ["B01", "B02"]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/ogc/collections/parcels/items", {"bbox": "1,2,3"}),
        ("/ogc/collections/parcels/items", {"bbox": "a,b,c,d"}),
        ("/ogc/collections/parcels/items", {"bbox": "118,30,117,31"}),
        ("/ogc/collections/parcels/items", {"bbox": "117,-95,118,31"}),
        ("/ogc/collections/parcels/items", {"limit": "51"}),
        ("/ogc/collections/parcels/items", {"limit": "0"}),
        ("/ogc/collections/parcels/items", {"limit": "ten"}),
        ("/ogc/collections/parcels/items", {"offset": "-1"}),
        ("/ogc/collections/parcels/items", {"crs": "EPSG:3857"}),
        ("/ogc/collections/parcels/items", {"crs": "nonsense"}),
        ("/ogc/collections/parcels/items", {"bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/32650"}),
        ("/ogc/collections/parcels/items", {"filter": "planned_use = "}),
        ("/ogc/collections/parcels/items", {"filter": "no_such_field = 1"}),
        ("/ogc/collections/parcels/items", {"filter": "x", "filter-lang": "ecql"}),
        ("/ogc/collections/parcels/items", {"sortby": "no_such_field"}),
        ("/ogc/collections/parcels/items", {"properties": "no_such_field"}),
        ("/ogc/collections/parcels/items", {"datetime": "yesterday"}),
        ("/ogc/collections/parcels/items", {"datetime": "2020-01-01/2019-01-01"}),
        ("/ogc/collections/hv_lines/items", {"datetime": "2020-01-01"}),
        ("/ogc/collections/parcels/items", {"unknown_param": "1"}),
        ("/ogc/collections/parcels/items/P001", {"crs": "EPSG:9999"}),
        ("/ogc/collections/parcels/items/P001", {"bbox": "1,2,3,4"}),
    ],
)
def test_bad_parameters_are_400_in_one_shape(client, path, params):
    r = client.get(path, params=params)
    assert r.status_code == 400, r.text
    body = r.json()
    assert set(body) == {"code", "description"} and body["description"]


@pytest.mark.parametrize(
    "path",
    [
        "/ogc/collections/nope",
        "/ogc/collections/nope/items",
        "/ogc/collections/parcels/items/NOPE",
        "/no/such/path",
    ],
)
def test_unknown_things_are_404(client, path):
    r = client.get(path)
    assert r.status_code == 404
    assert r.json()["code"] == "NotFound"


def test_unknown_format_is_406(client):
    r = client.get("/ogc/collections", params={"f": "xml"})
    assert r.status_code == 406 and r.json()["code"] == "NotAcceptable"


def test_etag_and_304(client):
    r = client.get("/ogc/collections/parcels/items", params={"limit": 3})
    etag = r.headers["etag"]
    assert "max-age" in r.headers["cache-control"]
    again = client.get("/ogc/collections/parcels/items", params={"limit": 3}, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    other = client.get("/ogc/collections/parcels/items", params={"limit": 4}, headers={"If-None-Match": etag})
    assert other.status_code == 200 and other.headers["etag"] != etag
    html = client.get("/ogc/collections/parcels/items", params={"limit": 3, "f": "html"})
    assert html.headers["etag"] != etag


def test_gzip(client):
    r = client.get(
        "/ogc/collections/parcels/items", params={"limit": 20}, headers={"Accept-Encoding": "gzip"}
    )
    assert r.headers["content-encoding"] == "gzip"
    raw = client.get(
        "/ogc/collections/parcels/items", params={"limit": 20}, headers={"Accept-Encoding": "identity"}
    )
    assert "content-encoding" not in raw.headers
    assert len(gzip.compress(raw.content)) < len(raw.content)


def test_html_views(client):
    for path in [
        "/ogc/collections",
        "/ogc/collections/parcels",
        "/ogc/collections/parcels/items",
        "/ogc/conformance",
    ]:
        r = client.get(path, params={"f": "html"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = client.get("/ogc/collections/parcels/items", params={"f": "html", "limit": 3}).text
    assert "P002" in page and "coordinates" not in page  # a table, no embedded GeoJSON


def test_queryables(client):
    r = client.get("/ogc/collections/parcels/queryables")
    assert r.headers["content-type"].startswith("application/schema+json")
    props = r.json()["properties"]
    assert props["geometry"]["x-ogc-role"] == "primary-geometry"
    assert props["land_price_wan"]["type"] == "number"
    assert props["supplied_on"] == {"title": "供地日期", "type": "string", "format": "date"}
    assert props["disputed"]["type"] == "boolean"
    assert "infra_distance_m" not in props  # objects are served, not filtered


def test_openapi_document_is_valid_3_0_with_the_limit_maximum(client):
    r = client.get("/ogc/api")
    assert r.headers["content-type"] == OAS30
    doc = r.json()
    assert doc["openapi"] == "3.0.3"
    validate(doc)  # openapi-spec-validator picks the 3.0 schema from the version field
    params = {p["name"]: p for p in doc["paths"]["/collections/{collectionId}/items"]["get"]["parameters"]}
    assert params["limit"]["schema"]["maximum"] == 50 and params["limit"]["schema"]["default"] == 10
    assert {"bbox", "bbox-crs", "crs", "filter", "filter-lang", "filter-crs", "sortby", "datetime"} <= set(
        params
    )
    assert doc["servers"] == [{"url": "http://testserver/ogc"}]  # OGC paths relative to the landing page
    assert doc["paths"]["/api/summary"]["servers"] == [{"url": "http://testserver"}]
    assert {"/", "/conformance", "/collections", "/collections/{collectionId}/items/{featureId}"} <= set(
        doc["paths"]
    )
    assert client.get("/ogc/api.html").headers["content-type"].startswith("text/html")


def test_health(client):
    doc = client.get("/healthz").json()
    assert doc["status"] == "ok" and doc["collections"]["parcels"] == 24


def test_schema_describes_every_property_as_served(client):
    props = client.get("/ogc/collections/parcels/schema").json()["properties"]
    assert props["findings"] == {"type": "array", "items": {"type": "string"}}
    assert props["infra_distance_m"]["type"] == "object"
    assert props["supplied_on"]["format"] == "date"
    feature = client.get("/ogc/collections/parcels/items/P001").json()
    assert set(feature["properties"]) == set(props) - {"geometry"}


def test_head_answers_like_get_without_a_body(client):
    get = client.get("/ogc/collections/parcels/items?limit=2")
    head = client.head("/ogc/collections/parcels/items?limit=2")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers.get("etag") == get.headers.get("etag")
    assert client.head("/ogc/collections/nowhere").status_code == 404
