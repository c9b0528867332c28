"""The map in a real browser (Debian's Chromium, headless): offline, layers, cards, search, English, standalone file.

Every request that does not go to the test server (or file:/data: for the standalone page) is blocked and fails
the test. Screenshots go to ``<basetemp>/map-artifacts/``.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import uvicorn
from conftest import require  # tests/ is on sys.path under pytest (no tests/__init__.py)
from test_map import make_results, map_app, parcel_center_wgs84, write_dem

from maps.hillshade import png_bytes
from maps.settings import MapSettings
from maps.standalone import write_map

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BLANK_PNG = png_bytes(np.zeros((1, 1), np.uint8), np.zeros((1, 1), np.uint8))
READY = "window.__lr && window.__lr.ready && (window.__lr.drawn.parcels || 0) > 0"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require(CHROMIUM.exists(), "Chromium (/usr/bin/chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is a test dependency
        require(False, "playwright")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.getbasetemp() / "map-artifacts"
    path.mkdir(exist_ok=True)
    return path


def _start(app: Any) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    dem = write_dem(tmp_path_factory.mktemp("dem") / "dem.tif")
    yield from _start(map_app(make_results(dem)))


@pytest.fixture(scope="module")
def amap_server() -> Iterator[str]:
    app = map_app(make_results())
    app.state.map_settings = MapSettings(amap=True, _env_file=None)
    yield from _start(app)


class Watch:
    """A page whose foreign requests are blocked and recorded, with JS errors collected."""

    def __init__(self, browser: Any, allowed: tuple[str, ...], fake_tiles: tuple[str, ...] = ()) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 820}, service_workers="block")
        self.page = self.context.new_page()
        self.foreign: list[str] = []
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.fake: list[str] = []

        def route(r: Any) -> None:
            url = r.request.url
            self.requests.append(url)
            if url.startswith(allowed):
                r.continue_()
            elif url.startswith(fake_tiles):  # an online basemap, answered locally with a blank tile
                self.fake.append(url)
                r.fulfill(status=200, content_type="image/png", body=BLANK_PNG)
            else:
                self.foreign.append(url)
                r.abort()

        self.page.route("**/*", route)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))

    def check_clean(self) -> None:
        assert self.foreign == [], self.foreign
        assert self.errors == [], self.errors

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def watch(browser: Any, server: str) -> Iterator[Watch]:
    w = Watch(browser, (server + "/", "data:"))
    yield w
    w.close()


def _center_on(page: Any, pid: str, zoom: int = 17) -> None:
    lon, lat = parcel_center_wgs84(pid)
    page.evaluate(f"void window.__lr.map.closePopup().setView([{lat}, {lon}], {zoom}, {{animate: false}})")
    page.wait_for_function(
        "Object.values(window.__lr.layers).every(l => !window.__lr.map.hasLayer(l.group) || l.cfg.data"
        f" || l.zoom === {zoom})"
    )
    page.wait_for_load_state("networkidle")


def _click_center(page: Any) -> None:
    box = page.locator(".folium-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def test_page_loads_offline_without_errors(watch: Watch, server: str, artifacts: Path) -> None:
    page = watch.page
    t0 = time.monotonic()
    page.goto(server + "/", wait_until="commit")
    page.wait_for_function(READY)
    elapsed = time.monotonic() - t0
    page.wait_for_load_state("networkidle")
    assert elapsed < 10
    assert page.title() == "开发区土地三清与标准地地图"
    for control in (
        ".leaflet-control-layers",
        ".leaflet-control-scale",
        ".leaflet-control-zoom-fullscreen",
        ".leaflet-control-measure",
        ".lr-search",
        ".lr-summary",
        ".lr-legend",
    ):
        assert page.locator(control).count() == 1, control
    assert page.locator(".lr-summary svg.lr-chart").count() >= 2
    scale = page.locator(".leaflet-control-scale").inner_text()
    assert ("m" in scale or "km" in scale) and "ft" not in scale and "mi" not in scale  # metres only
    assert any("/maps/tiles/hillshade/" in u for u in watch.requests)  # offline basemap from the DEM
    assert any(re.search(r"/maps/features/[a-z_,]*parcels[a-z_,]*\?bbox=", u) for u in watch.requests)
    page.screenshot(path=str(artifacts / "map-zh.png"))
    watch.check_clean()


def test_layers_toggle(watch: Watch, server: str) -> None:
    page = watch.page
    page.goto(server + "/", wait_until="commit")
    page.wait_for_function(READY)
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__lr.layers.idle.geo.getLayers().length") == 3
    assert page.locator('.lr-legend [data-layer="idle"]').count() == 1
    assert page.locator('.lr-legend [data-layer="readiness"]').count() == 0

    page.locator(".leaflet-control-layers-overlays label", has_text="闲置土地（按阶段）").click()
    assert not page.evaluate("window.__lr.map.hasLayer(window.__lr.layers.idle.group)")
    assert page.locator('.lr-legend [data-layer="idle"]').count() == 0

    page.locator(".leaflet-control-layers-overlays label", has_text="标准地就绪度").click()
    page.wait_for_function("window.__lr.layers.readiness.geo.getLayers().length === 3")
    assert page.locator('.lr-legend [data-layer="readiness"]').count() == 1
    assert "受限（红线/农田/规划）" in page.locator(".lr-legend").inner_text()

    page.locator(".leaflet-control-layers-overlays label", has_text="永久基本农田").click()
    assert page.evaluate("window.__lr.layers.basic_farmland.geo.getLayers().length") == 1  # inlined
    watch.check_clean()


def test_click_parcel_opens_card(watch: Watch, server: str, artifacts: Path) -> None:
    page = watch.page
    page.goto(server + "/", wait_until="commit")
    page.wait_for_function(READY)
    _center_on(page, "P001")
    _click_center(page)
    card = page.locator('.lr-card[data-parcel-id="P001"]')
    card.wait_for()
    text = card.inner_text()
    assert "甲机械厂房" in text and "60 亩 / 4 公顷" in text
    finding = card.locator('.lr-finding[data-finding="idle"]')
    assert "闲置满2年" in finding.inner_text() and "无偿收回" in finding.inner_text()
    assert "第十四条" in finding.locator(".lr-rule").first.inner_text()
    assert card.locator(".lr-finding").count() == 1
    hrefs = card.locator(".lr-links a").evaluate_all("as => as.map(a => a.getAttribute('href'))")
    assert hrefs == ["/ogc/collections/parcels/items/P001", "/api/parcels/P001/history"]
    page.screenshot(path=str(artifacts / "card-P001.png"))

    page.locator(".leaflet-control-layers-overlays label", has_text="标准地就绪度").click()
    _center_on(page, "P004")
    _click_center(page)
    card = page.locator('.lr-card[data-parcel-id="P004"]')
    card.wait_for()
    assert card.locator('.lr-finding[data-finding="approved_unsupplied"]').count() == 1
    missing = card.locator('.lr-checklist li.lr-miss[data-code="assessment:eia"]').inner_text()
    assert "生态环境局" in missing
    assert "供电公司" in card.locator('li[data-code="infra:power"]').inner_text()
    assert card.locator("li.lr-ok").count() > 10
    watch.check_clean()


def test_closed_card_lets_the_next_click_through(watch: Watch, server: str) -> None:
    # Leaflet fades a closed popup out for 200 ms before removing it: it must not catch the click meant for the
    # parcel under it (checked in the same JS task as the close, so the fading popup is certainly still there)
    page = watch.page
    page.goto(server + "/", wait_until="commit")
    page.wait_for_function(READY)
    _center_on(page, "P001")
    _click_center(page)
    page.locator('.lr-card[data-parcel-id="P001"]').wait_for()
    lon, lat = parcel_center_wgs84("P004")  # 250 m north: P001's card now lies over the map centre
    hit = page.evaluate(
        f"""(() => {{
        const m = window.__lr.map, c = m.getContainer().getBoundingClientRect();
        m.closePopup().setView([{lat}, {lon}], 17, {{animate: false}});
        const fading = document.querySelectorAll(".leaflet-popup").length;
        const e = document.elementFromPoint(c.left + c.width / 2, c.top + c.height / 2);
        return [fading, e.tagName, e.closest(".leaflet-popup") !== null];
    }})()"""
    )
    assert hit == [1, "CANVAS", False]
    _click_center(page)  # at once, while the old card is still fading out
    page.locator('.lr-card[data-parcel-id="P004"]').wait_for()
    watch.check_clean()


def test_search_zooms_to_parcel(watch: Watch, server: str) -> None:
    page = watch.page
    page.goto(server + "/", wait_until="commit")
    page.wait_for_function(READY)
    start_zoom = page.evaluate("window.__lr.map.getZoom()")
    page.locator(".lr-search input").fill("纺织")
    page.locator(".lr-search-results li", has_text="P002").click()
    page.locator('.lr-card[data-parcel-id="P002"]').wait_for()
    assert page.evaluate("window.__lr.map.getZoom()") > start_zoom
    lon, lat = parcel_center_wgs84("P002")
    # the parcel fills the view (the card's auto-pan may shift it a little)
    assert page.evaluate(f"window.__lr.map.getBounds().contains([{lat}, {lon}])")
    assert (
        page.evaluate("window.__lr.map.getBounds().getNorth() - window.__lr.map.getBounds().getSouth()")
        < 0.01
    )
    assert "容积率不达标" in page.locator(".lr-card").inner_text()

    page.locator(".lr-search input").fill("P009")
    page.locator(".lr-search input").press("Enter")  # an exact id goes straight to the parcel
    page.locator('.lr-card[data-parcel-id="P009"]').wait_for()

    page.locator(".lr-search input").fill("没有这个")
    page.locator(".lr-search-results li.lr-empty").wait_for()
    watch.check_clean()


def test_english(watch: Watch, server: str, artifacts: Path) -> None:
    page = watch.page
    page.goto(server + "/?lang=en", wait_until="commit")
    page.wait_for_function(READY)
    assert page.title() == "Development-zone land audit and readiness map"
    overlays = page.locator(".leaflet-control-layers-overlays").inner_text()
    assert "Idle land (by stage)" in overlays and "闲置" not in overlays
    assert "Audit totals" in page.locator(".lr-summary").inner_text()
    assert page.locator(".lr-search input").get_attribute("placeholder") == "Search parcel id or name"
    _center_on(page, "P001")
    _click_center(page)
    assert "Idle land" in page.locator('.lr-card[data-parcel-id="P001"]').inner_text()
    page.locator(".lr-lang").click()
    page.wait_for_function(READY)
    assert "闲置土地（按阶段）" in page.locator(".leaflet-control-layers-overlays").inner_text()
    page.screenshot(path=str(artifacts / "map-en.png"))
    watch.check_clean()


def test_pan_fetches_only_new_area(watch: Watch, server: str) -> None:
    page = watch.page
    page.goto(server + "/", wait_until="commit")
    page.wait_for_function(READY)
    _center_on(page, "P005", zoom=16)
    before = page.evaluate("window.__lr.requests.filter(r => r.layers.includes('parcels') && r.zoom === 16)")
    page.evaluate("void window.__lr.map.panBy([700, 0], {animate: false})")
    page.wait_for_load_state("networkidle")
    after = page.evaluate("window.__lr.requests.filter(r => r.layers.includes('parcels') && r.zoom === 16)")
    new = after[len(before) :]
    old_tiles = {r["tile"] for r in before}
    assert before and new
    assert all(r["tile"] not in old_tiles for r in new)
    # panning east by 700 px exposes at most two new 512-px tile columns
    assert len({r["tile"].split("/")[1] for r in new}) <= 2
    assert min(r["bbox"][2] for r in new) > max(r["bbox"][0] for r in before)
    watch.check_clean()


def test_gcj02_shift_matches_published_values(watch: Watch, server: str) -> None:
    page = watch.page
    page.goto(server + "/", wait_until="commit")
    page.wait_for_function(READY)
    got = page.evaluate("LandreadyMap.wgs84ToGcj02(116.397428, 39.909230)")
    assert got == pytest.approx([116.40367163, 39.91063351], abs=2e-8)  # FORMATS.md §3.2
    assert page.evaluate("LandreadyMap.wgs84ToGcj02(2.35, 48.85)") == [2.35, 48.85]  # outside China
    from gis.formats.gcj02 import wgs84_to_gcj02

    for lon, lat in ((120.218162, 30.298188), (112.830732, 23.292052)):
        js = page.evaluate(f"LandreadyMap.wgs84ToGcj02({lon}, {lat})")
        assert js == pytest.approx(list(wgs84_to_gcj02(lon, lat)), abs=1e-9)


def test_standalone_file_opens_from_disk(browser: Any, tmp_path: Path, artifacts: Path) -> None:
    out = tmp_path / "审计报告地图.html"
    write_map(make_results(write_dem(tmp_path / "dem.tif")), out)
    w = Watch(browser, ("file://", "data:"))
    try:
        page = w.page
        page.goto(out.as_uri())
        page.wait_for_function(READY)
        assert all(u.startswith(("file://", "data:")) for u in w.requests)
        assert page.evaluate("window.__lr.requests.length") == 0  # nothing fetched: all inline
        assert page.locator("img.leaflet-image-layer").count() == 1  # the DEM's hillshade, inline
        _center_on(page, "P001")
        _click_center(page)
        card = page.locator('.lr-card[data-parcel-id="P001"]')
        card.wait_for()
        assert "闲置满2年" in card.inner_text()
        assert card.locator(".lr-links").count() == 0  # no server behind a file
        page.locator(".lr-search input").fill("P004")
        page.locator(".lr-search-results li", has_text="P004").click()
        assert "生态环境局" in page.locator('.lr-card[data-parcel-id="P004"]').inner_text()
        page.screenshot(path=str(artifacts / "standalone.png"))
        w.check_clean()
    finally:
        w.close()


def test_amap_basemap_shifts_overlays_to_gcj02(browser: Any, amap_server: str) -> None:
    w = Watch(browser, (amap_server + "/", "data:"), fake_tiles=("https://webrd0",))
    try:
        page = w.page
        page.goto(amap_server + "/", wait_until="commit")
        page.wait_for_function(READY)
        page.wait_for_load_state("networkidle")
        assert w.fake == []  # the default basemap is not the online one
        centre = "(() => { const c = window.__lr.layers.parcels.geo.getBounds().getCenter(); return [c.lng, c.lat]; })()"
        before = page.evaluate(centre)
        page.locator(".leaflet-control-layers-base label", has_text="高德地图").click()
        page.wait_for_load_state("networkidle")
        page.wait_for_function("window.__lr.layers.parcels.geo.getLayers().length === 9")
        after = page.evaluate(centre)
        expected = page.evaluate(f"LandreadyMap.wgs84ToGcj02({before[0]}, {before[1]})")
        assert after == pytest.approx(expected, abs=2e-6)
        assert abs(after[0] - before[0]) > 0.004  # about 500 m: the shift really happened
        assert w.fake and all("autonavi.com" in u for u in w.fake)
        page.locator(".leaflet-control-layers-base label", has_text="无底图").click()
        page.wait_for_function("window.__lr.layers.parcels.geo.getLayers().length === 9")
        assert page.evaluate(centre) == pytest.approx(before, abs=2e-6)
        w.check_clean()
    finally:
        w.close()
