"""Two `landready serve` processes on one store (a bureau's PostGIS, or one bundle on a shared drive): what one of
them writes, the other serves too — the parcel, its ETag, the recomputed audit and the zone totals.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.test_api_edit_support import (
    AS_OF,
    ROOT,
    bearer,
    create_token,
    db_url,
    feature,
    reset_db,
    run_cli,
    sq,
    target_args,
    write_bundle,
)

ITEMS = "/ogc/collections/parcels/items"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(args: list[str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LANDREADY_SYNC_SECONDS": "0"}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", *args, "--port", str(port), "--as-of", AS_OF],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"landready serve exited: {log.read_text(errors='replace')}")
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError(f"landready serve did not start: {log.read_text(errors='replace')}")


@pytest.fixture(params=["embedded", "postgis"])
def two_servers(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[httpx.Client, httpx.Client, str]]:
    bundle = write_bundle(tmp_path / "bundle")
    url = None
    if request.param == "postgis":
        url = db_url()
        reset_db(url)
        assert run_cli("load", bundle, "--db", url).returncode == 0
    else:
        # the embedded store is created on the first start; make it before two processes race for it
        assert run_cli("token", "create", "--role", "viewer", "--name", "x", bundle).returncode == 0
    token = create_token(request.param, bundle, url, "editor", "规划科 张三")
    args = target_args(request.param, bundle, url)
    first, base_a = _serve(args, tmp_path / "a.log")
    try:
        second, base_b = _serve(args, tmp_path / "b.log")
    except BaseException:
        first.kill()
        raise
    try:
        with httpx.Client(base_url=base_a, timeout=60) as a, httpx.Client(base_url=base_b, timeout=60) as b:
            yield a, b, token
    finally:
        for proc in (first, second):
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_an_edit_in_one_process_is_served_by_the_other(two_servers) -> None:
    a, b, token = two_servers
    before = b.get(f"{ITEMS}/IDLE")
    assert before.json()["properties"]["idle_stage"] == "idle_2y"
    assert b.get("/api/summary").json()["totals"]["idle"]["count"] == 1

    # the ETag B handed out is the store's, so A takes it
    patched = a.patch(
        f"{ITEMS}/IDLE",
        content=json.dumps({"properties": {"started_on": "2022-01-01"}}),
        headers={**bearer(token), "If-Match": before.headers["ETag"]},
    )
    assert patched.status_code == 200, patched.text

    after = b.get(f"{ITEMS}/IDLE")
    assert after.headers["ETag"] == patched.headers["ETag"]
    assert after.json()["properties"]["idle_stage"] == "overdue_completion"
    assert b.get("/api/summary").json()["totals"]["idle"]["count"] == 0
    assert b.get("/ogc/collections/idle/items").json()["numberMatched"] == 0
    # the same data behind both: the same read ETags (a balancer may send a revalidation to either)
    assert a.get("/api/summary").headers["etag"] == b.get("/api/summary").headers["etag"]

    # and B writes on with the ETag it now serves
    again = b.patch(
        f"{ITEMS}/IDLE",
        content=json.dumps({"properties": {"name": "已开工地块"}}),
        headers={**bearer(token), "If-Match": after.headers["ETag"]},
    )
    assert again.status_code == 200, again.text
    assert a.get(f"{ITEMS}/IDLE").json()["properties"]["name"] == "已开工地块"
    history = a.get("/api/parcels/IDLE/history").json()
    assert [h["actor"] for h in history] == ["规划科 张三", "规划科 张三"]


def test_creates_and_deletes_reach_the_other_process(two_servers) -> None:
    a, b, token = two_servers
    box = sq(0, 600)
    # EPSG:4527 lists northing first
    geometry = {"type": "Polygon", "coordinates": [[(y, x) for x, y in box.exterior.coords]]}
    created = a.post(
        ITEMS,
        content=feature("NEW1", geometry, planned_use="industrial"),
        headers={**bearer(token), "Content-Crs": "<http://www.opengis.net/def/crs/EPSG/0/4527>"},
    )
    assert created.status_code == 201, created.text
    seen = b.get(f"{ITEMS}/NEW1")
    assert seen.status_code == 200 and seen.headers["ETag"] == created.headers["ETag"]
    assert seen.json()["properties"]["readiness_tier"] != "supplied"

    deleted = b.delete(
        f"{ITEMS}/U2", headers={**bearer(token), "If-Match": b.get(f"{ITEMS}/U2").headers["ETag"]}
    )
    assert deleted.status_code == 204
    assert a.get(f"{ITEMS}/U2").status_code == 404
    ids = {f["id"] for f in a.get(ITEMS, params={"limit": 100}).json()["features"]}
    assert "U2" not in ids and "NEW1" in ids


def test_a_reload_of_the_database_reaches_a_running_server(tmp_path: Path) -> None:
    import geopandas as gpd

    url = db_url()
    reset_db(url)
    bundle = write_bundle(tmp_path / "bundle")
    assert run_cli("load", bundle, "--db", url).returncode == 0
    token = create_token("postgis", bundle, url, "editor", "规划科 张三")
    proc, base = _serve(["--db", url], tmp_path / "serve.log")
    try:
        with httpx.Client(base_url=base, timeout=60) as http:
            assert http.get("/api/summary").json()["totals"]["approved_unsupplied"]["count"] == 1
            # the batch is re-approved after the as-of date: a layer other than parcels changes
            batches = gpd.read_file(bundle / "batches.gpkg")
            batches["approved_on"] = "2026-01-01"
            batches.to_file(bundle / "batches.gpkg", layer="batches")
            load = run_cli("load", bundle, "--db", url)
            assert load.returncode == 0, load.stderr
            assert http.get("/api/summary").json()["totals"]["approved_unsupplied"]["count"] == 0
            item = http.get(f"{ITEMS}/U1")
            assert item.json()["properties"]["findings"] == []
            patched = http.patch(
                f"{ITEMS}/U1",
                content=json.dumps({"properties": {"name": "重新载入后"}}),
                headers={**bearer(token), "If-Match": item.headers["ETag"]},
            )
            assert patched.status_code == 200, patched.text
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_a_load_under_way_does_not_stall_a_running_server(tmp_path: Path) -> None:
    import psycopg

    url = db_url()
    reset_db(url)
    bundle = write_bundle(tmp_path / "bundle")
    assert run_cli("load", bundle, "--db", url).returncode == 0
    proc, base = _serve(["--db", url], tmp_path / "serve.log")
    try:
        with httpx.Client(base_url=base, timeout=30) as http, psycopg.connect(url) as load:
            # what a load holds while it replaces the data
            load.execute("LOCK TABLE landready.meta, landready.history IN ACCESS EXCLUSIVE MODE")
            for path in ("/healthz", "/api/summary", f"{ITEMS}/U1", "/api/summary"):
                t0 = time.monotonic()
                assert http.get(path).status_code == 200
                assert time.monotonic() - t0 < 4, path  # the look at the store gives up after ~1 s
            load.rollback()
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_a_burst_of_edits_elsewhere_is_taken_in_one_go(two_servers) -> None:
    from api.sync import BULK

    a, b, token = two_servers
    assert b.get("/api/summary").status_code == 200  # b has looked: what follows is new to it
    ids = [f"BURST{i:02d}" for i in range(BULK + 5)]
    for i, pid in enumerate(ids):
        box = sq(120 * (i % 10), 900 + 120 * (i // 10), 100, 100)
        geometry = {"type": "Polygon", "coordinates": [[(y, x) for x, y in box.exterior.coords]]}
        created = a.post(
            ITEMS,
            content=feature(pid, geometry, planned_use="industrial"),
            headers={**bearer(token), "Content-Crs": "<http://www.opengis.net/def/crs/EPSG/0/4527>"},
        )
        assert created.status_code == 201, created.text
    served = {f["id"] for f in b.get(ITEMS, params={"limit": 1000}).json()["features"]}
    assert set(ids) <= served
    for pid in (ids[0], ids[-1]):
        assert b.get(f"{ITEMS}/{pid}").headers["ETag"] == a.get(f"{ITEMS}/{pid}").headers["ETag"]
    assert a.get("/api/summary").json()["totals"] == b.get("/api/summary").json()["totals"]
