"""Acceptance: CONTRACT §1 exit codes for bad input — exit 2, one line on stderr naming where, nothing written.

Every case is one real CLI run; all runs start together in one module fixture.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from affine import Affine
from contract_data import AS_OF, CRS, E0, N0, hline, run_many, sq, write_geojson_4326

import geopandas as gpd
import rasterio


def _parcels(directory: Path, rows: list[dict[str, Any]]) -> Path:
    """A bundle whose parcels.geojson holds `rows` (each with a shapely `geometry`) in EPSG:4326."""
    directory.mkdir(parents=True)
    base = {
        "name": "地块",
        "planned_use": "industrial",
        "supply_status": "supplied",
        "supplied_on": "2020-01-01",
    }
    gdf = gpd.GeoDataFrame([{**base, **r} for r in rows], geometry="geometry", crs=CRS)
    write_geojson_4326(directory / "parcels.geojson", gdf)
    return directory


def _good(pid: str, k: int) -> dict[str, Any]:
    return {"parcel_id": pid, "geometry": sq(k * 200, 0)}


def _with_layer(directory: Path, layer: str, rows: list[dict[str, Any]]) -> Path:
    write_geojson_4326(directory / f"{layer}.geojson", gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS))
    return directory


def _with_raster(directory: Path, crs: str | None) -> Path:
    data = np.zeros((40, 40), dtype="float32")
    transform = Affine(5.0, 0.0, E0 - 50, 0.0, -5.0, N0 + 150)
    with rasterio.open(
        directory / "dem.tif",
        "w",
        driver="GTiff",
        width=40,
        height=40,
        count=1,
        dtype="float32",
        crs=crs,
        transform=transform,
    ) as dst:
        dst.write(data, 1)
    return directory


def _with_empty_geometry(directory: Path, geometry: Any = ...) -> Path:
    _parcels(directory, [_good("OK-1", 0), _good("EMPTY-GEOM", 1)])
    path = directory / "parcels.geojson"
    fc = json.loads(path.read_text(encoding="utf-8"))
    fc["features"][1]["geometry"] = {"type": "Polygon", "coordinates": []} if geometry is ... else geometry
    path.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
    return directory


# case: (command, bundle builder, --as-of, words the one-line message must contain)
CASES = {
    "duplicate_id": (
        "audit",
        lambda d: _parcels(d, [_good("DUP-1", 0), _good("OK-2", 1), _good("DUP-1", 2)]),
        AS_OF,
        ["parcels", "parcel_id", "DUP-1"],
    ),
    "duplicate_id_readiness": (
        "readiness",
        lambda d: _parcels(d, [_good("DUP-1", 0), _good("DUP-1", 2)]),
        AS_OF,
        ["parcels", "parcel_id", "DUP-1"],
    ),
    "bad_date": (
        "audit",
        lambda d: _parcels(d, [_good("OK-1", 0), {**_good("BAD-DATE", 1), "supplied_on": "2024-13-45"}]),
        AS_OF,
        ["parcels", "supplied_on", "BAD-DATE"],
    ),
    "unknown_planned_use": (
        "audit",
        lambda d: _parcels(d, [_good("OK-1", 0), {**_good("BAD-USE", 1), "planned_use": "factory"}]),
        AS_OF,
        ["parcels", "planned_use", "BAD-USE"],
    ),
    "empty_geometry": ("audit", _with_empty_geometry, AS_OF, ["parcels", "EMPTY-GEOM"]),
    "null_geometry": (
        "audit",
        lambda d: _with_empty_geometry(d, geometry=None),
        AS_OF,
        ["parcels", "EMPTY-GEOM"],
    ),
    "missing_parcels_layer": (
        "audit",
        lambda d: (d.mkdir(parents=True), write_geojson_4326(d / "batches.geojson", _batch()), d)[-1],
        AS_OF,
        ["parcels"],
    ),
    "bad_as_of": ("audit", lambda d: _parcels(d, [_good("OK-1", 0)]), "2025-02-30", ["as-of"]),
    # parcel_id is the one required field
    "missing_parcel_id_field": (
        "audit",
        lambda d: _parcels(d, [{"name": "无编号", "geometry": sq(0, 0)}]),
        AS_OF,
        ["parcels", "parcel_id"],
    ),
    # developed_fraction is 0–1
    "fraction_out_of_range": (
        "audit",
        lambda d: _parcels(d, [_good("OK-1", 0), {**_good("BAD-FRAC", 1), "developed_fraction": 1.5}]),
        AS_OF,
        ["parcels", "developed_fraction", "BAD-FRAC"],
    ),
    "batches_bad_date": (
        "audit",
        lambda d: _with_layer(
            _parcels(d, [_good("OK-1", 0)]),
            "batches",
            [{"batch_id": "B-BAD", "approved_on": "2020-02-30", "geometry": sq(0, 0)}],
        ),
        AS_OF,
        ["batches", "approved_on", "B-BAD"],
    ),
    "infrastructure_bad_kind": (
        "readiness",
        lambda d: _with_layer(
            _parcels(d, [_good("OK-1", 0)]),
            "infrastructure",
            [{"kind": "pipeline", "status": "built", "geometry": hline(0, 100, -10)}],
        ),
        AS_OF,
        ["infrastructure", "kind"],
    ),
    "raster_without_crs": (
        "readiness",
        lambda d: _with_raster(_parcels(d, [_good("OK-1", 0)]), crs=None),
        AS_OF,
        ["dem"],
    ),
    "raster_unreadable": (
        "readiness",
        lambda d: (_parcels(d, [_good("OK-1", 0)]), (d / "dem.tif").write_bytes(b"not a tiff"), d)[-1],
        AS_OF,
        ["dem"],
    ),
    "unreadable_file": (
        "audit",
        lambda d: (
            d.mkdir(parents=True),
            (d / "parcels.geojson").write_text("{not json", encoding="utf-8"),
            d,
        )[-1],
        AS_OF,
        ["parcels"],
    ),
}
# the output directory already exists for this case: it must be left untouched
PRE_EXISTING = "duplicate_id"


def _batch() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        [{"batch_id": "B1", "approved_on": "2020-01-01", "geometry": sq(0, 0)}], geometry="geometry", crs=CRS
    )


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    base = tmp_path_factory.mktemp("contract_errors")
    jobs = {}
    for name, (command, build, as_of, _words) in CASES.items():
        bundle = build(base / name)
        out = base / f"{name}_out"
        if name == PRE_EXISTING:
            out.mkdir()
            (out / "keep.txt").write_text("earlier report", encoding="utf-8")
        jobs[name] = ((command, str(bundle), "--as-of", as_of, "--out", str(out)), out)
    return run_many(jobs)


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_exits_2_with_one_line(results, case):
    r = results[case]
    assert r.proc.returncode == 2, (r.proc.returncode, r.proc.stderr[-600:])
    lines = [ln for ln in r.proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.proc.stderr
    assert "Traceback" not in r.proc.stderr
    for word in CASES[case][3]:
        assert word.lower() in lines[0].lower(), (word, lines[0])


@pytest.mark.parametrize("case", sorted(set(CASES) - {PRE_EXISTING}))
def test_bad_input_writes_nothing(results, case):
    out = results[case].out
    assert not out.exists(), sorted(p.name for p in out.iterdir())
    # no stray temporary directory beside it either
    assert not [p for p in out.parent.iterdir() if p.name.startswith(out.name)]


def test_bad_input_leaves_existing_output_untouched(results):
    out = results[PRE_EXISTING].out
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    assert (out / "keep.txt").read_text(encoding="utf-8") == "earlier report"
