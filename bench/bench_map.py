"""Map speed on a large bundle: page size, first parcels drawn in headless Chromium, viewport request latency, pans.

    PYTHONPATH=. .venv/bin/python bench/bench_map.py --parcels 1000000            # generates the bundle
    PYTHONPATH=. .venv/bin/python bench/bench_map.py --bundle /tmp/b1m             # an existing bundle

The bundle comes from ``python -m data.generate --parcels N``; the audit and readiness are the real ones
(`gis.pipeline.compute`). The server is the map router alone (uvicorn, one process) so the figures are the map's.
"""

from __future__ import annotations

import argparse
import math
import pickle
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import uvicorn
from fastapi import FastAPI

from gis.io import read_bundle
from gis.pipeline import compute
from maps.router import router

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEW_W, VIEW_H = 1280, 820


def _lonlat_to_px(lon: float, lat: float, z: float) -> tuple[float, float]:
    scale = 256 * 2**z
    x = (lon + 180) / 360 * scale
    y = (1 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat))) / math.pi) / 2 * scale
    return x, y


def _px_to_lonlat(x: float, y: float, z: float) -> tuple[float, float]:
    scale = 256 * 2**z
    lon = x / scale * 360 - 180
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / scale))))
    return lon, lat


def _tile_boxes(lon: float, lat: float, z: int, size: int = 512) -> list[str]:
    """The client's requests for a 1280×820 view centred on (lon, lat): one per 512-px tile in view."""
    cx, cy = _lonlat_to_px(lon, lat, z)
    x0, x1 = math.floor((cx - VIEW_W / 2) / size), math.floor((cx + VIEW_W / 2 - 1) / size)
    y0, y1 = math.floor((cy - VIEW_H / 2) / size), math.floor((cy + VIEW_H / 2 - 1) / size)
    out = []
    for x in range(x0, x1 + 1):
        for y in range(y0, y1 + 1):
            w, n = _px_to_lonlat(x * size, y * size, z)
            e, s = _px_to_lonlat((x + 1) * size, (y + 1) * size, z)
            out.append(f"{w:.7f},{s:.7f},{e:.7f},{n:.7f}")
    return out


