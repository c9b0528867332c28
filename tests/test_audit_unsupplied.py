"""批而未供 overlay (CONTRACT §4.3): batch remainders, time rules, ages, lapse risk, the five-year rate."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

import geopandas as gpd
import shapely
from shapely import box

from gis.audit.unsupplied import BATCH_COLUMNS, age_years, audit_batches, covered_share
from gis.errors import InputError
from gis.rules import load_rules

CRS = "EPSG:4547"
AS_OF = date(2024, 6, 30)


@pytest.fixture(scope="module")
def rules():
    return load_rules()


def _parcels(rows: list[tuple], index=None) -> gpd.GeoDataFrame:
    """Rows of (geometry, supply_status, supplied_on)."""
    geoms, status, on = zip(*rows, strict=True)
    return gpd.GeoDataFrame(
        {"parcel_id": [f"D{i}" for i in range(len(rows))], "supply_status": status,
         "supplied_on": pd.to_datetime(list(on))},
        geometry=list(geoms), crs=CRS, index=index,
    )  # fmt: skip


def _batches(rows: list[tuple]) -> gpd.GeoDataFrame:
    """Rows of (batch_id, approved_on, geometry)."""
    ids, approved, geoms = zip(*rows, strict=True)
    return gpd.GeoDataFrame(
        {"batch_id": ids, "batch_name": [f"批次{i}" for i in ids], "approved_on": pd.to_datetime(list(approved)),
         "approval_doc": [f"浙土字〔2020〕{i}号" for i in ids]},
        geometry=list(geoms), crs=CRS,
    )  # fmt: skip


def _row(audit, batch_id):
    return audit.batches.set_index("batch_id").loc[batch_id]


def _feature(audit, batch_id):
    hit = audit.unsupplied[audit.unsupplied["batch_id"] == batch_id]
    assert len(hit) == 1, f"{batch_id}: {len(hit)} features"
    return hit.iloc[0]


def test_supplied_area_rate_and_remainder(rules):
    parcels = _parcels(
        [(box(0, 0, 30, 100), "supplied", "2021-01-01"), (box(30, 0, 100, 100), "unsupplied", None)]
    )
    audit = audit_batches(parcels, _batches([("P1", "2020-03-01", box(0, 0, 100, 100))]), AS_OF, rules)
    assert list(audit.batches.columns[:6]) == BATCH_COLUMNS
    assert list(audit.batches.columns[6:]) == ["batch_name", "approval_doc"]
    row = _row(audit, "P1")
    assert (row.batch_m2, row.supplied_m2, row.unsupplied_m2) == pytest.approx((10_000, 3_000, 7_000))
    assert row.supply_rate == pytest.approx(0.3)
    feature = _feature(audit, "P1")
    assert feature.geometry.area == pytest.approx(7_000)
    assert feature.geometry.equals(box(30, 0, 100, 100))
    assert (feature.unsupplied_ha, feature.unsupplied_mu) == pytest.approx((0.7, 10.5))
    assert feature.batch_name == "批次P1" and feature.approval_doc == "浙土字〔2020〕P1号"
    assert feature.approved_on == pd.Timestamp("2020-03-01")
    assert audit.unsupplied.crs == CRS


def test_sliver_pieces_are_dropped_from_the_geometry(rules):
    parcels = _parcels(
        [
            # leaves a 0.005 m × 100 m strip (0.5 m²) on the left of B1 and 50 × 100 m on the right
            (box(0.005, 0, 50, 100), "supplied", "2021-01-01"),
            # covers B2 but for a 0.5 m² strip: unsupplied_m2 < 1 → no feature
            (box(200, 0, 300, 99.995), "supplied", "2021-01-01"),
            # covers B3 but for two 0.6 m² strips: a remainder of 1.2 m² made only of slivers
            (box(400.006, 0, 499.994, 100), "supplied", "2021-01-01"),
        ]
    )
    batches = _batches(
        [
            ("B1", "2020-01-01", box(0, 0, 100, 100)),
            ("B2", "2020-01-01", box(200, 0, 300, 100)),
            ("B3", "2020-01-01", box(400, 0, 500, 100)),
        ]
    )
    audit = audit_batches(parcels, batches, AS_OF, rules)
    b1 = _feature(audit, "B1")
    assert b1.geometry.geom_type == "Polygon"
    assert b1.geometry.area == pytest.approx(5_000)
    assert b1.unsupplied_m2 == pytest.approx(5_000.5)  # the batch figure keeps the sliver; the map drops it
    assert _row(audit, "B2").unsupplied_m2 == pytest.approx(0.5)
    assert "B2" not in set(audit.unsupplied["batch_id"])
    b3 = _feature(audit, "B3")
    assert b3.unsupplied_m2 == pytest.approx(1.2)
    assert b3.geometry.area == pytest.approx(1.2) and not b3.geometry.is_empty
    assert len(audit.batches) == 3


def test_batch_approved_after_as_of_does_not_exist(rules):
    parcels = _parcels(
        [(box(10, 10, 20, 20), "unsupplied", None), (box(110, 10, 120, 20), "unsupplied", None)]
    )
    batches = _batches(
        [("OLD", "2024-06-30", box(0, 0, 100, 100)), ("NEW", "2024-07-01", box(100, 0, 200, 100))]
    )
    audit = audit_batches(parcels, batches, AS_OF, rules)
    assert audit.batches["batch_id"].tolist() == ["OLD"]
    assert audit.unsupplied["batch_id"].tolist() == ["OLD"]
    assert audit.covered_share.tolist() == [1.0, 0.0]
    later = audit_batches(parcels, batches, date(2024, 7, 1), rules)
    assert later.batches["batch_id"].tolist() == ["OLD", "NEW"]
    assert later.covered_share.tolist() == [1.0, 1.0]


@pytest.mark.parametrize(
    ("status", "supplied_on", "supplied_m2"),
    [
        ("supplied", "2024-06-30", 2_500.0),
        ("supplied", "2024-07-01", 0.0),
        ("supplied", None, 2_500.0),
        ("unsupplied", "2020-01-01", 0.0),
    ],
    ids=["supplied-on-as-of", "supplied-after-as-of", "supplied-without-date", "status-unsupplied"],
)
def test_supply_is_read_as_of(rules, status, supplied_on, supplied_m2):
    parcels = _parcels([(box(0, 0, 25, 100), status, supplied_on)])
    audit = audit_batches(parcels, _batches([("P1", "2020-01-01", box(0, 0, 100, 100))]), AS_OF, rules)
    assert _row(audit, "P1").supplied_m2 == pytest.approx(supplied_m2)
    assert _feature(audit, "P1").unsupplied_m2 == pytest.approx(10_000 - supplied_m2)


def test_without_supply_fields_nothing_is_supplied(rules):
    parcels = gpd.GeoDataFrame({"parcel_id": ["D1"]}, geometry=[box(0, 0, 50, 100)], crs=CRS)
    audit = audit_batches(parcels, _batches([("P1", "2020-01-01", box(0, 0, 100, 100))]), AS_OF, rules)
    assert _row(audit, "P1").supplied_m2 == 0.0


@pytest.mark.parametrize(
    ("as_of", "age", "bucket", "lapse"),
    [
        (date(2023, 5, 9), 1, "lt2y", False),
        (date(2023, 5, 10), 2, "2to5y", True),
        (date(2026, 5, 9), 4, "2to5y", True),
        (date(2026, 5, 10), 5, "ge5y", True),
        (date(2030, 1, 1), 8, "ge5y", True),
    ],
    ids=["day-before-2y", "day-of-2y", "day-before-5y", "day-of-5y", "old"],
)
def test_age_bucket_and_lapse_risk_at_anniversaries(rules, as_of, age, bucket, lapse):
    parcels = _parcels([(box(500, 500, 600, 600), "supplied", "2021-06-01")])
    audit = audit_batches(parcels, _batches([("P1", "2021-05-10", box(0, 0, 100, 100))]), as_of, rules)
    feature = _feature(audit, "P1")
    assert (feature.age_years, feature.age_bucket, bool(feature.lapse_risk)) == (age, bucket, lapse)


@pytest.mark.parametrize(
    ("supplied_box", "lapse"),
    [(box(0, 0, 0.5, 1), True), (box(0, 0, 1, 1), False), (box(0, 0, 50, 100), False)],
    ids=["half-m2-supplied", "one-m2-supplied", "half-supplied"],
)
def test_lapse_risk_needs_no_supply(rules, supplied_box, lapse):
    parcels = _parcels([(supplied_box, "supplied", "2021-06-01")])
    audit = audit_batches(
        parcels, _batches([("P1", "2021-05-10", box(0, 0, 100, 100))]), date(2024, 1, 1), rules
    )
    assert bool(_feature(audit, "P1").lapse_risk) is lapse


@pytest.mark.parametrize(
    ("as_of", "age", "bucket", "lapse"),
    [
        (date(2022, 2, 27), 1, "lt2y", False),
        (date(2022, 2, 28), 2, "2to5y", True),  # 29 Feb + 2 years = 28 Feb
        (date(2024, 2, 28), 3, "2to5y", True),  # a leap year: the 4th anniversary is 29 Feb
        (date(2024, 2, 29), 4, "2to5y", True),
        (date(2025, 2, 27), 4, "2to5y", True),
        (date(2025, 2, 28), 5, "ge5y", True),
    ],
)
def test_approval_on_29_february(rules, as_of, age, bucket, lapse):
    parcels = _parcels([(box(500, 500, 600, 600), "unsupplied", None)])
    audit = audit_batches(parcels, _batches([("P1", "2020-02-29", box(0, 0, 100, 100))]), as_of, rules)
    feature = _feature(audit, "P1")
    assert (feature.age_years, feature.age_bucket, bool(feature.lapse_risk)) == (age, bucket, lapse)


def test_age_years_matches_date_offset_anniversaries():
    rng = np.random.default_rng(7)
    approved = pd.Series(pd.Timestamp("2016-01-01") + pd.to_timedelta(rng.integers(0, 2900, 150), unit="D"))
    approved = pd.concat(
        [approved, pd.Series(pd.to_datetime(["2016-02-29", "2020-02-29"]))], ignore_index=True
    )
    for as_of in [date(2024, 2, 28), date(2024, 2, 29), date(2025, 2, 28), date(2025, 3, 1)]:
        limit = pd.Timestamp(as_of)
        # the largest n with approved + DateOffset(years=n) <= as-of
        expected = [
            n if a + pd.DateOffset(years=n) <= limit else n - 1
            for a in approved
            for n in [limit.year - a.year]
        ]
        assert age_years(approved, as_of).tolist() == expected


@pytest.mark.parametrize(
    ("as_of", "inside", "outside"),
    [(date(2025, 6, 30), "2020-07-01", "2020-06-30"), (date(2024, 2, 29), "2019-03-01", "2019-02-28")],
    ids=["plain", "as-of-29-feb"],
)
def test_five_year_window_edge(rules, as_of, inside, outside):
    parcels = _parcels(
        [(box(0, 0, 100, 100), "supplied", "2021-01-01"), (box(200, 0, 220, 100), "supplied", None)]
    )
    batches = _batches([("IN", inside, box(0, 0, 100, 100)), ("OUT", outside, box(200, 0, 300, 100))])
    audit = audit_batches(parcels, batches, as_of, rules)
    assert _row(audit, "OUT").supply_rate == pytest.approx(0.2)
    assert audit.five_year_supply_rate == pytest.approx(1.0)  # only IN counts


def test_five_year_rate_pools_areas_and_is_none_without_batches(rules):
    parcels = _parcels(
        [(box(0, 0, 100, 100), "supplied", "2021-01-01"), (box(200, 0, 210, 100), "supplied", None)]
    )
    batches = _batches([("A", "2022-01-01", box(0, 0, 100, 100)), ("B", "2023-01-01", box(200, 0, 500, 100))])
    audit = audit_batches(parcels, batches, AS_OF, rules)
    # pooled: (10 000 + 1 000) / (10 000 + 30 000), not the mean of 1.0 and 1/30
    assert audit.five_year_supply_rate == pytest.approx(11_000 / 40_000)
    assert audit_batches(parcels, batches, date(2035, 1, 1), rules).five_year_supply_rate is None
    assert audit_batches(parcels, batches, date(2021, 1, 1), rules).five_year_supply_rate is None


def test_overlapping_batches_are_each_measured_on_their_own(rules):
    parcels = _parcels([(box(50, 0, 100, 100), "supplied", "2021-01-01")])
    batches = _batches([("A", "2020-01-01", box(0, 0, 100, 100)), ("B", "2020-01-01", box(50, 0, 150, 100))])
    audit = audit_batches(parcels, batches, AS_OF, rules)
    assert _row(audit, "A").supplied_m2 == pytest.approx(5_000)
    assert _row(audit, "B").supplied_m2 == pytest.approx(5_000)
    assert audit.batches["unsupplied_m2"].sum() == pytest.approx(10_000)


def test_overlapping_supplied_parcels_are_not_counted_twice(rules):
    parcels = _parcels([(box(0, 0, 60, 100), "supplied", None), (box(40, 0, 80, 100), "supplied", None)])
    audit = audit_batches(parcels, _batches([("A", "2020-01-01", box(0, 0, 100, 100))]), AS_OF, rules)
    assert _row(audit, "A").supplied_m2 == pytest.approx(8_000)
    assert _feature(audit, "A").geometry.equals(box(80, 0, 100, 100))


def test_covered_share_at_98_and_100_percent(rules):
    parcels = _parcels(
        [
            (box(0, 0, 100, 100), "unsupplied", None),  # 98 % inside A
            (box(200, 0, 300, 100), "unsupplied", None),  # inside B ∪ C, which overlap: 100 %, not 130 %
            (box(400, 0, 500, 100), "unsupplied", None),  # wholly inside D
            (box(600, 0, 700, 100), "unsupplied", None),  # half inside E, approved after as-of
        ],
        index=[30, 10, 20, 40],
    )
    batches = _batches(
        [
            ("A", "2020-01-01", box(-10, -10, 110, 98)),
            ("B", "2020-01-01", box(190, -10, 265, 110)),
            ("C", "2021-01-01", box(235, -10, 310, 110)),
            ("D", "2021-01-01", box(390, -10, 510, 110)),
            ("E", "2025-01-01", box(650, 0, 700, 100)),
        ]
    )
    audit = audit_batches(parcels, batches, AS_OF, rules)
    assert audit.covered_share == pytest.approx([0.98, 1.0, 1.0, 0.0])
    assert (audit.covered_share >= 0.99).tolist() == [False, True, True, False]


def test_covered_share_matches_a_union_of_batches():
    rng = np.random.default_rng(3)
    parcels = _random_boxes(rng, 300, 5, 40)
    batches = _random_boxes(rng, 25, 30, 200)
    expected = shapely.area(shapely.intersection(parcels, shapely.union_all(batches))) / shapely.area(parcels)
    assert covered_share(parcels, batches) == pytest.approx(expected, abs=1e-9)


def test_no_batch_approved_by_as_of(rules):
    parcels = _parcels([(box(0, 0, 10, 10), "supplied", None)])
    audit = audit_batches(parcels, _batches([("A", "2030-01-01", box(0, 0, 100, 100))]), AS_OF, rules)
    assert list(audit.batches.columns[:6]) == BATCH_COLUMNS and audit.batches.empty
    assert audit.unsupplied.empty and "unsupplied_m2" in audit.unsupplied and audit.unsupplied.crs == CRS
    assert audit.covered_share.tolist() == [0.0]
    assert audit.five_year_supply_rate is None


def test_batch_without_approval_date_is_an_input_error(rules):
    parcels = _parcels([(box(0, 0, 10, 10), "supplied", None)])
    batches = _batches([("A", "2020-01-01", box(0, 0, 100, 100)), ("B", None, box(0, 0, 100, 100))])
    with pytest.raises(InputError, match="feature B, field approved_on"):
        audit_batches(parcels, batches, AS_OF, rules)


def _random_boxes(rng: np.random.Generator, n: int, lo: float, hi: float) -> np.ndarray:
    x, y = rng.uniform(0, 1_000, n), rng.uniform(0, 1_000, n)
    w, h = rng.uniform(lo, hi, n), rng.uniform(lo, hi, n)
    return shapely.box(x, y, x + w, y + h)


def test_overlay_matches_a_per_batch_geopandas_overlay(rules):
    """Random overlapping parcels and batches (some multipart) against a plain per-batch computation."""
    rng = np.random.default_rng(20240630)
    geoms = _random_boxes(rng, 600, 5, 60)
    status = rng.choice(["supplied", "unsupplied"], len(geoms), p=[0.6, 0.4])
    supplied_on = pd.Timestamp("2018-01-01") + pd.to_timedelta(rng.integers(0, 3650, len(geoms)), unit="D")
    parcels = gpd.GeoDataFrame({"supply_status": status, "supplied_on": supplied_on}, geometry=geoms, crs=CRS)
    batch_geoms = list(_random_boxes(rng, 30, 50, 300))
    batch_geoms += [shapely.union_all(_random_boxes(rng, 3, 40, 150)) for _ in range(10)]  # some multipart
    done = (status == "supplied") & (supplied_on < pd.Timestamp("2021-01-01"))
    batch_geoms += list(shapely.buffer(geoms[done][:3], -0.01, join_style="mitre"))  # fully supplied batches
    approved = pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 3650, len(batch_geoms)), unit="D")
    batches = gpd.GeoDataFrame(
        {"batch_id": [f"B{i}" for i in range(len(batch_geoms))], "approved_on": approved},
        geometry=batch_geoms, crs=CRS,
    )  # fmt: skip
    as_of = date(2022, 1, 1)
    audit = audit_batches(parcels, batches, as_of, rules)

    live = batches[batches["approved_on"] <= pd.Timestamp(as_of)]
    supplied = parcels[
        (parcels["supply_status"] == "supplied") & (parcels["supplied_on"] <= pd.Timestamp(as_of))
    ]
    supplied_union = supplied.geometry.union_all()
    assert audit.batches["batch_id"].tolist() == live["batch_id"].tolist()
    for batch_id, geom in zip(live["batch_id"], live.geometry, strict=True):
        row = _row(audit, batch_id)
        assert row.batch_m2 == pytest.approx(geom.area)
        assert row.supplied_m2 == pytest.approx(geom.intersection(supplied_union).area, abs=1e-6)
        rest = gpd.overlay(
            gpd.GeoDataFrame(geometry=[geom], crs=CRS),
            supplied[["geometry"]],
            how="difference",
            keep_geom_type=True,
        ).union_all()
        if row.unsupplied_m2 >= 1:
            got = _feature(audit, batch_id).geometry
            assert got.symmetric_difference(rest).area == pytest.approx(
                0, abs=rules["unsupplied.sliver_m2"] * 5
            )
        else:
            assert batch_id not in set(audit.unsupplied["batch_id"])
    assert 0 < len(audit.unsupplied) < len(live)  # the data exercise both cases
    expected_share = shapely.area(
        shapely.intersection(parcels.geometry.values, live.geometry.union_all())
    ) / shapely.area(parcels.geometry.values)
    assert audit.covered_share == pytest.approx(expected_share, abs=1e-9)
    window = live[live["approved_on"] > pd.Timestamp("2017-01-01")]
    expected_rate = sum(g.intersection(supplied_union).area for g in window.geometry) / window.area.sum()
    assert audit.five_year_supply_rate == pytest.approx(expected_rate)


def test_overlay_matches_a_raster_count(rules):
    """Area on a 0.5 m grid of cell centres: supplied and unsupplied counts per batch within a cell's rounding."""
    rng = np.random.default_rng(11)
    # 40 overlapping supplied boxes of 5–30 m in a 100 m square, under a skewed quadrilateral batch
    geoms = shapely.transform(_random_boxes(rng, 40, 50, 300), lambda c: c / 10)
    parcels = gpd.GeoDataFrame({"supply_status": ["supplied"] * len(geoms)}, geometry=geoms, crs=CRS)
    batch = shapely.Polygon([(5, 5), (90, 12), (80, 95), (10, 70)])
    batches = _batches([("R", "2020-01-01", batch)])
    audit = audit_batches(parcels, batches, AS_OF, rules)
    step = 0.25
    xs, ys = np.meshgrid(np.arange(0, 100, step) + step / 2, np.arange(0, 100, step) + step / 2)
    points = shapely.points(xs.ravel(), ys.ravel())
    in_batch = shapely.contains_xy(batch, xs.ravel(), ys.ravel())
    in_supplied = np.zeros(len(points), dtype=bool)
    in_supplied[shapely.STRtree(parcels.geometry.values).query(points, predicate="intersects")[0]] = True
    cell = step * step
    row = _row(audit, "R")
    assert row.supplied_m2 == pytest.approx((in_batch & in_supplied).sum() * cell, rel=0.01)
    assert row.unsupplied_m2 == pytest.approx((in_batch & ~in_supplied).sum() * cell, rel=0.01)


