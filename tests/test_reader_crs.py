"""read_bundle CRS handling (gis.crs) and geometry checks: zones, reprojection, repair, empty and wrong types."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import geopandas as gpd
from pyproj import CRS
from shapely.geometry import LineString, Point, Polygon, box

from gis.crs import gk3_epsg, gk3_zone, gk6_epsg, prefixed_epsg, working_crs
from gis.errors import InputError
from gis.io import read_bundle

LON, LAT = 117.2, 31.8  # Hefei: CM 117E, zone 39


def _square_lonlat(lon: float = LON, lat: float = LAT, d: float = 0.001) -> Polygon:
    return box(lon, lat, lon + d, lat + d)


def _layer(geoms: list, crs: int | str, **columns: list) -> gpd.GeoDataFrame:
    columns = columns or {"parcel_id": [f"P{i + 1}" for i in range(len(geoms))]}
    return gpd.GeoDataFrame(columns, geometry=geoms, crs=crs)


# ── gis.crs ───────────────────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("lon", "unprefixed", "prefixed"),
    [
        (75.0, 4534, 4513),
        (113.6, 4547, 4526),
        (117.0, 4548, 4527),
        (118.49, 4548, 4527),
        (118.51, 4549, 4528),
        (135.0, 4554, 4533),
    ],
)
def test_gk3_epsg(lon: float, unprefixed: int, prefixed: int) -> None:
    assert gk3_epsg(lon) == unprefixed
    assert gk3_epsg(lon, prefixed=True) == prefixed
    assert CRS.from_epsg(unprefixed).to_dict()["lon_0"] == 3 * gk3_zone(lon)
    assert CRS.from_epsg(prefixed).to_dict()["x_0"] == gk3_zone(lon) * 1_000_000 + 500_000


def test_gk_formulas_match_proj_for_every_zone() -> None:
    for zone in range(25, 46):
        unprefixed = CRS.from_epsg(gk3_epsg(3 * zone)).to_dict()
        assert unprefixed["lon_0"] == 3 * zone and unprefixed["x_0"] == 500_000
    for zone in range(13, 24):
        cm = 6 * zone - 3
        assert CRS.from_epsg(gk6_epsg(cm)).to_dict()["lon_0"] == cm
        assert CRS.from_epsg(gk6_epsg(cm, prefixed=True)).to_dict()["x_0"] == zone * 1_000_000 + 500_000


def test_gk_outside_china_raises() -> None:
    with pytest.raises(ValueError, match="outside"):
        gk3_epsg(10.0)


def test_prefixed_epsg() -> None:
    assert prefixed_epsg(39_512_000.0) == 4527
    assert prefixed_epsg(20_400_000.0) == 4498
    assert prefixed_epsg(512_000.0) is None
    assert prefixed_epsg(99_000_000.0) is None


@pytest.mark.parametrize(
    ("crs", "expected"), [(4326, 4548), (4490, 4548), (4527, 4527), (4547, 4547), (3857, 4548)]
)
def test_working_crs(crs: int, expected: int) -> None:
    layer = _layer([_square_lonlat()], 4326).to_crs(crs)
    assert working_crs(layer).to_epsg() == expected


def test_working_crs_outside_china_falls_back_to_utm() -> None:
    layer = _layer([_square_lonlat(9.1, 48.7)], 4326)
    assert working_crs(layer).to_epsg() == 32632


# ── bundle CRS ────────────────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("lon", "crs", "expected"),
    [
        (LON, 4326, 4548),
        (LON, 4490, 4548),
        (113.6, 4490, 4547),
        (120.3, 4326, 4549),
        (LON, 4527, 4527),
        (113.6, 4547, 4547),
        (LON, 4548, 4548),
    ],
    ids=["4326", "4490", "4490-cm114", "4326-cm120", "prefixed-4527", "unprefixed-4547", "unprefixed-4548"],
)
def test_bundle_crs(tmp_path: Path, lon: float, crs: int, expected: int) -> None:
    parcels = _layer([_square_lonlat(lon)], 4326).to_crs(crs)
    parcels.to_file(tmp_path / "parcels.gpkg")
    bundle = read_bundle(tmp_path)
    assert bundle.crs.to_epsg() == expected
    assert bundle.parcels.crs.to_epsg() == expected
    assert bundle.parcels.area.iloc[0] == pytest.approx(94.6 * 111.0, rel=0.02)


def test_all_layers_are_reprojected_into_the_parcels_crs(tmp_path: Path) -> None:
    parcels = _layer([_square_lonlat()], 4326).to_crs(4527)
    parcels.to_file(tmp_path / "parcels.gpkg")
    batches = _layer([_square_lonlat(d=0.01)], 4490, batch_id=["B1"], approved_on=["2020-01-01"])
    batches.to_file(tmp_path / "batches.geojson")
    hv = _layer([LineString([(LON, LAT), (LON + 0.01, LAT)])], 4326, voltage_kv=[110]).to_crs(4548)
    hv.to_parquet(tmp_path / "hv_lines.parquet")
    bundle = read_bundle(tmp_path)
    assert bundle.crs.to_epsg() == 4527
    for layer in bundle.layers.values():
        assert layer.crs.to_epsg() == 4527
    assert bundle.layers["batches"].geometry.iloc[0].contains(bundle.parcels.geometry.iloc[0].buffer(-0.01))
    assert bundle.layers["batches"].area.iloc[0] == pytest.approx(946 * 1110, rel=0.01)
    assert bundle.layers["hv_lines"].length.iloc[0] == pytest.approx(946, rel=0.01)


def test_geojson_crs_member_is_honoured(tmp_path: Path) -> None:
    x, y = 39_520_000.0, 3_520_000.0
    doc = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4527"}},
        "features": [
            {
                "type": "Feature",
                "properties": {"parcel_id": "P1"},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[x, y], [x + 10, y], [x + 10, y + 10], [x, y + 10], [x, y]]],
                },
            }
        ],
    }
    (tmp_path / "parcels.geojson").write_text(json.dumps(doc))
    bundle = read_bundle(tmp_path)
    assert bundle.crs.to_epsg() == 4527 and bundle.parcels.area.iloc[0] == pytest.approx(100)


def test_projected_coordinates_in_geojson_without_crs_member(tmp_path: Path) -> None:
    x, y = 39_520_000.0, 3_520_000.0
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"parcel_id": "P1"},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[x, y], [x + 10, y], [x + 10, y + 10], [x, y]]],
                },
            }
        ],
    }
    (tmp_path / "parcels.geojson").write_text(json.dumps(doc))
    with pytest.raises(
        InputError, match=r"parcels\.geojson, layer parcels, field geometry.*not longitude/latitude"
    ):
        read_bundle(tmp_path)


def test_prefixed_coordinates_declared_in_an_unprefixed_zone(tmp_path: Path) -> None:
    layer = _layer([box(39_500_000, 3_520_000, 39_500_100, 3_520_100)], 4548)
    layer.to_file(tmp_path / "parcels.gpkg")
    with pytest.raises(InputError, match=r"layer parcels, field geometry.*do not fit the CRS"):
        read_bundle(tmp_path)


# ── geometry ──────────────────────────────────────────────────────────────────────────────────────────────


def test_invalid_geometry_is_repaired_with_a_warning(tmp_path: Path) -> None:
    x, y = 500_000.0, 3_520_000.0
    bowtie = Polygon([(x, y), (x + 100, y + 100), (x + 100, y), (x, y + 100)])
    _layer([box(x + 500, y, x + 600, y + 100), bowtie], 4548).to_file(tmp_path / "parcels.gpkg")
    bundle = read_bundle(tmp_path)
    geom = bundle.parcels.geometry.iloc[1]
    assert geom.is_valid and geom.geom_type == "MultiPolygon" and geom.area == pytest.approx(5_000)
    assert len(bundle.warnings) == 1
    assert (
        "parcels" in bundle.warnings[0] and "P2" in bundle.warnings[0] and "make_valid" in bundle.warnings[0]
    )


def test_repair_keeps_only_polygonal_parts(tmp_path: Path) -> None:
    x, y = 500_000.0, 3_520_000.0
    # a square with a dangling spike: make_valid gives a GeometryCollection of a polygon and a line
    spiky = Polygon(
        [(x, y), (x + 100, y), (x + 100, y + 100), (x + 100, y + 200), (x + 100, y + 100), (x, y + 100)]
    )
    _layer([spiky], 4548).to_file(tmp_path / "parcels.gpkg")
    geom = read_bundle(tmp_path).parcels.geometry.iloc[0]
    assert geom.geom_type in {"Polygon", "MultiPolygon"} and geom.area == pytest.approx(10_000)


def test_degenerate_polygon_is_an_error(tmp_path: Path) -> None:
    x, y = 500_000.0, 3_520_000.0
    flat = Polygon([(x, y), (x + 100, y), (x + 50, y), (x, y)])
    _layer([box(x, y, x + 1, y + 1), flat], 4548).to_file(tmp_path / "parcels.gpkg")
    with pytest.raises(InputError, match=r"feature P2 \(#2\), field geometry.*degenerate"):
        read_bundle(tmp_path)


def test_empty_geometry_is_an_error(tmp_path: Path) -> None:
    x, y = 500_000.0, 3_520_000.0
    _layer([box(x, y, x + 1, y + 1), Polygon()], 4548).to_file(tmp_path / "parcels.gpkg")
    with pytest.raises(InputError, match=r"feature P2 \(#2\), field geometry.*(empty|null)"):
        read_bundle(tmp_path)


def test_null_geometry_is_an_error(tmp_path: Path) -> None:
    x, y = 500_000.0, 3_520_000.0
    _layer([box(x, y, x + 1, y + 1), None], 4548).to_file(tmp_path / "parcels.geojson")
    with pytest.raises(InputError, match=r"feature P2 \(#2\), field geometry.*null"):
        read_bundle(tmp_path)


def test_wrong_geometry_type_is_an_error(tmp_path: Path) -> None:
    x, y = 500_000.0, 3_520_000.0
    gpd.GeoDataFrame({"parcel_id": ["P1"]}, geometry=[Point(x, y)], crs=4548).to_file(
        tmp_path / "parcels.gpkg"
    )
    with pytest.raises(InputError, match=r"feature P1.*field geometry.*Point, expected Polygon"):
        read_bundle(tmp_path)


def test_polygon_in_the_hv_lines_layer_is_an_error(tmp_path: Path) -> None:
    x, y = 500_000.0, 3_520_000.0
    _layer([box(x, y, x + 1, y + 1)], 4548).to_file(tmp_path / "parcels.gpkg")
    _layer([box(x, y, x + 1, y + 1)], 4548, voltage_kv=[110]).to_file(tmp_path / "hv_lines.geojson")
    with pytest.raises(InputError, match=r"layer hv_lines, feature #1, field geometry.*expected LineString"):
        read_bundle(tmp_path)


def test_z_values_are_dropped(tmp_path: Path) -> None:
    x, y = 500_000.0, 3_520_000.0
    poly = Polygon([(x, y, 5), (x + 10, y, 5), (x + 10, y + 10, 5), (x, y, 5)])
    _layer([poly], 4548).to_file(tmp_path / "parcels.gpkg")
    assert not read_bundle(tmp_path).parcels.has_z.any()


def test_web_mercator_parcels_are_measured_in_a_gk_zone(tmp_path: Path) -> None:
    _layer([_square_lonlat()], 4326).to_crs(3857).to_file(tmp_path / "parcels.gpkg")
    bundle = read_bundle(tmp_path)
    assert bundle.crs.to_epsg() == 4548
    assert bundle.parcels.area.iloc[0] == pytest.approx(94.6 * 111.0, rel=0.02)


def test_nan_coordinate_is_an_error(tmp_path: Path) -> None:
    x, y = 500_000.0, 3_520_000.0
    broken = Polygon([(x, y), (float("nan"), y), (x + 10, y + 10)])
    _layer([box(x, y, x + 1, y + 1), broken], 4548).to_parquet(tmp_path / "parcels.parquet")
    with pytest.raises(InputError, match=r"feature P2 \(#2\), field geometry.*NaN"):
        read_bundle(tmp_path)


ESRI_GK_117E = (
    'PROJCS["CGCS2000_3_Degree_GK_CM_117E",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",'
    'DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],'
    'UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",500000.0],'
    'PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",117.0],PARAMETER["Scale_Factor",1.0],'
    'PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]'
)


def test_esri_prj_of_a_gk_zone_is_identified(tmp_path: Path) -> None:
    _layer([box(500_000, 3_520_000, 500_010, 3_520_010)], 4548).to_file(tmp_path / "地块.shp")
    (tmp_path / "地块.prj").write_text(ESRI_GK_117E)
    bundle = read_bundle(tmp_path)
    assert bundle.crs.to_epsg() == 4548 and bundle.warnings == []


def test_working_crs_replaces_a_crs_not_in_metres() -> None:
    layer = _layer([_square_lonlat()], 4326).to_crs("ESRI:102003").to_crs("EPSG:2249")  # US survey feet
    assert working_crs(layer).to_epsg() == 4548


def test_zone_follows_the_area_weighted_centroid_not_the_extent() -> None:
    # extent centre 118.55°E (CM 120E), but almost all the area lies near 117.2°E (CM 117E)
    layer = _layer([_square_lonlat(117.2, d=0.05), _square_lonlat(119.9, d=0.001)], 4326)
    assert working_crs(layer).to_epsg() == 4548
