"""Bench: 标准地 readiness (gis.readiness.run_readiness) on a large zone with DEM and flood rasters.

Run from the repository root::

    PYTHONPATH=. .venv/bin/python bench/bench_readiness.py                     # 100 000 parcels, synthetic
    PYTHONPATH=. .venv/bin/python bench/bench_readiness.py --parcels 300000 --unsupplied 1.0
    PYTHONPATH=. .venv/bin/python bench/bench_readiness.py --bundle DIR        # a bundle on disk (gis.io reader)
    PYTHONPATH=. .venv/bin/python bench/bench_readiness.py --generate          # the demo owner's generator

Synthetic data (built in memory, not timed): a jittered grid of 6-vertex parcels (80 m blocks with 12 m streets)
in CGCS2000 / GK CM 114°E, a share of them unsupplied; ~1 batch per 49 parcels with approval dates around as-of;
round basic-farmland patches (64 vertices) and long winding eco red-line corridors (thousands of vertices);
HV lines of 35–500 kV; infrastructure as one segment per block side (roads on every street, the other networks on
every 2nd–6th street, a share planned); 3–12 zone-wide assessment polygons per kind, some expired. Rasters: a hilly
DEM and a flood-depth raster, 10 m cells, GeoTIFF (deflate, tiled) in a temporary directory.

The figures printed: seconds per step of run_readiness (``gdf.attrs["timings"]``), the total, and the result's tiers.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

import geopandas as gpd
import rasterio
import shapely
from pyproj import CRS
from rasterio.transform import from_origin

from gis.bundle import Bundle
from gis.readiness import run_readiness
from gis.readiness.codes import SEVEN_KINDS
from gis.rules import load_rules

CRS_GK = "EPSG:4547"
X0, Y0 = 500_000.0, 3_400_000.0
AS_OF = date(2024, 6, 30)
BLOCK, STREET = 80.0, 12.0
PITCH = BLOCK + STREET


def _dates(rng: np.random.Generator, n: int, start: str, days: int) -> pd.Series:
    return pd.Series(pd.Timestamp(start) + pd.to_timedelta(rng.integers(0, days, n), unit="D"))


def synth_parcels(rng: np.random.Generator, n: int, unsupplied: float) -> tuple[gpd.GeoDataFrame, int]:
    side = int(np.ceil(np.sqrt(n)))
    i, j = np.divmod(np.arange(n), side)
    x, y = X0 + j * PITCH, Y0 + i * PITCH
    jit = rng.uniform(-3, 3, (n, 6, 2))
    # six vertices: the four corners and two mid-edge points, jittered (like surveyed 界址点)
    base = np.array([[0, 0], [BLOCK / 2, 0], [BLOCK, 0], [BLOCK, BLOCK], [BLOCK / 2, BLOCK], [0, BLOCK]])
    coords = base[None] + jit + np.stack([x, y], axis=1)[:, None, :]
    rings = np.concatenate([coords, coords[:, :1]], axis=1)
    geoms = shapely.polygons(rings)
    supplied = rng.random(n) >= unsupplied
    frame = gpd.GeoDataFrame(
        {
            "parcel_id": [f"P{k:07d}" for k in range(n)],
            "planned_use": rng.choice(["industrial"] * 8 + ["warehouse", "commercial"], n),
            "supply_status": np.where(supplied, "supplied", "unsupplied"),
            "supplied_on": _dates(rng, n, "2015-01-01", 3650).where(supplied),
            "compensation_done": rng.random(n) > 0.05,
            "disputed": rng.random(n) < 0.02,
            **{
                f: np.where(rng.random(n) < 0.85, 1.0, np.nan)
                for f in load_rules()["readiness.required_indicators"]
            },
        },
        geometry=geoms,
        crs=CRS_GK,
    )
    return frame, side


def synth_layers(rng: np.random.Generator, side: int) -> dict[str, gpd.GeoDataFrame]:
    size = side * PITCH
    layers: dict[str, gpd.GeoDataFrame] = {}
    # batches: 7×7-block squares with ragged edges, approved 2010–2026 (some after as-of)
    nb = int(np.ceil(side / 7))
    bi, bj = np.divmod(np.arange(nb * nb), nb)
    bx, by = X0 + bj * 7 * PITCH - 6, Y0 + bi * 7 * PITCH - 6
    bgeoms = shapely.buffer(shapely.box(bx, by, bx + 7 * PITCH, by + 7 * PITCH), rng.uniform(-20, 5, nb * nb))
    layers["batches"] = gpd.GeoDataFrame(
        {
            "batch_id": [f"B{k:05d}" for k in range(nb * nb)],
            "approved_on": _dates(rng, nb * nb, "2010-01-01", 6000),
        },
        geometry=bgeoms,
        crs=CRS_GK,
    )
    # basic farmland: round patches; eco red line: winding river corridors
    nf = max(side // 2, 1)
    centres = shapely.points(rng.uniform(X0, X0 + size, nf), rng.uniform(Y0, Y0 + size, nf))
    layers["basic_farmland"] = gpd.GeoDataFrame(
        geometry=shapely.buffer(centres, rng.uniform(50, 400, nf), quad_segs=16), crs=CRS_GK
    )
    rivers = []
    for _ in range(max(side // 60, 2)):
        t = np.linspace(0, 1, 2000)
        y = Y0 + rng.uniform(0, size) + 400 * np.sin(t * rng.uniform(10, 40)) + 200 * np.sin(t * 97)
        rivers.append(shapely.buffer(shapely.linestrings(X0 + t * size, y), rng.uniform(20, 60)))
    layers["eco_redline"] = gpd.GeoDataFrame(geometry=rivers, crs=CRS_GK)
    # HV lines: long straight lines across the zone
    nh = max(side // 10, 2)
    ya, yb = rng.uniform(Y0, Y0 + size, nh), rng.uniform(Y0, Y0 + size, nh)
    layers["hv_lines"] = gpd.GeoDataFrame(
        {"voltage_kv": rng.choice([35.0, 110.0, 220.0, 500.0], nh)},
        geometry=shapely.linestrings(
            np.stack([[X0] * nh, ya, [X0 + size] * nh, yb], axis=1).reshape(nh, 2, 2)
        ),
        crs=CRS_GK,
    )
    # infrastructure: one segment per block side along the streets
    every = {"road": 1, "water": 2, "drainage": 2, "power": 3, "telecom": 3, "gas": 5, "heat": 6}
    rows, geoms = [], []
    k = np.arange(side)
    for kind, step in every.items():
        lines = k[::step]
        for horizontal in (True, False):
            a, b = np.meshgrid(lines, k, indexing="ij")
            c = (a * PITCH - STREET / 2).ravel()
            s0, s1 = (b * PITCH - STREET / 2).ravel(), (b * PITCH + BLOCK + STREET / 2).ravel()
            xy = np.stack([s0, c, s1, c], axis=1) if horizontal else np.stack([c, s0, c, s1], axis=1)
            geoms.append(shapely.linestrings(xy.reshape(-1, 2, 2) + np.array([X0, Y0])))
            rows += [(kind, "planned" if rng.random() < 0.15 else "built") for _ in range(len(xy))]
    layers["infrastructure"] = gpd.GeoDataFrame(
        pd.DataFrame(rows, columns=["kind", "status"]), geometry=np.concatenate(geoms), crs=CRS_GK
    )
    # assessments: per kind, a few big tiles over the zone, some expired or completed after as-of
    arows, ageoms = [], []
    for kind in load_rules()["readiness.required_assessments"]:
        cut = int(rng.integers(2, 4))
        step = size / cut
        for a in range(cut):
            for b in range(cut):
                ageoms.append(
                    shapely.box(
                        X0 + a * step - 5, Y0 + b * step - 5, X0 + (a + 1) * step, Y0 + (b + 1) * step
                    )
                )
                done = pd.Timestamp("2018-01-01") + pd.Timedelta(days=int(rng.integers(0, 2600)))
                until = (
                    done + pd.Timedelta(days=int(rng.integers(1000, 3000))) if rng.random() < 0.5 else pd.NaT
                )
                arows.append((kind, done, until))
    layers["assessments"] = gpd.GeoDataFrame(
        pd.DataFrame(arows, columns=["kind", "completed_on", "valid_until"]), geometry=ageoms, crs=CRS_GK
    )
    return layers


def synth_rasters(rng: np.random.Generator, side: int, out: Path, cell: float = 10.0) -> dict[str, Path]:
    size = side * PITCH + 200
    n = int(np.ceil(size / cell))
    yy, xx = np.mgrid[0:n, 0:n].astype("float32") * cell
    dem = 50 + 30 * np.sin(xx / 900) * np.cos(yy / 1300) + 8 * np.sin(xx / 170 + yy / 230)
    dem += rng.normal(0, 0.3, dem.shape).astype("float32")
    flood = np.clip(3.0 - 0.1 * (dem - 20), 0, None).astype("float32")
    flood[flood == 0] = -9999.0
    profile = {
        "driver": "GTiff",
        "width": n,
        "height": n,
        "count": 1,
        "dtype": "float32",
        "crs": CRS_GK,
        "transform": from_origin(X0 - 100, Y0 - 100 + n * cell, cell, cell),
        "tiled": True,
        "compress": "deflate",
    }
    paths = {"dem": out / "dem.tif", "flood_depth": out / "flood_depth.tif"}
    for name, values, nodata in (("dem", dem, None), ("flood_depth", flood, -9999.0)):
        with rasterio.open(paths[name], "w", **profile, nodata=nodata) as ds:
            ds.write(values[::-1].astype("float32"), 1)
    return paths


def synthetic_bundle(n: int, unsupplied: float, tmp: Path, seed: int = 1) -> Bundle:
    rng = np.random.default_rng(seed)
    parcels, side = synth_parcels(rng, n, unsupplied)
    layers = {"parcels": parcels, **synth_layers(rng, side)}
    return Bundle(tmp, CRS(CRS_GK), layers, rasters=synth_rasters(rng, side, tmp))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--parcels", type=int, default=100_000)
    ap.add_argument(
        "--unsupplied", type=float, default=0.7, help="share of unsupplied parcels (synthetic data)"
    )
    ap.add_argument("--bundle", type=Path, help="read this bundle with gis.io.read_bundle instead")
    ap.add_argument(
        "--generate", action="store_true", help="use `python -m data.generate --parcels N --out DIR`"
    )
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-readiness-") as tmpdir:
        tmp = Path(tmpdir)
        t0 = time.perf_counter()
        if args.bundle or args.generate:
            from gis.io import read_bundle

            path = args.bundle
            if args.generate:
                path = tmp / "bundle"
                cmd = [
                    sys.executable,
                    "-m",
                    "data.generate",
                    "--parcels",
                    str(args.parcels),
                    "--out",
                    str(path),
                ]
                subprocess.run(cmd, check=True)
            bundle = read_bundle(path)
        else:
            bundle = synthetic_bundle(args.parcels, args.unsupplied, tmp)
        prep = time.perf_counter() - t0
        rules = load_rules(overrides=bundle.zone.get("rules") or None)
        sizes = {k: len(v) for k, v in bundle.layers.items()}
        print(f"data ready in {prep:.1f} s (not timed): layers {sizes}, rasters {sorted(bundle.rasters)}")
        for name, p in sorted(bundle.rasters.items()):
            with rasterio.open(p) as ds:
                print(f"  {name}: {ds.width}×{ds.height} cells of {ds.res[0]:g} {ds.crs.to_string()}")

        for _ in range(args.repeat):
            load = os.getloadavg()[0]
            t0, c0 = time.perf_counter(), time.process_time()
            out = run_readiness(bundle, AS_OF, rules)
            total, cpu = time.perf_counter() - t0, time.process_time() - c0
            examined = int((out["readiness_tier"] != "supplied").sum())
            print(
                f"\nrun_readiness: {len(out):,} parcels, {examined:,} examined: {total:.2f} s wall, {cpu:.2f} s CPU"
                f" (load average before the run {load:.1f} on {os.cpu_count()} cores; wall ≈ CPU on an idle machine)"
            )
            print(f"  {'step':<15} {'wall s':>7} {'CPU s':>7} {'% CPU':>6}")
            for step, secs in out.attrs["timings"].items():
                c = out.attrs["cpu_timings"][step]
                print(f"  {step:<15} {secs:7.2f} {c:7.2f} {100 * c / cpu:6.1f}")
        print("\ntiers:", out["readiness_tier"].value_counts().to_dict())
        print("served_by:", out["served_by"].value_counts(dropna=False).to_dict())
        codes = pd.Series([c for m in out["missing"].dropna() for c in m]).value_counts()
        print("codes:", codes.to_dict())
        print("mean score:", round(float(out["readiness_score"].mean()), 1), "kinds:", SEVEN_KINDS)
        print("warnings:", out.attrs.get("warnings"))


if __name__ == "__main__":
    main()