def _jittered_grid(rng: np.random.Generator, nx: int, ny: int, size: float = 20.0) -> np.ndarray:
    """A cadastre-like polygonal coverage: quadrilaterals on a jittered grid sharing their vertices exactly."""
    gx, gy = np.meshgrid(np.arange(nx + 1) * size, np.arange(ny + 1) * size)
    gx, gy = gx + rng.uniform(-4, 4, gx.shape), gy + rng.uniform(-4, 4, gy.shape)
    i, j = (a.ravel() for a in np.meshgrid(np.arange(nx), np.arange(ny)))
    corners = [(j, i), (j, i + 1), (j + 1, i + 1), (j + 1, i), (j, i)]
    return shapely.polygons(np.stack([np.stack([gx[r, c], gy[r, c]], -1) for r, c in corners], axis=1))


def test_coverage_fast_path_matches_the_general_union(rules):
    """A clean cadastre takes the coverage union; one overlapping parcel sends only its batches to the general one."""
    rng = np.random.default_rng(5)
    grid = _jittered_grid(rng, 30, 30)
    rogue = shapely.box(
        300, 300, 345, 330
    )  # overlaps grid parcels: its batch must not use the coverage union
    geoms = np.concatenate([grid, [rogue]])
    status = np.where(rng.random(len(geoms)) < 0.6, "supplied", "unsupplied")
    status[-1] = "supplied"
    parcels = gpd.GeoDataFrame({"supply_status": status}, geometry=geoms, crs=CRS)
    centres = rng.uniform(50, 550, (12, 2))
    batch_geoms = list(shapely.buffer(shapely.points(centres), rng.uniform(30, 120, 12), quad_segs=4))
    batch_geoms.append(shapely.box(280, 280, 360, 350))  # holds the rogue parcel
    batches = _batches([(f"B{k}", "2020-01-01", g) for k, g in enumerate(batch_geoms)])

    supplied = geoms[status == "supplied"]
    from gis.audit.unsupplied import _coverage_members

    clean = _coverage_members(supplied, np.arange(len(supplied)))
    assert not clean[-1] and clean.sum() > 0.9 * len(
        supplied
    )  # the rogue and its neighbours are flagged only
    audit = audit_batches(parcels, batches, AS_OF, rules)
    supplied_union = shapely.union_all(supplied)
    for k, geom in enumerate(batch_geoms):
        row = _row(audit, f"B{k}")
        assert row.supplied_m2 == pytest.approx(geom.intersection(supplied_union).area, abs=1e-6)
        rest = geom.difference(supplied_union)
        if row.unsupplied_m2 >= 1:
            got = _feature(audit, f"B{k}").geometry
            assert got.symmetric_difference(rest).area == pytest.approx(0, abs=5.0)


