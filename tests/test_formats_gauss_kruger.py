"""Gauss-Krüger zone arithmetic checked against the PROJ database (FORMATS.md §2)."""

from __future__ import annotations

import pytest

import geopandas as gpd
from pyproj import CRS
from shapely.geometry import box

from gis.errors import InputError
from gis.formats.gauss_kruger import (
    GkZone,
    datum_from_text,
    nearest_3deg_zone,
    parse_gk_crs,
    to_gk,
    zone_width,
)

FAMILIES = [
    (datum, width, prefixed)
    for datum in ("CGCS2000", "Xian80", "Beijing54")
    for width in (3, 6)
    for prefixed in (True, False)
]
GEOGRAPHIC = {
    "CGCS2000": "China Geodetic Coordinate System 2000",
    "Xian80": "Xian 1980",
    "Beijing54": "Beijing 1954",
}


def params(crs: CRS) -> dict[str, float]:
    return {p.name: p.value for p in crs.coordinate_operation.params}


@pytest.mark.parametrize(("datum", "width", "prefixed"), FAMILIES)
def test_every_epsg_code_matches_proj(datum, width, prefixed):
    zones = range(25, 46) if width == 3 else range(13, 24)
    for zone in zones:
        gk = GkZone(datum, width, zone, prefixed)
        crs = CRS.from_epsg(gk.epsg)
        p = params(crs)
        assert p["Longitude of natural origin"] == gk.central_meridian
        assert p["False easting"] == gk.false_easting
        assert p["Scale factor at natural origin"] == 1
        assert crs.geodetic_crs.name == GEOGRAPHIC[datum]
        assert parse_gk_crs(crs) == gk


def test_formats_md_formulas():
    assert [GkZone("CGCS2000", 3, n, True).epsg for n in (25, 38, 45)] == [4513, 4526, 4533]
    assert GkZone("CGCS2000", 3, 40, False).epsg == 4549  # CM 120E
    assert [GkZone("CGCS2000", 6, n, p).epsg for n, p in ((13, True), (23, True), (13, False))] == [
        4491,
        4501,
        4502,
    ]
    assert GkZone("Xian80", 3, 25, True).epsg == 2349 and GkZone("Xian80", 3, 25, False).epsg == 2370
    assert GkZone("Beijing54", 3, 25, True).epsg == 2401 and GkZone("Beijing54", 3, 25, False).epsg == 2422


def test_wgs84_zone_has_a_proj_definition():
    crs = GkZone("WGS84", 3, 39, True).crs
    assert params(crs)["False easting"] == 39_500_000
    assert crs.to_epsg() is None


def test_other_crs_is_not_a_zone():
    assert parse_gk_crs("EPSG:4326") is None
    assert parse_gk_crs("EPSG:32650") is None


@pytest.mark.parametrize(
    ("lon", "zone"), [(116.4, 39), (118.49, 39), (118.51, 40), (120.0, 40), (60.0, 25), (140, 45)]
)
def test_nearest_3deg_zone(lon, zone):
    assert nearest_3deg_zone(lon) == zone


def test_zone_width_and_datum_text():
    assert (zone_width(39), zone_width(20), zone_width(24)) == (3, 6, None)
    assert datum_from_text("2000国家大地坐标系") == "CGCS2000"
    assert datum_from_text("CGCS2000") == "CGCS2000"
    assert datum_from_text("80国家大地坐标系") == "Xian80"
    assert datum_from_text("1954北京坐标系") == "Beijing54"
    assert datum_from_text("WGS84坐标系") == "WGS84"
    assert datum_from_text("地方坐标系") is None and datum_from_text(None) is None


def test_to_gk():
    square = gpd.GeoDataFrame(geometry=[box(500000, 3300000, 500100, 3300100)], crs="EPSG:4549")
    out, zone, reprojected = to_gk(square)
    assert (zone.epsg, reprojected) == (4528, False)
    assert out.total_bounds.tolist() == [40500000, 3300000, 40500100, 3300100]
    same, zone, _ = to_gk(square, prefixed=False)
    assert same is square and zone.epsg == 4549
    utm, zone, reprojected = to_gk(square.to_crs(32651))
    assert (zone.epsg, reprojected) == (4528, True)
    assert utm.area.iloc[0] == pytest.approx(10_000, rel=1e-6)
    with pytest.raises(InputError, match="no CRS"):
        to_gk(square.set_crs(None, allow_override=True))
