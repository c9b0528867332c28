"""Scale mode of the demo generator: N parcels as a GeoParquet bundle, fully vectorized (no per-parcel loop).

The zone pattern of the demo is repeated over a grid of tiles: each tile is a development zone of about 2 000
parcels with its own core, phases (stock, 2016–2020 batches, 2021–2025 batches, expansion), river, hill, farmland and
utility networks. Blocks between roads are subdivided into 1–3 × 1–2 parcels.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

import geopandas as gpd
import shapely
from rasterio import Affine

from data._demo_calibrate import AS_OF
from data._demo_layout import ORIGIN_E, ORIGIN_N
from data._demo_names import CHAINS
from data._demo_rasters import write_raster

__all__ = ["generate_scale"]

CRS = "EPSG:4527"
ROAD = 30.0
BLOCKS_PER_TILE = 16  # a tile is 16 × 16 blocks, about 1 900 parcels
MAX_RASTER_SIDE = 3000
_USES = np.array(["industrial", "warehouse", "commercial", "residential", "public"])
_USE_P = np.array([0.80, 0.05, 0.05, 0.07, 0.03])
_CODES = np.array([c for chain in CHAINS.values() for c, _ in chain])
_CHAIN_OF = np.array([name for name, chain in CHAINS.items() for _ in chain])
_STAGES = np.array(["none", "overdue_start", "idle_1y", "idle_2y", "stalled", "overdue_completion"])
_DAY = np.timedelta64(1, "D")


def _grid(n: int, rng: np.random.Generator) -> tuple[pd.DataFrame, dict]:
    """Parcels as sub-rectangles of the blocks of a tiled road grid."""
    per_block = 3.0
    n_blocks = int(np.ceil(n / per_block * 1.15)) + 1
    side = int(np.ceil(np.sqrt(n_blocks)))
    side = int(np.ceil(side / BLOCKS_PER_TILE) * BLOCKS_PER_TILE) if side > BLOCKS_PER_TILE else side
    widths = np.round(rng.uniform(300, 560, side), 1)
    heights = np.round(rng.uniform(260, 440, side), 1)
    x_edges = np.concatenate([[0.0], np.cumsum(widths + ROAD)])
    y_edges = np.concatenate([[0.0], np.cumsum(heights + ROAD)])
    bi, bj = np.divmod(np.arange(side * side), side)  # block column, row
    bx0, by0 = x_edges[bi] + ROAD / 2, y_edges[bj] + ROAD / 2
    bx1, by1 = bx0 + widths[bi], by0 + heights[bj]
    nb = side * side
    nx = rng.choice([1, 2, 3], nb, p=[0.25, 0.5, 0.25])
    ny = rng.choice([1, 2], nb, p=[0.45, 0.55])
    # cut positions inside each block: cumulative random weights, unused columns get zero width
    wx = rng.uniform(0.6, 1.4, (nb, 3)) * (np.arange(3)[None, :] < nx[:, None])
    wy = rng.uniform(0.6, 1.4, (nb, 2)) * (np.arange(2)[None, :] < ny[:, None])
    cx = np.concatenate([np.zeros((nb, 1)), np.cumsum(wx, 1) / wx.sum(1, keepdims=True)], 1)
    cy = np.concatenate([np.zeros((nb, 1)), np.cumsum(wy, 1) / wy.sum(1, keepdims=True)], 1)
    m = nx * ny
    block = np.repeat(np.arange(nb), m)
    k = np.arange(block.size) - np.repeat(np.cumsum(m) - m, m)
    ix, iy = k % nx[block], k // nx[block]
    x0 = np.round(bx0[block] + widths[bi[block]] * cx[block, ix], 2)
    x1 = np.round(bx0[block] + widths[bi[block]] * cx[block, ix + 1], 2)
    y0 = np.round(by0[block] + heights[bj[block]] * cy[block, iy], 2)
    y1 = np.round(by0[block] + heights[bj[block]] * cy[block, iy + 1], 2)
    if block.size < n:  # cannot happen with the 15 % margin above, but never write fewer parcels than asked
        raise RuntimeError(f"grid too small: {block.size} < {n}")
    keep = slice(0, n)
    df = pd.DataFrame(
        {
            "block": block[keep],
            "x0": x0[keep] + ORIGIN_E,
            "y0": y0[keep] + ORIGIN_N,
            "x1": x1[keep] + ORIGIN_E,
            "y1": y1[keep] + ORIGIN_N,
        }
    )
    grid = {
        "side": side,
        "x_edges": x_edges + ORIGIN_E,
        "y_edges": y_edges + ORIGIN_N,
        "blocks": np.column_stack([bx0, by0, bx1, by1]) + np.array([ORIGIN_E, ORIGIN_N] * 2),
        "bi": bi,
        "bj": bj,
    }
    return df, grid


def _phases(grid: dict, rng: np.random.Generator) -> np.ndarray:
    """Per block: 1 stock, 2 batches 2016–2020, 3 batches 2021–2025, 4 expansion; from each tile's core outwards."""
    t = BLOCKS_PER_TILE
    ti, tj = grid["bi"] % t, grid["bj"] % t
    d = np.hypot(ti - t * 0.35, tj - t * 0.3) / (t * 0.95) + rng.normal(0, 0.08, ti.size)
    return np.searchsorted(np.array([0.42, 0.62, 0.78]), d) + 1


