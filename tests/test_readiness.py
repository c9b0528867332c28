"""标准地 readiness (CONTRACT §4.5): vector checks, tiers, score, servicing level. Tiny data built in code."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import geopandas as gpd
import shapely
from pyproj import CRS
from shapely import GeometryCollection, LineString, MultiPolygon, Point, box

from gis.bundle import Bundle
from gis.readiness import READINESS_COLUMNS, run_readiness
from gis.readiness.codes import SEVEN_KINDS
from gis.readiness.proximity import nearest_distance
from gis.rules import load_rules

CRS_GK = "EPSG:4547"  # CGCS2000 / 3-degree Gauss-Kruger CM 114E
X0, Y0 = 500_000.0, 3_400_000.0
AS_OF = date(2024, 6, 30)
RULES = load_rules()
ASSESSMENTS = RULES["readiness.required_assessments"]
INDICATORS = RULES["readiness.required_indicators"]
LIMITS = RULES["readiness.service_distance_m"]


def square(x: float = 0, y: float = 0, w: float = 100, h: float = 100):
    """A w×h box with its lower-left corner at (x, y) from the origin (metres)."""
    return box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h)


def parcel(pid: str = "P1", geometry=None, **props) -> dict:
    """A parcel that passes every check unless `props` say otherwise."""
    row = {
        "parcel_id": pid,
        "planned_use": "industrial",
        "supply_status": "unsupplied",
        "supplied_on": pd.NaT,
        "compensation_done": True,
        "disputed": False,
        **dict.fromkeys(INDICATORS, 1.0),
        "geometry": geometry if geometry is not None else square(),
    }
    row.update(props)
    return row


def gdf(rows: list[dict]) -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS_GK)
    for col in ("supplied_on", "approved_on", "completed_on", "valid_until"):
        if col in frame:
            frame[col] = pd.to_datetime(frame[col])
    return frame


def infra(kinds=SEVEN_KINDS, gap: float = 5.0, status: str = "built") -> list[dict]:
    """One horizontal line per kind, `gap` metres above the top edge of the default parcel."""
    line = LineString([(X0 - 200, Y0 + 100 + gap), (X0 + 300, Y0 + 100 + gap)])
    return [{"kind": k, "status": status, "geometry": line} for k in kinds]


def assessments(kinds=ASSESSMENTS, geometry=None, completed="2020-01-01", until=None) -> list[dict]:
    geom = geometry if geometry is not None else square(-1000, -1000, 3000, 3000)
    return [{"kind": k, "completed_on": completed, "valid_until": until, "geometry": geom} for k in kinds]


def bundle(
    parcels: list[dict] | None = None,
    *,
    infrastructure: list[dict] | None = None,
    assessment_rows: list[dict] | None = None,
    batches: list[dict] | None = None,
    rasters: dict[str, Path] | None = None,
    **layers: list[dict],
) -> Bundle:
    """A bundle where the default parcel is ready: all assessments, all seven networks 5 m away, no constraints."""
    out = {
        "parcels": gdf(parcels if parcels is not None else [parcel()]),
        "infrastructure": gdf(infrastructure if infrastructure is not None else infra()),
        "assessments": gdf(assessment_rows if assessment_rows is not None else assessments()),
    }
    if batches is not None:
        out["batches"] = gdf(batches)
    for name, rows in layers.items():
        out[name] = gdf(rows)
    out = {k: v for k, v in out.items() if len(v.columns) > 0}
    return Bundle(Path("test-bundle"), CRS(CRS_GK), out, rasters=rasters or {})


def run(b: Bundle, as_of: date = AS_OF, rules=RULES) -> gpd.GeoDataFrame:
    return run_readiness(b, as_of, rules)


def one(b: Bundle, **kw) -> pd.Series:
    return run(b, **kw).iloc[0]


def batch(approved_on: str = "2020-05-01", geometry=None, batch_id: str = "B1") -> dict:
    return {
        "batch_id": batch_id,
        "approved_on": approved_on,
        "geometry": geometry or square(-500, -500, 1000, 1000),
    }


# ── the baseline and the output shape ──────────────────────────────────────────────────────────


def test_ready_parcel_has_every_output():
    out = run(bundle())
    row = out.iloc[0]
    assert list(out.columns[-len(READINESS_COLUMNS) :]) == list(READINESS_COLUMNS)
    assert row["readiness_tier"] == "ready"
    assert row["missing"] == [] and row["missing_detail"] == []
    assert row["readiness_score"] == 100.0
    assert row["served_by"] == "七通一平"
    assert row["infra_distance_m"] == dict.fromkeys(SEVEN_KINDS, 5.0)
    assert np.isnan(row["slope_mean_pct"]) and np.isnan(row["flood_share"])
    assert out.crs == CRS(CRS_GK)
    assert row["parcel_id"] == "P1" and row["planned_use"] == "industrial"


def test_supplied_parcels_get_supplied_and_nothing_else():
    rows = [
        parcel("S1", supply_status="supplied", supplied_on="2023-01-01", planned_use="residential"),
        parcel("S2", supply_status="supplied", supplied_on=pd.NaT),
        # a supply after as-of has not happened: examined like any unsupplied parcel
        parcel("S3", supply_status="supplied", supplied_on="2024-07-01", planned_use="residential"),
    ]
    out = run(bundle(rows)).set_index("parcel_id")
    for pid in ("S1", "S2"):
        assert out.at[pid, "readiness_tier"] == "supplied"
        for col in READINESS_COLUMNS[1:]:
            value = out.at[pid, col]
            assert value is None or (isinstance(value, float) and np.isnan(value)), (pid, col)
    assert out.at["S3", "readiness_tier"] == "blocked"
    assert out.at["S3", "missing"] == ["zoning:not_industrial"]


def test_index_is_kept_and_columns_align():
    frame = gdf([parcel("A", square(0, 0)), parcel("B", square(0, 0), supply_status="supplied")])
    frame.index = [10, 20]
    b = bundle()
    b.layers["parcels"] = frame
    out = run(b)
    assert list(out.index) == [10, 20]
    assert out.loc[10, "readiness_tier"] == "ready" and out.loc[20, "readiness_tier"] == "supplied"


# ── constraints and zoning ─────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("depth", "raised"),
    [(0.005, False), (0.05, False), (0.2, True)],
    ids=["0.5m2-under-1m2", "5m2-under-0.1pct", "20m2-counts"],
)
@pytest.mark.parametrize("layer", ["basic_farmland", "eco_redline"])
def test_constraint_overlap_tolerance(layer, depth, raised):
    # a strip of the constraint layer reaching `depth` metres into the parcel along its 100 m right edge
    b = bundle(**{layer: [{"geometry": box(X0 + 100 - depth, Y0 - 50, X0 + 300, Y0 + 150)}]})
    row = one(b)
    assert (f"constraint:{layer}" in row["missing"]) is raised
    if raised:
        assert row["readiness_tier"] == "blocked"
        ev = row["missing_detail"][0]["evidence"]
        assert ev["overlap_m2"] == pytest.approx(100 * depth, abs=0.01)
        assert ev["overlap_share"] == pytest.approx(depth / 100, abs=1e-4)


def test_overlapping_constraint_features_are_not_double_counted():
    strip = {"geometry": box(X0 + 99.96, Y0 - 50, X0 + 300, Y0 + 150)}  # 4 m², 0.04 % each time
    row = one(bundle(basic_farmland=[strip, strip, strip]))
    assert row["missing"] == []


@pytest.mark.parametrize(
    ("use", "raised"), [("industrial", False), ("warehouse", False), ("commercial", True), (None, True)]
)
def test_zoning(use, raised):
    row = one(bundle([parcel(planned_use=use)]))
    assert (row["missing"] == ["zoning:not_industrial"]) is raised
    assert (row["readiness_tier"] == "blocked") is raised
    if raised:
        assert row["missing_detail"][0]["evidence"] == {"planned_use": use}


# ── approval ───────────────────────────────────────────────────────────────────────────────────


def test_approval_counts_only_batches_approved_by_as_of():
    on_day = one(bundle(batches=[batch(AS_OF.isoformat())]))
    assert on_day["missing"] == []
    later = one(bundle(batches=[batch((AS_OF + timedelta(days=1)).isoformat(), batch_id="B9")]))
    assert later["missing"] == ["approval:not_approved"]
    ev = later["missing_detail"][0]["evidence"]
    assert ev == {"covered_share": 0.0, "later_batches": [{"batch_id": "B9", "approved_on": "2024-07-01"}]}


@pytest.mark.parametrize(("width", "raised"), [(98.0, True), (99.5, False), (100.0, False)])
def test_approval_coverage_share(width, raised):
    row = one(bundle(batches=[batch(geometry=square(0, 0, width, 100))]))
    assert (row["missing"] == ["approval:not_approved"]) is raised


def test_approval_union_of_two_batches_covers():
    halves = [batch(geometry=square(0, 0, 60, 100)), batch(geometry=square(40, 0, 60, 100), batch_id="B2")]
    assert one(bundle(batches=halves))["missing"] == []


def test_approval_adjacent_and_overlapping_batches():
    # a coverage (edges shared, no overlap) plus one batch overlapping another: each area counts once
    rows = [
        batch(geometry=square(0, 0, 50, 100)),
        batch(geometry=square(50, 0, 50, 100), batch_id="B2"),
        batch(geometry=square(50, 0, 50, 100), batch_id="B3"),
    ]
    out = run(bundle([parcel(), parcel("P2", square(-30, 0))], batches=rows))
    assert out["missing"].tolist() == [[], ["approval:not_approved"]]
    assert out["missing_detail"].iloc[1][0]["evidence"]["covered_share"] == 0.7


def test_no_batches_layer_means_no_approval_check():
    assert "approval:not_approved" not in one(bundle())["missing"]


# ── net land ───────────────────────────────────────────────────────────────────────────────────


def test_compensation_and_dispute():
    row = one(bundle([parcel(compensation_done=False, disputed=True)]))
    assert row["missing"] == ["net:compensation", "net:dispute"]
    assert [d["evidence"] for d in row["missing_detail"]] == [
        {"compensation_done": False},
        {"disputed": True},
    ]


def test_missing_bool_columns_take_their_defaults():
    rows = [parcel()]
    del rows[0]["compensation_done"], rows[0]["disputed"]
    assert one(bundle(rows))["missing"] == []


@pytest.mark.parametrize(
    ("kv", "half"),
    [(110, 12.5), (220, 20.0), (500, 37.5), (35, 10.0)],
    ids=["110kV", "220kV", "500kV", "35kV"],
)
@pytest.mark.parametrize(
    ("offset", "raised"), [(0.5, False), (-1.0, True)], ids=["just-outside", "just-inside"]
)
def test_hv_corridor(kv, half, offset, raised):
    # a line parallel to the parcel's top edge, `half + offset` metres above it
    y = Y0 + 100 + half + offset
    line = {"voltage_kv": float(kv), "geometry": LineString([(X0 - 300, y), (X0 + 400, y)])}
    row = one(bundle(hv_lines=[line]))
    assert (row["missing"] == ["net:hv_line"]) is raised
    if raised:
        ev = row["missing_detail"][0]["evidence"]
        assert ev["voltage_kv"] == kv and ev["half_width_m"] == half
        assert ev["overlap_m2"] == pytest.approx(100.0, abs=0.01)
        assert row["readiness_tier"] == "nearly_ready"


@pytest.mark.parametrize(("offset", "raised"), [(9.0, True), (10.5, False)], ids=["inside", "outside"])
def test_hv_line_without_voltage_gets_the_default_half_width(offset, raised):
    y = Y0 + 100 + offset
    line = {"voltage_kv": np.nan, "geometry": LineString([(X0 - 300, y), (X0 + 400, y)])}
    row = one(bundle(hv_lines=[line]))
    assert (row["missing"] == ["net:hv_line"]) is raised
    if raised:
        ev = row["missing_detail"][0]["evidence"]
        assert (
            ev["voltage_kv"] is None
            and ev["half_width_m"] == RULES["readiness.hv_corridor_default_m"] == 10.0
        )


def test_hv_lines_with_empty_or_no_voltage_are_read(tmp_path):
    from gis.io import read_bundle

    gdf([parcel()]).drop(columns="supplied_on").to_file(tmp_path / "parcels.geojson", driver="GeoJSON")
    lines = [
        LineString([(X0 - 300, Y0 + 109), (X0 + 400, Y0 + 109)]),
        LineString([(X0, Y0 + 900), (X0 + 9, Y0 + 900)]),
    ]
    gpd.GeoDataFrame({"电压等级": [None, 220.0]}, geometry=lines, crs=CRS_GK).to_file(
        tmp_path / "hv_lines.geojson"
    )
    b = read_bundle(tmp_path)
    assert np.isnan(b.layers["hv_lines"]["voltage_kv"].iloc[0])
    assert one(b)["missing_detail"][0]["evidence"]["half_width_m"] == 10.0  # 9 m from the parcel: inside 10 m
    # without the column at all, every line has the default
    gpd.GeoDataFrame({"name": ["a", "b"]}, geometry=lines, crs=CRS_GK).to_file(tmp_path / "hv_lines.geojson")
    assert read_bundle(tmp_path).layers["hv_lines"]["voltage_kv"].isna().all()


def test_hv_sliver_under_tolerance_is_ignored():
    y = Y0 + 100 + 12.5 - 0.005  # 110 kV corridor 5 mm into the parcel: 0.5 m²
    row = one(
        bundle(hv_lines=[{"voltage_kv": 110.0, "geometry": LineString([(X0 - 300, y), (X0 + 400, y)])}])
    )
    assert row["missing"] == []


# ── assessments ────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(("width", "raised"), [(98.0, True), (100.0, False)], ids=["98pct", "100pct"])
def test_assessment_coverage(width, raised):
    rows = assessments([k for k in ASSESSMENTS if k != "eia"]) + assessments(
        ["eia"], square(0, 0, width, 100)
    )
    row = one(bundle(assessment_rows=rows))
    assert (row["missing"] == ["assessment:eia"]) is raised
    if raised:
        assert row["missing_detail"][0]["evidence"] == {"covered_share": 0.98, "invalid": []}


def test_assessment_union_of_same_kind():
    rows = assessments([k for k in ASSESSMENTS if k != "flood"])
    rows += assessments(["flood"], square(0, 0, 60, 100)) + assessments(["flood"], square(40, 0, 60, 100))
    assert one(bundle(assessment_rows=rows))["missing"] == []


def test_assessment_validity_dates():
    others = assessments([k for k in ASSESSMENTS if k not in ("energy", "seismic", "mineral")])
    day_before = (AS_OF - timedelta(days=1)).isoformat()
    rows = (
        others
        + assessments(["energy"], until=day_before)  # expired the day before as-of
        + assessments(["seismic"], until=AS_OF.isoformat())  # valid through as-of
        + assessments(["mineral"], completed=(AS_OF + timedelta(days=1)).isoformat())  # not yet completed
    )
    row = one(bundle(assessment_rows=rows))
    assert row["missing"] == ["assessment:energy", "assessment:mineral"]
    energy, mineral = (d["evidence"] for d in row["missing_detail"])
    assert energy["covered_share"] == 0.0
    assert energy["invalid"] == [
        {
            "feature": len(others) + 1,
            "completed_on": "2020-01-01",
            "valid_until": day_before,
            "reason": "expired",
        }
    ]
    assert mineral["invalid"][0]["reason"] == "not_completed"
    assert row["missing_detail"][0]["department"] == RULES["readiness.departments"]["assessment:energy"]


def test_no_assessments_layer_misses_every_kind():
    b = bundle()
    del b.layers["assessments"]
    assert one(b)["missing"] == [f"assessment:{k}" for k in ASSESSMENTS]


def test_required_assessments_follow_the_rules():
    rules = load_rules(overrides={"readiness": {"required_assessments": ["climate", "eia"]}})
    row = one(bundle(), rules=rules)
    assert row["missing"] == ["assessment:climate"]
    assert row["missing_detail"][0]["department"] == "气象局"


# ── infrastructure ─────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("kind", SEVEN_KINDS)
@pytest.mark.parametrize(
    ("delta", "within"), [(-0.5, True), (0.5, False)], ids=["just-inside", "just-outside"]
)
def test_service_distance_per_kind(kind, delta, within):
    limit = float(LIMITS[kind])
    rows = infra([k for k in SEVEN_KINDS if k != kind]) + infra([kind], gap=limit + delta)
    row = one(bundle(infrastructure=rows))
    required = kind in RULES["readiness.required_infrastructure"]
    assert row["missing"] == ([] if within or not required else [f"infra:{kind}"])
    assert row["infra_distance_m"][kind] == pytest.approx(limit + delta)
    assert (row["served_by"] == "七通一平") is within
    if not within and required:
        assert row["missing_detail"][0]["evidence"] == {
            "distance_m": limit + delta,
            "service_distance_m": limit,
            "planned_distance_m": None,
        }


def test_planned_network_does_not_serve():
    rows = infra([k for k in SEVEN_KINDS if k != "water"]) + infra(["water"], status="planned")
    row = one(bundle(infrastructure=rows))
    assert row["missing"] == ["infra:water"]
    assert row["infra_distance_m"]["water"] is None
    assert row["missing_detail"][0]["evidence"] == {
        "distance_m": None,
        "service_distance_m": LIMITS["water"],
        "planned_distance_m": 5.0,
    }
    # built beats planned when both exist
    both = one(bundle(infrastructure=[*rows, *infra(["water"], gap=50.0)]))
    assert both["missing"] == [] and both["infra_distance_m"]["water"] == 50.0


def test_network_crossing_the_parcel_is_at_distance_zero():
    rows = [*infra([k for k in SEVEN_KINDS if k != "road"]), *infra(["road"], gap=-50.0)]
    assert one(bundle(infrastructure=rows))["infra_distance_m"]["road"] == 0.0


@pytest.mark.timeout(30)  # a zero search radius used to grow ×4 from 0 forever
@pytest.mark.parametrize(
    ("gap", "served"),
    [(-50.0, True), (0.0, True), (0.01, False), (400.0, False)],
    ids=["crossing", "touching", "1cm-away", "far"],
)
def test_service_distance_zero_counts_touching_or_overlapping(gap, served):
    rules = load_rules(overrides={"readiness.service_distance_m": {"road": 0.0}})
    rows = [*infra([k for k in SEVEN_KINDS if k != "road"]), *infra(["road"], gap=gap)]
    row = one(bundle(infrastructure=rows), rules=rules)
    assert row["missing"] == ([] if served else ["infra:road"])
    assert row["infra_distance_m"]["road"] == pytest.approx(max(gap, 0.0))


def test_polygon_infrastructure():
    rows = [*infra([k for k in SEVEN_KINDS if k != "road"])]
    rows.append(
        {"kind": "road", "status": "built", "geometry": square(0, 120, 100, 20)}
    )  # road surface 20 m away
    row = one(bundle(infrastructure=rows))
    assert row["infra_distance_m"]["road"] == 20.0 and row["missing"] == []


def test_no_infrastructure_layer():
    b = bundle()
    del b.layers["infrastructure"]
    row = one(b)
    assert row["missing"] == [f"infra:{k}" for k in RULES["readiness.required_infrastructure"]]
    assert row["infra_distance_m"] == dict.fromkeys(SEVEN_KINDS)
    assert row["served_by"] is None


def test_infra_distance_is_null_for_kinds_the_layer_lacks():
    row = one(bundle(infrastructure=infra(["road", "water", "drainage", "power", "telecom"])))
    assert row["infra_distance_m"]["gas"] is None and row["infra_distance_m"]["heat"] is None
    assert row["missing"] == [] and row["served_by"] == "五通一平"


@pytest.mark.parametrize(
    ("kinds", "level"),
    [
        (SEVEN_KINDS, "七通一平"),
        (("road", "water", "drainage", "power", "telecom", "gas"), "五通一平"),
        (("road", "water", "power", "telecom"), "三通一平"),
        (("road", "water", "power"), "三通一平"),
        (("road", "water", "drainage", "telecom", "gas", "heat"), None),
    ],
)
def test_served_by(kinds, level):
    assert one(bundle(infrastructure=infra(kinds)))["served_by"] == level


# ── indicators ─────────────────────────────────────────────────────────────────────────────────


def test_indicators_and_their_department():
    row = one(bundle([parcel(std_far=np.nan, std_emission=None)]))
    assert row["missing"] == ["indicators:std_far", "indicators:std_emission"]
    detail = row["missing_detail"][0]
    assert detail["department"] == RULES["readiness.departments"]["indicators"]
    assert detail["label_zh"] == "未设定标准地控制指标：容积率"
    assert detail["evidence"] == {"field": "std_far"}


# ── order of `missing`, tiers ──────────────────────────────────────────────────────────────────


def test_missing_follows_the_table_order():
    rows = [
        parcel(planned_use="green", compensation_done=False, disputed=True, std_tax=None, std_investment=None)
    ]
    line = {"voltage_kv": 500.0, "geometry": LineString([(X0 - 100, Y0 + 50), (X0 + 200, Y0 + 50)])}
    b = bundle(
        rows,
        infrastructure=infra(["telecom", "road"]),
        assessment_rows=assessments(["seismic", "eia"]),
        batches=[batch("2030-01-01")],
        basic_farmland=[{"geometry": square(50, 0)}],
        eco_redline=[{"geometry": square(0, 50)}],
        hv_lines=[line],
    )
    row = one(b)
    expected = [
        "constraint:basic_farmland",
        "constraint:eco_redline",
        "zoning:not_industrial",
        "approval:not_approved",
        "net:compensation",
        "net:dispute",
        "net:hv_line",
        *[f"assessment:{k}" for k in ASSESSMENTS if k not in ("seismic", "eia")],
        "infra:water",
        "infra:drainage",
        "infra:power",
        "indicators:std_investment",
        "indicators:std_tax",
    ]
    assert row["missing"] == expected
    assert [d["code"] for d in row["missing_detail"]] == expected
    for d in row["missing_detail"]:
        assert set(d) == {"code", "label_zh", "label_en", "department", "evidence"}
        assert d["department"] and d["label_zh"] and d["label_en"]
    assert row["readiness_tier"] == "blocked"


@pytest.mark.parametrize(
    ("props", "extra", "tier"),
    [
        ({}, {}, "ready"),
        ({"disputed": True}, {}, "nearly_ready"),
        ({"disputed": True, "std_far": None}, {}, "nearly_ready"),
        ({"disputed": True, "std_far": None, "std_tax": None}, {}, "not_ready"),
        ({"compensation_done": False}, {}, "not_ready"),  # exclusion: compensation alone
        ({}, {"batches": [batch("2030-01-01")]}, "not_ready"),  # exclusion: approval alone
        ({"planned_use": "residential"}, {}, "blocked"),
        ({}, {"eco_redline": [{"geometry": square(0, 0)}]}, "blocked"),
    ],
    ids=["ready", "one", "two", "three", "compensation", "approval", "zoning", "constraint"],
)
def test_tiers(props, extra, tier):
    assert one(bundle([parcel(**props)], **extra))["readiness_tier"] == tier


# ── score ──────────────────────────────────────────────────────────────────────────────────────


def expected_score(net: tuple[int, int], assess: int, ind: int, serv: tuple[int, int]) -> float:
    """The §4.5 formula from counts: (passed, total) for net and servicing, failures for the others."""
    w = RULES["readiness.score_weights"]
    value = (
        w["net"] * net[0] / net[1]
        + w["assessments"] * (len(ASSESSMENTS) - assess) / len(ASSESSMENTS)
        + w["indicators"] * (len(INDICATORS) - ind) / len(INDICATORS)
        + w["servicing"] * serv[0] / serv[1]
    )
    return float(np.floor(value * 10 + 0.5 + 1e-9) / 10)


def test_score_without_batches_or_rasters():
    b = bundle(
        [parcel(disputed=True, std_far=None)],
        infrastructure=infra(["road", "water", "drainage", "power"]),
        assessment_rows=assessments(ASSESSMENTS[2:]),
    )
    row = one(b)
    assert row["readiness_score"] == expected_score((2, 3), 2, 1, (4, 5)) == 74.0


def test_score_with_batches_counts_approval():
    b = bundle([parcel(disputed=True)], batches=[batch("2030-01-01")])
    assert one(b)["readiness_score"] == expected_score((2, 4), 0, 0, (5, 5)) == 80.0
    assert one(bundle([parcel(disputed=True)], batches=[batch()]))["readiness_score"] == 90.0


def test_blocking_codes_do_not_enter_the_score():
    row = one(bundle([parcel(planned_use="green")], basic_farmland=[{"geometry": square(0, 0)}]))
    assert row["readiness_tier"] == "blocked" and row["readiness_score"] == 100.0


def test_empty_parcels():
    b = bundle()
    b.layers["parcels"] = b.layers["parcels"].iloc[:0]
    out = run(b)
    assert len(out) == 0 and set(READINESS_COLUMNS) <= set(out.columns)


def test_many_parcels_each_get_their_own_result():
    rows = [parcel(f"P{i}", square(0, -200 * i), disputed=bool(i % 2)) for i in range(6)]
    lines = [
        {"kind": k, "status": "built", "geometry": LineString([(X0 + 105, Y0 - 2000), (X0 + 105, Y0 + 200)])}
        for k in SEVEN_KINDS
    ]
    out = run(bundle(rows, infrastructure=lines))
    assert out["readiness_tier"].tolist() == ["ready", "nearly_ready"] * 3
    assert all(d == dict.fromkeys(SEVEN_KINDS, 5.0) for d in out["infra_distance_m"])


# ── the vectorized nearest search against brute force ──────────────────────────────────────────


@pytest.mark.timeout(60)
@pytest.mark.parametrize("radius", [0.0, 1.0, 30.0, 500.0])
@pytest.mark.parametrize("max_pairs", [64, 0], ids=["grow", "geos-beyond-radius"])
def test_nearest_distance_matches_brute_force(radius, max_pairs, monkeypatch):
    monkeypatch.setattr("gis.readiness.proximity.MAX_PAIRS_PER_PARCEL", max_pairs)
    rng = np.random.default_rng(3)
    x, y = rng.uniform(0, 3000, 300), rng.uniform(0, 3000, 300)
    parcels = shapely.buffer(shapely.points(x, y), rng.uniform(5, 60, 300), quad_segs=3)
    walks = [
        np.cumsum(rng.normal(0, 40, (int(rng.integers(2, 30)), 2)), axis=0) + rng.uniform(0, 3000, 2)
        for _ in range(40)
    ]
    lines = np.array([shapely.LineString(w) for w in walks], dtype=object)
    px, py = rng.uniform(0, 3000, 2)
    pads = box(px, py, px + 30, py + 30)
    multi = shapely.MultiLineString([walks[0] + 500, walks[1] - 300])
    features = np.concatenate([lines, [pads, multi, None]])
    got = nearest_distance(parcels, features, radius=radius)
    valid = features[~shapely.is_missing(features)]
    want = shapely.distance(parcels[:, None], valid[None, :]).min(axis=1)
    assert got == pytest.approx(want, abs=1e-9)
    assert (want == 0).any() and (want > 500).any()  # crossing, near and far parcels all occur


def test_constraint_layer_with_multipolygons_and_collections():
    inside = MultiPolygon([square(0, 0, 30, 100), square(500, 500)])
    mixed = GeometryCollection(
        [square(20, 0, 30, 100), LineString([(X0, Y0), (X0 + 50, Y0 + 50)]), Point(X0, Y0)]
    )
    row = one(bundle(eco_redline=[{"geometry": inside}, {"geometry": mixed}]))
    assert row["missing"] == ["constraint:eco_redline"]
    assert row["missing_detail"][0]["evidence"]["overlap_m2"] == 5000.0
