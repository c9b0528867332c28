"""``serve --auth all``: reads need a token too (CONTRACT §5.1), on both stores; ``/healthz`` stays open."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import require
from api.settings import Settings
from gis.errors import ForbiddenError
from gis.store.load import load_bundle
from tests.test_api_edit_support import bearer, db_url, reset_db, write_bundle


@pytest.fixture(scope="module", params=["embedded", "postgis"])
def locked(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    bundle = write_bundle(tmp_path_factory.mktemp("zone") / "bundle")
    url = None
    if request.param == "postgis":
        from gis.io import read_bundle

        url = db_url()
        reset_db(url)
        load_bundle(read_bundle(bundle), url)
    settings = Settings(
        _env_file=None, bundle=None if url else bundle, db=url, as_of=date(2025, 6, 30), auth="all"
    )
    with TestClient(create_app(settings)) as client:
        yield client


READS = [
    "/ogc",
    "/ogc/collections",
    "/ogc/collections/parcels/items",
    "/ogc/collections/parcels/items/U1",
    "/api/summary",
    "/api/parcels/U1",
    "/api/parcels/U1/history",
    "/api/ledger/U1",
    "/exports/parcels.geojson",
]


def test_reads_need_a_token(locked: TestClient) -> None:
    for path in READS:
        response = locked.get(path)
        assert response.status_code == 401, path
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.json()["code"] == "Unauthorized"
    assert locked.get("/ogc", headers=bearer("lr_abc_wrong")).status_code == 401
    assert locked.get("/healthz").status_code == 200


def test_every_role_reads_with_its_token(locked: TestClient) -> None:
    store = locked.app.state.edit_store
    for role in ("viewer", "editor", "auditor"):
        headers = bearer(store.create_token(role, f"读者{role}"))
        for path in READS:
            response = locked.get(path, headers=headers)
            assert response.status_code == 200, (role, path)
            if "cache-control" in response.headers:  # what needs a token is never kept by a shared cache
                assert "public" not in response.headers["cache-control"], path
    item = locked.get("/ogc/collections/parcels/items/U1", headers=headers)
    assert item.headers["cache-control"] == "private, no-cache"


def test_a_viewer_may_not_write(locked: TestClient) -> None:
    headers = {**bearer(locked.app.state.edit_store.create_token("viewer", "王五")), "If-Match": "*"}
    response = locked.patch(
        "/ogc/collections/parcels/items/U1", json={"properties": {"name": "x"}}, headers=headers
    )
    assert response.status_code == 403 and response.json()["code"] == "Forbidden"


def test_roles_map_to_actions() -> None:
    class Request:  # the smallest request `require` reads: headers and app.state
        def __init__(self, token: str, store: object) -> None:
            self.headers = {"authorization": f"Bearer {token}"}
            self.app = type("App", (), {"state": type("State", (), {"edit_store": store})()})()

    class Store:
        def authenticate(self, token: str) -> object:
            from gis.store.tokens import Principal

            return Principal("id", "名", token)  # type: ignore[arg-type]

    for role, allowed in (
        ("viewer", {"read"}),
        ("editor", {"read", "edit"}),
        ("auditor", {"read", "ledger"}),
    ):
        for action in ("read", "edit", "ledger"):
            request = Request(role, Store())
            if action in allowed:
                assert require(request, action).role == role  # type: ignore[arg-type]
            else:
                with pytest.raises(ForbiddenError):
                    require(request, action)  # type: ignore[arg-type]


def test_the_map_page_takes_a_token_once_and_keeps_it_in_a_cookie(locked: TestClient) -> None:
    token = locked.app.state.edit_store.create_token("viewer", "规划科 赵六")
    locked.cookies.clear()
    assert locked.get("/").status_code == 401
    page = locked.get("/", params={"access_token": token})
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "HttpOnly" in page.headers["set-cookie"] and "landready_token=" in page.headers["set-cookie"]
    assert locked.get("/api/summary").status_code == 200  # the cookie now carries the token
    locked.cookies.clear()
    assert locked.get("/api/summary").status_code == 401
    assert locked.get("/", params={"access_token": "lr_x_wrong"}).status_code == 401
