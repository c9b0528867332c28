"""`landready load`: all or nothing. A load killed with SIGKILL while writing leaves the database as it was; loading
again is safe and keeps tokens, the ledger and history.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from gis.store import PostgisStore
from tests.test_api_edit_support import ROOT, db_url, reset_db, run_cli, write_bundle


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    url = db_url()
    reset_db(url)
    bundle = write_bundle(tmp_path_factory.mktemp("zone") / "bundle")
    run = run_cli("load", bundle, "--db", url)
    assert run.returncode == 0, run.stderr
    assert "parcels: 7" in run.stdout and "batches: 1" in run.stdout
    return url, bundle


def _parcel_ids(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute("SELECT parcel_id FROM landready.parcels ORDER BY parcel_id")]


def test_reload_is_safe_and_keeps_peoples_work(loaded: tuple[str, Path]) -> None:
    url, bundle = loaded
    store = PostgisStore(url)
    token = store.create_token("auditor", "李四")
    entry = store.get_ledger("U1")
    store.write_ledger("U1", {"progress": "done"}, if_match=entry.etag, actor="李四")
    etags = {pid: store.get(pid).etag for pid in _parcel_ids(url)}
    run = run_cli("load", bundle, "--db", url)
    assert run.returncode == 0, run.stderr
    assert _parcel_ids(url) == ["IDLE", "IND1", "IND2", "IND3", "IND4", "U1", "U2"]
    again = PostgisStore(url)
    assert again.authenticate(token).name == "李四"  # type: ignore[union-attr]
    assert again.get_ledger("U1").values == {"progress": "done"}
    assert [h["action"] for h in again.history("U1")] == ["ledger"]
    # the same data again: nothing changed, so every ETag a running server handed out still holds
    assert {pid: again.get(pid).etag for pid in etags} == etags


def test_a_reload_does_not_undo_edits_unless_asked(loaded: tuple[str, Path]) -> None:
    url, bundle = loaded
    store = PostgisStore(url)
    p = store.get("U2")
    store.write("update", "U2", {**p.properties, "name": "已改名"}, p.geometry, if_match=p.etag, actor="张三")
    untouched = store.get("IND1").etag

    refused = run_cli("load", bundle, "--db", url)
    assert refused.returncode == 2, refused.stderr
    assert "U2" in refused.stderr and "--discard-edits" in refused.stderr
    assert store.get("U2").properties["name"] == "已改名"

    run = run_cli("load", bundle, "--db", url, "--discard-edits")
    assert run.returncode == 0, run.stderr
    assert store.get("U2").properties["name"] == "未供二"
    last = store.history("U2")[-1]
    assert (last["action"], last["actor"]) == ("reload", "landready load")
    assert (
        last["before"]["properties"]["name"] == "已改名" and last["after"]["properties"]["name"] == "未供二"
    )
    assert store.get("IND1").etag == untouched and store.history("IND1") == []
    # the load is now the baseline: loading again needs no flag
    assert run_cli("load", bundle, "--db", url).returncode == 0


def test_a_load_killed_while_writing_leaves_the_database_as_it_was(
    loaded: tuple[str, Path], tmp_path: Path
) -> None:
    url, _ = loaded
    before = _parcel_ids(url)
    big = tmp_path / "big"
    gen = subprocess.run(
        [sys.executable, "-m", "data.generate", "--parcels", "100000", "--out", str(big)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=300,
    )
    assert gen.returncode == 0, gen.stderr
    load = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "load", str(big), "--db", url],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        copying = _wait_for_copy(url, load, timeout=180)
        assert copying, "the load never started writing parcels"
        os.kill(load.pid, signal.SIGKILL)
        load.wait(timeout=30)
    finally:
        if load.poll() is None:
            os.kill(load.pid, signal.SIGKILL)
            load.wait(timeout=30)
    assert load.returncode == -signal.SIGKILL
    # had the load got as far as its commit, there would be 100 000 parcels: the server rolled it all back
    assert _parcel_ids(url) == before
    store = PostgisStore(url)
    assert store.get("U1").properties["name"] == "未供一"
    with psycopg.connect(url) as conn:
        layers = conn.execute("SELECT value FROM landready.meta WHERE key='layers'").fetchone()
    assert layers is not None and "batches" in layers[0]


def _wait_for_copy(url: str, load: subprocess.Popen[bytes], timeout: float) -> bool:
    """True once the load's COPY into the parcels table runs (another session sees it in pg_stat_activity)."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline and load.poll() is None:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY landready.parcels%%' AND state='active'"
            ).fetchone()
            if row and row[0]:
                return True
            time.sleep(0.05)
    return False
