"""One suite for both stores: the embedded GeoPackage and PostGIS (CONTRACT §5.1)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import psycopg
import pytest
from conftest import require

import geopandas as gpd
from pyproj import CRS
from shapely.geometry import box

from gis.bundle import Bundle
from gis.errors import ConflictError, InputError, NotFoundError, PreconditionFailedError
from gis.store import EmbeddedStore, PostgisStore
from gis.store.load import load_bundle
from gis.store.postgis import SCHEMA

CRS_GK = CRS.from_epsg(4527)


def _parcels(n: int = 3) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "parcel_id": [f"P{i}" for i in range(n)],
            "name": [f"地块{i}" for i in range(n)],
            "supplied_on": pd.to_datetime(["2020-02-29"] + [None] * (n - 1)),
            "land_price_wan": [100.0] + [float("nan")] * (n - 1),
        },
        geometry=[box(39500000 + 200 * i, 3760000, 39500100 + 200 * i, 3760100) for i in range(n)],
        crs=CRS_GK,
    )


def _db_url() -> str:
    url = os.environ.get("LANDREADY_TEST_DB")
    require(url is not None, "PostGIS test database (LANDREADY_TEST_DB)")
    assert url is not None
    return url


def _reset_db(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")


def _make(kind: str, tmp_path: Path, n: int = 3):
    parcels = _parcels(n)
    if kind == "embedded":
        return EmbeddedStore.create(tmp_path / "landready-store.gpkg", parcels)
    url = _db_url()
    _reset_db(url)
    load_bundle(Bundle(tmp_path, CRS_GK, {"parcels": parcels}), url)
    return PostgisStore(url)


@pytest.fixture(params=["embedded", "postgis"])
def store(request, tmp_path):
    s = _make(request.param, tmp_path)
    yield s
    s.close()


def test_read_parcels_round_trip(store):
    gdf = store.read_parcels()
    assert list(gdf["parcel_id"]) == ["P0", "P1", "P2"]
    assert gdf.loc[0, "name"] == "地块0"
    assert gdf.loc[0, "supplied_on"] == "2020-02-29"
    assert pd.isna(gdf.loc[1, "land_price_wan"])
    assert gdf.crs.equals(CRS_GK)
    assert gdf.geometry[0].equals(box(39500000, 3760000, 39500100, 3760100))
    assert gdf["_etag"].is_unique


def test_update_with_current_etag_then_stale(store):
    p = store.get("P1")
    after = store.write(
        "update", "P1", {**p.properties, "name": "新名称"}, p.geometry, if_match=p.etag, actor="张三"
    )
    assert after is not None and after.etag != p.etag
    assert store.get("P1").properties["name"] == "新名称"
    with pytest.raises(PreconditionFailedError):
        store.write("update", "P1", p.properties, p.geometry, if_match=p.etag, actor="张三")
    with pytest.raises(PreconditionFailedError):
        store.write("delete", "P1", None, None, if_match=None, actor="张三")


def test_create_delete_and_history(store):
    geom = box(39501000, 3760000, 39501050, 3760050)
    created = store.write("create", "NEW", {"name": "新增地块"}, geom, if_match=None, actor="李四")
    with pytest.raises(ConflictError):
        store.write("create", "NEW", {"name": "x"}, geom, if_match=None, actor="李四")
    store.write("delete", "NEW", None, None, if_match=created.etag, actor="王五")
    with pytest.raises(NotFoundError):
        store.get("NEW")
    history = store.history("NEW")
    assert [h["action"] for h in history] == ["create", "delete"]
    assert [h["actor"] for h in history] == ["李四", "王五"]
    assert history[0]["before"] is None
    assert history[0]["after"]["properties"] == {"name": "新增地块"}
    assert history[1]["before"]["geometry"]["type"] == "Polygon"
    assert history[1]["after"] is None
    assert history[0]["at"] <= history[1]["at"]


def test_failed_write_leaves_no_history(store):
    p = store.get("P0")
    with pytest.raises(PreconditionFailedError):
        store.write("update", "P0", p.properties, p.geometry, if_match='"stale"', actor="张三")
    with pytest.raises(NotFoundError):
        store.write("update", "NOPE", {}, p.geometry, if_match='"x"', actor="张三")
    assert store.history("P0") == []
    assert store.history("NOPE") == []


def test_changes_since_lists_parcel_writes_once_and_not_the_ledger(store):
    cursor = store.change_cursor()
    assert store.changes_since(cursor)[1] == []
    p1, p0 = store.get("P1"), store.get("P0")
    after = store.write(
        "update", "P1", {**p1.properties, "name": "甲"}, p1.geometry, if_match=p1.etag, actor="a"
    )
    store.write("update", "P1", {**p1.properties, "name": "乙"}, p1.geometry, if_match=after.etag, actor="a")
    store.write("delete", "P0", None, None, if_match=p0.etag, actor="a")
    store.write_ledger("P2", {"note": "只改台账"}, if_match=store.get_ledger("P2").etag, actor="审计员")
    cursor, changed = store.changes_since(cursor)
    assert changed == ["P1", "P0"]
    assert store.changes_since(cursor)[1] == []


def test_postgis_changes_since_misses_no_slow_writer(tmp_path):
    """A history id taken before another's but committed after it is still found (ids do not commit in order)."""
    store = _make("postgis", tmp_path)
    cursor = store.change_cursor()
    with psycopg.connect(store.url) as slow:
        slow.execute(  # takes the lower id, commits last
            f"INSERT INTO {SCHEMA}.history (parcel_id, actor, action) VALUES ('P2', 'slow', 'update')"
        )
        p1 = store.get("P1")
        store.write("update", "P1", p1.properties, p1.geometry, if_match=p1.etag, actor="fast")
        cursor, changed = store.changes_since(cursor)
        assert changed == ["P1"]
        slow.commit()
    cursor, changed = store.changes_since(cursor)
    assert changed == ["P2"]
    assert store.changes_since(cursor)[1] == []


