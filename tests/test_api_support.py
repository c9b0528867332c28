"""Tiny data and a live server for the API tests (no tests here; imported by tests/test_api_*.py)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
import uvicorn
from fastapi import FastAPI

import geopandas as gpd
from shapely.geometry import LineString, box

from api.collections import FeatureStore
from api.store import build_store

#: CGCS2000 / 3-degree Gauss-Kruger zone 39 (central meridian 117°E); EPSG's axis order is northing first
STORAGE_EPSG = 4527
X0, Y0 = 39_500_000.0, 3_400_000.0
USES = ["industrial", "warehouse", "commercial", "residential"]
FINDINGS = [[], ["idle"], ["low_efficiency"], ["approved_unsupplied"], ["idle", "low_efficiency"]]


def parcels(n: int = 24) -> gpd.GeoDataFrame:
    """`n` parcels of 100 m × 80 m in rows of 6, with every kind of value the API must serve."""
    i = np.arange(n)
    geoms = [
        box(X0 + (k % 6) * 120, Y0 + (k // 6) * 100, X0 + (k % 6) * 120 + 100, Y0 + (k // 6) * 100 + 80)
        for k in i
    ]
    supplied = i % 3 != 0
    dates = pd.Series(
        pd.to_datetime([f"20{10 + k % 12:02d}-0{1 + k % 9}-15" for k in i]), dtype="datetime64[ms]"
    )
    return gpd.GeoDataFrame(
        {
            "parcel_id": [f"P{k:03d}" for k in i],
            "name": [f"地块{k}号" for k in i],
            "planned_use": pd.Series([USES[k % 4] if k % 7 else None for k in i], dtype="str"),
            "supply_status": np.where(supplied, "supplied", "unsupplied"),
            "supplied_on": dates.where(supplied),
            "land_price_wan": [float(100 + 10 * k) if k % 5 else np.nan for k in i],
            "area_m2": np.full(n, 8000.0),
            "area_mu": np.full(n, 12.0),
            "disputed": i % 4 == 0,
            "findings": [list(FINDINGS[k % 5]) for k in i],
            "infra_distance_m": [{"road": float(k), "gas": None} for k in i],
        },
        geometry=geoms,
        crs=STORAGE_EPSG,
    )


def readiness(parcels_gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Readiness rows for every parcel, as `gis.readiness.run_readiness` shapes them."""
    unsupplied = parcels_gdf["supply_status"] == "unsupplied"
    out = parcels_gdf[["parcel_id", "supply_status", "geometry"]].copy()
    out["readiness_tier"] = np.where(unsupplied, "nearly_ready", "supplied")
    out["readiness_score"] = np.where(unsupplied, 72.5, np.nan)
    out["missing"] = [["infra:gas"] if u else [] for u in unsupplied]
    return out


def unsupplied() -> gpd.GeoDataFrame:
    """Three batch remainders."""
    return gpd.GeoDataFrame(
        {
            "batch_id": ["B01", "B02", "B03"],
            "approved_on": pd.Series(
                pd.to_datetime(["2015-03-01", "2019-06-30", "2023-01-10"]), dtype="datetime64[ms]"
            ),
            "unsupplied_m2": [5000.0, 1200.0, 300.0],
            "lapse_risk": [True, False, False],
        },
        geometry=[
            box(X0 - 500, Y0, X0 - 300, Y0 + 100),
            box(X0 - 250, Y0, X0 - 200, Y0 + 50),
            box(X0, Y0 - 60, X0 + 30, Y0 - 50),
        ],
        crs=STORAGE_EPSG,
    )


def layers() -> dict[str, gpd.GeoDataFrame]:
    """Two bundle layers: basic farmland and an HV line."""
    return {
        "basic_farmland": gpd.GeoDataFrame(
            geometry=[box(X0 + 800, Y0, X0 + 900, Y0 + 400)], crs=STORAGE_EPSG
        ),
        "hv_lines": gpd.GeoDataFrame(
            {"voltage_kv": [220.0]},
            geometry=[LineString([(X0, Y0 + 90), (X0 + 700, Y0 + 90)])],
            crs=STORAGE_EPSG,
        ),
    }


def store(n: int = 24, version: str = "test-1") -> FeatureStore:
    """The collections of a small zone."""
    p = parcels(n)
    return build_store(p, unsupplied=unsupplied(), readiness=readiness(p), layers=layers(), version=version)


def free_socket() -> socket.socket:
    """A listening-ready socket on a free 127.0.0.1 port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def live_server(app: FastAPI) -> Iterator[str]:
    """Run `app` with uvicorn in a thread on a free port; yields its base URL."""
    sock = free_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def feature_ids(doc: dict[str, Any]) -> list[str]:
    """The ids of a FeatureCollection's features."""
    return [f["id"] for f in doc["features"]]
