"""OGC API – Features Part 2: crs, bbox-crs, storageCrs and axis order (EPSG:4326/4490 and GK zones are lat/northing first)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient

import shapely

from api.app import create_app
from api.crs import gauss_kruger_zone
from api.settings import Settings
from tests.test_api_support import X0, Y0, feature_ids, parcels, store

EPSG = "http://www.opengis.net/def/crs/EPSG/0/{}"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(_env_file=None), store=store())) as c:
        yield c


def _ring(client: TestClient, fid: str, crs: str | None) -> np.ndarray:
    r = client.get(f"/ogc/collections/parcels/items/{fid}", params={"crs": crs} if crs else {})
    assert r.status_code == 200, r.text
    assert r.headers["content-crs"] == f"<{crs or CRS84}>"
    return np.asarray(r.json()["geometry"]["coordinates"][0])


def test_offered_crs(client):
    doc = client.get("/ogc/collections/parcels").json()
    assert doc["crs"] == [CRS84, EPSG.format(4326), EPSG.format(4490), EPSG.format(4527), EPSG.format(4548)]
    assert doc["storageCrs"] == EPSG.format(4527)


def test_gauss_kruger_zone_numbers():
    assert gauss_kruger_zone(117.0) == 4548  # CGCS2000 3-degree CM 117E
    assert gauss_kruger_zone(75.2) == 4534 and gauss_kruger_zone(134.9) == 4554


def test_storage_crs_round_trip_is_exact_and_northing_first(client):
    stored = parcels().set_index("parcel_id").geometry["P007"]
    ring = _ring(client, "P007", EPSG.format(4527))
    expected = np.asarray(shapely.get_coordinates(shapely.orient_polygons(stored, exterior_cw=False)))
    np.testing.assert_array_equal(ring[:, ::-1], expected)  # exact: served as stored, axes swapped
    assert ring[:, 0].min() == Y0 + 100 and ring[:, 1].min() == X0 + 120


def test_zone_without_prefix_differs_by_the_false_easting(client):
    prefixed = _ring(client, "P007", EPSG.format(4527))
    plain = _ring(client, "P007", EPSG.format(4548))
    np.testing.assert_allclose(plain[:, 1], prefixed[:, 1] - 39_000_000, atol=1e-3)
    np.testing.assert_allclose(plain[:, 0], prefixed[:, 0], atol=1e-3)


@pytest.mark.parametrize("code", [4326, 4490])
def test_geographic_crs_are_latitude_first(client, code):
    lonlat = _ring(client, "P007", None)
    latlon = _ring(client, "P007", EPSG.format(code))
    np.testing.assert_allclose(latlon[:, ::-1], lonlat, atol=2e-7)
    assert 30 < latlon[0, 0] < 31 and 116 < latlon[0, 1] < 118


def test_crs_for_a_page_of_items(client):
    r = client.get("/ogc/collections/parcels/items", params={"crs": EPSG.format(4527), "limit": 2})
    assert r.headers["content-crs"] == f"<{EPSG.format(4527)}>"
    first = np.asarray(r.json()["features"][0]["geometry"]["coordinates"][0])
    assert first[:, 0].min() == Y0 and first[:, 1].min() == X0


def _bbox_of(ring: np.ndarray, inset: float) -> list[float]:
    return [
        ring[:, 0].min() + inset,
        ring[:, 1].min() + inset,
        ring[:, 0].max() - inset,
        ring[:, 1].max() - inset,
    ]


@pytest.mark.parametrize(
    ("crs", "inset"),
    [(None, 1e-6), (EPSG.format(4326), 1e-6), (EPSG.format(4490), 1e-6), (EPSG.format(4527), 1.0)],
    ids=["crs84", "epsg4326", "epsg4490", "epsg4527"],
)
def test_bbox_crs_follows_the_axis_order_of_its_crs(client, crs, inset):
    ring = _ring(client, "P007", crs)  # the parcel in that CRS and axis order
    params = {"bbox": ",".join(map(str, _bbox_of(ring, inset))), "limit": 100}
    if crs:
        params["bbox-crs"] = crs
    doc = client.get("/ogc/collections/parcels/items", params=params).json()
    assert feature_ids(doc) == ["P007"]


def test_bbox_in_the_wrong_axis_order_is_rejected(client):
    ring = _ring(client, "P007", None)  # lon, lat
    params = {"bbox": ",".join(map(str, _bbox_of(ring, 1e-6))), "bbox-crs": EPSG.format(4326)}
    r = client.get("/ogc/collections/parcels/items", params=params)
    assert r.status_code == 400  # 117 is not a latitude


def test_crs_uri_forms(client):
    for value in ["EPSG:4490", "[EPSG:4490]", "urn:ogc:def:crs:EPSG::4490"]:
        r = client.get("/ogc/collections/parcels/items/P001", params={"crs": value})
        assert r.status_code == 200
        assert r.headers["content-crs"] == f"<{EPSG.format(4490)}>"
