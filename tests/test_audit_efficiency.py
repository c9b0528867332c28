"""Low-efficiency land and 亩均 grades (CONTRACT §4.2)."""

from datetime import date

import numpy as np
import pandas as pd
import pytest

from gis.audit.efficiency import assess_efficiency, industry_division, mujun_grades
from gis.rules import load_rules

RULES = load_rules()
AS_OF = date(2024, 6, 30)
HA = 10_000.0  # every test parcel is 1 ha = 15 亩

# a completed industrial parcel that passes every test (FAR 1.2, coefficient 0.5, 300 万元/亩, 15 万元/亩 tax)
GOOD = {
    "supply_status": "supplied",
    "planned_use": "industrial",
    "completed_on": "2020-01-01",
    "industry_code": "C38",
    "floor_area_m2": 12_000.0,
    "footprint_m2": 5_000.0,
    "fixed_investment_wan": 4_500.0,
    "annual_tax_wan": 225.0,
    "annual_output_wan": 3_000.0,
}


def assess(rows, as_of=AS_OF, rules=RULES):
    df = pd.DataFrame(rows)
    for col in df:
        if col.endswith("_on"):
            df[col] = pd.to_datetime(df[col])
    return assess_efficiency(df, pd.Series(HA, index=df.index), as_of, rules)


def reasons(result, i=0, *, grade=False):
    """Reason codes of row `i`; ``mujun_d`` only with `grade` (a lone rated parcel is always D: p = 1/1)."""
    return [code for code, flag in result.reasons.items() if flag[i] and (grade or code != "mujun_d")]


def missing(result, i=0):
    return [code for code, flag in result.missing.items() if flag[i]]


def test_good_parcel_has_no_reason_and_exact_indicators():
    res = assess([GOOD])
    rec = res.frame.iloc[0]
    assert rec.far == pytest.approx(1.2)
    assert rec.building_coefficient == pytest.approx(0.5)
    assert rec.investment_per_mu == pytest.approx(300.0)
    assert rec.tax_per_mu == pytest.approx(15.0)
    assert rec.output_per_mu == pytest.approx(200.0)
    assert reasons(res) == []
    assert missing(res) == []


@pytest.mark.parametrize(
    ("code", "division"),
    [
        ("C38", "38"),
        ("38", "38"),
        ("3811", "38"),
        ("C3811", "38"),
        (" c25 ", "25"),
        ("x1", None),
        (None, None),
    ],
)
def test_industry_division(code, division):
    got = industry_division(pd.Series([code], dtype=object)).iloc[0]
    assert pd.isna(got) if division is None else got == division


@pytest.mark.parametrize(
    ("code", "minimum"),
    [
        ("C13", 1.0),
        ("17", 0.8),
        ("3811", 0.7),
        ("C25", 0.5),
        ("26", 0.6),
        ("C39", 1.0),
        ("99", 1.0),
        (None, 1.0),
    ],
)
def test_far_table_by_division(code, minimum):
    # FAR 0.75: below 0.8 and 1.0, not below 0.7, 0.6 and 0.5
    res = assess([{**GOOD, "industry_code": code, "floor_area_m2": 7_500.0}])
    assert res.frame.far_required.iloc[0] == pytest.approx(minimum)
    assert ("far" in reasons(res)) == (0.75 < minimum)


def test_far_equal_to_the_minimum_is_not_low():
    res = assess([{**GOOD, "industry_code": "C38", "floor_area_m2": 7_000.0}])
    assert "far" not in reasons(res)


def test_values_exactly_at_the_minimums_are_not_low():
    # 1 600 m² = 2.4 亩: 480 万元 is exactly 200 万元/亩 and 24 万元 exactly 10 万元/亩 (m² / 666.67 gave 199.99…)
    plant = {**GOOD, "floor_area_m2": 1_600.0, "footprint_m2": 640.0}
    df = pd.DataFrame([{**plant, "fixed_investment_wan": 480.0, "annual_tax_wan": 24.0}])
    df["completed_on"] = pd.to_datetime(df["completed_on"])
    res = assess_efficiency(df, pd.Series([1_600.0]), AS_OF, RULES)
    rec = res.frame.iloc[0]
    assert rec.investment_per_mu == 200.0 and rec.tax_per_mu == 10.0
    assert reasons(res) == []


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ({"far_min": 1.5}, "far"),
        ({"coverage_min": 0.6}, "coverage"),
        ({"investment_min_wan_per_mu": 400.0}, "investment"),
        ({"tax_min_wan_per_mu": 30.0}, "tax"),
    ],
)
def test_contract_values_override_the_rules(override, reason):
    res = assess([{**GOOD, **override}])
    assert reasons(res) == [reason]