def test_ledger_etags(store):
    entry = store.get_ledger("P0")
    assert entry.values == {}
    assert store.get_ledger("P0").etag == entry.etag  # stable before the first write
    new = store.write_ledger(
        "P0",
        {"responsible_unit": "自然资源局", "progress": "in_progress"},
        if_match=entry.etag,
        actor="审计员",
    )
    assert new.values == {"responsible_unit": "自然资源局", "progress": "in_progress"}
    with pytest.raises(PreconditionFailedError):
        store.write_ledger("P0", {"progress": "done"}, if_match=entry.etag, actor="审计员")
    newer = store.write_ledger("P0", {"progress": "done"}, if_match=new.etag, actor="审计员")
    assert newer.values == {"responsible_unit": "自然资源局", "progress": "done"}
    history = store.history("P0")
    assert [h["action"] for h in history] == ["ledger", "ledger"]
    assert history[1]["before"]["progress"] == "in_progress"


def test_tokens_are_hashed_and_checked(store):
    token = store.create_token("editor", "规划科 张三")
    principal = store.authenticate(token)
    assert principal is not None and principal.name == "规划科 张三" and principal.role == "editor"
    assert store.authenticate(token + "x") is None
    assert store.authenticate("lr_nope_secret") is None
    assert store.authenticate("garbage") is None
    with pytest.raises(InputError):
        store.create_token("admin", "x")
    secret = token.split("_", 2)[2]
    if isinstance(store, EmbeddedStore):
        with sqlite3.connect(store.path) as conn:
            dump = "\n".join(conn.iterdump())
    else:
        with psycopg.connect(store.url) as conn:
            dump = str(conn.execute(f"SELECT * FROM {SCHEMA}.tokens").fetchall())
    assert secret not in dump and token not in dump


def test_history_is_append_only_in_the_database(store):
    p = store.get("P0")
    store.write("update", "P0", p.properties, p.geometry, if_match=p.etag, actor="张三")
    if isinstance(store, EmbeddedStore):
        with sqlite3.connect(store.path) as conn:
            for sql in ("UPDATE history SET actor='x'", "DELETE FROM history"):
                with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                    conn.execute(sql)
    else:
        for sql in (
            f"UPDATE {SCHEMA}.history SET actor='x'",
            f"DELETE FROM {SCHEMA}.history",
            f"TRUNCATE {SCHEMA}.history",
        ):
            with (
                psycopg.connect(store.url) as conn,
                pytest.raises(psycopg.errors.RaiseException, match="append-only"),
            ):
                conn.execute(sql)
    assert len(store.history("P0")) == 1


