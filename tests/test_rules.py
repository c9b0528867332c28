import pytest

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
