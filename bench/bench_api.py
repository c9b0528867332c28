"""Speed of the OGC API items endpoint against pygeoapi serving the same parcels from PostGIS; prints figures.

    python bench/bench_api.py                                  # 100 k parcels, 2000 requests, 4 clients
    python bench/bench_api.py --bundle DIR --requests 5000 --skip-pygeoapi

Random bbox requests (``limit=100``, CRS84) from concurrent clients with keep-alive connections against one server
process each, the servers taking turns. Ours: `api.app.create_app` under uvicorn as `landready serve` runs it,
read-only over the bundle's files (the audit and readiness are computed at start). The peer:
pygeoapi (the PostgreSQL provider, one uvicorn process) over a throwaway PostgreSQL/PostGIS cluster holding the same
parcels, loaded from our own GeoPackage export with ``ogr2ogr``, indexed (GiST) and stored in EPSG:4326 so that
pygeoapi needs no transformation. pygeoapi goes into its own virtualenv (default /tmp/landready-pygeoapi/venv,
created on first use) because its wheel ships a top-level ``tests`` package that would shadow ours.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PYGEOAPI_VENV = Path("/tmp/landready-pygeoapi/venv")
#: pygeoapi, its PostgreSQL provider and its Starlette app under uvicorn with the same HTTP stack as ours
PYGEOAPI_PACKAGES = [
    "pygeoapi",
    "psycopg2-binary",
    "geoalchemy2",
    "starlette",
    "uvicorn",
    "httptools",
    "uvloop",
]


@dataclass
class Load:
    """What one load run measured."""

    requests: int
    seconds: float
    latencies_ms: list[float]
    features: int
    bytes: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @classmethod
    def merge(cls, loads: list[Load]) -> Load:
        """Several runs as one: requests, time, latencies and sizes summed."""
        return cls(
            sum(x.requests for x in loads),
            sum(x.seconds for x in loads),
            [ms for x in loads for ms in x.latencies_ms],
            sum(x.features for x in loads),
            sum(x.bytes for x in loads),
        )

    def pct(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Poll `url` until it answers 200."""
    parts = urlsplit(url)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering {url}")
        try:
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
            conn.request("GET", parts.path + ("?" + parts.query if parts.query else ""))
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def get_json(url: str) -> dict:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    conn.request("GET", parts.path + "?" + parts.query, headers={"Accept": "application/json"})
    response = conn.getresponse()
    body = response.read()
    if response.status != 200:
        raise RuntimeError(f"{url}: HTTP {response.status} {body[:200]!r}")
    return json.loads(body)


def run_load(base: str, paths: list[str], clients: int) -> Load:
    """GET every path once, `clients` keep-alive connections in parallel; latency per request."""
    parts = urlsplit(base)
    latencies: list[float] = []
    counts = [0, 0]
    lock = threading.Lock()
    queue = iter(paths)
    errors: list[str] = []

    def worker() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        mine, features, size = [], 0, 0
        while True:
            with lock:
                path = next(queue, None)
            if path is None:
                break
            t0 = time.perf_counter()
            conn.request("GET", path, headers={"Accept": "application/geo+json"})
            response = conn.getresponse()
            body = response.read()
            mine.append((time.perf_counter() - t0) * 1000)
            if response.status != 200:
                errors.append(f"{path}: HTTP {response.status} {body[:200]!r}")
                break
            features += body.count(b'"Feature"')
            size += len(body)
        with lock:
            latencies.extend(mine)
            counts[0] += features
            counts[1] += size

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - t0
    if errors:
        raise RuntimeError(errors[0])
    return Load(len(latencies), seconds, latencies, counts[0], counts[1])


def random_boxes(extent: list[float], n_parcels: int, n: int, per_box: float, seed: int) -> list[str]:
    """`n` CRS84 boxes inside `extent`, each sized to hold about `per_box` parcels on average."""
    minx, miny, maxx, maxy = extent
    rng = random.Random(seed)
    frac = math.sqrt(per_box / n_parcels)
    w, h = (maxx - minx) * frac, (maxy - miny) * frac
    boxes = []
    for _ in range(n):
        x, y = rng.uniform(minx, maxx - w), rng.uniform(miny, maxy - h)
        boxes.append(f"{x:.7f},{y:.7f},{x + w:.7f},{y + h:.7f}")
    return boxes


