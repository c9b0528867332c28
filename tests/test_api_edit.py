"""CONTRACT §5.1 over real HTTP, on both stores: tokens from the CLI, 401/403/428/412, edits that recompute the
audit and readiness, history with Chinese actor names, the ledger, and twenty concurrent PATCHes.

One server per store serves the module's tests in order (each test builds on the edits before it).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from pyproj import Transformer

from api.app import create_app, store_from_results
from api.crs import CRS84
from api.settings import Settings
from gis.pipeline import compute
from gis.store.served import open_served
from tests.test_api_edit_support import (
    E0,
    N0,
    bearer,
    create_token,
    db_url,
    feature,
    reset_db,
    run_cli,
    write_bundle,
)
from tests.test_api_support import live_server

ITEMS = "/ogc/collections/parcels/items"


@dataclass
class Served:
    kind: str
    url: str
    app: Any
    editor: str
    auditor: str
    viewer: str
    http: httpx.Client

    @property
    def store(self) -> Any:
        return self.app.state.edit_store

    def item(self, pid: str) -> httpx.Response:
        return self.http.get(f"{ITEMS}/{pid}")

    def patch(
        self, pid: str, body: dict[str, Any], token: str | None, etag: str | None = None
    ) -> httpx.Response:
        headers = {**(bearer(token) if token else {}), **({"If-Match": etag} if etag else {})}
        return self.http.patch(f"{ITEMS}/{pid}", content=json.dumps(body), headers=headers)

    def history(self, pid: str) -> list[dict[str, Any]]:
        response = self.http.get(f"/api/parcels/{pid}/history")
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="module", params=["embedded", "postgis"])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    bundle = write_bundle(tmp_path_factory.mktemp("zone") / "bundle")
    url: str | None = None
    if request.param == "postgis":
        url = db_url()
        reset_db(url)
        load = run_cli("load", bundle, "--db", url)
        assert load.returncode == 0, load.stderr
        assert "parcels: 7" in load.stdout
    editor = create_token(request.param, bundle, url, "editor", "张三")
    settings = Settings(_env_file=None, bundle=None if url else bundle, db=url, as_of=date(2025, 6, 30))
    app = create_app(settings)
    with live_server(app) as base, httpx.Client(base_url=base, timeout=60) as http:
        store = app.state.edit_store
        yield Served(
            request.param,
            base,
            app,
            editor,
            store.create_token("auditor", "李四"),
            store.create_token("viewer", "王五"),
            http,
        )


def test_reads_are_open_and_an_item_carries_the_store_etag(served: Served) -> None:
    response = served.item("IDLE")
    assert response.status_code == 200
    assert response.headers["ETag"] == served.store.get("IDLE").etag
    props = response.json()["properties"]
    assert (props["idle_stage"], props["findings"]) == ("idle_2y", ["idle"])


def test_writes_need_a_token_of_the_right_role(served: Served) -> None:
    etag = served.item("IDLE").headers["ETag"]
    body = {"properties": {"name": "改名"}}
    for token in (None, "lr_nobody_secret", "not-a-token"):
        response = served.patch("IDLE", body, token, etag)
        assert response.status_code == 401, response.text
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.json()["code"] == "Unauthorized"
    basic = served.http.patch(
        f"{ITEMS}/IDLE", json=body, headers={"Authorization": "Basic eDp5", "If-Match": etag}
    )
    assert basic.status_code == 401
    for token in (served.viewer, served.auditor):
        assert served.patch("IDLE", body, token, etag).status_code == 403
    ledger = served.http.get("/api/ledger/IDLE").headers["ETag"]
    for token in (served.viewer, served.editor):
        response = served.http.patch(
            "/api/ledger/IDLE", json={"note": "x"}, headers={**bearer(token), "If-Match": ledger}
        )
        assert response.status_code == 403
        assert set(response.json()) == {"code", "description"}
    assert served.history("IDLE") == []


def test_a_write_without_if_match_is_428_a_stale_one_412_and_nothing_changes(served: Served) -> None:
    before = served.item("IDLE")
    body = {"properties": {"started_on": "2022-01-01"}}
    assert served.patch("IDLE", body, served.editor).status_code == 428
    stale = served.patch("IDLE", body, served.editor, '"stale"')
    assert stale.status_code == 412 and stale.json()["code"] == "PreconditionFailed"
    headers = bearer(served.editor)
    assert served.http.delete(f"{ITEMS}/IDLE", headers=headers).status_code == 428
    assert served.http.put(f"{ITEMS}/IDLE", content=before.content, headers=headers).status_code == 428
    bad = served.patch(
        "IDLE", {"properties": {"supply_status": "maybe"}}, served.editor, before.headers["ETag"]
    )
    assert bad.status_code == 400 and "supply_status" in bad.json()["description"]
    bad = served.patch(
        "IDLE", {"properties": {"land_price_wan": "lots"}}, served.editor, before.headers["ETag"]
    )
    assert bad.status_code == 400 and "land_price_wan" in bad.json()["description"]
    after = served.item("IDLE")
    assert after.headers["ETag"] == before.headers["ETag"] == served.store.get("IDLE").etag
    assert after.json()["properties"] == before.json()["properties"]
    assert served.history("IDLE") == []  # a failed write leaves no history row


def test_a_patch_recomputes_idle_in_the_response_later_gets_and_the_summary(served: Served) -> None:
    first = served.http.get("/api/summary")
    assert first.json()["totals"]["idle"]["count"] == 1
    # editable data: a browser revalidates every time, so the totals it shows are never from before an edit
    assert "no-cache" in first.headers["cache-control"] and "max-age" not in first.headers["cache-control"]
    etag = served.item("IDLE").headers["ETag"]
    response = served.patch("IDLE", {"properties": {"started_on": "2022-01-01"}}, served.editor, etag)
    assert response.status_code == 200, response.text
    new_etag = response.headers["ETag"]
    assert new_etag != etag and new_etag == served.store.get("IDLE").etag
    props = response.json()["properties"]
    assert props["started_on"] == "2022-01-01"
    assert (props["idle_stage"], props["findings"]) == ("overdue_completion", [])
    assert props["readiness_tier"] == "supplied"
    again = served.item("IDLE")
    assert (
        again.headers["ETag"] == new_etag and again.json()["properties"]["idle_stage"] == "overdue_completion"
    )
    assert served.http.get("/api/parcels/IDLE").json()["properties"]["findings"] == []
    after = served.http.get("/api/summary", headers={"If-None-Match": first.headers["etag"]})
    assert after.status_code == 200 and after.headers["etag"] != first.headers["etag"]
    totals = after.json()["totals"]
    assert totals["idle"] == {"m2": 0.0, "ha": 0.0, "mu": 0.0, "count": 0}
    assert served.http.get("/ogc/collections/idle/items").json()["numberMatched"] == 0


def test_supplying_a_parcel_updates_its_batch_and_readiness(served: Served) -> None:
    before = served.item("U1").json()["properties"]
    assert before["findings"] == ["approved_unsupplied"] and before["readiness_tier"] != "supplied"
    assert served.http.get("/api/summary").json()["totals"]["approved_unsupplied"]["m2"] == pytest.approx(
        30000
    )
    etag = served.item("U1").headers["ETag"]
    patch = {
        "properties": {"supply_status": "已供", "supplied_on": "2024-01-01"}
    }  # Chinese enum names are accepted
    response = served.patch("U1", patch, served.editor, etag)
    assert response.status_code == 200, response.text
    props = response.json()["properties"]
    assert props["supply_status"] == "supplied"
    assert props["findings"] == [] and props["readiness_tier"] == "supplied"
    totals = served.http.get("/api/summary").json()["totals"]
    assert totals["approved_unsupplied"]["m2"] == pytest.approx(20000)
    batch = served.http.get("/ogc/collections/unsupplied/items/B1").json()["properties"]
    assert batch["unsupplied_m2"] == pytest.approx(20000) and batch["supply_rate"] == pytest.approx(1 / 3)


def test_a_gauss_kruger_geometry_with_swapped_axes_is_400_not_500(served: Served) -> None:
    ring = [(E0 + x, N0 + y) for x, y in ((0, 600), (100, 600), (100, 700), (0, 700), (0, 600))]
    response = served.http.post(
        ITEMS,
        content=feature("SWAP", {"type": "Polygon", "coordinates": [ring]}, planned_use="industrial"),
        headers={**bearer(served.editor), "Content-Crs": "<http://www.opengis.net/def/crs/EPSG/0/4527>"},
    )
    assert response.status_code == 400, response.text
    assert "axis order" in response.json()["description"]
    assert served.item("SWAP").status_code == 404


def test_create_in_cgcs2000_geographic_then_delete(served: Served) -> None:
    to_geo = Transformer.from_crs(4527, 4490, always_xy=True)
    ring = [
        to_geo.transform(E0 + x, N0 + y) for x, y in ((0, 600), (100, 600), (100, 700), (0, 700), (0, 600))
    ]
    geometry = {
        "type": "Polygon",
        "coordinates": [[[lat, lon] for lon, lat in ring]],
    }  # EPSG:4490 is lat, lon
    body = feature("新地块", geometry, planned_use="工业", supply_status="unsupplied")
    headers = {**bearer(served.editor), "Content-Crs": "<http://www.opengis.net/def/crs/EPSG/0/4490>"}
    created = served.http.post(ITEMS, content=body, headers=headers)
    assert created.status_code == 201, created.text
    assert created.headers["Location"].endswith("/items/%E6%96%B0%E5%9C%B0%E5%9D%97")
    assert created.headers["ETag"] == served.store.get("新地块").etag
    props = created.json()["properties"]
    assert props["area_m2"] == pytest.approx(10000, abs=0.01)
    assert props["readiness_tier"] in ("not_ready", "nearly_ready") and props["findings"] == []
    assert served.http.post(ITEMS, content=body, headers=headers).status_code == 409
    assert served.http.get("/ogc/collections/parcels/items").json()["numberMatched"] == 8

    deleted = served.http.delete(f"{ITEMS}/新地块", headers={**headers, "If-Match": created.headers["ETag"]})
    assert deleted.status_code == 204
    assert served.http.get(f"{ITEMS}/新地块").status_code == 404
    assert served.http.get("/ogc/collections/parcels/items").json()["numberMatched"] == 7
    history = served.history("新地块")
    assert [h["action"] for h in history] == ["create", "delete"]
    assert history[0]["before"] is None and history[1]["after"] is None
    assert history[0]["after"]["properties"]["planned_use"] == "industrial"


def test_put_replaces_and_a_tax_change_reranks_every_parcel(served: Served) -> None:
    grades = {p: served.item(p).json()["properties"]["mujun_grade"] for p in ("IND1", "IND2", "IND3", "IND4")}
    assert grades["IND4"] == "A"
    current = served.item("IND1")
    doc = current.json()
    # a PUT replaces the whole feature: what it leaves out is gone
    doc["properties"] = {k: v for k, v in doc["properties"].items() if k not in ("name", "area_m2")}
    doc["properties"]["annual_tax_wan"] = 3000.0
    doc.pop("links")
    response = served.http.put(
        f"{ITEMS}/IND1", json=doc, headers={**bearer(served.editor), "If-Match": current.headers["ETag"]}
    )
    assert response.status_code == 200, response.text
    assert response.json()["properties"]["mujun_grade"] == "A"
    assert response.json()["properties"]["name"] is None
    stored = served.store.get("IND1").properties
    assert stored["name"] is None and "mujun_grade" not in stored and "readiness_tier" not in stored
    assert served.item("IND4").json()["properties"]["mujun_grade"] != "A"


def test_a_failing_incremental_recompute_falls_back_to_a_full_one(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gis.recompute

    def broken(*args: Any) -> Any:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(gis.recompute, "apply_edit", broken)
    etag = served.item("U2").headers["ETag"]
    response = served.patch("U2", {"properties": {"name": "回退"}}, served.editor, etag)
    assert response.status_code == 200, response.text
    assert response.json()["properties"]["name"] == "回退"
    assert served.http.get("/api/parcels/U2").json()["properties"]["name"] == "回退"


def test_the_recomputed_results_equal_a_full_recompute_from_the_store(served: Served) -> None:
    state = served.app.state
    bundle, _ = open_served(None if served.kind == "postgis" else state.settings.bundle, state.settings.db)
    full = compute(bundle, state.settings.as_of)
    mine = state.results
    assert json.dumps(mine.audit.summary, sort_keys=True, default=str) == json.dumps(
        full.audit.summary, sort_keys=True, default=str
    )
    columns = ["parcel_id", "idle_stage", "findings", "mujun_score", "mujun_grade", "batch_covered_share"]
    assert (
        mine.audit.parcels[columns].astype(str).values.tolist()
        == full.audit.parcels[columns].astype(str).values.tolist()
    )
    rcols = ["parcel_id", "readiness_tier", "missing", "readiness_score"]
    assert (
        mine.readiness[rcols].astype(str).values.tolist() == full.readiness[rcols].astype(str).values.tolist()
    )
    assert mine.audit.batches.astype(str).values.tolist() == full.audit.batches.astype(str).values.tolist()

    # the collections refreshed row by row serve exactly what a rebuild from the results would
    assert getattr(state, "full_rebuilds", 0) == 0  # every edit took the row-by-row path
    rebuilt = {c.id: c for c in store_from_results(mine, "rebuilt").collections()}
    served_now = {c.id: c for c in state.store.collections()}
    assert list(served_now) == list(rebuilt)
    for cid, c in rebuilt.items():
        s = served_now[cid]
        assert s.ids.tolist() == c.ids.tolist(), cid
        assert s.property_names == c.property_names, cid
        assert s.props_json.tolist() == c.props_json.tolist(), cid
        assert s.geometry_text[CRS84].tolist() == c.geometry_text[CRS84].tolist(), cid


def test_the_ledger_needs_an_auditor_and_if_match(served: Served) -> None:
    first = served.http.get("/api/ledger/IDLE")
    assert first.status_code == 200
    assert first.json() == {
        "parcel_id": "IDLE",
        "responsible_unit": None,
        "deadline": None,
        "progress": None,
        "note": None,
    }
    headers = bearer(served.auditor)
    change = {"responsible_unit": "县自然资源局", "deadline": "2025-12-31", "progress": "in_progress"}
    assert served.http.patch("/api/ledger/IDLE", json=change, headers=headers).status_code == 428
    bad = served.http.patch(
        "/api/ledger/IDLE", json={"progress": "maybe"}, headers={**headers, "If-Match": first.headers["ETag"]}
    )
    assert bad.status_code == 400 and "progress" in bad.json()["description"]
    done = served.http.patch(
        "/api/ledger/IDLE", json=change, headers={**headers, "If-Match": first.headers["ETag"]}
    )
    assert done.status_code == 200, done.text
    assert done.json() == {"parcel_id": "IDLE", **change, "note": None}
    assert done.headers["ETag"] != first.headers["ETag"]
    stale = served.http.patch(
        "/api/ledger/IDLE", json={"note": "晚了"}, headers={**headers, "If-Match": first.headers["ETag"]}
    )
    assert stale.status_code == 412
    again = served.http.get("/api/ledger/IDLE")
    assert again.json()["progress"] == "in_progress" and again.headers["ETag"] == done.headers["ETag"]
    assert served.http.get("/api/ledger/nowhere").status_code == 404
    # the 台账 download carries the follow-up in 责任单位 / 处置期限 / 处置进展
    import io

    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(served.http.get("/exports/ledger.xlsx").content))
    # earlier tests moved IDLE between stages: find it on whichever finding sheet it is now
    tables = [list(book[name].values) for name in book.sheetnames[1:]]
    row = next(dict(zip(t[0], r, strict=False)) for t in tables for r in t[1:] if "IDLE" in r)
    assert (row["责任单位"], row["处置期限"], row["处置进展"]) == ("县自然资源局", "2025-12-31", "处置中")


def test_history_lists_every_change_oldest_first_and_cannot_be_changed(served: Served) -> None:
    history = served.history("IDLE")
    assert [(h["action"], h["actor"]) for h in history] == [("update", "张三"), ("ledger", "李四")]
    assert history[0]["before"]["properties"]["started_on"] is None
    assert history[0]["after"]["properties"]["started_on"] == "2022-01-01"
    assert history[1]["after"]["progress"] == "in_progress"
    assert history[0]["at"] <= history[1]["at"]
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        response = served.http.request(method, "/api/parcels/IDLE/history", headers=bearer(served.editor))
        assert response.status_code == 405, method
    assert served.http.get("/api/parcels/nowhere/history").status_code == 404


def test_a_write_that_changes_nothing_leaves_no_history(served: Served) -> None:
    before = served.history("IDLE")
    etag = served.item("IDLE").headers["ETag"]
    for body in ({}, {"properties": {}}, {"properties": {"area_mu": 1.0}}):  # area_mu is computed, not input
        response = served.patch("IDLE", body, served.editor, etag)
        assert response.status_code == 200 and response.headers["ETag"] == etag, response.text
    assert served.history("IDLE") == before
    assert served.patch("IDLE", {}, served.editor, '"stale"').status_code == 412
    # a PUT of exactly what GET gave (CRS84 at 7 decimals: millimetres off) is no change either, and no drift
    stored = served.store.get("IND2").geometry
    current = served.item("IND2")
    doc = {k: v for k, v in current.json().items() if k != "links"}
    response = served.http.put(
        f"{ITEMS}/IND2", json=doc, headers={**bearer(served.editor), "If-Match": current.headers["ETag"]}
    )
    assert response.status_code == 200 and response.headers["ETag"] == current.headers["ETag"], response.text
    assert served.history("IND2") == [] and served.store.get("IND2").geometry.equals_exact(stored, 0)


def test_twenty_concurrent_patches_with_one_etag_one_wins(served: Served) -> None:
    etag = served.item("U2").headers["ETag"]
    before = len(served.history("U2"))
    barrier = threading.Barrier(20)
    results: dict[int, httpx.Response] = {}

    def send(i: int) -> None:
        with httpx.Client(base_url=served.url, timeout=60) as client:
            barrier.wait()
            results[i] = client.patch(
                f"{ITEMS}/U2",
                json={"properties": {"name": f"并发{i}"}},
                headers={**bearer(served.editor), "If-Match": etag},
            )

    threads = [threading.Thread(target=send, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(r.status_code for r in results.values())
    assert codes == [200] + [412] * 19, codes
    (winner,) = [i for i, r in results.items() if r.status_code == 200]
    history = served.history("U2")
    assert len(history) == before + 1 and history[-1]["after"]["properties"]["name"] == f"并发{winner}"
    now = served.item("U2")
    assert now.json()["properties"]["name"] == f"并发{winner}"
    assert now.headers["ETag"] == results[winner].headers["ETag"] == served.store.get("U2").etag


def test_concurrent_edits_of_different_parcels_are_all_kept(served: Served) -> None:
    pids = ["IDLE", "IND1", "IND2", "IND3", "IND4", "U1", "U2"]
    etags = {pid: served.item(pid).headers["ETag"] for pid in pids}
    barrier = threading.Barrier(len(pids))
    codes: dict[str, int] = {}

    def send(pid: str) -> None:
        with httpx.Client(base_url=served.url, timeout=60) as client:
            barrier.wait()
            codes[pid] = client.patch(
                f"{ITEMS}/{pid}",
                json={"properties": {"name": f"同时-{pid}"}},
                headers={**bearer(served.editor), "If-Match": etags[pid]},
            ).status_code

    threads = [threading.Thread(target=send, args=(pid,)) for pid in pids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == dict.fromkeys(pids, 200)
    page = served.http.get(f"{ITEMS}?limit=100").json()["features"]
    assert {f["id"]: f["properties"]["name"] for f in page} == {pid: f"同时-{pid}" for pid in pids}
    names = served.app.state.results.audit.parcels.set_index("parcel_id")["name"].to_dict()
    assert names == {pid: f"同时-{pid}" for pid in pids}


def test_only_parcels_are_editable_and_the_body_must_be_a_feature(served: Served) -> None:
    headers = {**bearer(served.editor), "If-Match": "*"}
    assert served.http.patch("/ogc/collections/idle/items/IDLE", json={}, headers=headers).status_code == 405
    assert served.http.patch(f"{ITEMS}/U2", content=b"{not json", headers=headers).status_code == 400
    renamed = served.http.patch(f"{ITEMS}/U2", json={"properties": {"parcel_id": "X"}}, headers=headers)
    assert renamed.status_code == 400 and "parcel_id" in renamed.json()["description"]
    point = served.http.patch(
        f"{ITEMS}/U2", json={"geometry": {"type": "Point", "coordinates": [117.0, 31.6]}}, headers=headers
    )
    assert point.status_code == 400
    assert served.http.patch(f"{ITEMS}/nowhere", json={}, headers=headers).status_code == 404
    path = Path(str(served.app.state.settings.bundle or ""))
    assert served.kind == "postgis" or (path / "landready-store.gpkg").exists()
