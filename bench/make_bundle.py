"""Write large synthetic bundles with the demo generator's scale mode and print how long each took.

    python bench/make_bundle.py                      # 10 k, 100 k and 1 M parcels under /tmp/landready-bench
    python bench/make_bundle.py --parcels 200000 --out /data/bench --keep

Each bundle is `<out>/parcels-<N>/` (GeoParquet layers, dem.tif, flood_depth.tif, zone.toml), readable by
`gis.io.read_bundle`; the other bench scripts take it as their input.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data._demo_scale import generate_scale
from data.generate import DEFAULT_SEED


def main(argv: list[str] | None = None) -> int:
    """Generate one bundle per size and print: parcels, seconds, MB on disk."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--parcels", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--out", type=Path, default=Path("/tmp/landready-bench"))
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--keep", action="store_true", help="keep the bundles (default: keep only the largest)")
    args = ap.parse_args(argv)
    print(f"{'parcels':>10} {'seconds':>8} {'MB':>8}  bundle")
    written = []
    for n in args.parcels:
        out = args.out / f"parcels-{n}"
        t0 = time.perf_counter()
        generate_scale(out, n, args.seed)
        seconds = time.perf_counter() - t0
        mb = sum(p.stat().st_size for p in out.iterdir()) / 1e6
        print(f"{n:>10} {seconds:>8.1f} {mb:>8.1f}  {out}")
        written.append(out)
    if not args.keep:
        for out in written[:-1]:
            shutil.rmtree(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