@contextmanager
def our_server(bundle: Path, as_of: str) -> Iterator[str]:
    """The app as `landready serve` runs it (uvicorn, one process), read-only over the bundle's files.

    The bundle is read and computed with `gis.io.read_bundle` and `gis.pipeline.compute` and handed to
    `api.app.create_app`, so the bench measures the read path without the edit store.
    """
    port = free_port()
    code = (
        "from datetime import date; from pathlib import Path; import uvicorn; "
        "from api.app import create_app; from api.settings import Settings; "
        "from gis.io import read_bundle; from gis.pipeline import compute; "
        f"s = Settings(_env_file=None, bundle=Path({str(bundle)!r}), port={port}, "
        f"as_of=date.fromisoformat({as_of!r})); "
        "app = create_app(s, results=compute(read_bundle(s.bundle), s.as_of)); "
        "uvicorn.run(app, host=s.host, port=s.port, proxy_headers=True, log_level='info')"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.DEVNULL, stderr=log)
        try:
            try:
                wait_http(f"http://127.0.0.1:{port}/healthz", 900, proc)
            except (RuntimeError, TimeoutError):
                log.seek(0)
                print(log.read().decode(errors="replace")[-3000:], file=sys.stderr)
                raise
            seconds = time.perf_counter() - t0
            print(f"landready: ready after {seconds:.1f} s (read, audit, readiness, index)")
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def _as_postgres(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)  # type: ignore[call-overload]


