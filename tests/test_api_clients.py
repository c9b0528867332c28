"""Real clients written by others against a live server: GDAL's OAPIF driver (ogrinfo) and OWSLib."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator

import pytest
import requests
from owslib.ogcapi.features import Features

import geopandas as gpd

from api.app import create_app
from api.settings import Settings
from tests.conftest import require
from tests.test_api_support import live_server, parcels, store

ALL_IDS = [f"P{k:03d}" for k in range(24)]


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with live_server(create_app(Settings(_env_file=None), store=store())) as url:
        yield url


def _ogrinfo(*args: str) -> subprocess.CompletedProcess[str]:
    require(shutil.which("ogrinfo") is not None, "GDAL's ogrinfo")
    return subprocess.run(["ogrinfo", *args], capture_output=True, text=True, timeout=120, check=False)


def _ids(text: str) -> list[str]:
    return re.findall(r"parcel_id \(String\) = (\S+)", text)


@pytest.mark.gdal
def test_ogrinfo_reads_the_layer_summary(server):
    r = _ogrinfo("-ro", "-so", f"OAPIF:{server}/ogc", "parcels")
    assert r.returncode == 0, r.stderr
    assert "Feature Count: 24" in r.stdout
    assert "Geometry: Polygon" in r.stdout
    assert "supplied_on: Date" in r.stdout and "land_price_wan: Real" in r.stdout
    assert "TITLE=地块" in r.stdout


@pytest.mark.gdal
def test_ogrinfo_pages_through_every_feature(server):
    r = _ogrinfo(
        "-ro",
        "-al",
        "-q",
        "-oo",
        "PAGE_SIZE=7",
        "--config",
        "CPL_DEBUG",
        "ON",
        f"OAPIF:{server}/ogc",
        "parcels",
    )
    assert r.returncode == 0, r.stderr
    assert sorted(_ids(r.stdout)) == ALL_IDS
    fetched = re.findall(r"Fetch\((\S+/items\S*)\)", r.stderr)
    assert any("offset=21" in url for url in fetched)  # followed our next links page by page
    assert "Unexpected Content-Type" not in r.stderr


@pytest.mark.gdal
def test_ogrinfo_spatial_filter_is_sent_as_bbox(server):
    p = parcels().to_crs("OGC:CRS84")
    minx, miny, maxx, maxy = p.geometry.iloc[7].buffer(-1e-6).bounds
    r = _ogrinfo(
        "-ro", "-al", "-q", "--config", "CPL_DEBUG", "ON",
        "-spat", str(minx), str(miny), str(maxx), str(maxy), f"OAPIF:{server}/ogc", "parcels",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert _ids(r.stdout) == ["P007"]
    assert re.search(r"Fetch\(\S+/items\?\S*bbox=", r.stderr)  # filtered by the server, not only by GDAL


@pytest.mark.gdal
def test_ogrinfo_attribute_filter(server):
    r = _ogrinfo("-ro", "-al", "-q", "-where", "planned_use = 'industrial'", f"OAPIF:{server}/ogc", "parcels")
    assert r.returncode == 0, r.stderr
    expected = parcels().query("planned_use == 'industrial'").parcel_id.tolist()
    assert _ids(r.stdout) == expected and expected


@pytest.mark.gdal
def test_ogrinfo_reads_every_collection(server):
    r = _ogrinfo("-ro", "-so", "-al", f"OAPIF:{server}/ogc")
    assert r.returncode == 0, r.stderr
    counts = dict(re.findall(r"Layer name: (\S+)\n(?:.*\n)*?Feature Count: (\d+)", r.stdout))
    assert counts == {
        "parcels": "24",
        "unsupplied": "3",
        "idle": str(sum("idle" in f for f in parcels().findings)),
        "low_efficiency": str(sum("low_efficiency" in f for f in parcels().findings)),
        "readiness": "8",
        "basic_farmland": "1",
        "hv_lines": "1",
    }


def test_owslib_landing_conformance_collections_and_api(server):
    api = Features(f"{server}/ogc")
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in api.conformance()["conformsTo"]
    assert api.feature_collections() == [
        "parcels", "unsupplied", "idle", "low_efficiency", "readiness", "basic_farmland", "hv_lines",
    ]  # fmt: skip
    assert api.collection("parcels")["title"] == "地块"
    doc = api.api()  # raises unless service-desc is typed application/vnd.oai.openapi+json;version=3.0
    assert doc["openapi"].startswith("3.0")
    assert "land_price_wan" in api.collection_queryables("parcels")["properties"]


def test_owslib_pages_with_limit_and_offset(server):
    api = Features(f"{server}/ogc")
    seen, offset = [], 0
    while True:
        page = api.collection_items("parcels", limit=5, offset=offset)
        assert page["numberMatched"] == 24
        if not page["features"]:
            break
        seen += [f["id"] for f in page["features"]]
        offset += 5
    assert seen == ALL_IDS


def test_owslib_filters_bbox_and_sortby(server):
    api = Features(f"{server}/ogc")
    got = api.collection_items(
        "parcels", filter="land_price_wan > 250", sortby=("land_price_wan", "desc"), limit=50
    )
    prices = [f["properties"]["land_price_wan"] for f in got["features"]]
    assert prices == sorted(prices, reverse=True) and min(prices) > 250
    p = gpd.GeoDataFrame(parcels()).to_crs("OGC:CRS84")
    box = list(p.geometry.iloc[3].buffer(-1e-6).bounds)
    assert [f["id"] for f in api.collection_items("parcels", bbox=box)["features"]] == ["P003"]
    assert api.collection_item("unsupplied", "B01")["properties"]["lapse_risk"] is True


def test_a_live_server_gzips_and_revalidates(server):
    url = f"{server}/ogc/collections/parcels/items?limit=24"
    first = requests.get(url, headers={"Accept-Encoding": "gzip"}, timeout=30)
    assert first.headers["Content-Encoding"] == "gzip" and first.json()["numberReturned"] == 24
    again = requests.get(url, headers={"If-None-Match": first.headers["ETag"]}, timeout=30)
    assert again.status_code == 304
