"""End to end over the committed demo zone: `api.server`'s path (read, compute, serve) read by GDAL and OWSLib."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date

import pytest
from owslib.ogcapi.features import Features

from api.app import create_app, load_results
from api.settings import Settings
from data import DEMO_BUNDLE
from gis.errors import InputError
from tests.conftest import require
from tests.test_api_support import live_server

AS_OF = date(2025, 6, 30)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, object]]:
    # a copy: serving a bundle creates its embedded store inside the bundle directory
    bundle = tmp_path_factory.mktemp("demo") / "bundle"
    shutil.copytree(DEMO_BUNDLE, bundle, ignore=shutil.ignore_patterns("landready-store*"))
    settings = Settings(_env_file=None, bundle=bundle, as_of=AS_OF)
    results = load_results(settings)
    with live_server(create_app(settings, results=results)) as url:
        yield url, results


def test_every_collection_of_the_contract(demo):
    url, results = demo
    api = Features(f"{url}/ogc")
    ids = api.feature_collections()
    assert ids[:5] == ["parcels", "unsupplied", "idle", "low_efficiency", "readiness"]
    assert set(results.bundle.layers) - {"parcels"} <= set(ids)
    assert api.collection_items("parcels", limit=1)["numberMatched"] == len(results.audit.parcels)


def test_idle_collection_matches_the_summary(demo):
    url, results = demo
    api = Features(f"{url}/ogc")
    idle = api.collection_items("idle", limit=1000)
    assert idle["numberMatched"] == results.audit.summary["totals"]["idle"]["count"]
    same = api.collection_items("parcels", filter="findings LIKE '%idle%'", limit=1000)
    assert sorted(f["id"] for f in same["features"]) == sorted(f["id"] for f in idle["features"])


@pytest.mark.gdal
def test_ogrinfo_reads_all_demo_parcels(demo):
    url, results = demo
    require(shutil.which("ogrinfo") is not None, "GDAL's ogrinfo")
    r = subprocess.run(
        ["ogrinfo", "-ro", "-al", "-q", "-oo", "PAGE_SIZE=250", f"OAPIF:{url}/ogc", "parcels"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    ids = re.findall(r"parcel_id \(String\) = (\S+)", r.stdout)
    assert sorted(ids) == sorted(results.audit.parcels.parcel_id)


def test_a_missing_bundle_is_an_input_error(tmp_path):
    with pytest.raises(InputError):
        load_results(Settings(_env_file=None, bundle=tmp_path / "nowhere", as_of=AS_OF))
    with pytest.raises(InputError, match="bundle"):
        load_results(Settings(_env_file=None, as_of=AS_OF))


def test_the_readiness_collection_is_every_parcel_unsupplied_as_of_the_date(demo):
    url, results = demo
    rd = results.readiness
    examined = rd[rd["readiness_tier"] != "supplied"]
    later = rd[(rd["supply_status"] == "supplied") & (rd["readiness_tier"] != "supplied")]
    assert len(later) > 0  # the demo has parcels supplied after the as-of date: still unsupplied here
    api = Features(f"{url}/ogc")
    served = api.collection_items("readiness", limit=10000)
    assert sorted(f["id"] for f in served["features"]) == sorted(examined["parcel_id"])
    one = later["parcel_id"].iloc[0]
    assert api.collection_item("readiness", one)["properties"]["readiness_tier"] != "supplied"
