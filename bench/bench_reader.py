"""Time `gis.io.read_bundle` on a large GeoParquet bundle and compare it with a bare GeoParquet read.

    PYTHONPATH=. .venv/bin/python bench/bench_reader.py                      # 1 M parcels (generated if absent)
    PYTHONPATH=. .venv/bin/python bench/bench_reader.py --parcels 100000
    PYTHONPATH=. .venv/bin/python bench/bench_reader.py --bundle /path/to/bundle

Prints wall and CPU seconds: the bare ``geopandas.read_parquet`` of parcels.parquet, then the whole
``read_bundle`` (every layer read, fields normalized, geometry checked, reprojected), best of ``--repeat``.
CPU seconds matter on a shared machine, where the wall clock also counts other people's work.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import geopandas as gpd

from gis.io import read_bundle


def _timed(fn):  # type: ignore[no-untyped-def]
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main(argv: list[str] | None = None) -> int:
    """Print the timings; exit 0."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--parcels", type=int, default=1_000_000)
    ap.add_argument(
        "--bundle", type=Path, help="an existing bundle (default: generate one with the demo generator)"
    )
    ap.add_argument("--out", type=Path, default=Path("/tmp/landready-bench"))
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args(argv)
    bundle_dir = args.bundle
    if bundle_dir is None:
        bundle_dir = args.out / f"parcels-{args.parcels}"
        if not (bundle_dir / "parcels.parquet").exists():
            from data._demo_scale import generate_scale
            from data.generate import DEFAULT_SEED

            print(f"generating {args.parcels} parcels into {bundle_dir} …", flush=True)
            generate_scale(bundle_dir, args.parcels, DEFAULT_SEED)
    parquet = bundle_dir / "parcels.parquet"
    if parquet.exists():
        runs = [_timed(lambda: gpd.read_parquet(parquet)) for _ in range(args.repeat)]
        _, wall, cpu = min(runs, key=lambda r: r[2])
        print(f"{'geopandas.read_parquet (parcels)':<36} wall {wall:6.2f} s   cpu {cpu:6.2f} s")
    runs = [_timed(lambda: read_bundle(bundle_dir)) for _ in range(args.repeat)]
    bundle, wall, cpu = min(runs, key=lambda r: r[2])
    sizes = ", ".join(f"{name} {len(layer)}" for name, layer in bundle.layers.items())
    print(f"{'read_bundle':<36} wall {wall:6.2f} s   cpu {cpu:6.2f} s")
    print(f"  CRS {bundle.crs.to_string()}; {sizes}; {len(bundle.warnings)} warnings")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