def test_contract_value_can_also_loosen_the_rule():
    res = assess([{**GOOD, "footprint_m2": 3_000.0, "coverage_min": 0.3}])
    assert "coverage" not in reasons(res)
    assert res.frame.coverage_required.iloc[0] == pytest.approx(0.3)


def test_zone_overrides_change_defaults():
    rules = load_rules(overrides={"low_efficiency": {"tax_min_wan_per_mu": 20.0}})
    assert reasons(assess([GOOD], rules=rules)) == ["tax"]


def test_reasons_in_contract_order():
    bad = {
        **GOOD,
        "floor_area_m2": 1.0,
        "footprint_m2": 1.0,
        "fixed_investment_wan": 1.0,
        "annual_tax_wan": 1.0,
    }
    res = assess([GOOD, bad, {**GOOD, "operating_status": "stopped"}])
    assert reasons(res, 0, grade=True) == []
    assert reasons(res, 1, grade=True) == ["far", "coverage", "investment", "tax", "mujun_d"]
    assert reasons(res, 2, grade=True) == ["stopped", "mujun_d"]


def test_missing_input_is_listed_not_raised():
    res = assess([{**GOOD, "floor_area_m2": None, "annual_tax_wan": None}])
    assert reasons(res) == []
    assert missing(res) == ["floor_area_m2", "annual_tax_wan"]
    assert pd.isna(res.frame.mujun_score.iloc[0])
    assert res.frame.mujun_grade.iloc[0] is None


@pytest.mark.parametrize(
    "change",
    [
        {"planned_use": "commercial"},
        {"supply_status": "unsupplied"},
        {"supplied_on": "2024-07-01"},  # supplied after as-of
        {"completed_on": None},  # not built, no operating status
        {"completed_on": "2024-07-01"},  # completed after as-of
    ],
)
def test_not_examined(change):
    res = assess([{**GOOD, **change, "floor_area_m2": 1.0}])
    assert reasons(res, grade=True) == []
    assert missing(res) == []
    assert not res.frame.examined_low_efficiency.iloc[0]


def test_operating_status_makes_a_parcel_examined_and_warehouse_counts():
    res = assess(
        [
            {
                **GOOD,
                "completed_on": None,
                "operating_status": "partial",
                "planned_use": "warehouse",
                "floor_area_m2": 1.0,
            }
        ]
    )
    assert reasons(res) == ["far"]


def test_mujun_score_formula():
    rows = [
        {**GOOD, "annual_tax_wan": t, "annual_output_wan": o} for t, o in [(150.0, 1500.0), (300.0, 4500.0)]
    ]
    score = assess(rows).frame.mujun_score
    # tax per mu 10 and 20 (mean 15), output per mu 100 and 300 (mean 200)
    assert score.iloc[0] == pytest.approx(100 * (0.6 * 10 / 15 + 0.4 * 100 / 200))
    assert score.iloc[1] == pytest.approx(100 * (0.6 * 20 / 15 + 0.4 * 300 / 200))


def test_mujun_ranks_with_ties_and_a_stopped_parcel():
    taxes = [450.0, 450.0, 300.0, 150.0]  # scores proportional: ranks 1, 1, 3, 4 of N = 4
    rows = [{**GOOD, "annual_tax_wan": t, "annual_output_wan": t * 10} for t in taxes]
    rows.append({**GOOD, "operating_status": "stopped"})  # D, not rated, not in N
    rows.append({**GOOD, "annual_output_wan": None})  # unrated: null grade
    res = assess(rows)
    assert res.frame.mujun_grade.tolist() == ["A", "A", "C", "D", "D", None]
    assert res.frame.mujun_score.iloc[0] == res.frame.mujun_score.iloc[1]
    assert res.frame.mujun_score.iloc[4:].isna().all()
    assert [("mujun_d" in reasons(res, i, grade=True)) for i in range(6)] == [
        False,
        False,
        False,
        True,
        True,
        False,
    ]


def test_grade_cutoffs_at_exact_rank_shares():
    grades = mujun_grades(
        pd.Series(np.arange(20, 0, -1, dtype=float)), RULES["low_efficiency.mujun_grade_cutoffs"]
    )
    # p = rank / 20: A up to 5/20 = 0.25, B up to 14/20 = 0.70, C up to 19/20 = 0.95, D for 20/20
    assert grades.tolist() == ["A"] * 5 + ["B"] * 9 + ["C"] * 5 + ["D"]


def test_single_rated_parcel_is_d():
    # rank 1 of N = 1 gives p = 1 > 0.95
    assert assess([GOOD]).frame.mujun_grade.tolist() == ["D"]
