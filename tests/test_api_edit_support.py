"""A tiny editable zone, the CLI and a served app over either store (no tests here; used by tests/test_api_edit*.py,
tests/test_api_auth*.py and tests/test_load*.py).

The zone, in EPSG:4527 metres around (E0, N0), as of 2025-06-30:
- ``IDLE``: supplied 2020-01-01, agreed start 2021-01-01, not started → ``idle_2y`` (finding idle);
- ``IND1``–``IND4``: built industrial parcels with tax and output (亩均 ranks over all four);
- ``U1``: unsupplied, wholly inside batch ``B1`` (approved 2021-05-01) → finding approved_unsupplied;
- ``U2``: unsupplied, outside every batch.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg

import geopandas as gpd
from shapely.geometry import box

from tests.conftest import require

ROOT = Path(__file__).resolve().parents[1]
E0, N0 = 39_500_000.0, 3_500_000.0
EPSG = 4527
AS_OF = "2025-06-30"


def sq(x: float, y: float, w: float = 100.0, h: float = 100.0) -> Any:
    """A rectangle with its lower-left corner at local (x, y) metres."""
    return box(E0 + x, N0 + y, E0 + x + w, N0 + y + h)


def write_bundle(directory: Path) -> Path:
    """Write the tiny zone as a directory bundle (GeoPackage layers)."""
    directory.mkdir(parents=True, exist_ok=True)
    rows = [
        {
            "parcel_id": "IDLE",
            "name": "闲置地块",
            "planned_use": "industrial",
            "supply_status": "supplied",
            "supplied_on": "2020-01-01",
            "agreed_start_on": "2021-01-01",
            "land_price_wan": 500.0,
            "geometry": sq(0, 0),
        },
        *[
            {
                "parcel_id": f"IND{i}",
                "name": f"工业{i}",
                "planned_use": "industrial",
                "supply_status": "supplied",
                "supplied_on": "2015-01-01",
                "started_on": "2015-06-01",
                "completed_on": "2017-01-01",
                "operating_status": "operating",
                "industry_code": "C38",
                "floor_area_m2": 9000.0,
                "footprint_m2": 5000.0,
                "fixed_investment_wan": 4000.0,
                "annual_tax_wan": 30.0 * i,
                "annual_output_wan": 400.0 * i,
                "geometry": sq(200 * i, 0),
            }
            for i in range(1, 5)
        ],
        {
            "parcel_id": "U1",
            "name": "未供一",
            "planned_use": "industrial",
            "supply_status": "unsupplied",
            "geometry": sq(0, 300),
        },
        {
            "parcel_id": "U2",
            "name": "未供二",
            "planned_use": "industrial",
            "supply_status": "unsupplied",
            "geometry": sq(400, 300),
        },
    ]
    # every field set somewhere: the reader cannot yet type a column that is empty in every row (see the report)
    rows[0] |= {"supply_method": "transfer", "delay_cause": "owner", "agreed_completion_on": "2023-01-01"}
    rows[1] |= {
        "developed_fraction": 1.0,
        "invested_wan": 3000.0,
        "total_investment_wan": 3000.0,
        "suspended_on": "2016-01-01",
        "far_min": 0.8,
        "coverage_min": 0.4,
        "investment_min_wan_per_mu": 200.0,
        "tax_min_wan_per_mu": 10.0,
    }
    rows[5] |= {
        "std_investment": 300.0,
        "std_far": 1.2,
        "std_tax": 15.0,
        "std_energy": 0.5,
        "std_emission": 1.0,
    }
    parcels = gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=EPSG)
    for name in (
        "supplied_on",
        "agreed_start_on",
        "started_on",
        "completed_on",
        "agreed_completion_on",
        "suspended_on",
    ):
        parcels[name] = pd.to_datetime(parcels[name])
    parcels.to_file(directory / "parcels.gpkg", layer="parcels")
    batches = gpd.GeoDataFrame(
        {"batch_id": ["B1"], "batch_name": ["2021年第一批次"], "approved_on": pd.to_datetime(["2021-05-01"])},
        geometry=[sq(-10, 290, 250, 120)],
        crs=EPSG,
    )
    batches.to_file(directory / "batches.gpkg", layer="batches")
    return directory


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The real command line (`python -m api.cli`) from the project root."""
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8"},
    )


def db_url() -> str:
    """The PostGIS test database (skips without it, fails under CI)."""
    url = os.environ.get("LANDREADY_TEST_DB")
    require(url is not None, "PostGIS test database (LANDREADY_TEST_DB)")
    assert url is not None
    return url


def reset_db(url: str) -> None:
    """Drop everything landready keeps in the database."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS landready CASCADE")


def target_args(kind: str, bundle: Path, url: str | None) -> list[str]:
    """The CLI arguments naming the store: the bundle (embedded) or ``--db URL``."""
    return [str(bundle)] if kind == "embedded" else ["--db", str(url)]


def create_token(kind: str, bundle: Path, url: str | None, role: str, name: str) -> str:
    """`landready token create`; the token is alone on the last line of standard output."""
    run = run_cli("token", "create", "--role", role, "--name", name, *target_args(kind, bundle, url))
    assert run.returncode == 0, run.stderr
    return run.stdout.strip().splitlines()[-1]


def bearer(token: str) -> dict[str, str]:
    """The Authorization header of a token."""
    return {"Authorization": f"Bearer {token}"}


def feature(parcel_id: str, geometry: dict[str, Any], **props: Any) -> str:
    """A GeoJSON Feature as request text."""
    return json.dumps(
        {"type": "Feature", "properties": {"parcel_id": parcel_id, **props}, "geometry": geometry}
    )