def test_twenty_concurrent_writes_with_one_etag(store):
    p = store.get("P2")
    outcomes: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(20)

    def patch(i: int) -> None:
        barrier.wait()
        try:
            store.write(
                "update",
                "P2",
                {**p.properties, "name": f"写入{i}"},
                p.geometry,
                if_match=p.etag,
                actor=f"用户{i}",
            )
            result = f"ok{i}"
        except PreconditionFailedError:
            result = "412"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=patch, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [o for o in outcomes if o.startswith("ok")]
    assert len(outcomes) == 20 and len(winners) == 1
    history = store.history("P2")
    assert len(history) == 1
    assert store.get("P2").properties["name"] == f"写入{winners[0][2:]}"


_WRITER = """
import sys
from gis.store import EmbeddedStore
s = EmbeddedStore(sys.argv[1])
i = 0
while True:
    p = s.get("P0")
    s.write("update", "P0", {**p.properties, "n": i}, p.geometry, if_match=p.etag, actor="loop")
    i += 1
    if i == 5:
        print("running", flush=True)
"""


def test_embedded_store_survives_kill_during_writes(tmp_path):
    store = _make("embedded", tmp_path, n=200)
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(store.path)],
        stdout=subprocess.PIPE,
        cwd=Path(__file__).parents[1],
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == b"running"
    proc.kill()
    proc.wait()
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    reopened = EmbeddedStore(store.path)
    history = reopened.history("P0")
    assert len(history) >= 5
    # every committed write has its history row and the parcel shows the last one
    assert reopened.get("P0").properties["n"] == history[-1]["after"]["properties"]["n"] == len(history) - 1
    assert len(reopened.read_parcels()) == 200


def test_served_bundle_is_the_same_from_files_embedded_store_and_postgis(tmp_path):
    import datetime
    import shutil

    from data import DEMO_BUNDLE
    from gis.io import read_bundle
    from gis.pipeline import compute
    from gis.store.served import open_served

    bundle = tmp_path / "demo"
    shutil.copytree(DEMO_BUNDLE, bundle)
    files = read_bundle(bundle)
    embedded, _ = open_served(bundle, None)
    assert (bundle / "landready-store.gpkg").exists()
    url = _db_url()
    _reset_db(url)
    load_bundle(files, url)
    served, _ = open_served(None, url, cache_dir=tmp_path / "rasters")
    assert set(served.layers) == set(files.layers) and set(served.rasters) == set(files.rasters)
    as_of = datetime.date(2025, 8, 31)
    expected = compute(files, as_of).audit.summary["totals"]
    assert compute(embedded, as_of).audit.summary["totals"] == expected
    assert compute(served, as_of).audit.summary["totals"] == expected
    pd.testing.assert_frame_equal(
        served.parcels.drop(columns="geometry"), files.parcels.drop(columns="geometry"), check_like=True
    )


def test_embedded_store_of_a_minimal_bundle(tmp_path):
    from gis.store.served import open_served

    bundle = tmp_path / "minimal"
    bundle.mkdir()
    _parcels(2)[["parcel_id", "geometry"]].to_file(bundle / "parcels.gpkg")
    served, _store = open_served(bundle, None)
    assert list(served.parcels["parcel_id"]) == ["P0", "P1"]
    assert served.parcels["supply_status"].tolist() == ["unsupplied", "unsupplied"]
    assert served.parcels["planned_use"].isna().all()


def test_a_database_loaded_by_an_older_landready_asks_for_a_new_load(tmp_path):
    store = _make("postgis", tmp_path)
    with psycopg.connect(store.url) as conn:
        conn.execute(f"ALTER TABLE {SCHEMA}.history DROP COLUMN xid")
    with pytest.raises(InputError, match="landready load"):
        PostgisStore(store.url)
    load_bundle(Bundle(tmp_path, CRS_GK, {"parcels": _parcels()}), store.url)  # a new load brings it back
    assert PostgisStore(store.url).changes_since(PostgisStore(store.url).change_cursor())[1] == []
