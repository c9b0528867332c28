"""Bench: the 三清 audit end to end on a large GeoParquet bundle (read → run_audit → the five output files).

Run from the repository root::

    PYTHONPATH=. .venv/bin/python bench/bench_audit.py                     # 100 000 parcels
    PYTHONPATH=. .venv/bin/python bench/bench_audit.py --parcels 1000000

The bundle comes from the demo owner's scale generator (``python -m data.generate --parcels N --out DIR``) when it
works, else from the built-in synthetic zone (``--synthetic`` forces it): a grid of 1–4 ha parcels with a realistic
mix of uses, supply, start, completion and economic figures, plus approved batches and a zone boundary. Prints the
time of each step, the figures found and the peak RSS of this process. Targets on a 2-core machine: 100 k parcels
≤ 20 s end to end, 1 M ≤ 200 s with peak RSS ≤ 6 GB.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

import geopandas as gpd
import shapely

from gis.audit import run_audit
from gis.audit.ledger import write_ledger
from gis.audit.write import write_batches_csv, write_summary
from gis.outputs import write_geojson
from gis.rules import load_rules

AS_OF = date(2025, 8, 31)
CRS = "EPSG:4547"


def synthetic_bundle(n: int, out: Path, seed: int = 7) -> None:
    """Write a synthetic GeoParquet bundle of `n` parcels (plus batches and a zone boundary) into `out`."""
    rng = np.random.default_rng(seed)
    cols = int(np.ceil(np.sqrt(n)))
    i = np.arange(n)
    w = rng.uniform(100, 200, n)
    h = rng.uniform(100, 200, n)
    x0 = 500_000 + (i % cols) * 210.0
    y0 = 3_400_000 + (i // cols) * 210.0
    geoms = shapely.box(x0, y0, x0 + w, y0 + h)
    area = w * h
    mu = area * 15 / 10_000

    def dates(base: np.ndarray, lo: float, hi: float, share: float) -> np.ndarray:
        days = rng.uniform(lo, hi, n).astype("int64")
        out = base + days.astype("timedelta64[D]")
        return np.where(rng.random(n) < share, out, np.datetime64("NaT"))

    use = rng.choice(
        ["industrial", "warehouse", "commercial", "residential", "public", "green"],
        n,
        p=[0.55, 0.1, 0.1, 0.1, 0.1, 0.05],
    )
    supplied = rng.random(n) < 0.8
    supplied_on = np.datetime64("2010-01-01") + rng.integers(0, 15 * 365, n).astype("timedelta64[D]")
    agreed_start = supplied_on + np.timedelta64(180, "D")
    started = dates(agreed_start, -60, 500, 0.85)
    agreed_completion = agreed_start + np.timedelta64(730, "D")
    completed = np.where(~np.isnat(started), dates(agreed_completion, -200, 600, 0.8), np.datetime64("NaT"))
    suspended = np.where(~np.isnat(started), dates(started, 30, 700, 0.08), np.datetime64("NaT"))
    price = mu * rng.uniform(10, 40, n)
    total_inv = mu * rng.uniform(150, 500, n)
    built = ~np.isnat(completed)
    parcels = gpd.GeoDataFrame(
        {
            "parcel_id": np.char.add("P", i.astype(str)),
            "name": np.char.add("地块", i.astype(str)),
            "planned_use": use,
            "supply_status": np.where(supplied, "supplied", "unsupplied"),
            "supplied_on": np.where(supplied, supplied_on, np.datetime64("NaT")).astype("datetime64[ms]"),
            "supply_method": rng.choice(["transfer", "allocation", "lease"], n, p=[0.8, 0.15, 0.05]),
            "land_price_wan": price,
            "agreed_start_on": agreed_start.astype("datetime64[ms]"),
            "started_on": started.astype("datetime64[ms]"),
            "agreed_completion_on": agreed_completion.astype("datetime64[ms]"),
            "completed_on": completed.astype("datetime64[ms]"),
            "developed_fraction": np.where(built, 1.0, rng.uniform(0, 1, n)),
            "invested_wan": total_inv * np.where(built, 1.0, rng.uniform(0, 1, n)),
            "total_investment_wan": total_inv,
            "suspended_on": suspended.astype("datetime64[ms]"),
            "delay_cause": rng.choice(["owner", "government", "force_majeure"], n, p=[0.85, 0.12, 0.03]),
            "operating_status": np.where(
                built, rng.choice(["operating", "partial", "stopped"], n, p=[0.85, 0.1, 0.05]), None
            ),
            "industry_code": np.char.add("C", rng.integers(13, 44, n).astype(str)),
            "floor_area_m2": np.where(built, area * rng.uniform(0.4, 2.0, n), np.nan),
            "footprint_m2": np.where(built, area * rng.uniform(0.25, 0.7, n), np.nan),
            "fixed_investment_wan": np.where(built, mu * rng.uniform(100, 500, n), np.nan),
            "annual_output_wan": np.where(built, mu * rng.uniform(50, 800, n), np.nan),
            "annual_tax_wan": np.where(built, mu * rng.uniform(2, 40, n), np.nan),
            "compensation_done": rng.random(n) < 0.9,
            "disputed": rng.random(n) < 0.03,
        },
        geometry=geoms,
        crs=CRS,
    )
    out.mkdir(parents=True, exist_ok=True)
    parcels.to_parquet(out / "parcels.parquet")
    # one batch per block of about 300 parcels, its edges cutting across parcels
    rows = int(np.ceil(n / cols))
    bx = np.arange(0, cols, 20)
    by = np.arange(0, rows, 15)
    gx, gy = np.meshgrid(bx, by)
    gx, gy = gx.ravel(), gy.ravel()
    k = len(gx)
    bgeoms = shapely.box(
        500_000 + gx * 210.0 + 50,
        3_400_000 + gy * 210.0 + 50,
        500_000 + (gx + 20) * 210.0 - 30,
        3_400_000 + (gy + 15) * 210.0 - 30,
    )
    batches = gpd.GeoDataFrame(
        {
            "batch_id": np.char.add("B", np.arange(k).astype(str)),
            "batch_name": np.char.add("批次", np.arange(k).astype(str)),
            "approved_on": (
                np.datetime64("2008-01-01") + rng.integers(0, 17 * 365, k).astype("timedelta64[D]")
            ).astype("datetime64[ms]"),
            "approval_doc": np.char.add("省政地〔2020〕", np.arange(k).astype(str)),
        },
        geometry=bgeoms,
        crs=CRS,
    )
    batches.to_parquet(out / "batches.parquet")
    minx, miny, maxx, maxy = parcels.total_bounds
    boundary = gpd.GeoDataFrame(
        {"name": ["示范开发区"]}, geometry=[shapely.box(minx, miny, maxx, maxy)], crs=CRS
    )
    boundary.to_parquet(out / "zone_boundary.parquet")


def read(path: Path):  # type: ignore[no-untyped-def]
    """The bundle via the reader (``gis.io.read_bundle``)."""
    from gis.io import read_bundle

    return read_bundle(path)


def main() -> None:
    """Build or reuse a bundle, then time each step of the audit."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parcels", type=int, default=100_000)
    ap.add_argument("--bundle", type=Path, help="reuse this bundle directory instead of generating one")
    ap.add_argument("--synthetic", action="store_true", help="use the built-in synthetic zone")
    ap.add_argument("--keep", action="store_true", help="keep the generated bundle and outputs")
    ap.add_argument(
        "--no-geojson", action="store_true", help="skip the two GeoJSON files (gis.outputs' writer)"
    )
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench_audit_"))
    bundle_dir = args.bundle
    t = time.perf_counter()
    if bundle_dir is None:
        bundle_dir = work / "bundle"
        made = False
        if not args.synthetic:
            cmd = [
                sys.executable,
                "-m",
                "data.generate",
                "--parcels",
                str(args.parcels),
                "--out",
                str(bundle_dir),
            ]
            made = subprocess.run(cmd, capture_output=True, check=False).returncode == 0
            source = "data.generate"
        if not made:
            shutil.rmtree(bundle_dir, ignore_errors=True)
            synthetic_bundle(args.parcels, bundle_dir)
            source = "synthetic"
        print(f"bundle ({source}) made in {time.perf_counter() - t:.1f} s: {bundle_dir}")

    steps: dict[str, float] = {}

    cpu = [time.process_time()]

    def step(name: str, started: float) -> float:
        now = time.perf_counter()
        steps[name] = now - started
        used = time.process_time() - cpu[0]
        cpu[0] += used
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
        print(
            f"  {name:<22} {steps[name]:7.2f} s wall {used:7.2f} s CPU   peak RSS so far {rss:5.2f} GB",
            flush=True,
        )
        return now

    out = work / "out"
    out.mkdir()
    t0 = t = time.perf_counter()
    bundle = read(bundle_dir)
    t = step("read_bundle", t)
    rules = load_rules(overrides=bundle.zone.get("rules") or None)
    result = run_audit(bundle, AS_OF, rules)
    t = step("run_audit", t)
    if not args.no_geojson:
        write_geojson(result.parcels, out / "audit.geojson")
        t = step("audit.geojson", t)
    if result.batches is not None:
        if not args.no_geojson:
            write_geojson(result.unsupplied, out / "unsupplied.geojson")
        write_batches_csv(result.batches, out / "batches.csv")
        t = step("unsupplied+batches", t)
    write_summary(result.summary, out / "summary.json")
    t = step("summary.json", t)
    write_ledger(result, out / "ledger.xlsx")
    t = step("ledger.xlsx", t)
    total = time.perf_counter() - t0
    rss_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    s = result.summary
    n = len(result.parcels)
    print(
        f"parcels {n:,}; end to end {total:.1f} s (read + audit {steps['read_bundle'] + steps['run_audit']:.1f} s); "
        f"peak RSS {rss_gb:.2f} GB; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    print(
        "found: "
        + ", ".join(f"{k} {v['count']} ({v['mu']} 亩)" for k, v in s["totals"].items())
        + f"; idle stages { ({k: v['count'] for k, v in s['idle_stages'].items()}) }"
    )
    sizes = {p.name: p.stat().st_size / 1e6 for p in sorted(out.iterdir())}
    print("outputs (MB): " + ", ".join(f"{k} {v:.1f}" for k, v in sizes.items()))
    if args.keep:
        print(f"kept {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
