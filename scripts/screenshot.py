"""Take the README's map screenshot (docs/map.png): the demo zone served locally, in Debian's Chromium.

PYTHONPATH=. .venv/bin/python scripts/screenshot.py [--out docs/map.png] [--parcel SF13-B01]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from datetime import date
from pathlib import Path

from playwright.sync_api import sync_playwright

from api.app import create_app, load_results
from api.settings import Settings
from data import DEMO_BUNDLE
from tests.test_api_support import live_server

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
READY = "window.__lr && window.__lr.ready && (window.__lr.drawn.parcels || 0) > 0"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/map.png"))
    parser.add_argument("--parcel", default="SF13-B01", help="the parcel whose card is open")
    parser.add_argument("--as-of", default="2025-08-31")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bundle = Path(tmp) / "bundle"  # a copy: serving creates the embedded store inside the bundle
        shutil.copytree(DEMO_BUNDLE, bundle, ignore=shutil.ignore_patterns("landready-store*"))
        settings = Settings(_env_file=None, bundle=bundle, as_of=date.fromisoformat(args.as_of))
        with live_server(create_app(settings, results=load_results(settings))) as url, sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 860})
            page.goto(url + "/", wait_until="commit")
            page.wait_for_function(READY)
            page.locator(".lr-search input").fill(args.parcel)
            page.locator(".lr-search input").press("Enter")
            page.locator(f'.lr-card[data-parcel-id="{args.parcel}"]').wait_for()
            # back out from the parcel so its neighbours show; the card stays open at the parcel
            page.evaluate("window.__lr.map.setZoom(window.__lr.map.getZoom() - 2, {animate: false}) && null")
            page.evaluate(
                "window.__lr.map.panBy([0, -260], {animate: false}) && null"
            )  # the card above the parcel shows whole
            page.wait_for_timeout(800)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(args.out))
            browser.close()
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