def test_t_junction_parcels_are_unioned_exactly(rules):
    """Neighbours meeting at a T-junction are not a valid coverage; the general union is used and is exact."""
    parcels = _parcels(
        [
            (box(0, 0, 50, 100), "supplied", None),
            (box(50, 0, 100, 50), "supplied", None),
            (box(50, 50, 100, 100), "supplied", None),
        ]
    )
    audit = audit_batches(parcels, _batches([("A", "2020-01-01", box(0, 0, 100, 100))]), AS_OF, rules)
    assert _row(audit, "A").supplied_m2 == pytest.approx(10_000)
    assert audit.unsupplied.empty


def test_batches_drawn_on_parcel_boundaries(rules):
    """Batches made of whole parcels (shared edges): areas add up without an overlay, remainders are exact."""
    rng = np.random.default_rng(9)
    grid = _jittered_grid(rng, 6, 6)  # 36 parcels; row-major, 6 per row
    status = np.full(36, "supplied")
    status[[14, 15]] = "unsupplied"
    parcels = gpd.GeoDataFrame({"supply_status": status}, geometry=grid, crs=CRS)
    full = shapely.union_all(grid[[0, 1, 6, 7]])  # all supplied
    part = shapely.union_all(grid[[13, 14, 15, 16]])  # two unsupplied
    crossing = shapely.buffer(shapely.centroid(grid[28]), 25)  # cuts across parcels
    batches = _batches(
        [("FULL", "2020-01-01", full), ("PART", "2020-01-01", part), ("X", "2020-01-01", crossing)]
    )
    audit = audit_batches(parcels, batches, AS_OF, rules)
    assert _row(audit, "FULL").supplied_m2 == pytest.approx(full.area)
    assert _row(audit, "FULL").unsupplied_m2 < 1e-6
    assert set(audit.unsupplied["batch_id"]) == {"PART"}  # X lies wholly on supplied parcels
    remainder = shapely.union_all(grid[[14, 15]])
    assert _row(audit, "PART").unsupplied_m2 == pytest.approx(remainder.area)
    assert _feature(audit, "PART").geometry.symmetric_difference(remainder).area == pytest.approx(0, abs=1e-6)
    assert _row(audit, "X").supplied_m2 == pytest.approx(crossing.area)
