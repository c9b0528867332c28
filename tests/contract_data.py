"""Tiny bundles for the CONTRACT acceptance tests (tests/test_contract_*.py).

Everything is built in EPSG:4527 (CGCS2000 3-degree Gauss-Kruger zone 39, central meridian 117°E, zone-prefixed
eastings) on a local grid of metres offset by (E0, N0), so every parcel area is known exactly: a 100 m × 100 m square is
10 000 m² = 1 ha = 15 亩.  The shared `AS_OF` is 2025-02-28, the first anniversary of 29 Feb 2024.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from affine import Affine

import geopandas as gpd
import rasterio
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, Polygon, box, mapping, shape

ROOT = Path(__file__).resolve().parents[1]
LANDREADY = ROOT / ".venv" / "bin" / "landready"

E0, N0 = 39_500_000.0, 3_500_000.0
CRS = "EPSG:4527"
AS_OF = "2025-02-28"

AUDIT_FILES = {"audit.geojson", "unsupplied.geojson", "batches.csv", "summary.json", "ledger.xlsx"}
INFRA_KINDS = ("road", "water", "drainage", "power", "telecom", "gas", "heat")


# ── CLI ────────────────────────────────────────────────────────────────────────────────────────────────────────────
def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the real `landready` command from the project root (falls back to `python -m api.cli`)."""
    cmd = [str(LANDREADY)] if LANDREADY.exists() else [sys.executable, "-m", "api.cli"]
    return subprocess.run(
        [*cmd, *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8"},
    )


# ── geometry helpers (local metres → EPSG:4527) ─────────────────────────────────────────────────────────────────
def sq(x: float, y: float, w: float = 100.0, h: float = 100.0) -> Polygon:
    """An axis-aligned rectangle with its lower-left corner at local (x, y)."""
    return box(E0 + x, N0 + y, E0 + x + w, N0 + y + h)


def hline(x0: float, x1: float, y: float) -> LineString:
    """A horizontal line at local height y."""
    return LineString([(E0 + x0, N0 + y), (E0 + x1, N0 + y)])


def frame(rows: list[dict[str, Any]], dates: Iterable[str] = ()) -> gpd.GeoDataFrame:
    """A GeoDataFrame in EPSG:4527 from dicts with a `geometry` key; `dates` columns become datetime64."""
    df = pd.DataFrame(rows)
    for col in dates:
        if col in df:
            df[col] = pd.to_datetime(df[col])
    return gpd.GeoDataFrame(df, geometry="geometry", crs=CRS)


def write_geojson_4326(path: Path, gdf: gpd.GeoDataFrame) -> None:
    """Plain RFC 7946 style GeoJSON (no `crs` member) written by hand, so the test controls every value."""
    g = gdf.to_crs(4326)
    features = []
    for _, row in g.iterrows():
        props = {k: (None if _isna(v) else v) for k, v in row.items() if k != "geometry"}
        geom = row.geometry
        features.append(
            {"type": "Feature", "properties": props, "geometry": None if geom is None else mapping(geom)}
        )
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False))


def write_csv_wkt_4326(path: Path, gdf: gpd.GeoDataFrame) -> None:
    """A CSV layer with a `wkt` column in longitude/latitude."""
    g = gdf.to_crs(4326)
    df = pd.DataFrame(g.drop(columns="geometry"))
    df["wkt"] = shapely.to_wkt(g.geometry.values, rounding_precision=-1)
    df.to_csv(path, index=False)