def _serve(results: Any) -> tuple[str, uvicorn.Server, threading.Thread]:
    app = FastAPI()
    app.include_router(router)
    app.state.results = results
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server, thread


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--parcels", type=int, default=1_000_000)
    parser.add_argument("--bundle", type=Path, help="an existing bundle (skips generation)")
    parser.add_argument("--as-of", default="2025-06-30")
    parser.add_argument("--requests", type=int, default=200, help="viewport requests for the latency figures")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--cache", type=Path, help="pickle of the computed results (written once, then reused)"
    )
    args = parser.parse_args()
    random.seed(args.seed)

    tmp = None
    bundle_dir = args.bundle
    if bundle_dir is None and not (args.cache is not None and args.cache.exists()):
        tmp = tempfile.TemporaryDirectory(prefix="bench_map_")
        bundle_dir = Path(tmp.name) / "bundle"
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "data.generate", "--parcels", str(args.parcels), "--out", str(bundle_dir)],
            check=True,
        )
        print(f"generate {args.parcels:,} parcels:            {time.perf_counter() - t:8.2f} s")

    if args.cache is not None and args.cache.exists():
        results = pickle.loads(args.cache.read_bytes())
        print(f"results from {args.cache}")
    else:
        t = time.perf_counter()
        bundle = read_bundle(bundle_dir)
        print(f"read bundle:                         {time.perf_counter() - t:8.2f} s")
        t = time.perf_counter()
        results = compute(bundle, date.fromisoformat(args.as_of))
        print(f"audit + readiness:                   {time.perf_counter() - t:8.2f} s")
        if args.cache is not None:
            args.cache.write_bytes(pickle.dumps(results))
    print(f"parcels: {len(results.audit.parcels):,}")

    base, server, thread = _serve(results)
    http = httpx.Client(base_url=base, timeout=120)
    t = time.perf_counter()
    page = http.get("/")
    first_page = time.perf_counter() - t
    t = time.perf_counter()
    page = http.get("/")
    print(
        f"first GET / (builds the map index):  {first_page:8.2f} s; cached page {time.perf_counter() - t:.3f} s"
    )
    print(f"page HTML:                           {len(page.content) / 1024:8.1f} KB  (limit 1 MB)")

    # viewport latency at zoom 14: the client's tile requests and a whole 1280×820 viewport in one box
    index = server.config.app.state.map_index
    parcels = index.layers["parcels"]
    centres = parcels.bounds[np.random.default_rng(args.seed).integers(0, len(parcels), args.requests)]
    tile_ms, view_ms, counts = [], [], []
    for b in centres:
        lon, lat = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
        for box in _tile_boxes(lon, lat, 14)[:2]:
            t = time.perf_counter()
            r = http.get("/maps/features/parcels", params={"bbox": box, "zoom": 14})
            tile_ms.append((time.perf_counter() - t) * 1000)
            counts.append(int(r.headers["X-Feature-Count"]))
        w, n_ = _px_to_lonlat(
            _lonlat_to_px(lon, lat, 14)[0] - VIEW_W / 2, _lonlat_to_px(lon, lat, 14)[1] - VIEW_H / 2, 14
        )
        e, s = _px_to_lonlat(
            _lonlat_to_px(lon, lat, 14)[0] + VIEW_W / 2, _lonlat_to_px(lon, lat, 14)[1] + VIEW_H / 2, 14
        )
        t = time.perf_counter()
        http.get("/maps/features/parcels", params={"bbox": f"{w},{s},{e},{n_}", "zoom": 14})
        view_ms.append((time.perf_counter() - t) * 1000)
    print(
        f"zoom-14 tile request (512 px), n={len(tile_ms)}: p50 {_pct(tile_ms, 50):6.1f} ms, "
        f"p95 {_pct(tile_ms, 95):6.1f} ms, max {max(tile_ms):6.1f} ms; features/tile p50 {_pct(counts, 50):.0f}, "
        f"max {max(counts)}"
    )
    print(
        f"zoom-14 whole viewport 1280×820, n={len(view_ms)}: p50 {_pct(view_ms, 50):6.1f} ms, "
        f"p95 {_pct(view_ms, 95):6.1f} ms"
    )

    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        ctx = browser.new_context(viewport={"width": VIEW_W, "height": VIEW_H})
        pg = ctx.new_page()
        foreign: list[str] = []
        pg.on("request", lambda r: None if r.url.startswith((base, "data:")) else foreign.append(r.url))
        t = time.perf_counter()
        pg.goto(base + "/", wait_until="commit")
        # the first parcel features of any fetched layer (at the whole-zone zoom the grey base layer sends none:
        # its parcels are under 2 px; the coloured audit layers are drawn)
        first_js = (
            "(() => { const f = (window.__lr || {}).firstDraw || {};"
            " const v = ['parcels', 'idle', 'unsupplied', 'low_efficiency', 'readiness'].filter(k => k in f)"
            ".map(k => [f[k], k]); v.sort((a, b) => a[0] - b[0]); return v.length ? v[0] : null; })()"
        )
        pg.wait_for_function(first_js, timeout=120_000)
        wall = time.perf_counter() - t
        first, first_layer = pg.evaluate(first_js)
        zoom = pg.evaluate("window.__lr.map.getZoom()")
        pg.wait_for_load_state("networkidle")
        drawn = pg.evaluate(
            "Object.fromEntries(Object.entries(window.__lr.layers).map(([k, l]) => [k, l.geo.getLayers().length]))"
        )
        print(
            f"first parcels drawn after navigation: {first / 1000:8.2f} s ({first_layer}; wall {wall:.2f} s; "
            f"zoom {zoom}; limit 3 s)"
        )
        print(f"features on screen after load: {drawn}")
        pg.wait_for_load_state("networkidle")

        # zoom 14 on a dense spot, then pan right by 900 px
        b = parcels.bounds[len(parcels) // 2]
        pg.evaluate(
            f"void window.__lr.map.setView([{(b[1] + b[3]) / 2}, {(b[0] + b[2]) / 2}], 14, {{animate: false}})"
        )
        pg.wait_for_load_state("networkidle")
        pg.wait_for_function("window.__lr.requests.filter(r => r.zoom === 14).every(r => r.ms !== undefined)")
        plain = "window.__lr.requests.filter(r => r.zoom === 14).map(r => [r.layers.join(','), r.tile, r.count || 0, r.ms || 0])"
        before = [dict(zip(("layer", "tile", "count", "ms"), r, strict=True)) for r in pg.evaluate(plain)]
        pg.evaluate("void window.__lr.map.panBy([900, 0], {animate: false})")
        pg.wait_for_load_state("networkidle")
        pg.wait_for_function("window.__lr.requests.filter(r => r.zoom === 14).every(r => r.ms !== undefined)")
        after = [dict(zip(("layer", "tile", "count", "ms"), r, strict=True)) for r in pg.evaluate(plain)]
        new = after[len(before) :]
        old_tiles = {(layer, r["tile"]) for r in before for layer in r["layer"].split(",")}
        repeated = [r for r in new if any((layer, r["tile"]) in old_tiles for layer in r["layer"].split(","))]
        in_browser = [r["ms"] for r in after]
        print(
            f"zoom 14 view: {len(before)} requests ({sum(r['count'] for r in before):,} features), "
            f"in-browser p95 {_pct([r['ms'] for r in before], 95):.0f} ms"
        )
        print(
            f"pan 900 px: {len(new)} new requests, {len(repeated)} repeated, "
            f"{sum(r['count'] for r in new):,} features fetched; in-browser p95 all zoom-14 requests "
            f"{_pct(in_browser, 95):.0f} ms"
        )
        print(f"requests leaving localhost: {len(foreign)}")
        browser.close()

    server.should_exit = True
    thread.join(timeout=10)
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