@contextmanager
def postgis_cluster() -> Iterator[tuple[int, Path]]:
    """A throwaway PostgreSQL cluster with PostGIS, on a free port; removed afterwards."""
    work = Path(tempfile.mkdtemp(prefix="landready-pg-"))
    data, sock = work / "data", work / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        shutil.chown(work, "postgres")
        shutil.chown(sock, "postgres")
    port = free_port()
    _as_postgres([str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"])
    options = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off -c shared_buffers=512MB"
    _as_postgres(
        [str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-l", str(work / "log"), "start"]
    )
    try:
        psql = [
            str(PG_BIN.parent / "bin" / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            "postgres",
            "-q",
        ]
        psql = [shutil.which("psql") or psql[0], *psql[1:]]
        subprocess.run([*psql, "-c", "CREATE DATABASE bench"], check=True)
        subprocess.run([*psql, "-d", "bench", "-c", "CREATE EXTENSION postgis"], check=True)
        yield port, work
    finally:
        _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"])
        shutil.rmtree(work, ignore_errors=True)


def load_parcels(ours: str, pg_port: int, work: Path) -> int:
    """Our parcels (GeoPackage export: every audit and readiness property) into PostGIS, EPSG:4326, GiST index."""
    gpkg = work / "parcels.gpkg"
    parts = urlsplit(ours)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)
    conn.request("GET", "/exports/parcels.gpkg")
    gpkg.write_bytes(conn.getresponse().read())
    dsn = f"PG:host=127.0.0.1 port={pg_port} dbname=bench user=postgres"
    t0 = time.perf_counter()
    subprocess.run(
        ["ogr2ogr", "-f", "PostgreSQL", dsn, str(gpkg), "parcels", "-nln", "parcels", "-t_srs", "EPSG:4326",
         "-lco", "GEOMETRY_NAME=geom", "-lco", "SPATIAL_INDEX=GIST", "-lco", "FID=fid", "-nlt", "PROMOTE_TO_MULTI",
         "--config", "PG_USE_COPY", "YES"],
        check=True,
    )  # fmt: skip
    psql = [
        shutil.which("psql") or "psql",
        "-h",
        "127.0.0.1",
        "-p",
        str(pg_port),
        "-U",
        "postgres",
        "-d",
        "bench",
    ]
    subprocess.run(
        [*psql, "-q", "-c", "CREATE UNIQUE INDEX ON parcels (parcel_id)", "-c", "VACUUM ANALYZE parcels"],
        check=True,
    )
    count = subprocess.run(
        [*psql, "-tAc", "SELECT count(*) FROM parcels"], check=True, capture_output=True, text=True
    )
    print(f"PostGIS: {count.stdout.strip()} parcels loaded in {time.perf_counter() - t0:.1f} s")
    return int(count.stdout)


def ensure_pygeoapi(venv: Path) -> Path:
    """The python of a virtualenv holding pygeoapi and its PostgreSQL provider; created on first use."""
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", *PYGEOAPI_PACKAGES],
            check=True,
        )
    return python


PYGEOAPI_CONFIG = """
server:
  bind: {{host: 127.0.0.1, port: {port}}}
  url: http://127.0.0.1:{port}
  mimetype: application/json; charset=UTF-8
  encoding: utf-8
  gzip: false
  language: en-US
  cors: false
  pretty_print: false
  limits: {{default_items: 100, max_items: 10000}}
  map: {{url: "https://tile.openstreetmap.org/{{z}}/{{x}}/{{y}}.png", attribution: OpenStreetMap}}
logging:
  level: ERROR
metadata:
  identification:
    title: bench
    description: landready bench
    keywords: [bench]
    keywords_type: theme
    terms_of_service: https://example.org
    url: https://example.org
  license: {{name: CC-BY 4.0, url: "https://creativecommons.org/licenses/by/4.0/"}}
  provider: {{name: bench, url: https://example.org}}
  contact: {{name: bench, position: bench, address: x, city: x, stateorprovince: x, postalcode: x, country: x,
    phone: x, fax: x, email: bench@example.org, url: https://example.org, hours: x, instructions: x,
    role: pointOfContact}}
resources:
  parcels:
    type: collection
    title: parcels
    description: parcels
    keywords: [parcels]
    extents:
      spatial: {{bbox: {bbox}, crs: "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}}
    providers:
      - type: feature
        name: PostgreSQL
        data: {{host: 127.0.0.1, port: {pg_port}, dbname: bench, user: postgres, password: x,
          search_path: [public]}}
        id_field: parcel_id
        table: parcels
        geom_field: geom
"""


@contextmanager
def pygeoapi_server(python: Path, pg_port: int, bbox: list[float], work: Path) -> Iterator[str]:
    """pygeoapi's Starlette app in one uvicorn process over the PostGIS table."""
    port = free_port()
    config, openapi = work / "pygeoapi.yml", work / "openapi.yml"
    config.write_text(PYGEOAPI_CONFIG.format(port=port, pg_port=pg_port, bbox=json.dumps(bbox)))
    env = {**os.environ, "PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)}
    env.pop("PYTHONPATH", None)
    cli = python.parent / "pygeoapi"
    subprocess.run(
        [str(cli), "openapi", "generate", str(config), "--output-file", str(openapi)], check=True, env=env
    )
    proc = subprocess.Popen(
        [str(python), "-m", "uvicorn", "pygeoapi.starlette_app:APP", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning", "--no-access-log"],
        env=env, stdout=subprocess.DEVNULL, stderr=(work / "pygeoapi.log").open("wb"), cwd=work,
    )  # fmt: skip
    try:
        try:
            wait_http(f"http://127.0.0.1:{port}/collections/parcels?f=json", 120, proc)
        except (RuntimeError, TimeoutError):
            print((work / "pygeoapi.log").read_text()[-3000:], file=sys.stderr)
            raise
        version = subprocess.run(
            [str(python), "-c", "import pygeoapi; print(pygeoapi.__version__)"],
            capture_output=True,
            text=True,
            env=env,
        ).stdout.strip()
        print(f"pygeoapi {version}: ready")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def report(name: str, load: Load) -> None:
    print(
        f"{name:<22} {load.requests:>6} {load.rps:>8.1f} {statistics.median(load.latencies_ms):>8.1f} "
        f"{load.pct(95):>8.1f} {load.pct(99):>8.1f} {load.features / load.requests:>9.1f} "
        f"{load.bytes / load.requests / 1024:>8.1f}"
    )


def items_paths(prefix: str, boxes: list[str], limit: int, extra: dict[str, str]) -> list[str]:
    return [
        f"{prefix}/collections/parcels/items?{urlencode({'bbox': b, 'limit': limit, **extra})}" for b in boxes
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bundle", type=Path, default=Path("/tmp/landready-bench/parcels-100000"))
    ap.add_argument(
        "--parcels", type=int, default=100_000, help="size of the bundle generated when --bundle is absent"
    )
    ap.add_argument("--as-of", default="2025-06-30")
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--limit", type=int, default=100)
    ap.add_argument("--per-box", type=float, default=150.0, help="average parcels inside a random box")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--rounds", type=int, default=4, help="turns each server takes on the boxes")
    ap.add_argument("--skip-pygeoapi", action="store_true")
    ap.add_argument("--pygeoapi-venv", type=Path, default=PYGEOAPI_VENV)
    args = ap.parse_args(argv)

    if not args.bundle.exists():
        from data._demo_scale import generate_scale
        from data.generate import DEFAULT_SEED

        t0 = time.perf_counter()
        generate_scale(args.bundle, args.parcels, DEFAULT_SEED)
        print(
            f"bundle: {args.parcels} parcels generated in {time.perf_counter() - t0:.1f} s at {args.bundle}"
        )

    header = f"{'server':<22} {'reqs':>6} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'feat/req':>9} {'KB/req':>8}"
    parts: dict[str, list[Load]] = {}
    with our_server(args.bundle, args.as_of) as ours, ExitStack() as stack:
        collection = get_json(f"{ours}/ogc/collections/parcels?f=json")
        extent = collection["extent"]["spatial"]["bbox"][0]
        n_parcels = get_json(f"{ours}/ogc/collections/parcels/items?limit=1")["numberMatched"]
        boxes = random_boxes(extent, n_parcels, args.requests, args.per_box, args.seed)
        warm = random_boxes(extent, n_parcels, 100, args.per_box, args.seed + 1)
        targets = {
            "landready": (ours, "/ogc", {}),
            "landready (filter)": (ours, "/ogc", {"filter": "supply_status = 'supplied'"}),
        }
        if not args.skip_pygeoapi:
            python = ensure_pygeoapi(args.pygeoapi_venv)
            pg_port, work = stack.enter_context(postgis_cluster())
            load_parcels(ours, pg_port, work)
            peer = stack.enter_context(pygeoapi_server(python, pg_port, extent, work))
            targets["pygeoapi + PostGIS"] = (peer, "", {"f": "json"})
        print(f"{n_parcels} parcels; {args.requests} random CRS84 boxes (about {args.per_box:.0f} parcels each), "
              f"limit={args.limit}, {args.clients} concurrent clients, {os.cpu_count()} CPUs, "
              f"load average before: {os.getloadavg()[0]:.1f}")  # fmt: skip
        for base, prefix, extra in targets.values():
            run_load(base, items_paths(prefix, warm, args.limit, extra), args.clients)
        # the servers take turns on the same boxes, so that other work on the machine weighs on all of them alike
        per_round = math.ceil(len(boxes) / args.rounds)
        for start in range(0, len(boxes), per_round):
            chunk = boxes[start : start + per_round]
            for name, (base, prefix, extra) in targets.items():
                parts.setdefault(name, []).append(
                    run_load(base, items_paths(prefix, chunk, args.limit, extra), args.clients)
                )
    results = {name: Load.merge(loads) for name, loads in parts.items()}
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    print()
    print(header)
    for name, load in results.items():
        report(name, load)
    ours_load = results["landready"]
    print()
    print(
        f"landready p95 {ours_load.pct(95):.1f} ms (target <= 50 ms): {'PASS' if ours_load.pct(95) <= 50 else 'FAIL'}"
    )
    if "pygeoapi + PostGIS" in results:
        ratio = ours_load.rps / results["pygeoapi + PostGIS"].rps
        print(
            f"throughput vs pygeoapi + PostGIS: {ratio:.1f}x (target >= 3x): {'PASS' if ratio >= 3 else 'FAIL'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