def _isna(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


# ── the audit bundle (§4.1–§4.4) ─────────────────────────────────────────────────────────────────────────────────
# Idle cases, all supplied commercial 100 m squares, not completed unless stated; as-of 2025-02-28.
IDLE_CASES: dict[str, dict[str, Any]] = {
    # agreed start on as-of → as-of on idle_since → none
    "I-NONE-DAYOF": {"agreed_start_on": "2025-02-28"},
    # one day late → overdue_start, idle_days 1
    "I-OVERDUE-1D": {"agreed_start_on": "2025-02-27"},
    # day before the first anniversary (2025-03-01) → still overdue_start; 2024-03-01 → 2025-02-28 = 364 days
    "I-OVERDUE-364": {"agreed_start_on": "2024-03-01"},
    # 29 Feb 2024 + 1 year = 28 Feb 2025 = as-of → idle_1y; 2024-02-29 → 2025-02-28 = 365 days; fee 0.2 × 500
    "I-LEAP-1Y": {"agreed_start_on": "2024-02-29", "land_price_wan": 500.0, "name": "=SUM(1,1)"},
    # day before the 2nd anniversary (2025-03-01) → idle_1y; 2023-03-01 → 2025-02-28 = 366 + 364 = 730 days
    "I-1Y-LATE": {"agreed_start_on": "2023-03-01", "land_price_wan": 1234.5},
    # on the 2nd anniversary → idle_2y, reclaim; 2023-02-28 → 2025-02-28 = 365 + 366 = 731 days
    "I-2Y": {"agreed_start_on": "2023-02-28", "land_price_wan": 800.0},
    # government cause → negotiate, no fee
    "I-1Y-GOV": {"agreed_start_on": "2024-01-15", "land_price_wan": 300.0, "delay_cause": "government"},
    "I-2Y-FM": {"agreed_start_on": "2022-01-01", "land_price_wan": 300.0, "delay_cause": "force_majeure"},
    # started after as-of → not started: 2024-01-01 + 1 y = 2025-01-01 ≤ as-of < 2026-01-01 → idle_1y, fee 0.2 × 100
    "I-START-LATER": {"agreed_start_on": "2024-01-01", "started_on": "2025-03-01", "land_price_wan": 100.0},
    # not started and no agreed start → none, missing agreed_start_on
    "I-MISSING-START": {},
    # started, developed 0.2 < 1/3, suspended 2024-02-28: anniversary 2025-02-28 = as-of → stalled (owner → review);
    # 2024-02-28 → 2025-02-28 = 366 days (2024 is a leap year)
    "I-STALLED": {
        "agreed_start_on": "2022-01-01",
        "started_on": "2022-05-01",
        "agreed_completion_on": "2026-12-31",
        "developed_fraction": 0.2,
        "suspended_on": "2024-02-28",
    },
    # investment share 20/100 = 0.2 < 0.25 with developed 0.5, suspended 2023-06-01 → stalled, review
    "I-STALLED-INV": {
        "agreed_start_on": "2022-01-01",
        "started_on": "2022-05-01",
        "agreed_completion_on": "2026-12-31",
        "developed_fraction": 0.5,
        "invested_wan": 20.0,
        "total_investment_wan": 100.0,
        "suspended_on": "2023-06-01",
    },
    # suspended 2024-03-01: first anniversary 2025-03-01 is after as-of → any other started parcel; completion
    # agreed 2026 → none
    "I-SUSP-YOUNG": {
        "agreed_start_on": "2022-01-01",
        "started_on": "2022-05-01",
        "agreed_completion_on": "2026-12-31",
        "developed_fraction": 0.2,
        "suspended_on": "2024-03-01",
    },
    # well developed and suspended → not the stalled case → none (completion not yet due)
    "I-SUSP-DEVELOPED": {
        "agreed_start_on": "2022-01-01",
        "started_on": "2022-05-01",
        "agreed_completion_on": "2026-01-01",
        "developed_fraction": 0.5,
        "invested_wan": 50.0,
        "total_investment_wan": 100.0,
        "suspended_on": "2023-01-01",
    },
    # started, completion agreed the day before as-of → overdue_completion, warn, 1 day
    "I-OVERDUE-COMP": {
        "agreed_start_on": "2022-01-01",
        "started_on": "2022-01-01",
        "agreed_completion_on": "2025-02-27",
        "developed_fraction": 0.8,
    },
    # completion agreed on as-of → none
    "I-COMP-DAYOF": {
        "agreed_start_on": "2022-01-01",
        "started_on": "2022-01-01",
        "agreed_completion_on": "2025-02-28",
        "developed_fraction": 0.8,
    },
    # completed after as-of → not completed: 2024-12-31 → 2025-02-28 = 31 + 28 = 59 days overdue
    "I-COMPLETED-LATER": {
        "agreed_start_on": "2022-01-01",
        "started_on": "2022-01-01",
        "agreed_completion_on": "2024-12-31",
        "completed_on": "2025-03-10",
        "developed_fraction": 1.0,
    },
    # completed by as-of → not examined, though never "started"
    "I-COMPLETED": {"agreed_start_on": "2020-01-01", "completed_on": "2024-06-01"},
    # suspended after as-of → not suspended yet → any other started parcel: completion overdue by 59 days
    "I-SUSP-FUTURE": {
        "agreed_start_on": "2022-01-01",
        "started_on": "2022-01-01",
        "agreed_completion_on": "2024-12-31",
        "developed_fraction": 0.2,
        "suspended_on": "2025-03-01",
    },
    # started, no agreed completion → none, missing agreed_completion_on
    "I-MISSING-COMP": {
        "agreed_start_on": "2022-01-01",
        "started_on": "2022-01-01",
        "developed_fraction": 0.9,
    },
}

IDLE_EXPECTED = {  # parcel_id: (idle_stage, idle_disposal, idle_fee_wan, idle_days)
    "I-NONE-DAYOF": ("none", "none", None, None),
    "I-OVERDUE-1D": ("overdue_start", "warn", None, 1),
    "I-OVERDUE-364": ("overdue_start", "warn", None, 364),
    "I-LEAP-1Y": ("idle_1y", "idle_fee", 100.0, 365),  # 0.2 × 500
    "I-1Y-LATE": ("idle_1y", "idle_fee", 246.9, 730),  # 0.2 × 1234.5
    "I-2Y": ("idle_2y", "reclaim", None, 731),
    "I-1Y-GOV": ("idle_1y", "negotiate", None, 410),  # 2024-01-15 → 2025-02-28: 352 + 31 + 27 = 410
    "I-2Y-FM": ("idle_2y", "negotiate", None, 1154),  # 2022-01-01 → 2025-02-28: 365 + 365 + 366 + 58
    "I-START-LATER": ("idle_1y", "idle_fee", 20.0, 424),  # 2024-01-01 → 2025-02-28: 366 + 58
    "I-MISSING-START": ("none", "none", None, None),
    "I-STALLED": ("stalled", "review", None, 366),
    "I-STALLED-INV": ("stalled", "review", None, 638),  # 2023-06-01 → 2025-02-28: 366 + 272
    "I-SUSP-YOUNG": ("none", "none", None, None),
    "I-SUSP-DEVELOPED": ("none", "none", None, None),
    "I-OVERDUE-COMP": ("overdue_completion", "warn", None, 1),
    "I-COMP-DAYOF": ("none", "none", None, None),
    "I-COMPLETED-LATER": ("overdue_completion", "warn", None, 59),
    "I-COMPLETED": ("none", "none", None, None),
    "I-MISSING-COMP": ("none", "none", None, None),
    "I-SUSP-FUTURE": ("overdue_completion", "warn", None, 59),
    # industrial, operating partial, government-caused stall (see EFFICIENCY_CASES): negotiate
    "E-STALLED-GOV": ("stalled", "negotiate", None, 789),  # 2023-01-01 → 2025-02-28: 365 + 366 + 58
}

# Low-efficiency cases: supplied industrial 15 亩 parcels completed 2023-01-01 unless stated.
# Good values: FAR 1.0 (C38 min 0.7), coefficient 0.5, investment 300 万元/亩, tax 10 万元/亩.
_GOOD = {
    "industry_code": "C38",
    "floor_area_m2": 10000.0,
    "footprint_m2": 5000.0,
    "fixed_investment_wan": 4500.0,
    "annual_tax_wan": 150.0,
}
EFFICIENCY_CASES: dict[str, dict[str, Any]] = {
    # FAR 6900/10000 = 0.69 < 0.7; 3900/10000 = 0.39 < 0.40; 2985/15 = 199 < 200; 149.85/15 = 9.99 < 10
    "E-ALL": {
        "industry_code": "C38",
        "floor_area_m2": 6900.0,
        "footprint_m2": 3900.0,
        "fixed_investment_wan": 2985.0,
        "annual_tax_wan": 149.85,
    },
    # division "38" without letter: FAR 0.70 = minimum, 0.40, 200, 10 → nothing
    "E-EDGE": {
        "industry_code": "38",
        "floor_area_m2": 7000.0,
        "footprint_m2": 4000.0,
        "fixed_investment_wan": 3000.0,
        "annual_tax_wan": 150.0,
    },
    # C25 minimum 0.5: FAR 0.51 passes (would fail the 1.0 default)
    "E-C25": {**_GOOD, "industry_code": "C25", "floor_area_m2": 5100.0},
    # unknown division → 1.0: FAR 0.9999 fails
    "E-UNKNOWN": {**_GOOD, "industry_code": "99", "floor_area_m2": 9999.0},
    # no industry code → 1.0
    "E-NOCODE": {**_GOOD, "industry_code": None, "floor_area_m2": 9999.0},
    # the parcel's own minimums: 0.6 ≥ 0.5, 0.3 ≥ 0.2, 1500/15 = 100 ≥ 100, 75/15 = 5 ≥ 5 → nothing
    "E-OVERRIDE": {
        "industry_code": "99",
        "floor_area_m2": 6000.0,
        "footprint_m2": 3000.0,
        "fixed_investment_wan": 1500.0,
        "annual_tax_wan": 75.0,
        "far_min": 0.5,
        "coverage_min": 0.2,
        "investment_min_wan_per_mu": 100.0,
        "tax_min_wan_per_mu": 5.0,
    },
    # stopped: reasons stopped + mujun_d, grade D, score null; its big tax/output stay out of the means
    "E-STOPPED": {
        **_GOOD,
        "operating_status": "stopped",
        "annual_tax_wan": 1000.0,
        "annual_output_wan": 10000.0,
    },
    # inputs missing → no reason, listed in missing_inputs
    "E-MISSING": {"industry_code": "C38"},
    # warehouse, built by operating status only
    "E-WAREHOUSE": {
        **_GOOD,
        "planned_use": "warehouse",
        "completed_on": None,
        "operating_status": "operating",
        "annual_tax_wan": 300.0,
    },
    # industrial, rated inputs partly missing (no output) → unrated, grade null
    "E-UNRATED": {**_GOOD},
    # stalled and operating partially: findings idle + low_efficiency (FAR 0.5 < 0.7)
    "E-STALLED-GOV": {
        **_GOOD,
        "floor_area_m2": 5000.0,
        "annual_tax_wan": None,
        "completed_on": None,
        "operating_status": "partial",
        "agreed_start_on": "2021-01-01",
        "started_on": "2021-06-01",
        "agreed_completion_on": "2026-12-31",
        "developed_fraction": 0.1,
        "suspended_on": "2023-01-01",
        "delay_cause": "government",
    },
    # not built by as-of: completed after as-of, no operating status → not examined
    "E-COMPLETED-LATER": {
        **_GOOD,
        "completed_on": "2025-03-01",
        "started_on": "2023-01-01",
        "agreed_completion_on": "2025-12-31",
        "developed_fraction": 0.9,
    },
    # supplied industrial, not started, agreed start after as-of → not examined, not built
    "E-UNBUILT": {**_GOOD, "completed_on": None, "agreed_start_on": "2025-06-01"},
    # commercial with tax/output: not examined, not in the means
    "E-COMMERCIAL": {**_GOOD, "planned_use": "commercial", "annual_output_wan": 99999.0},
}
# The FAR table of CONTRACT §3 by GB/T 4754-2017 division: one warehouse parcel exactly at the minimum (no reason)
# and one 0.01 below it (far), per division.  Warehouses are examined but stay out of the industrial intensity.
FAR_TABLE = {
    "C13": 1.0,
    "C19": 1.0,
    "C24": 1.0,
    "C17": 0.8,
    "C20": 0.8,
    "C23": 0.8,
    "C29": 0.8,
    "C27": 0.7,
    "C30": 0.7,
    "C36": 0.7,
    "C43": 0.7,
    "C26": 0.6,
    "C31": 0.6,
    "C32": 0.6,
    "C40": 1.0,
}
for _code, _min in FAR_TABLE.items():
    for _tag, _far in (("AT", _min), ("BELOW", _min - 0.01)):
        EFFICIENCY_CASES[f"FAR-{_code}-{_tag}"] = {
            **_GOOD,
            "planned_use": "warehouse",
            "industry_code": _code,
            "floor_area_m2": round(_far * 10000, 6),
        }

EFFICIENCY_REASONS = {
    "E-ALL": ["far", "coverage", "investment", "tax"],
    "E-EDGE": [],
    "E-C25": [],
    "E-UNKNOWN": ["far"],
    "E-NOCODE": ["far"],
    "E-OVERRIDE": [],
    "E-STOPPED": ["stopped", "mujun_d"],
    "E-MISSING": [],
    "E-WAREHOUSE": [],
    "E-UNRATED": [],
    "E-STALLED-GOV": ["far"],
    "E-COMPLETED-LATER": [],
    "E-UNBUILT": [],
    "E-COMMERCIAL": [],
    **{f"FAR-{code}-AT": [] for code in FAR_TABLE},
    **{f"FAR-{code}-BELOW": ["far"] for code in FAR_TABLE},
}

# 亩均 cases: ten rated parcels of 15 亩. tax per 亩 t and output per 亩 o; Σt = 100 → mean 10, Σo = 1000 → mean 100.
# score = 100 × (0.6 t/10 + 0.4 o/100); with o = 100: 40 + 6t.
MUJUN_CASES = {  # id: (tax per 亩, output per 亩, score, rank, grade)
    "M01": (30, 190, 256.0, 1, "A"),  # 100 × (1.8 + 0.76)
    "M02": (15, 100, 130.0, 2, "A"),  # tie: both rank 2, p = 0.2
    "M03": (15, 100, 130.0, 2, "A"),
    "M04": (10, 100, 100.0, 4, "B"),  # p 0.4
    "M05": (8, 100, 88.0, 5, "B"),
    "M06": (7, 100, 82.0, 6, "B"),
    "M07": (6, 100, 76.0, 7, "B"),  # p = 0.70 exactly → B
    "M08": (4, 100, 64.0, 8, "C"),  # p 0.8
    "M09": (3, 100, 58.0, 9, "C"),  # p 0.9
    "M10": (2, 10, 16.0, 10, "D"),  # 100 × (0.12 + 0.04), p 1.0
}
# tax reason for t < 10: M05..M10; mujun_d for M10
MUJUN_REASONS = {
    "M01": [],
    "M02": [],
    "M03": [],
    "M04": [],
    "M05": ["tax"],
    "M06": ["tax"],
    "M07": ["tax"],
    "M08": ["tax"],
    "M09": ["tax"],
    "M10": ["tax", "mujun_d"],
}

# Batches (local y 2000–2100), as-of 2025-02-28.
BATCHES = {  # id: (x, approved_on)
    "B1": (0, "2020-01-10"),  # 200 m wide; left half supplied (U1), right half U2 unsupplied
    "B2": (400, "2023-02-28"),  # 2nd anniversary = as-of, nothing supplied → lapse_risk
    "B3": (700, "2023-03-01"),  # day before its 2nd anniversary → no lapse_risk, lt2y
    "B4": (1000, "2025-03-01"),  # approved after as-of → does not exist
    "B5": (1300, "2020-02-29"),  # 29 Feb 2020 + 5 y = 28 Feb 2025 = as-of → ge5y, 5 years
    "B6": (1600, "2021-01-01"),  # fully supplied (S6)
    "B7": (1900, "2021-01-01"),  # supplied S7 with a 0.5 m² hole: remainder 4000 + 0.5
    "B8": (2200, "2019-06-01"),  # two overlapping supplied parcels cover it: union, not sum
}
BATCH_ROWS = {  # batch_id: (batch_m2, supplied_m2, unsupplied_m2, supply_rate)
    "B1": (20000.0, 10000.0, 10000.0, 0.5),
    "B2": (10000.0, 0.0, 10000.0, 0.0),
    "B3": (10000.0, 0.0, 10000.0, 0.0),
    # the parcel in B5 is "supplied" on 2025-03-15, after as-of → unsupplied
    "B5": (10000.0, 0.0, 10000.0, 0.0),
    "B6": (10000.0, 10000.0, 0.0, 1.0),
    "B7": (10000.0, 5999.5, 4000.5, 0.59995),
    "B8": (10000.0, 10000.0, 0.0, 1.0),  # S8a x 2200–2260 ∪ S8b x 2240–2300 (sum would be 12 000)
}
UNSUPPLIED_EXPECTED = {  # batch_id: (age_years, age_bucket, lapse_risk)
    "B1": (5, "ge5y", False),  # 2020-01-10 → 2025-02-28
    "B2": (2, "2to5y", True),
    "B3": (1, "lt2y", False),
    "B5": (5, "ge5y", True),
    "B7": (4, "2to5y", False),
}


def _parcel(pid: str, geom: Polygon, **fields: Any) -> dict[str, Any]:
    base = {
        "parcel_id": pid,
        "name": f"地块 {pid}",
        "planned_use": "commercial",
        "supply_status": "supplied",
        "supplied_on": "2019-06-01",
        "remark": f"备注-{pid}",  # an unknown field: must be passed through
        "extra_score": 7.5,
        "geometry": geom,
    }
    base.update(fields)
    return base


PARCEL_DATES = (
    "supplied_on",
    "agreed_start_on",
    "started_on",
    "agreed_completion_on",
    "completed_on",
    "suspended_on",
)


def audit_parcels() -> gpd.GeoDataFrame:
    rows: list[dict[str, Any]] = []
    cells = iter(range(1000))

    def slot() -> Polygon:
        k = next(cells)
        return sq((k % 10) * 200, (k // 10) * 200)

    for pid, fields in IDLE_CASES.items():
        rows.append(_parcel(pid, slot(), **fields))
    for pid, fields in EFFICIENCY_CASES.items():
        f = {"planned_use": "industrial", "completed_on": "2023-01-01", **fields}
        rows.append(_parcel(pid, slot(), **f))
    for pid, (t, o, *_rest) in MUJUN_CASES.items():
        f = {**_GOOD, "annual_tax_wan": t * 15.0, "annual_output_wan": o * 15.0}
        rows.append(_parcel(pid, slot(), planned_use="industrial", completed_on="2023-01-01", **f))
    # batch area (local y 2000–2100)
    rows += [
        _parcel("U1", sq(0, 2000), supplied_on="2020-06-01", completed_on="2021-01-01"),
        _parcel("U2", sq(100, 2000), planned_use="industrial", supply_status="unsupplied", supplied_on=None),
        # 99.5 % inside B2 (x 400–500)
        _parcel(
            "U3", sq(399.5, 2000), planned_use="industrial", supply_status="unsupplied", supplied_on=None
        ),
        # 98 % inside B3 (x 700–800)
        _parcel("U4", sq(698, 2000), planned_use="industrial", supply_status="unsupplied", supplied_on=None),
        # inside B4, approved after as-of
        _parcel("U5", sq(1000, 2000), planned_use="industrial", supply_status="unsupplied", supplied_on=None),
        # supplied after as-of → unsupplied as of 2025-02-28, inside B5
        _parcel("U6", sq(1300, 2000), supplied_on="2025-03-15", agreed_start_on="2020-01-01"),
        _parcel("S6", sq(1600, 2000), supplied_on="2021-06-01", completed_on="2022-01-01"),
        _parcel("S8a", sq(2200, 2000, 60, 100), supplied_on="2020-06-01", completed_on="2022-01-01"),
        _parcel("S8b", sq(2240, 2000, 60, 100), supplied_on="2020-06-01", completed_on="2022-01-01"),
        _parcel(
            "S7",
            Polygon(
                sq(1900, 2000, 100, 60).exterior.coords,
                [sq(1949.5, 2029.5, 1.0, 0.5).exterior.coords],  # 0.5 m² hole
            ),
            supplied_on="2021-06-01",
            completed_on="2022-01-01",
        ),
    ]
    return frame(rows, PARCEL_DATES)


def build_audit_bundle(directory: Path) -> Path:
    """Parcels and batches as GeoPackages, zone boundary as GeoJSON (EPSG:4326 without a crs member)."""
    directory.mkdir(parents=True)
    audit_parcels().to_file(directory / "parcels.gpkg", layer="parcels", driver="GPKG")
    batches = []
    for bid, (x, approved) in BATCHES.items():
        w = 200 if bid == "B1" else 100
        batches.append(
            {
                "batch_id": bid,
                "batch_name": f"批次{bid}",
                "approved_on": approved,
                "approval_doc": f"皖政地〔{approved[:4]}〕{bid[1:]}号",
                "geometry": sq(x, 2000, w, 100),
            }
        )
    frame(batches, ["approved_on"]).to_file(directory / "batches.gpkg", layer="batches", driver="GPKG")
    # 5 km × 6 km = 30 000 000 m² = 3000 ha; a GeoJSON with a (2008-style) crs member naming EPSG:4527
    frame([{"name": "测试开发区", "geometry": sq(-1000, -1000, 5000, 6000)}]).to_file(
        directory / "zone_boundary.geojson", driver="GeoJSON"
    )
    return directory


def _square_with_awkward_vertex(x: float, y: float) -> Polygon:
    """A 100 m square with an extra vertex on its bottom edge whose longitude has exactly 7 decimals but is not
    exactly representable in binary: snapping it to a 1e-7 grid and printing the double gives e.g.
    ``116.85279010000001`` (8+ decimals).  The vertex is collinear, so the area stays 10 000 m²."""
    to_ll = Transformer.from_crs(CRS, 4326, always_xy=True)
    lon0, _ = to_ll.transform(E0 + x + 10, N0 + y)
    k = int(lon0 * 1e7) + 1
    while True:
        snapped = shapely.set_precision(shapely.points(k / 1e7, 31.6), 1e-7, mode="pointwise")
        text = json.loads(shapely.to_geojson(snapped), parse_float=str)["coordinates"][0]
        if len(text.split(".")[1]) > 7:
            break
        k += 1
    # bisect the easting on the bottom edge whose longitude is k × 1e-7
    lo, hi = E0 + x + 5, E0 + x + 95
    for _ in range(200):
        mid = (lo + hi) / 2
        if to_ll.transform(mid, N0 + y)[0] < k / 1e7:
            lo = mid
        else:
            hi = mid
    ring = [
        (E0 + x, N0 + y),
        (lo, N0 + y),
        (E0 + x + 100, N0 + y),
        (E0 + x + 100, N0 + y + 100),
        (E0 + x, N0 + y + 100),
    ]
    return Polygon(ring)


# ── a bundle with Chinese headers, GeoJSON in EPSG:4326, no batches layer ─────────────────────────────────────────
def build_chinese_bundle(directory: Path) -> Path:
    """Parcels with Chinese headers (one with surrounding spaces) and Chinese enum values."""
    directory.mkdir(parents=True)
    rows = [
        {
            "地块编号": "C1",
            "地块名称": "华兴机械",
            "规划用途": "工业",
            " 供应状态 ": "已供",
            "供地日期": "2022-12-01",
            # header wrapped in full-width brackets
            "（约定开工日期）": "2023-06-01",  # 1st anniversary 2024-06-01 ≤ as-of < 2nd → idle_1y, fee 0.2 × 300
            "出让价款": 300.0,
            "闲置原因": "企业",
            "权属争议": False,
            "自定义字段": "保留",
            "geometry": sq(0, 0),
        },
        {
            "地块编号": "C2",
            "地块名称": "商业地块",
            "规划用途": "商服",
            " 供应状态 ": "未供",
            "供地日期": None,
            "（约定开工日期）": None,
            "出让价款": None,
            "闲置原因": None,
            "权属争议": True,
            "自定义字段": "保留2",
            "geometry": _square_with_awkward_vertex(200, 0),
        },
        {
            # a bow-tie: repaired by make_valid into two 2500 m² triangles, reported in warnings
            "地块编号": "C3",
            "地块名称": "自交地块",
            "规划用途": "仓储",
            " 供应状态 ": "未供",
            "供地日期": None,
            "（约定开工日期）": None,
            "出让价款": None,
            "闲置原因": None,
            "权属争议": False,
            "自定义字段": "保留3",
            "geometry": Polygon([(E0 + 400, N0), (E0 + 500, N0 + 100), (E0 + 500, N0), (E0 + 400, N0 + 100)]),
        },
    ]
    gdf = gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=CRS)
    write_geojson_4326(directory / "parcels.geojson", gdf)
    return directory


# ── the readiness bundle (§4.5) ──────────────────────────────────────────────────────────────────────────────────
ALL_ASSESSMENTS = (
    "energy",
    "eia",
    "flood",
    "soil_water",
    "water_resources",
    "mineral",
    "geohazard",
    "heritage",
    "seismic",
)
STD_FULL = {"std_investment": 300.0, "std_far": 1.2, "std_tax": 20.0, "std_energy": 1.5, "std_emission": 2.0}

# local x of each readiness parcel (100 m squares at y 0–100, 2 km apart; region A x < 18 400 has all assessments)
READY_X = {
    "R1": 0,
    "R2": 2000,
    "R3": 4000,
    "R4": 6000,
    "R6": 8000,
    "R7": 10000,
    "R9": 12000,
    "R10": 14000,
    "R11": 16000,
    "R12": 18000,  # covered by the union of two batches, each 50 %
    "R5": 19000,  # region B
    "R8": 21000,
    "R13": 23000,  # 66 kV line 11 m away: half-width 12.5 m → corridor overlap
    "R14": 25000,  # 35 kV line 11 m away: half-width 10 m → clear
    "R15": 27000,  # "supplied" on 2025-03-15, after as-of → still examined
    "R16": 29000,  # no planned_use: neither industrial nor warehouse
}
# built infrastructure: parcel → {kind: distance below the parcel's bottom edge, m}
READY_INFRA = {
    "R1": {"road": 10, "water": 50, "drainage": 50, "power": 150, "telecom": 150, "gas": 150, "heat": 400},
    "R2": {"road": 29.9, "water": 99.9, "drainage": 99.9, "power": 199.9, "telecom": 199.9, "gas": 250},
    "R3": {"road": 20, "water": 60, "power": 120},
    "R4": {"road": 20},
    "R6": dict.fromkeys(("road", "water", "drainage", "power", "telecom"), 20),
    "R7": dict.fromkeys(("road", "water", "drainage", "power", "telecom"), 20),
    "R9": dict.fromkeys(("road", "water", "drainage", "power", "telecom"), 20),
    "R10": dict.fromkeys(("road", "water", "drainage", "power", "telecom"), 20),
    "R11": dict.fromkeys(("road", "water", "drainage", "power", "telecom"), 20),
    "R12": dict.fromkeys(("road", "water", "drainage", "power", "telecom"), 20),
    "R13": dict.fromkeys(("road", "water", "drainage", "power", "telecom"), 20),
    "R14": dict.fromkeys(("road", "water", "drainage", "power", "telecom"), 20),
    "R15": dict.fromkeys(("road", "water", "drainage", "power", "telecom"), 20),
    "R16": dict.fromkeys(("road", "water", "drainage", "power", "telecom"), 20),
}
READY_EXPECTED = {  # parcel: (tier, missing, score, served_by)
    # everything passes: 40 + 30 + 20 + 10
    "R1": ("ready", [], 100.0, "七通一平"),
    "R2": ("ready", [], 100.0, "五通一平"),  # gas at 250 m > 200 m, heat far away
    # 40 + 30 + 20 + 10 × 3/5 = 96
    "R3": ("nearly_ready", ["infra:drainage", "infra:telecom"], 96.0, "三通一平"),
    # 40 + 30 + 20 + 10 × 1/5 = 92 (the water line near it is only planned)
    "R4": ("not_ready", ["infra:water", "infra:drainage", "infra:power", "infra:telecom"], 92.0, None),
    # 98 % inside a batch + compensation not done: 40 × 2/4 + 30 + 20 + 10 = 80
    "R6": ("not_ready", ["approval:not_approved", "net:compensation"], 80.0, "五通一平"),
    # covered only by a batch approved after as-of: 40 × 3/4 + 60 = 90
    "R7": ("not_ready", ["approval:not_approved"], 90.0, "五通一平"),
    # 220 kV line 15 m outside the edge, half-width 20 m → 500 m² corridor overlap: 40 × 3/4 + 60 = 90
    "R9": ("nearly_ready", ["net:hv_line"], 90.0, "五通一平"),
    # 110 kV at 15 m (half-width 12.5 m) → clear; farmland overlap 0.5 m² (≤ 1 m²) and red-line overlap 5 m²
    # (> 1 m² but ≤ 0.1 % = 10 m²) → no constraint
    "R10": ("ready", [], 100.0, "五通一平"),
    # disputed + std_energy missing: 2 codes, neither approval nor compensation: 40 × 3/4 + 30 + 20 × 4/5 + 10 = 86
    "R11": ("nearly_ready", ["net:dispute", "indicators:std_energy"], 86.0, "五通一平"),
    "R12": ("ready", [], 100.0, "五通一平"),
    # 66 kV: 11 m < 12.5 m → 1.5 m × 100 m = 150 m² overlap; 40 × 3/4 + 60 = 90
    "R13": ("nearly_ready", ["net:hv_line"], 90.0, "五通一平"),
    "R14": ("ready", [], 100.0, "五通一平"),
    "R15": ("ready", [], 100.0, "五通一平"),
    # zoning is blocking but not part of the score
    "R16": ("blocked", ["zoning:not_industrial"], 100.0, "五通一平"),
    # blocked, every row of the table: 40 × 0/4 + 30 × 5/9 + 20 × 3/5 + 10 × 0/5 = 16.667 + 12 = 28.7
    "R5": (
        "blocked",
        [
            "constraint:basic_farmland",
            "constraint:eco_redline",
            "zoning:not_industrial",
            "approval:not_approved",
            "net:compensation",
            "net:dispute",
            "net:hv_line",
            "assessment:energy",
            "assessment:flood",
            "assessment:water_resources",
            "assessment:geohazard",
            "infra:road",
            "infra:water",
            "infra:drainage",
            "infra:power",
            "infra:telecom",
            "indicators:std_far",
            "indicators:std_emission",
        ],
        28.7,
        None,
    ),
}


def build_readiness_bundle(directory: Path) -> Path:
    """Parcels (GPKG), batches (CSV with WKT in lon/lat), constraints, HV lines, infrastructure, assessments."""
    directory.mkdir(parents=True)
    parcels = []
    for pid, x in READY_X.items():
        row = {
            "parcel_id": pid,
            "name": f"标准地 {pid}",
            "planned_use": "industrial",
            "supply_status": "unsupplied",
            "compensation_done": True,
            "disputed": False,
            "remark": f"备注-{pid}",
            **STD_FULL,
            "geometry": sq(x, 0),
        }
        if pid == "R2":
            row["planned_use"] = "warehouse"
        if pid == "R6":
            row["compensation_done"] = False
        if pid == "R11":
            row["disputed"] = True
            row["std_energy"] = None
        if pid == "R5":
            row.update(planned_use="commercial", compensation_done=False, disputed=True, std_far=None)
            row["std_emission"] = None
        if pid == "R8":
            row.update(supply_status="supplied", supplied_on="2024-01-01", compensation_done=False)
        if pid == "R15":
            row.update(supply_status="supplied", supplied_on="2025-03-15")
        if pid == "R16":
            row["planned_use"] = None
        parcels.append(row)
    frame(parcels, ["supplied_on"]).to_file(directory / "parcels.gpkg", layer="parcels", driver="GPKG")

    batches = []
    for pid in ("R1", "R2", "R3", "R4", "R9", "R10", "R11"):
        x = READY_X[pid]
        batches.append(
            {"batch_id": f"BA-{pid}", "approved_on": "2020-01-01", "geometry": sq(x - 10, -10, 120, 120)}
        )
    # R6: batch covers x 8002–8100 of the parcel = 98 %
    batches.append({"batch_id": "BA-R6", "approved_on": "2020-01-01", "geometry": sq(8002, -10, 110, 120)})
    batches.append(
        {"batch_id": "BA-R7", "approved_on": "2025-03-01", "geometry": sq(10000 - 10, -10, 120, 120)}
    )
    # R12: two approved batches, each covering half of it (x 17 990–18 050 and 18 050–18 110)
    batches.append({"batch_id": "BA-R12a", "approved_on": "2020-01-01", "geometry": sq(17990, -10, 60, 120)})
    batches.append({"batch_id": "BA-R12b", "approved_on": "2021-05-01", "geometry": sq(18050, -10, 60, 120)})
    for pid in ("R13", "R14", "R15", "R16"):
        x = READY_X[pid]
        batches.append(
            {"batch_id": f"BA-{pid}", "approved_on": "2020-01-01", "geometry": sq(x - 10, -10, 120, 120)}
        )
    write_csv_wkt_4326(directory / "batches.csv", frame(batches))

    infra = []
    for pid, kinds in READY_INFRA.items():
        x = READY_X[pid]
        for kind, d in kinds.items():
            infra.append({"kind": kind, "status": "built", "geometry": hline(x, x + 100, -d)})
    infra.append({"kind": "water", "status": "planned", "geometry": hline(6000, 6100, -10)})  # R4
    frame(infra).to_file(directory / "infrastructure.gpkg", layer="infrastructure", driver="GPKG")

    hv = [
        {"voltage_kv": 220.0, "geometry": hline(11950, 12150, 115)},  # R9: 15 m above the top edge
        {"voltage_kv": 110.0, "geometry": hline(13950, 14150, 115)},  # R10
        {"voltage_kv": 500.0, "geometry": hline(18950, 19150, 50)},  # through R5
        {"voltage_kv": 66.0, "geometry": hline(22950, 23150, 111)},  # R13: 11 m above
        {"voltage_kv": 35.0, "geometry": hline(24950, 25150, 111)},  # R14: 11 m above
    ]
    frame(hv).to_file(directory / "hv_lines.gpkg", layer="hv_lines", driver="GPKG")

    farmland = [
        {"geometry": sq(19000 - 10, 0, 30, 100)},  # R5: 20 m × 100 m = 2000 m² overlap
        {"geometry": sq(14000 - 10, 50, 10.05, 10)},  # R10: 0.05 m × 10 m = 0.5 m²
    ]
    frame(farmland).to_file(directory / "basic_farmland.gpkg", layer="basic_farmland", driver="GPKG")
    eco = [
        {"geometry": sq(19080, 0, 30, 100)},  # R5: 20 m × 100 m
        {"geometry": sq(14090, 99.5, 110, 100)},  # R10: 10 m × 0.5 m = 5 m²
    ]
    frame(eco).to_file(directory / "eco_redline.gpkg", layer="eco_redline", driver="GPKG")

    assessments = [
        {
            "kind": k,
            "completed_on": "2020-01-01",
            "valid_until": None,
            "geometry": sq(-1000, -1000, 19400, 2000),
        }
        for k in ALL_ASSESSMENTS
    ]
    assessments += [
        {
            "kind": k,
            "completed_on": "2020-01-01",
            "valid_until": None,
            "geometry": sq(22600, -1000, 8000, 2000),
        }
        for k in ALL_ASSESSMENTS
    ]
    region_b = sq(18500, -1000, 4000, 2000)
    for k in ("eia", "soil_water", "mineral", "heritage"):
        assessments.append(
            {"kind": k, "completed_on": "2020-01-01", "valid_until": None, "geometry": region_b}
        )
    assessments += [
        {"kind": "seismic", "completed_on": "2020-01-01", "valid_until": "2025-02-28", "geometry": region_b},
        {"kind": "flood", "completed_on": "2025-03-01", "valid_until": None, "geometry": region_b},
        {
            "kind": "geohazard",
            "completed_on": "2020-01-01",
            "valid_until": "2025-02-27",
            "geometry": region_b,
        },
        # energy covers x ≤ 19098 of R5 (x 19000–19100) = 98 %
        {
            "kind": "energy",
            "completed_on": "2020-01-01",
            "valid_until": None,
            "geometry": sq(18900, -100, 198, 300),
        },
    ]
    frame(assessments, ["completed_on", "valid_until"]).to_file(
        directory / "assessments.gpkg", layer="assessments", driver="GPKG"
    )
    return directory


# ── shared checks ──────────────────────────────────────────────────────────────────────────────────────────────
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass
class Run:
    """One CLI invocation and its output directory."""

    args: tuple[str, ...]
    proc: subprocess.CompletedProcess[str]
    out: Path

    def ok(self) -> Path:
        """The output directory; fails the test (with stderr) unless the command exited 0."""
        if self.proc.returncode != 0:
            pytest.fail(
                f"`landready {' '.join(self.args[:1])}` exited {self.proc.returncode} (expected 0): "
                f"{self.proc.stderr.strip()[-800:]}"
            )
        return self.out


def run_many(jobs: dict[str, tuple[tuple[str, ...], Path]]) -> dict[str, Run]:
    """Run several CLI invocations concurrently (the slow part is importing the stack)."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {key: pool.submit(run_cli, *args) for key, (args, _out) in jobs.items()}
        return {key: Run(jobs[key][0], fut.result(), jobs[key][1]) for key, fut in futures.items()}


def load_geojson(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def props_by(fc: dict[str, Any], key: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for feat in fc["features"]:
        out[str(feat["properties"][key])] = feat["properties"]
    return out


def _coord_texts(obj: Any) -> list[str]:
    if isinstance(obj, list):
        return [t for item in obj for t in _coord_texts(item)]
    return [str(obj)]


def _decimals(text: str) -> int:
    exp = Decimal(text).as_tuple().exponent
    return max(0, -int(exp))


def assert_rfc7946(path: Path, window: tuple[float, float, float, float] = (116, 31, 118, 33)) -> None:
    """EPSG:4326 lon/lat, no foreign `crs`, exteriors counter-clockwise, holes clockwise, ≤ 7 decimals.

    `window` (lon/lat bounds) defaults to the test grid near 117°E 31.6°N; it also catches swapped axes.
    """
    text = path.read_text(encoding="utf-8")
    raw = json.loads(text, parse_float=str, parse_int=str)
    crs = raw.get("crs")
    if crs is not None:
        name = json.dumps(crs)
        assert "CRS84" in name, f"{path.name}: a crs member other than OGC CRS84: {name}"
    fc = json.loads(text)
    assert fc["type"] == "FeatureCollection"
    assert fc["features"], f"{path.name} has no features"
    for raw_feat, feat in zip(raw["features"], fc["features"], strict=True):
        geom = feat["geometry"]
        assert geom is not None
        too_long = [t for t in _coord_texts(raw_feat["geometry"]["coordinates"]) if _decimals(t) > 7]
        assert not too_long, f"{path.name}: coordinates with more than 7 decimals, e.g. {too_long[:3]}"
        g = shape(geom)
        minx, miny, maxx, maxy = g.bounds
        w0, s0, e0, n0 = window
        assert w0 < minx <= maxx < e0 and s0 < miny <= maxy < n0, f"{path.name}: not lon/lat: {g.bounds}"
        polys = list(getattr(g, "geoms", [g]))
        for p in polys:
            if p.geom_type != "Polygon":
                continue
            assert p.exterior.is_ccw, f"{path.name}: exterior ring not counter-clockwise"
            for hole in p.interiors:
                assert not hole.is_ccw, f"{path.name}: hole not clockwise"


# ── the terrain bundle (§4.5 site:leveling, site:flood, served_by) ─────────────────────────────────────────────────
TERRAIN_X = {"T1": 0, "T3": 2000, "T4": 3000, "T5": 3502.5, "T2": 5000}
# T5 is offset by half a cell (x 3502.5–3602.5, y 2.5–102.5): its edge cells are half inside it
TERRAIN_Y = {"T5": 2.5}
TERRAIN_EXPECTED = {  # parcel: (missing, tier, score, served_by, slope_mean_pct, flood_share)
    # flat, dry, all seven kinds within reach: 40 + 30 + 20 + 10 × 7/7
    "T1": ([], "ready", 100.0, "七通一平", 0.0, 0.0),
    # a 10 % plane: leveling fails, so no 一平 at all though all seven kinds are near; 90 + 10 × 6/7 = 98.57
    "T2": (["site:leveling"], "nearly_ready", 98.6, None, 10.0, 0.0),
    # 1.0 m deep over x 2000–2020 = 20 % > 10 %: 90 + 10 × 6/7 = 98.6; flood does not affect served_by
    "T3": (["site:flood"], "nearly_ready", 98.6, "五通一平", 0.0, 0.2),
    # 1.0 m over 5 %, exactly 0.5 m (not deeper than 0.5) over 40 % → share 0.05, passes
    "T4": ([], "ready", 100.0, "五通一平", 0.0, 0.05),
    # 1.0 m in the cell x 3500–3505 (half inside: 2.5 m) and x 3505–3520 (15 m): with cell-coverage fractions
    # 17.5 m of 100 m = 0.175 (centre sampling would give 3/19 or 4/20); 90 + 10 × 6/7 = 98.6
    "T5": (["site:flood"], "nearly_ready", 98.6, "五通一平", 0.0, 0.175),
}


def build_terrain_bundle(directory: Path) -> Path:
    """Four parcels with dem.tif and flood_depth.tif on a 5 m grid aligned with the parcel edges."""
    directory.mkdir(parents=True)
    rows = []
    for pid, x in TERRAIN_X.items():
        rows.append(
            {
                "parcel_id": pid,
                "planned_use": "industrial",
                "supply_status": "unsupplied",
                **STD_FULL,
                "geometry": sq(x, TERRAIN_Y.get(pid, 0.0)),
            }
        )
    frame(rows).to_file(directory / "parcels.gpkg", layer="parcels", driver="GPKG")
    infra = []
    for pid, x in TERRAIN_X.items():
        kinds = INFRA_KINDS if pid in ("T1", "T2") else INFRA_KINDS[:5]
        for kind in kinds:
            y = TERRAIN_Y.get(pid, 0.0) - 20
            infra.append({"kind": kind, "status": "built", "geometry": hline(x, x + 100, y)})
    frame(infra).to_file(directory / "infrastructure.gpkg", layer="infrastructure", driver="GPKG")
    assessments = [
        {"kind": k, "completed_on": "2020-01-01", "geometry": sq(-1000, -1000, 8000, 2000)}
        for k in ALL_ASSESSMENTS
    ]
    frame(assessments, ["completed_on"]).to_file(
        directory / "assessments.gpkg", layer="assessments", driver="GPKG"
    )

    cell = 5.0
    x_min, y_max = -100.0, 300.0
    width, height = int((5300 - x_min) / cell), int((y_max + 300) / cell)
    xs = x_min + cell * (np.arange(width) + 0.5)  # cell centres, local metres
    dem = np.where(xs >= 4000, 0.1 * (xs - 4000), 0.0)[None, :].repeat(height, axis=0).astype("float64")
    depth = np.zeros((height, width), dtype="float32")
    depth[:, (xs > 2000) & (xs < 2020)] = 1.0  # T3: 20 m of 100 m
    depth[:, (xs > 3000) & (xs < 3005)] = 1.0  # T4: 5 m
    depth[:, (xs > 3005) & (xs < 3045)] = 0.5  # T4: 40 m at exactly 0.5 m
    depth[:, (xs > 3500) & (xs < 3520)] = 1.0  # T5: cells x 3500–3520
    transform = Affine(cell, 0.0, E0 + x_min, 0.0, -cell, N0 + y_max)
    for name, data in (("dem.tif", dem), ("flood_depth.tif", depth)):
        with rasterio.open(
            directory / name,
            "w",
            driver="GTiff",
            width=width,
            height=height,
            count=1,
            dtype=data.dtype,
            crs=CRS,
            transform=transform,
        ) as dst:
            dst.write(data, 1)
    return directory


def build_single_gpkg(path: Path) -> Path:
    """A bundle that is one GeoPackage whose layer names are the layer names."""
    path.parent.mkdir(parents=True, exist_ok=True)
    parcels = frame(
        [
            _parcel("G1", sq(0, 0), agreed_start_on="2020-01-01"),  # long idle by any as-of after 2022
            _parcel("G2", sq(100, 0), supply_status="unsupplied", supplied_on=None),
        ],
        PARCEL_DATES,
    )
    parcels.to_file(path, layer="parcels", driver="GPKG")
    batches = frame(
        [{"批次编号": "GB1", "批准日期": "2019-01-01", "geometry": sq(0, 0, 200, 100)}], ["批准日期"]
    )  # Chinese headers
    batches.to_file(path, layer="batches", driver="GPKG")
    return path
