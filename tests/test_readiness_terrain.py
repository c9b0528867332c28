"""标准地 readiness from rasters: Horn slope, flood share, CRS handling, coverage-fraction weights, nodata."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from affine import Affine

import geopandas as gpd
import rasterio
from exactextract import exact_extract
from pyproj import CRS, Geod, Transformer
from rasterio.io import MemoryFile
from rasterio.transform import from_origin
from shapely import Polygon, box

from gis.bundle import Bundle
from gis.errors import InputError
from gis.readiness import run_readiness
from gis.readiness.checks import site_checks
from gis.readiness.codes import SEVEN_KINDS
from gis.readiness.terrain import horn_slope_pct, mean_slope_pct
from gis.rules import load_rules

CRS_GK = "EPSG:4547"
X0, Y0 = 500_000.0, 3_400_000.0
AS_OF = date(2024, 6, 30)
RULES = load_rules()


def write_tif(
    path: Path, values: np.ndarray, west: float, north: float, cell: float, crs, nodata=None
) -> Path:
    """A north-up single-band float32 GeoTIFF."""
    profile = {
        "driver": "GTiff",
        "width": values.shape[1],
        "height": values.shape[0],
        "count": 1,
        "dtype": "float32",
        "crs": crs,
        "transform": from_origin(west, north, cell, cell),
        "nodata": nodata,
    }
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(values.astype("float32"), 1)
    return path


def plane_dem(tmp_path: Path, a: float, cell: float = 10.0, size: int = 60, crs=CRS_GK, x0=X0, y0=Y0) -> Path:
    """z = a · (x − west) on a `size`×`size` grid whose lower-left corner is 100 m below-left of (x0, y0)."""
    west, north = x0 - 100, y0 - 100 + size * cell
    x_centres = west + (np.arange(size) + 0.5) * cell
    z = np.tile(a * (x_centres - west), (size, 1))
    return write_tif(tmp_path / "dem.tif", z, west, north, cell, crs)


def parcels(*geoms, **props) -> gpd.GeoDataFrame:
    rows = [
        {
            "parcel_id": f"P{i + 1}",
            "planned_use": "industrial",
            "supply_status": "unsupplied",
            **dict.fromkeys(RULES["readiness.required_indicators"], 1.0),
            **props,
            "geometry": g,
        }
        for i, g in enumerate(geoms)
    ]
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS_GK)


def ready_layers(extent=None) -> dict[str, gpd.GeoDataFrame]:
    """Assessments and all seven networks (as polygons under every parcel) so that only the rasters decide."""
    area = extent or box(X0 - 20_000, Y0 - 20_000, X0 + 20_000, Y0 + 20_000)
    assessments = gpd.GeoDataFrame(
        {"kind": RULES["readiness.required_assessments"], "completed_on": pd.Timestamp("2020-01-01")},
        geometry=[area] * len(RULES["readiness.required_assessments"]),
        crs=CRS_GK,
    )
    infra = gpd.GeoDataFrame({"kind": list(SEVEN_KINDS), "status": "built"}, geometry=[area] * 7, crs=CRS_GK)
    return {"assessments": assessments, "infrastructure": infra}


def run(parcel_frame: gpd.GeoDataFrame, **rasters: Path) -> gpd.GeoDataFrame:
    layers = {"parcels": parcel_frame, **ready_layers()}
    return run_readiness(Bundle(Path("t"), CRS(CRS_GK), layers, rasters=rasters), AS_OF, RULES)


# ── slope ──────────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(("a", "raised"), [(0.05, False), (0.079, False), (0.081, True), (0.12, True)])
def test_plane_slope_is_exactly_100a_and_decides_leveling(tmp_path, a, raised):
    out = run(parcels(box(X0, Y0, X0 + 100, Y0 + 100)), dem=plane_dem(tmp_path, a))
    row = out.iloc[0]
    assert row["slope_mean_pct"] == pytest.approx(100 * a, abs=0.005)
    assert (row["missing"] == ["site:leveling"]) is raised
    assert row["served_by"] == (None if raised else "七通一平")
    if raised:
        assert row["missing_detail"][0]["evidence"] == {
            "slope_mean_pct": round(100 * a, 2),
            "max_slope_pct": 8.0,
        }
        assert row["readiness_tier"] == "nearly_ready"


def test_horn_on_planes_in_both_directions_and_at_edges():
    rows, cols = np.mgrid[0:7, 0:9]
    # north-up grid: y decreases with the row; z = 0.03 x + 0.04 y on 5 m cells → slope 5 %
    z = 0.03 * cols * 5.0 + 0.04 * (-rows) * 5.0
    assert np.allclose(horn_slope_pct(z, 5.0, 5.0), 5.0)
    assert np.allclose(horn_slope_pct(z * 2, 5.0, 5.0), 10.0)


def test_slope_nodata_does_not_invent_a_gradient():
    z = np.zeros((5, 5))
    z[2, 2] = np.nan
    slope = horn_slope_pct(z, 1.0, 1.0)
    assert np.isnan(slope[1:4, 1:4]).all()
    assert np.count_nonzero(np.isnan(slope)) == 9 and np.allclose(slope[0], 0.0)


def test_parcel_at_the_raster_edge_keeps_the_plane_slope(tmp_path):
    dem = plane_dem(tmp_path, 0.05)  # the raster starts 100 m left of X0
    out = run(parcels(box(X0 - 100, Y0, X0 - 85, Y0 + 15)), dem=dem)
    assert out.iloc[0]["slope_mean_pct"] == pytest.approx(5.0)


def test_parcel_smaller_than_a_cell(tmp_path):
    rng = np.random.default_rng(7)
    z = rng.uniform(0, 50, (20, 20))
    dem = write_tif(tmp_path / "dem.tif", z, X0 - 100, Y0 + 100, 10.0, CRS_GK)
    # a 2×2 m parcel inside the cell (row 10, column 10): it gets that cell's slope, no centroid rule
    tiny = box(X0 + 3, Y0 - 6, X0 + 5, Y0 - 4)
    # a 4×2 m parcel across two cells: the mean weighted by the share of the parcel in each cell (3:1)
    straddle = box(X0 + 7, Y0 - 6, X0 + 11, Y0 - 4)
    out = run(parcels(tiny, straddle), dem=dem)
    slope = horn_slope_pct(z, 10.0, 10.0)
    assert out.iloc[0]["slope_mean_pct"] == pytest.approx(slope[10, 10], abs=0.006)
    assert out.iloc[1]["slope_mean_pct"] == pytest.approx(
        0.75 * slope[10, 10] + 0.25 * slope[10, 11], abs=0.006
    )


def test_slope_matches_exactextract_called_directly(tmp_path):
    cell, size = 10.0, 80
    west, north = X0 - 300, Y0 + 500
    ys, xs = np.mgrid[0:size, 0:size] * cell
    z = 20 * np.sin(xs / 53.0) * np.cos(ys / 71.0) + 0.02 * xs
    dem = write_tif(tmp_path / "dem.tif", z, west, north, cell, CRS_GK)
    shapes = [
        box(X0, Y0, X0 + 137, Y0 + 91),
        Polygon([(X0 + 150, Y0 + 10), (X0 + 310, Y0 + 40), (X0 + 220, Y0 + 190)]),
        box(X0 - 40.5, Y0 + 200.2, X0 + 2.5, Y0 + 233.3),
    ]
    frame = parcels(*shapes)
    out = run(frame, dem=dem)
    # the reference: Horn slope of the whole raster, written as a GeoTIFF and summarized by exactextract
    slope = horn_slope_pct(z, cell, cell).astype("float32")
    profile = {
        "driver": "GTiff",
        "width": size,
        "height": size,
        "count": 1,
        "dtype": "float32",
        "crs": CRS_GK,
    }
    with MemoryFile() as mem:
        with mem.open(**profile, transform=from_origin(west, north, cell, cell)) as ds:
            ds.write(slope, 1)
        with mem.open() as ds:
            ref = exact_extract(ds, frame, ["mean"], output="pandas")["mean"].to_numpy()
    assert out["slope_mean_pct"].to_numpy() == pytest.approx(ref, abs=0.006)
    assert len(set(np.round(ref))) == 3  # three different values: the comparison means something


def test_dem_in_another_crs_reprojects_the_parcels(tmp_path):
    # UTM 49N (CM 111°E) while the parcels are in CGCS2000 GK CM 114°E; the plane is defined in the raster's CRS
    to_utm = Transformer.from_crs(CRS_GK, "EPSG:32649", always_xy=True)
    ux, uy = to_utm.transform(X0, Y0)
    dem = plane_dem(tmp_path, 0.06, cell=5.0, size=100, crs="EPSG:32649", x0=ux - 100, y0=uy - 100)
    out = run(parcels(box(X0, Y0, X0 + 80, Y0 + 80)), dem=dem)
    assert out.iloc[0]["slope_mean_pct"] == pytest.approx(6.0, abs=0.005)
    assert out.crs == CRS(CRS_GK)


def test_geographic_dem_uses_metres(tmp_path):
    to_ll = Transformer.from_crs(CRS_GK, "EPSG:4490", always_xy=True)
    lon0, lat0 = to_ll.transform(X0 - 200, Y0 - 200)
    res = 0.0001  # about 10 m
    size = 60
    north = lat0 + size * res
    lat = north - (np.arange(size) + 0.5) * res
    lon = lon0 + (np.arange(size) + 0.5) * res
    geod = Geod(ellps="WGS84")
    # z = 0.07 × metres east of the west edge, along each row's parallel
    _, _, east_m = geod.inv(np.full((size, size), lon0), np.repeat(lat, size).reshape(size, size),
                            np.tile(lon, (size, 1)), np.repeat(lat, size).reshape(size, size))  # fmt: skip
    dem = write_tif(tmp_path / "dem.tif", 0.07 * east_m, lon0, north, res, "EPSG:4490")
    out = run(parcels(box(X0, Y0, X0 + 100, Y0 + 100)), dem=dem)
    assert out.iloc[0]["slope_mean_pct"] == pytest.approx(7.0, abs=0.02)


def test_parcel_over_dem_nodata_or_outside_gets_null_and_no_leveling_code(tmp_path):
    z = np.full((30, 30), 100.0, dtype="float32")
    z[:, 15:] = -9999.0
    dem = write_tif(tmp_path / "dem.tif", z, X0 - 100, Y0 + 200, 10.0, CRS_GK, nodata=-9999.0)
    frame = parcels(
        box(X0 - 80, Y0 + 50, X0 - 40, Y0 + 90),  # flat, valid
        box(X0 + 120, Y0 + 50, X0 + 160, Y0 + 90),  # over nodata
        box(X0 + 5000, Y0, X0 + 5100, Y0 + 100),  # outside the raster
    )
    out = run(frame, dem=dem)
    assert out["slope_mean_pct"].iloc[0] == 0.0
    assert out["slope_mean_pct"].iloc[1:].isna().all()
    assert all(m == [] for m in out["missing"])
    # leveling counts in the score only where it was checked: everything passes either way
    assert out["readiness_score"].tolist() == [100.0, 100.0, 100.0]
    assert out["served_by"].tolist() == ["七通一平"] * 3
    assert any("dem.tif" in w for w in out.attrs["warnings"])


# ── flood ──────────────────────────────────────────────────────────────────────────────────────


def flood_raster(tmp_path: Path, wet_columns: int, depth: float = 1.0, crs=CRS_GK) -> Path:
    """1 m cells over the 100×100 m parcel at (X0, Y0): the first `wet_columns` columns are `depth` deep."""
    values = np.zeros((100, 100), dtype="float32")
    values[:, :wet_columns] = depth
    return write_tif(tmp_path / "flood_depth.tif", values, X0, Y0 + 100, 1.0, crs)


@pytest.mark.parametrize(("wet", "raised"), [(5, False), (10, False), (11, True), (30, True)])
def test_flood_share(tmp_path, wet, raised):
    row = run(parcels(box(X0, Y0, X0 + 100, Y0 + 100)), flood_depth=flood_raster(tmp_path, wet)).iloc[0]
    assert row["flood_share"] == pytest.approx(wet / 100)
    assert (row["missing"] == ["site:flood"]) is raised
    if raised:
        ev = row["missing_detail"][0]["evidence"]
        assert ev == {"flood_share": wet / 100, "flood_depth_m": 0.5, "flood_max_share": 0.1}


def test_flood_depth_at_the_threshold_is_not_flooded(tmp_path):
    row = run(
        parcels(box(X0, Y0, X0 + 100, Y0 + 100)), flood_depth=flood_raster(tmp_path, 50, depth=0.5)
    ).iloc[0]
    assert row["flood_share"] == 0.0 and row["missing"] == []


def test_flood_nodata_is_left_out_and_matches_exactextract(tmp_path):
    values = np.full((100, 100), -1.0, dtype="float32")
    values[:, :30] = 2.0
    values[:50, 30:40] = 0.2
    path = write_tif(tmp_path / "flood_depth.tif", values, X0, Y0 + 100, 1.0, CRS_GK, nodata=-1.0)
    shapes = [
        box(X0, Y0, X0 + 100, Y0 + 100),
        box(X0 + 20.5, Y0 + 3.3, X0 + 44.1, Y0 + 70.2),
        box(X0 + 60, Y0 + 10, X0 + 90, Y0 + 40),  # wholly on nodata
    ]
    out = run(parcels(*shapes), flood_depth=path)
    # the reference: the indicator with the raster's nodata, summarized by exactextract (nodata cells skipped)
    indicator = np.where(values == -1.0, -1.0, values > 0.5).astype("float32")
    profile = {"driver": "GTiff", "width": 100, "height": 100, "count": 1, "dtype": "float32", "crs": CRS_GK}
    with MemoryFile() as mem:
        with mem.open(**profile, transform=from_origin(X0, Y0 + 100, 1.0, 1.0), nodata=-1.0) as ds:
            ds.write(indicator, 1)
        with mem.open() as ds:
            ref = exact_extract(ds, parcels(*shapes), ["mean"], output="pandas")["mean"].to_numpy()
    assert out["flood_share"].to_numpy() == pytest.approx(np.round(ref, 4), nan_ok=True)
    # 3000 m² flooded of 3500 m² with a depth (nodata is not dry)
    assert out["flood_share"].iloc[0] == pytest.approx(3000 / 3500, abs=1e-4)
    assert np.isnan(out["flood_share"].iloc[2])
    # the parcel on nodata is not checked for flood (nor scored on it), like a parcel outside the raster
    assert out["missing"].tolist() == [["site:flood"], ["site:flood"], []]
    assert out["readiness_score"].iloc[2] == 100.0
    assert any("flood_depth.tif" in w for w in out.attrs["warnings"])


def test_flood_raster_in_geographic_crs(tmp_path):
    to_ll = Transformer.from_crs(CRS_GK, "EPSG:4326", always_xy=True)
    west, south = to_ll.transform(X0 - 50, Y0 - 50)
    east, north = to_ll.transform(X0 + 150, Y0 + 150)
    res = 0.000005
    cols, rows = int((east - west) / res) + 1, int((north - south) / res) + 1
    lon = west + (np.arange(cols) + 0.5) * res
    gk_x, _ = Transformer.from_crs("EPSG:4326", CRS_GK, always_xy=True).transform(
        lon, np.full(cols, (south + north) / 2)
    )
    values = np.tile(np.where(gk_x < X0 + 20, 1.0, 0.0), (rows, 1))  # flooded west of x = X0 + 20
    path = write_tif(tmp_path / "flood_depth.tif", values, west, north, res, "EPSG:4326")
    row = run(parcels(box(X0, Y0, X0 + 100, Y0 + 100)), flood_depth=path).iloc[0]
    assert row["flood_share"] == pytest.approx(0.20, abs=0.01)
    assert row["missing"] == ["site:flood"]


def test_flood_smaller_than_a_cell(tmp_path):
    values = np.zeros((10, 10), dtype="float32")
    values[5, 5] = 3.0
    path = write_tif(tmp_path / "flood_depth.tif", values, X0 - 50, Y0 + 50, 10.0, CRS_GK)
    inside = box(X0 + 2, Y0 - 8, X0 + 4, Y0 - 6)  # in the wet cell
    half = box(X0 + 8, Y0 - 8, X0 + 12, Y0 - 6)  # half in the wet cell
    out = run(parcels(inside, half), flood_depth=path)
    assert out["flood_share"].tolist() == [1.0, 0.5]


# ── score with rasters ─────────────────────────────────────────────────────────────────────────


def test_score_counts_leveling_and_flood_as_servicing(tmp_path):
    frame = parcels(box(X0, Y0, X0 + 100, Y0 + 100))
    flood = flood_raster(tmp_path, 40)
    dem = plane_dem(tmp_path, 0.1)
    both = run(frame, dem=dem, flood_depth=flood).iloc[0]
    assert both["missing"] == ["site:leveling", "site:flood"]
    # 5 infra kinds pass, leveling and flood fail: 10 × 5/7
    assert both["readiness_score"] == round(90 + 10 * 5 / 7, 1) == 97.1
    flood_only = run(frame, flood_depth=flood).iloc[0]
    assert flood_only["readiness_score"] == round(90 + 10 * 5 / 6, 1) == 98.3
    assert flood_only["served_by"] == "七通一平"  # leveling passes without a DEM
    assert run(frame).iloc[0]["readiness_score"] == 100.0


def test_only_unsupplied_parcels_are_measured(tmp_path):
    frame = parcels(box(X0, Y0, X0 + 100, Y0 + 100), box(X0, Y0 + 200, X0 + 100, Y0 + 300))
    frame.loc[1, "supply_status"] = "supplied"
    out = run(frame, dem=plane_dem(tmp_path, 0.05, size=60))
    assert out["slope_mean_pct"].iloc[0] == pytest.approx(5.0) and np.isnan(out["slope_mean_pct"].iloc[1])


def test_dem_and_flood_in_different_crss(tmp_path):
    to_utm = Transformer.from_crs(CRS_GK, "EPSG:32649", always_xy=True)
    ux, uy = to_utm.transform(X0, Y0)
    dem = plane_dem(tmp_path, 0.09, cell=5.0, size=100, crs="EPSG:32649", x0=ux - 100, y0=uy - 100)
    row = run(parcels(box(X0, Y0, X0 + 100, Y0 + 100)), dem=dem, flood_depth=flood_raster(tmp_path, 30)).iloc[
        0
    ]
    assert row["slope_mean_pct"] == pytest.approx(9.0, abs=0.005)
    assert row["flood_share"] == pytest.approx(0.30)
    assert row["missing"] == ["site:leveling", "site:flood"]


@pytest.mark.parametrize(
    ("dem_cell", "dem_shift"),
    [(3.0, 0.7), (5.0, 0.0), (10.0, 0.0), (10.0, 0.7)],
    ids=["3m-shifted", "5m-aligned", "same-grid", "10m-shifted"],
)
def test_dem_and_flood_on_different_grids_in_one_crs(tmp_path, dem_cell, dem_shift):
    # flood on 10 m cells; the DEM on `dem_cell` cells with its origin `dem_shift` m off the flood grid
    depth = np.zeros((30, 30), dtype="float32")
    depth[:, 10:14] = 1.0  # x X0 … X0 + 40 m: 40 % of the parcel
    flood = write_tif(tmp_path / "flood_depth.tif", depth, X0 - 100, Y0 + 200, 10.0, CRS_GK)
    dem = plane_dem(tmp_path, 0.03, cell=dem_cell, size=int(400 / dem_cell), x0=X0 + dem_shift, y0=Y0)
    row = run(parcels(box(X0, Y0, X0 + 100, Y0 + 100)), dem=dem, flood_depth=flood).iloc[0]
    assert row["slope_mean_pct"] == pytest.approx(3.0, abs=0.005)
    assert row["flood_share"] == pytest.approx(0.40)
    assert row["missing"] == ["site:flood"]


@pytest.mark.parametrize("cell", [2.0, 10.0, 30.0])
def test_float32_plane_of_exactly_the_limit_passes_leveling(tmp_path, cell):
    size = int(1500 / cell)
    x = (np.arange(size) + 0.5) * cell
    dem = write_tif(tmp_path / "dem.tif", np.tile(0.08 * x + 123.4, (size, 1)), X0, Y0 + 1500, cell, CRS_GK)
    frame = parcels(
        *(
            box(X0 + 100 + i * 137.3, Y0 + 100 + i * 11.1, X0 + 197.7 + i * 137.3, Y0 + 161.3 + i * 11.1)
            for i in range(5)
        )
    )
    raw = mean_slope_pct(dem, frame.geometry)
    assert (raw > 8.0).any()  # float32 noise: an unrounded comparison would fail the plane
    out = run(frame, dem=dem)
    assert out["slope_mean_pct"].tolist() == [8.0] * 5
    assert all(m == [] for m in out["missing"])


def test_site_rules_compare_the_reported_values():
    rules = {"readiness.max_slope_pct": 8.0, "readiness.flood_depth_m": 0.5, "readiness.flood_max_share": 0.1}
    slope = np.array([8 + 1e-6, 8.004, 8.006, np.nan])
    share = np.array([0.1 + 1e-9, 0.10004, 0.10006, np.nan])
    leveling, flood = site_checks(slope, share, rules)
    assert leveling.raised.tolist() == [False, False, True, False]
    assert flood.raised.tolist() == [False, False, True, False]
    assert leveling.evidence(np.array([2]))[0]["slope_mean_pct"] == 8.01
    assert flood.evidence(np.array([2]))[0]["flood_share"] == 0.1001


# ── bad rasters are input errors ───────────────────────────────────────────────────────────────


def test_raster_without_crs_is_an_input_error(tmp_path):
    path = write_tif(tmp_path / "dem.tif", np.zeros((10, 10)), X0, Y0 + 100, 10.0, None)
    with pytest.raises(InputError, match=r"dem\.tif.*CRS"):
        run(parcels(box(X0, Y0, X0 + 50, Y0 + 50)), dem=path)


def test_rotated_raster_is_an_input_error(tmp_path):
    profile = {"driver": "GTiff", "width": 10, "height": 10, "count": 1, "dtype": "float32", "crs": CRS_GK}
    rotated = from_origin(X0, Y0 + 100, 10.0, 10.0) @ Affine.rotation(10)
    with rasterio.open(tmp_path / "flood_depth.tif", "w", **profile, transform=rotated) as ds:
        ds.write(np.zeros((10, 10), dtype="float32"), 1)
    with pytest.raises(InputError, match="rotated"):
        run(parcels(box(X0, Y0, X0 + 50, Y0 + 50)), flood_depth=tmp_path / "flood_depth.tif")


# ── through the bundle reader ──────────────────────────────────────────────────────────────────


def test_bundle_read_from_disk(tmp_path):
    from gis.io import read_bundle

    frame = parcels(box(X0, Y0, X0 + 100, Y0 + 100), box(X0 + 200, Y0, X0 + 300, Y0 + 100))
    frame["supply_status"] = ["未供", "已供"]
    frame["supplied_on"] = [None, "2020-01-01"]
    frame["compensation_done"] = [False, True]
    frame.to_file(tmp_path / "parcels.geojson", driver="GeoJSON")
    layers = ready_layers()
    layers["assessments"]["completed_on"] = "2020-01-01"
    for name, layer in layers.items():
        layer.to_file(tmp_path / f"{name}.gpkg", driver="GPKG")
    plane_dem(tmp_path, 0.1)
    bundle = read_bundle(tmp_path)
    out = run_readiness(bundle, AS_OF, RULES)
    assert out["readiness_tier"].tolist() == ["not_ready", "supplied"]
    assert out["missing"].iloc[0] == ["net:compensation", "site:leveling"]
    assert out["slope_mean_pct"].iloc[0] == pytest.approx(10.0)


def test_horn_in_blocks_with_per_row_cell_width():
    rows = 1300  # more than one block of rows
    dx = np.linspace(8.0, 12.0, rows).reshape(-1, 1)
    z = 0.04 * dx * np.arange(4)  # z = 0.04 × metres east, the cell width changing row by row
    slope = horn_slope_pct(z, dx, 10.0)
    assert slope.dtype == np.float32 and np.allclose(slope, 4.0, atol=1e-4)


def test_south_up_raster_is_read_the_right_way_round(tmp_path):
    values = np.zeros((100, 100), dtype="float32")
    values[:, :30] = 1.0  # flooded in the west 30 m
    values[:10, :] = 1.0  # and, in a south-up raster, the first rows are the south 10 m
    profile = {"driver": "GTiff", "width": 100, "height": 100, "count": 1, "dtype": "float32", "crs": CRS_GK}
    south_up = Affine(1.0, 0.0, X0, 0.0, 1.0, Y0)
    with rasterio.open(tmp_path / "flood_depth.tif", "w", **profile, transform=south_up) as ds:
        ds.write(values, 1)
    frame = parcels(box(X0, Y0, X0 + 100, Y0 + 10), box(X0 + 50, Y0 + 50, X0 + 100, Y0 + 100))
    out = run(frame, flood_depth=tmp_path / "flood_depth.tif")
    assert out["flood_share"].tolist() == [1.0, 0.0]