def _parcels(n: int, rng: np.random.Generator) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, dict]:
    df, grid = _grid(n, rng)
    nb = grid["side"] ** 2
    block = df["block"].to_numpy()
    geom = shapely.box(df["x0"], df["y0"], df["x1"], df["y1"])
    area = shapely.area(geom)
    mu = area * 15 / 10_000
    b_phase = _phases(grid, rng)
    b_use = rng.choice(_USES, nb, p=_USE_P)
    phase, use = b_phase[block], b_use[block]
    as_of = np.datetime64(AS_OF, "D")

    # approval batches: one per block of phases 2 and 3; approval date grows with the phase
    b_approved = np.where(
        b_phase == 2,
        np.datetime64("2016-02-29") + rng.integers(0, 1760, nb) * _DAY,
        np.datetime64("2021-03-01") + rng.integers(0, 1580, nb) * _DAY,
    )
    batched = np.isin(b_phase, [2, 3])
    sup_p = np.select([phase == 1, phase == 2, phase == 3], [1.0, 0.97, 0.8], 0.0)
    supplied = rng.random(n) < sup_p
    lag = (rng.gamma(2.0, 160.0, n) + 45).astype(int)
    s_on = np.where(
        phase == 1,
        np.datetime64("2006-04-01") + rng.integers(0, 3500, n) * _DAY,
        np.minimum(b_approved[block] + lag * _DAY, as_of - 20 * _DAY),
    )
    a_start = s_on + 182 * _DAY
    a_done = a_start + 730 * _DAY
    built = supplied & (
        (phase == 1) | ((phase == 2) & (rng.random(n) < 0.87)) | ((phase == 3) & (rng.random(n) < 0.1))
    )
    built &= a_start <= as_of - 400 * _DAY  # a project needs time to be built
    started_on = np.where(built, a_start + rng.integers(-20, 60, n) * _DAY, np.datetime64("NaT"))
    done_on = np.minimum(started_on + rng.integers(420, 900, n) * _DAY, as_of - 20 * _DAY)
    done_on = np.where(built, done_on, np.datetime64("NaT"))
    started_on = np.where(built, np.minimum(started_on, done_on - 200 * _DAY), started_on)
    # unbuilt supplied parcels: idle in every stage, or under way
    open_ = supplied & ~built
    r = rng.random(n)
    not_started = open_ & (r < 0.35)
    suspended = open_ & (r >= 0.35) & (r < 0.45)
    started_on = np.where(open_ & ~not_started, a_start + rng.integers(0, 50, n) * _DAY, started_on)
    started_on = np.where(started_on > as_of, np.datetime64("NaT"), started_on)
    susp_on = np.where(suspended, as_of - rng.integers(100, 900, n) * _DAY, np.datetime64("NaT"))
    dev = np.where(built, 1.0, np.where(suspended, rng.uniform(0.1, 0.3, n), rng.uniform(0.35, 0.9, n)))
    dev = np.where(supplied & ~not_started, dev, np.where(supplied, 0.0, np.nan))
    cause = np.where(
        supplied, rng.choice(["owner", "government", "force_majeure"], n, p=[0.8, 0.15, 0.05]), None
    )

    examined = built & np.isin(use, ["industrial", "warehouse"])
    low = examined & (rng.random(n) < 0.3)
    far = np.where(low & (rng.random(n) < 0.5), rng.uniform(0.2, 0.6, n), rng.uniform(0.9, 1.8, n))
    cov = np.where(low & (rng.random(n) < 0.35), rng.uniform(0.18, 0.37, n), rng.uniform(0.43, 0.68, n))
    inv = np.where(low & (rng.random(n) < 0.35), rng.uniform(60, 185, n), rng.uniform(215, 480, n))
    tax = np.where(low & (rng.random(n) < 0.55), rng.uniform(0.8, 8.8, n), rng.uniform(11.5, 42, n))
    stopped = low & (rng.random(n) < 0.1)
    status = np.where(stopped, "stopped", np.where(rng.random(n) < 0.06, "partial", "operating"))
    code_idx = rng.integers(0, _CODES.size, n)
    code = np.where(use == "warehouse", "G59", _CODES[code_idx])
    chain = np.where(use == "warehouse", "现代物流", _CHAIN_OF[code_idx])
    code = np.where(supplied & np.isin(use, ["industrial", "warehouse"]), code, None)
    chain = np.where(supplied & np.isin(use, ["industrial", "warehouse"]), chain, None)
    price = np.where(
        supplied, mu * np.select([use == "commercial", use == "residential"], [95.0, 168.0], 20.0), np.nan
    )
    price = np.where(use == "public", np.nan, np.round(price, 2))
    std = (~supplied) & np.isin(use, ["industrial", "warehouse"]) & (rng.random(n) < 0.5)

    def only(mask: np.ndarray, values: np.ndarray) -> np.ndarray:
        return np.where(mask, values, np.nan)

    nat = np.datetime64("NaT", "ms")
    tile = (grid["bi"] // BLOCKS_PER_TILE)[block] * 1000 + (grid["bj"] // BLOCKS_PER_TILE)[block]
    ids = pd.Series(np.arange(n)).astype(str).str.zfill(7)
    parcels = gpd.GeoDataFrame(
        {
            "parcel_id": ("SC" + ids).to_numpy(),
            "name": ("规模测试地块" + ids).to_numpy(),
            "planned_use": use,
            "supply_status": np.where(supplied, "supplied", "unsupplied"),
            "supplied_on": np.where(supplied, s_on.astype("datetime64[ms]"), nat),
            "supply_method": np.where(supplied, np.where(use == "public", "allocation", "transfer"), None),
            "land_price_wan": price,
            "agreed_start_on": np.where(supplied, a_start.astype("datetime64[ms]"), nat),
            "started_on": np.where(supplied, started_on.astype("datetime64[ms]"), nat),
            "agreed_completion_on": np.where(supplied, a_done.astype("datetime64[ms]"), nat),
            "completed_on": done_on.astype("datetime64[ms]"),
            "developed_fraction": np.round(dev, 2),
            "invested_wan": only(supplied, np.round(inv * mu * np.where(built, 1.0, dev), 0)),
            "total_investment_wan": only(supplied, np.round(inv * mu, 0)),
            "suspended_on": susp_on.astype("datetime64[ms]"),
            "delay_cause": cause,
            "operating_status": np.where(examined, status, None),
            "industry_code": code,
            "floor_area_m2": only(built, np.round(far * area, 0)),
            "footprint_m2": only(built, np.round(cov * area, 0)),
            "fixed_investment_wan": only(examined, np.round(inv * mu, 0)),
            "annual_output_wan": only(examined, np.round(tax * mu * 18, 0)),
            "annual_tax_wan": only(examined, np.round(np.where(stopped, 0.5, tax) * mu, 1)),
            "far_min": np.full(n, np.nan),
            "coverage_min": np.full(n, np.nan),
            "investment_min_wan_per_mu": np.full(n, np.nan),
            "tax_min_wan_per_mu": np.full(n, np.nan),
            "std_investment": only(std, 300.0),
            "std_far": only(std, 1.2),
            "std_tax": only(std, 15.0),
            "std_energy": only(std & (rng.random(n) < 0.7), 2.0),
            "std_emission": only(std & (rng.random(n) < 0.7), 100.0),
            "compensation_done": rng.random(n) > 0.02,
            "disputed": rng.random(n) < 0.005,
            "industry_chain": chain,
            "batch_id": np.where(
                batched[block], "B" + pd.Series(block).astype(str).str.zfill(6).to_numpy(), None
            ),
            "tile": tile,
        },
        geometry=geom,
        crs=CRS,
    )
    # batches: the blocks of phases 2 and 3 (the union of a block's parcels is the block rectangle)
    used = np.unique(block)
    used = used[batched[used]]
    bb = grid["blocks"][used]
    batches = gpd.GeoDataFrame(
        {
            "batch_id": "B" + pd.Series(used).astype(str).str.zfill(6).to_numpy(),
            "batch_name": "规模测试批次" + pd.Series(used).astype(str).to_numpy(),
            "approved_on": b_approved[used].astype("datetime64[ms]"),
            "approval_doc": "皖政地〔"
            + pd.Series(b_approved[used].astype("datetime64[Y]").astype(str)).to_numpy()
            + "〕"
            + pd.Series(used % 900 + 10).astype(str).to_numpy()
            + "号",
        },
        geometry=shapely.box(bb[:, 0], bb[:, 1], bb[:, 2], bb[:, 3]),
        crs=CRS,
    )
    grid["b_phase"] = b_phase
    grid["n_used_blocks"] = int(block.max()) + 1
    return parcels, batches, grid


def _context(grid: dict, rng: np.random.Generator) -> dict[str, gpd.GeoDataFrame]:
    """Boundary, constraints, HV lines, utility networks and assessments per tile."""
    xe, ye = grid["x_edges"], grid["y_edges"]
    minx, miny, maxx, maxy = xe[0], ye[0], xe[-1], ye[-1]
    t = BLOCKS_PER_TILE
    nt = max(1, int(np.ceil(grid["side"] / t)))
    tx = xe[np.minimum(np.arange(nt + 1) * t, xe.size - 1)]
    ty = ye[np.minimum(np.arange(nt + 1) * t, ye.size - 1)]
    gx, gy = np.meshgrid(np.arange(nt), np.arange(nt), indexing="ij")
    gx, gy = gx.ravel(), gy.ravel()
    tw, th = tx[gx + 1] - tx[gx], ty[gy + 1] - ty[gy]
    # hill in each tile's far corner, farmland at the outer edge, eco redline on the hill
    hill = shapely.points(tx[gx] + 0.85 * tw, ty[gy] + 0.85 * th)
    farm = shapely.buffer(shapely.points(tx[gx] + 0.95 * tw, ty[gy] + 0.55 * th), 0.08 * tw, quad_segs=6)
    eco = shapely.buffer(hill, 0.06 * tw, quad_segs=6)
    hv = shapely.linestrings(
        np.stack(
            [
                np.column_stack([tx[gx] + 0.3 * tw, ty[gy] + th]),
                np.column_stack([tx[gx] + tw, ty[gy] + 0.4 * th]),
            ],
            1,
        )
    )
    # networks: every grid line, built in the tile's core and planned at its edge; gas and heat only near the core
    lines, kinds, status = [], [], []
    for axis, edges, cuts in (("x", xe, ty), ("y", ye, tx)):
        pos = edges[1:-1] - ROAD / 2
        # one feature per grid line and tile crossed, so that a network can stop at a tile's edge
        li, si = np.divmod(np.arange(pos.size * (cuts.size - 1)), cuts.size - 1)
        lo, hi = cuts[si], cuts[si + 1]
        rel = ((li + 1) % t) / t  # where the line lies inside its tile: near 0 is the tile's core side
        for kind, off, share in (
            ("road", 0.0, 0.8),
            ("water", 9.0, 0.75),
            ("drainage", -9.0, 0.65),
            ("power", 12.5, 0.8),
            ("telecom", -12.5, 0.7),
            ("gas", 6.0, 0.35),
            ("heat", -6.0, 0.2),
        ):
            p = pos[li] + off
            a = np.column_stack([p, lo]) if axis == "x" else np.column_stack([lo, p])
            b = np.column_stack([p, hi]) if axis == "x" else np.column_stack([hi, p])
            lines.append(shapely.linestrings(np.stack([a, b], 1)))
            kinds.append(np.full(p.size, kind))
            status.append(np.where(rel < share, "built", "planned"))
    infra = gpd.GeoDataFrame(
        {"kind": np.concatenate(kinds), "status": np.concatenate(status)},
        geometry=np.concatenate(lines),
        crs=CRS,
    )
    whole = shapely.box(minx, miny, maxx, maxy)
    kinds_a = [
        "energy",
        "eia",
        "flood",
        "soil_water",
        "water_resources",
        "mineral",
        "geohazard",
        "seismic",
        "survey",
    ]
    done = pd.to_datetime(["2021-06-18", "2024-11-08", "2020-08-14", "2020-03-11", "2021-04-02", "2022-09-05",
                           "2020-12-01", "2018-07-02", "2019-01-15"])  # fmt: skip
    valid = pd.to_datetime(
        [None, "2029-11-07", None, None, "2026-04-01", None, "2025-11-30", "2024-12-31", None]
    )
    return {
        "zone_boundary": gpd.GeoDataFrame({"name": ["规模测试开发区"]}, geometry=[whole], crs=CRS),
        "basic_farmland": gpd.GeoDataFrame(geometry=farm, crs=CRS),
        "eco_redline": gpd.GeoDataFrame(geometry=eco, crs=CRS),
        "hv_lines": gpd.GeoDataFrame(
            {"voltage_kv": np.where(gx % 2 == 0, 220.0, 110.0)}, geometry=hv, crs=CRS
        ),
        "infrastructure": infra,
        "assessments": gpd.GeoDataFrame(
            {"kind": kinds_a, "completed_on": done, "valid_until": valid},
            geometry=[whole] * len(kinds_a),
            crs=CRS,
        ),
    }


def _rasters(grid: dict, out: Path, rng: np.random.Generator) -> None:
    xe, ye = grid["x_edges"], grid["y_edges"]
    w, h = xe[-1] - xe[0], ye[-1] - ye[0]
    cell = float(max(30.0, np.ceil(max(w, h) / MAX_RASTER_SIDE)))
    nx, ny = int(np.ceil(w / cell)), int(np.ceil(h / cell))
    x = xe[0] + (np.arange(nx) + 0.5) * cell
    y = ye[-1] - (np.arange(ny) + 0.5) * cell
    tile_w = (xe[min(BLOCKS_PER_TILE, xe.size - 1)] - xe[0]) or w
    fx = ((x - xe[0]) % tile_w) / tile_w  # position inside the tile, 0..1
    fy = ((y - ye[0]) % tile_w) / tile_w
    ph = rng.uniform(0, 6, 2)
    base = (
        31.0
        + 8 * fy[:, None]
        - 3 * fx[None, :]
        + np.sin(x / 700 + ph[0])[None, :] * np.cos(y / 900 + ph[1])[:, None]
    )
    hill = 90 * np.exp(-((fx[None, :] - 0.85) ** 2 + (fy[:, None] - 0.85) ** 2) / (2 * 0.07**2))
    # a river meanders across each tile at about a fifth of its height
    river_y = 0.2 + 0.05 * np.sin(fx * 2 * np.pi)
    d = np.abs(fy[:, None] - river_y[None, :]) * tile_w
    valley = 3.6 * np.exp(-d / 230.0)
    dem = (base + hill - valley).astype(np.float32)
    depth = np.clip(valley - 0.3, 0.0, None).astype(np.float32)
    dem, depth = np.round(dem, 1), np.round(depth, 2)
    tr = Affine(cell, 0.0, xe[0], 0.0, -cell, ye[-1])
    write_raster(out / "dem.tif", dem, tr, CRS, description="elevation (m)", zlevel=1)
    write_raster(out / "flood_depth.tif", depth, tr, CRS, description="100-year flood depth (m)", zlevel=1)


def generate_scale(out: Path, n: int, seed: int) -> int:
    """Write a bundle of exactly `n` parcels (GeoParquet layers + rasters + zone.toml) into `out`; return n."""
    if n < 1:
        raise ValueError("--parcels must be at least 1")
    rng = np.random.default_rng(seed)
    parcels, batches, grid = _parcels(n, rng)
    layers = {"parcels": parcels, "batches": batches, **_context(grid, rng)}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".scale-", dir=out.parent))
    try:
        for name, gdf in layers.items():
            gdf.to_parquet(
                tmp / f"{name}.parquet",
                index=False,
                compression="zstd",
                write_covering_bbox=name == "parcels",
            )
        _rasters(grid, tmp, rng)
        (tmp / "zone.toml").write_text(
            f'# python -m data.generate --parcels {n} --seed {seed}\nname = "规模测试开发区（{n} 宗）"\n'
            'area_source = "测试数据：zone_boundary 图层"\n',
            encoding="utf-8",
        )
        tmp.chmod(0o755)
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return n
