"""The demo generator: deterministic, the committed bundle is what it produces, realistic content, scale mode."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import geopandas as gpd
import rasterio
import shapely
from geopandas.testing import assert_geodataframe_equal

from data import DEMO_BUNDLE
from data._demo_calibrate import TARGETS
from data.generate import main

LAYERS = (
    "parcels",
    "batches",
    "zone_boundary",
    "basic_farmland",
    "eco_redline",
    "hv_lines",
    "infrastructure",
    "assessments",
)
FILES = (*(f"{name}.gpkg" for name in LAYERS), "dem.tif", "flood_depth.tif", "zone.toml")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "bundle"
    assert main(["--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def parcels(generated: Path) -> gpd.GeoDataFrame:
    return gpd.read_file(generated / "parcels.gpkg")


def test_bundle_has_every_layer_file(generated: Path) -> None:
    assert sorted(p.name for p in generated.iterdir()) == sorted(FILES)


def test_same_seed_gives_identical_files(generated: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    main(["--out", str(again)])
    for name in FILES:
        assert (again / name).read_bytes() == (generated / name).read_bytes(), name


def test_other_seed_gives_another_zone(generated: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    main(["--out", str(other), "--seed", "7"])
    a = gpd.read_file(generated / "parcels.gpkg")
    b = gpd.read_file(other / "parcels.gpkg")
    assert len(a) != len(b) or not a.geometry.geom_equals(b.geometry).all()


@pytest.mark.parametrize("layer", LAYERS)
def test_committed_demo_matches_generator(generated: Path, layer: str) -> None:
    committed = gpd.read_file(DEMO_BUNDLE / f"{layer}.gpkg")
    fresh = gpd.read_file(generated / f"{layer}.gpkg")
    assert_geodataframe_equal(committed, fresh, check_less_precise=False)


@pytest.mark.parametrize("raster", ["dem.tif", "flood_depth.tif"])
def test_committed_rasters_match_generator(generated: Path, raster: str) -> None:
    with rasterio.open(DEMO_BUNDLE / raster) as a, rasterio.open(generated / raster) as b:
        assert a.profile == b.profile
        np.testing.assert_array_equal(a.read(1), b.read(1))


def test_committed_zone_toml_matches_generator(generated: Path) -> None:
    text = (DEMO_BUNDLE / "zone.toml").read_text(encoding="utf-8")
    assert text == (generated / "zone.toml").read_text(encoding="utf-8")
    assert 'name = "示范县经济开发区"' in text and "area_source" in text


def test_committed_demo_is_a_few_mb() -> None:
    size = sum((DEMO_BUNDLE / name).stat().st_size for name in FILES)
    assert 0.5e6 < size < 5e6


def test_coordinates_are_in_gauss_kruger_zone_39(parcels: gpd.GeoDataFrame) -> None:
    assert parcels.crs.to_epsg() == 4527
    minx, miny, maxx, maxy = parcels.total_bounds
    assert 39_400_000 < minx < maxx < 39_600_000
    assert 3_700_000 < miny < maxy < 3_800_000


def test_zone_is_about_20_km2(generated: Path) -> None:
    boundary = gpd.read_file(generated / "zone_boundary.gpkg")
    assert boundary["name"].tolist() == ["示范县经济开发区"]
    assert 18e6 < boundary.area.sum() < 22e6


def test_parcels_do_not_overlap(parcels: gpd.GeoDataFrame) -> None:
    left, right = parcels.sindex.query(parcels.geometry, predicate="overlaps")
    overlap = shapely.area(
        shapely.intersection(parcels.geometry.values[left], parcels.geometry.values[right])
    )
    assert overlap.max(initial=0.0) < 0.5  # m², far below the 1 m² overlap tolerance


def test_industrial_parcels_have_realistic_sizes(parcels: gpd.GeoDataFrame) -> None:
    mu = parcels.area * 15 / 10_000
    industrial = mu[parcels["planned_use"] == "industrial"]
    assert industrial.between(10, 300).mean() > 0.9
    assert {"industrial", "commercial", "residential", "public", "warehouse"} <= set(parcels["planned_use"])
    assert parcels["parcel_id"].is_unique


def test_leading_industries_and_quartz_sand(parcels: gpd.GeoDataFrame) -> None:
    assert {"新能源装备", "绿色食品精深加工", "新材料"} <= set(parcels["industry_chain"].dropna())
    codes = parcels["industry_code"].dropna()
    assert codes.str.fullmatch(r"[A-Z]\d{2}").all()
    assert {"C38", "C13", "C14", "C30", "B10"} <= set(codes)
    names = parcels["name"].fillna("")
    quartz = names.str.contains("石英砂开采|石英砂加工|石英砂擦洗|石英砂筛分|石英粉|硅微粉")
    deep = names.str.contains("高纯石英砂|光伏玻璃|石英坩埚")
    assert (quartz.sum(), deep.sum()) == (12, 3)


def test_history_has_every_idle_ingredient(parcels: gpd.GeoDataFrame) -> None:
    sup = parcels[parcels["supply_status"] == "supplied"]
    assert set(sup["delay_cause"]) == {"owner", "government", "force_majeure"}
    assert sup["delay_note"].fillna("").str.contains("110kV").any()
    assert sup["delay_note"].fillna("").str.contains("规划调整").any()
    assert sup["suspended_on"].notna().sum() >= 3
    assert set(sup["operating_status"].dropna()) == {"operating", "partial", "stopped"}
    dates = pd.concat([parcels[c] for c in parcels.columns if c.endswith("_on")]).dropna()
    assert ((dates.dt.month == 2) & (dates.dt.day == 29)).any()
    # a contract signed after the calibration date: supplied now, unsupplied as of 2025-08-31
    assert (sup["supplied_on"] > pd.Timestamp("2025-08-31")).sum() == 1


def test_unsupplied_parcels_mix_readiness_inputs(parcels: gpd.GeoDataFrame) -> None:
    open_ = parcels[parcels["supply_status"] == "unsupplied"]
    std = open_[["std_investment", "std_far", "std_tax", "std_energy", "std_emission"]].notna()
    assert std.all(axis=1).any() and (std.any(axis=1) & ~std.all(axis=1)).any() and (~std.any(axis=1)).any()
    assert (~open_["compensation_done"]).any() and open_["disputed"].any()


def test_batches_span_2016_to_2025(generated: Path) -> None:
    batches = gpd.read_file(generated / "batches.gpkg")
    years = batches["approved_on"].dt.year
    assert years.min() == 2016 and years.max() == 2025
    assert batches["approval_doc"].str.fullmatch(r"皖政地〔20\d\d〕\d+号").all()
    assert batches["batch_id"].is_unique


def test_context_layers(generated: Path, parcels: gpd.GeoDataFrame) -> None:
    hv = gpd.read_file(generated / "hv_lines.gpkg")
    assert sorted(hv["voltage_kv"]) == [110.0, 220.0]
    line220 = hv.loc[hv["voltage_kv"] == 220, "geometry"].iloc[0].buffer(20)
    waiting = parcels[parcels["name"].str.contains("待供", na=False)]
    assert len(waiting) == 1 and waiting.iloc[0]["supply_status"] == "unsupplied"
    assert waiting.intersects(line220).all()
    infra = gpd.read_file(generated / "infrastructure.gpkg")
    assert set(infra["kind"]) == {"road", "water", "drainage", "power", "telecom", "gas", "heat"}
    built = infra[infra["status"] == "built"]
    assert built[built["kind"] == "heat"].length.sum() < 0.5 * built[built["kind"] == "road"].length.sum()
    farmland = gpd.read_file(generated / "basic_farmland.gpkg")
    eco = gpd.read_file(generated / "eco_redline.gpkg")
    for layer in (farmland, eco):
        hit = parcels.overlay(layer[["geometry"]], how="intersection", keep_geom_type=True)
        assert (hit.area > 100).any()
    assessments = gpd.read_file(generated / "assessments.gpkg")
    as_of = pd.Timestamp("2025-08-31")
    expired = assessments["valid_until"].notna() & (assessments["valid_until"] < as_of)
    assert expired.any() and {"eia", "seismic", "heritage", "mineral"} <= set(assessments["kind"])


def test_rasters(generated: Path) -> None:
    for name in ("dem.tif", "flood_depth.tif"):
        with rasterio.open(generated / name) as src:
            assert src.crs.to_epsg() == 4527 and src.res == (10.0, 10.0)
            assert src.dtypes[0] == "float32" and src.nodata is not None and src.compression is not None
            data = src.read(1, masked=True)
        if name == "dem.tif":
            assert data.max() - data.min() > 60  # the hilly corner
        else:
            assert (data > 0.5).sum() > 100  # the river's flood plain


def test_own_figures_hit_the_calibration(tmp_path: Path) -> None:
    from data._demo_zone import build_zone

    figures = build_zone(20250831).figures()
    assert figures["approved_unsupplied_mu"] == pytest.approx(TARGETS["approved_unsupplied_mu"], rel=0.05)
    assert figures["low_efficiency_mu"] == pytest.approx(TARGETS["low_efficiency_mu"], rel=0.05)
    assert figures["intensity"] == pytest.approx(TARGETS["intensity"], abs=0.01)


def test_scale_mode_writes_n_parcels(tmp_path: Path) -> None:
    from gis.io import read_bundle

    out = tmp_path / "big"
    assert main(["--out", str(out), "--parcels", "5000"]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted([*(f"{n}.parquet" for n in LAYERS), "dem.tif", "flood_depth.tif", "zone.toml"])
    bundle = read_bundle(out)
    assert len(bundle.parcels) == 5000 and bundle.parcels["parcel_id"].is_unique
    assert bundle.crs.to_epsg() == 4527
    assert set(bundle.rasters) == {"dem", "flood_depth"}
    assert (bundle.parcels["supply_status"] == "unsupplied").any() and len(bundle.layers["batches"]) > 0
    assert bundle.parcels["completed_on"].max() <= pd.Timestamp(dt.date(2025, 8, 31))


def test_scale_mode_is_deterministic(tmp_path: Path) -> None:
    for run in ("a", "b"):
        main(["--out", str(tmp_path / run), "--parcels", "300", "--seed", "3"])
    a = gpd.read_parquet(tmp_path / "a" / "parcels.parquet")
    b = gpd.read_parquet(tmp_path / "b" / "parcels.parquet")
    assert_geodataframe_equal(a, b)
