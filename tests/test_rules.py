import re

import pytest
from typer.testing import CliRunner

import geopandas as gpd
from shapely import box

from api.cli import app
from gis.errors import InputError
from gis.rules import load_rules


def test_every_rule_has_source_and_status():
    rules = load_rules()
    statuses = {"verified", "partial", "unverified", "contract"}
    for key in rules:
        rule = rules.rule(key)
        assert rule.source.strip(), key
        assert rule.status in statuses, key


def test_contract_defaults():
    rules = load_rules()
    assert rules["low_efficiency.coverage_min"] == 0.40
    assert rules["low_efficiency.investment_min_wan_per_mu"] == 200
    assert rules["low_efficiency.tax_min_wan_per_mu"] == 10
    assert rules["low_efficiency.far_min_by_division"]["38"] == 0.7
    assert rules["low_efficiency.far_min_by_division"]["25"] == 0.5
    assert rules["readiness.service_distance_m"]["heat"] == 500
    assert rules["zone.industrial_intensity_benchmark"] == 0.58


@pytest.mark.parametrize(
    "overrides",
    [
        {"low_efficiency.coverage_min": 0.3},
        {"low_efficiency": {"coverage_min": 0.3}},
    ],
    ids=["dotted", "nested"],
)
def test_zone_overrides(overrides):
    rules = load_rules(overrides=overrides)
    assert rules["low_efficiency.coverage_min"] == 0.3
    assert rules.rule("low_efficiency.coverage_min").overridden
    assert not rules.rule("low_efficiency.tax_min_wan_per_mu").overridden


def test_table_override_merges():
    rules = load_rules(overrides={"readiness.service_distance_m": {"road": 50.0}})
    assert rules["readiness.service_distance_m"]["road"] == 50
    assert rules["readiness.service_distance_m"]["water"] == 100


def test_unknown_rule_is_input_error():
    with pytest.raises(InputError, match=r"zone.toml.*rules.idle.nope"):
        load_rules(overrides={"idle": {"nope": 1}})


def test_wrong_type_is_input_error():
    with pytest.raises(InputError, match="coverage_min"):
        load_rules(overrides={"low_efficiency.coverage_min": "high"})


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        (
            {"readiness": {"required_infrastructure": ["road", "sewer"]}},
            "rules.readiness.required_infrastructure",
        ),
        ({"readiness": {"service_distance_m": {"sewer": 50.0}}}, "rules.readiness.service_distance_m"),
    ],
    ids=["required", "service-distance"],
)
def test_unknown_infrastructure_kind_is_input_error(overrides, field):
    with pytest.raises(
        InputError, match=rf"^file zone.toml, field {re.escape(field)}: unknown infrastructure kind 'sewer'"
    ):
        load_rules(overrides=overrides)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"readiness.service_distance_m": {"heat": -1.0}}, "rules.readiness.service_distance_m.heat"),
        ({"readiness.service_distance_m": {"heat": float("nan")}}, "rules.readiness.service_distance_m.heat"),
        ({"readiness.service_distance_m": {"heat": "far"}}, "rules.readiness.service_distance_m.heat"),
        ({"readiness.hv_corridor_half_width_m": {"110": -5}}, "rules.readiness.hv_corridor_half_width_m.110"),
        ({"readiness.hv_corridor_default_m": -10.0}, "rules.readiness.hv_corridor_default_m"),
    ],
    ids=["negative", "nan", "text", "hv-width", "hv-default"],
)
def test_bad_distance_is_input_error(overrides, field):
    with pytest.raises(
        InputError, match=rf"^file zone.toml, field {re.escape(field)}: must be a distance ≥ 0"
    ):
        load_rules(overrides=overrides)


def test_non_numeric_voltage_key_is_input_error():
    with pytest.raises(InputError, match=r"field rules.readiness.hv_corridor_half_width_m: voltage 'high'"):
        load_rules(overrides={"readiness.hv_corridor_half_width_m": {"high": 30.0}})


def test_zero_service_distance_is_accepted():
    rules = load_rules(
        overrides={"readiness": {"service_distance_m": {"heat": 0}, "required_infrastructure": ["heat"]}}
    )
    assert rules["readiness.service_distance_m"]["heat"] == 0
    assert rules["readiness.required_infrastructure"] == ["heat"]


@pytest.mark.parametrize(
    ("zone_toml", "field"),
    [
        (
            '[rules.readiness]\nrequired_infrastructure = ["road", "sewer"]\n',
            "rules.readiness.required_infrastructure",
        ),
        ("[rules.readiness.service_distance_m]\nheat = -1.0\n", "rules.readiness.service_distance_m.heat"),
    ],
    ids=["unknown-kind", "negative-distance"],
)
def test_readiness_cli_exits_2_on_a_bad_zone_rule(tmp_path, zone_toml, field):
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    gpd.GeoDataFrame(
        {"parcel_id": ["P1"]}, geometry=[box(500_000, 3_000_000, 500_100, 3_000_100)], crs=4547
    ).to_file(bundle / "parcels.geojson")
    (bundle / "zone.toml").write_text(zone_toml, encoding="utf-8")
    result = CliRunner().invoke(
        app, ["readiness", str(bundle), "--as-of", "2025-08-31", "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and f"file {bundle / 'zone.toml'}, field {field}:" in lines[0]
    assert "Traceback" not in result.output
