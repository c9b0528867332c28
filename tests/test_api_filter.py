"""OGC API – Features Part 3: CQL2 text and JSON filters, checked against the same condition evaluated in pandas."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

import geopandas as gpd
import shapely

from api.app import create_app
from api.settings import Settings
from tests.test_api_support import feature_ids, parcels, store

EPSG = "http://www.opengis.net/def/crs/EPSG/0/{}"
P = parcels()
Mask = Callable[[pd.DataFrame], pd.Series]


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(_env_file=None), store=store())) as c:
        yield c


def _ids(client: TestClient, collection: str = "parcels", **params: str) -> list[str]:
    r = client.get(f"/ogc/collections/{collection}/items", params={"limit": "1000", **params})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["numberMatched"] == doc["numberReturned"]
    return feature_ids(doc)


def _expected(mask: pd.Series) -> list[str]:
    return P.loc[mask.fillna(False).to_numpy(dtype=bool), "parcel_id"].tolist()


def _has(value: str) -> pd.Series:
    return P["findings"].map(lambda v: value in v)


# (cql2-text, cql2-json, the same condition in pandas; null never matches a comparison, as in SQL)
CASES: list[tuple[str, dict, Mask]] = [
    (
        "planned_use = 'industrial'",
        {"op": "=", "args": [{"property": "planned_use"}, "industrial"]},
        lambda p: p.planned_use == "industrial",
    ),
    (
        "planned_use <> 'industrial'",
        {"op": "<>", "args": [{"property": "planned_use"}, "industrial"]},
        lambda p: p.planned_use.notna() & (p.planned_use != "industrial"),
    ),
    (
        "NOT (planned_use = 'industrial')",
        {"op": "not", "args": [{"op": "=", "args": [{"property": "planned_use"}, "industrial"]}]},
        lambda p: p.planned_use.notna() & (p.planned_use != "industrial"),
    ),
    (
        "land_price_wan > 200",
        {"op": ">", "args": [{"property": "land_price_wan"}, 200]},
        lambda p: p.land_price_wan > 200,
    ),
    (
        "land_price_wan >= 150 AND supply_status = 'supplied'",
        {
            "op": "and",
            "args": [
                {"op": ">=", "args": [{"property": "land_price_wan"}, 150]},
                {"op": "=", "args": [{"property": "supply_status"}, "supplied"]},
            ],
        },
        lambda p: (p.land_price_wan >= 150) & (p.supply_status == "supplied"),
    ),
    (
        "land_price_wan < 150 OR disputed = true",
        {
            "op": "or",
            "args": [
                {"op": "<", "args": [{"property": "land_price_wan"}, 150]},
                {"op": "=", "args": [{"property": "disputed"}, True]},
            ],
        },
        lambda p: (p.land_price_wan < 150) | p.disputed,
    ),
    (
        "land_price_wan IS NULL",
        {"op": "isNull", "args": [{"property": "land_price_wan"}]},
        lambda p: p.land_price_wan.isna(),
    ),
    (
        "NOT (land_price_wan IS NULL)",
        {"op": "not", "args": [{"op": "isNull", "args": [{"property": "land_price_wan"}]}]},
        lambda p: p.land_price_wan.notna(),
    ),
    (
        "supplied_on >= DATE('2015-01-01')",
        {"op": ">=", "args": [{"property": "supplied_on"}, {"date": "2015-01-01"}]},
        lambda p: p.supplied_on >= pd.Timestamp("2015-01-01"),
    ),
    (
        "supplied_on < TIMESTAMP('2014-01-01T00:00:00Z')",
        {"op": "<", "args": [{"property": "supplied_on"}, {"timestamp": "2014-01-01T00:00:00Z"}]},
        lambda p: p.supplied_on < pd.Timestamp("2014-01-01"),
    ),
    (
        "name LIKE '地块1%'",
        {"op": "like", "args": [{"property": "name"}, "地块1%"]},
        lambda p: p.name.str.startswith("地块1"),
    ),
    (  # a text property with nulls: null is unknown, never a match (nor a 500)
        "planned_use LIKE 'ware%'",
        {"op": "like", "args": [{"property": "planned_use"}, "ware%"]},
        lambda p: p.planned_use.str.startswith("ware"),
    ),
    (
        "NOT (planned_use LIKE 'ware%')",
        {"op": "not", "args": [{"op": "like", "args": [{"property": "planned_use"}, "ware%"]}]},
        lambda p: p.planned_use.notna() & ~p.planned_use.fillna("").str.startswith("ware"),
    ),
    (  # CQL2's single-character wildcard is _, and . is a plain character
        "parcel_id LIKE 'P00_'",
        {"op": "like", "args": [{"property": "parcel_id"}, "P00_"]},
        lambda p: p.parcel_id.str.fullmatch(r"P00."),
    ),
    (
        "findings LIKE '%idle%'",
        {"op": "like", "args": [{"property": "findings"}, "%idle%"]},
        lambda p: _has("idle"),
    ),
    (
        "land_price_wan BETWEEN 150 AND 250",
        {"op": "between", "args": [{"property": "land_price_wan"}, 150, 250]},
        lambda p: p.land_price_wan.between(150, 250),
    ),
    (
        "planned_use IN ('warehouse', 'commercial')",
        {"op": "in", "args": [{"property": "planned_use"}, ["warehouse", "commercial"]]},
        lambda p: p.planned_use.isin(["warehouse", "commercial"]),
    ),
    (
        "land_price_wan * 2 > 500",
        {"op": ">", "args": [{"op": "*", "args": [{"property": "land_price_wan"}, 2]}, 500]},
        lambda p: p.land_price_wan * 2 > 500,
    ),
]
IDS = [c[0] for c in CASES]


@pytest.mark.parametrize(("text", "cql_json", "mask"), CASES, ids=IDS)
def test_cql2_text_matches_pandas(client, text, cql_json, mask):
    expected = _expected(mask(P))
    assert _ids(client, filter=text) == expected
    assert _ids(client, filter=text, **{"filter-lang": "cql2-text"}) == expected


@pytest.mark.parametrize(("text", "cql_json", "mask"), CASES, ids=IDS)
def test_cql2_json_matches_pandas(client, text, cql_json, mask):
    assert _ids(client, filter=json.dumps(cql_json), **{"filter-lang": "cql2-json"}) == _expected(mask(P))


def test_every_case_selects_something_and_not_everything():
    for _, _, mask in CASES:
        assert 0 < len(_expected(mask(P))) < len(P)


def _crs84(geom: shapely.Geometry) -> shapely.Geometry:
    return gpd.GeoSeries([geom], crs=P.crs).to_crs("OGC:CRS84").iloc[0]


def _spatial_expected(literal_crs84: shapely.Geometry, predicate: str = "intersects") -> list[str]:
    literal = gpd.GeoSeries([literal_crs84], crs="OGC:CRS84").to_crs(P.crs).iloc[0]
    return P.loc[getattr(P.geometry, predicate)(literal).to_numpy(), "parcel_id"].tolist()


def test_s_intersects_point_bbox_polygon_in_text_and_json(client):
    centre = _crs84(P.geometry.iloc[7].centroid)
    assert _ids(client, filter=f"S_INTERSECTS(geometry, POINT({centre.x} {centre.y}))") == ["P007"]
    point_json = {"op": "s_intersects", "args": [{"property": "geometry"}, shapely.geometry.mapping(centre)]}
    assert _ids(client, filter=json.dumps(point_json), **{"filter-lang": "cql2-json"}) == ["P007"]

    # a box around parcels 7, 8, 13 and 14 (rows 1–2, columns 1–2 of the grid)
    region = shapely.box(*shapely.bounds(shapely.union_all(P.geometry.iloc[[7, 14]].to_numpy())))
    box84 = _crs84(region).buffer(-1e-6).bounds
    expected = _spatial_expected(shapely.box(*box84))
    assert expected == ["P007", "P008", "P013", "P014"]
    text = "S_INTERSECTS(geometry, BBOX({}, {}, {}, {}))".format(*box84)
    assert _ids(client, filter=text) == expected
    as_json = {"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": list(box84)}]}
    assert _ids(client, filter=json.dumps(as_json), **{"filter-lang": "cql2-json"}) == expected

    polygon = _crs84(region.buffer(-5))
    assert _ids(client, filter=f"S_INTERSECTS(geometry, {polygon.wkt})") == _spatial_expected(polygon)
    assert _spatial_expected(polygon) == expected


def test_spatial_functions_beyond_intersects(client):
    region = _crs84(shapely.box(*P.total_bounds).buffer(-50))
    within = _spatial_expected(region, "within")
    assert 0 < len(within) < len(P)
    assert _ids(client, filter=f"S_WITHIN(geometry, {region.wkt})") == within
    disjoint = [i for i in P.parcel_id if i not in _spatial_expected(region)]
    assert _ids(client, filter=f"S_DISJOINT(geometry, {region.wkt})") == disjoint


def test_filter_crs_in_the_storage_zone_is_northing_first(client):
    c = P.geometry.iloc[9].centroid
    params = {"filter": f"S_INTERSECTS(geometry, POINT({c.y} {c.x}))", "filter-crs": EPSG.format(4527)}
    assert _ids(client, **params) == ["P009"]


def test_filter_combines_with_bbox_and_paging(client):
    box84 = _crs84(shapely.box(*P.total_bounds)).bounds
    flt = "supply_status = 'supplied'"
    expected = _expected(P.supply_status == "supplied")
    seen, offset = [], 0
    while True:
        r = client.get(
            "/ogc/collections/parcels/items",
            params={"filter": flt, "bbox": ",".join(map(str, box84)), "limit": 5, "offset": offset},
        ).json()
        assert r["numberMatched"] == len(expected)
        seen += feature_ids(r)
        if not any(lk["rel"] == "next" for lk in r["links"]):
            break
        offset += 5
    assert seen == expected


def test_paging_evaluates_a_filter_once(client):
    coll = client.app.state.store.get("low_efficiency")
    before = len(coll._cache)
    for offset in (0, 1, 2):
        client.get(
            "/ogc/collections/low_efficiency/items",
            params={"filter": "disputed = false", "limit": 1, "offset": offset},
        )
    assert len(coll._cache) == before + 1


def test_filter_on_other_collections(client):
    assert _ids(client, "unsupplied", filter="lapse_risk = true") == ["B01"]
    assert _ids(client, "readiness", filter="readiness_score > 70") == [f"P{k:03d}" for k in range(0, 24, 3)]


@pytest.mark.parametrize(
    ("params"),
    [
        {"filter": "planned_use = "},
        {"filter": "planned_use < 3"},
        {"filter": "unknown_field = 1"},
        {"filter": "S_INTERSECTS(geometry, 5)"},
        {"filter": "land_price_wan LIKE 'x%'"},
        {"filter": "S_INTERSECTS(geometry, BBOX(2, 2, 1, 1))"},
        {"filter": "{not json", "filter-lang": "cql2-json"},
        {"filter": '{"op": "=", "args": [{"property": "planned_use"}]}', "filter-lang": "cql2-json"},
        {"filter": "[1, 2]", "filter-lang": "cql2-json"},
        {"filter": "planned_use = 'x'", "filter-lang": "ecql"},
        {"filter": "planned_use = 'x'", "filter-crs": "EPSG:3857"},
        {"filter": "T_BEFORE(supplied_on, DATE('2020-01-01'))"},
    ],
)
def test_bad_filters_are_400(client, params):
    r = client.get("/ogc/collections/parcels/items", params=params)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "InvalidParameterValue"


def test_queryables_name_what_filters_accept(client):
    props = client.get("/ogc/collections/parcels/queryables").json()["properties"]
    for name in props:
        if name == "geometry":
            continue
        r = client.get("/ogc/collections/parcels/items", params={"filter": f"{name} IS NULL", "limit": 1})
        assert r.status_code == 200, name
    assert not np.isin(["infra_distance_m"], list(props)).any()


def test_spatial_functions_take_every_geometry_type(client):
    # a line along the row y = 40 m (parcels 0–5) and a multipolygon over parcels 0 and 23
    y = P.geometry.iloc[0].centroid.y
    line = _crs84(shapely.LineString([(P.total_bounds[0] - 10, y), (P.total_bounds[2] + 10, y)]))
    assert _ids(client, filter=f"S_INTERSECTS(geometry, {line.wkt})") == _spatial_expected(line)
    assert _spatial_expected(line) == [f"P{k:03d}" for k in range(6)]
    assert _ids(client, filter=f"S_CROSSES(geometry, {line.wkt})") == _spatial_expected(line, "crosses")
    multi = _crs84(shapely.MultiPolygon([P.geometry.iloc[0].buffer(-5), P.geometry.iloc[23].buffer(-5)]))
    assert _ids(client, filter=f"S_INTERSECTS(geometry, {multi.wkt})") == ["P000", "P023"]
    assert _ids(client, filter="S_EQUALS(geometry, POINT(0 0))") == []
