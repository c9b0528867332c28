"""Idle land stages, disposals, fees and days (CONTRACT §4.1): every date boundary."""

from datetime import date

import numpy as np
import pandas as pd
import pytest

from gis.audit.idle import assess_idle
from gis.rules import load_rules

RULES = load_rules()


def idle(rows, as_of, unit="us"):
    """Assess parcels given as dicts; date strings become datetimes of `unit`."""
    df = pd.DataFrame(rows)
    for col in df:
        if col.endswith("_on"):
            df[col] = pd.to_datetime(df[col]).astype(f"datetime64[{unit}]")
    df["supply_status"] = df["supply_status"].fillna("supplied") if "supply_status" in df else "supplied"
    return assess_idle(df, as_of, RULES)


def one(row, as_of, unit="us"):
    result = idle([row], as_of, unit)
    rec = result.frame.iloc[0]
    missing = [name for name, flag in result.missing.items() if flag[0]]
    return rec, missing


START = {"agreed_start_on": "2020-03-10", "land_price_wan": 1000.0}


@pytest.mark.parametrize(
    ("as_of", "stage", "disposal", "days"),
    [
        (date(2020, 3, 9), "none", "none", None),
        (date(2020, 3, 10), "none", "none", None),  # as-of on idle_since
        (date(2020, 3, 11), "overdue_start", "warn", 1),
        (date(2021, 3, 9), "overdue_start", "warn", 364),  # the day before the first anniversary
        (date(2021, 3, 10), "idle_1y", "idle_fee", 365),  # the anniversary itself
        (date(2022, 3, 9), "idle_1y", "idle_fee", 729),
        (date(2022, 3, 10), "idle_2y", "reclaim", 730),
        (date(2030, 1, 1), "idle_2y", "reclaim", 3584),
    ],
)
def test_not_started_anniversaries(as_of, stage, disposal, days):
    rec, missing = one(START, as_of)
    assert rec.idle_stage == stage
    assert rec.idle_disposal == disposal
    assert rec.idle_since == pd.Timestamp("2020-03-10")
    assert pd.isna(rec.idle_days) if days is None else rec.idle_days == days
    assert missing == []


@pytest.mark.parametrize(
    ("as_of", "stage"),
    [
        (date(2021, 2, 27), "overdue_start"),
        (date(2021, 2, 28), "idle_1y"),  # 29 Feb + 1 year = 28 Feb
        (date(2022, 2, 27), "idle_1y"),
        (date(2022, 2, 28), "idle_2y"),
    ],
)
def test_29_february(as_of, stage):
    rec, _ = one({"agreed_start_on": "2020-02-29", "land_price_wan": 10.0}, as_of)
    assert rec.idle_stage == stage


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_any_datetime_unit(unit):
    rec, _ = one(START, date(2021, 3, 10), unit)
    assert rec.idle_stage == "idle_1y"


def test_idle_fee_is_20_percent_of_land_price_only_for_the_fee():
    rec, _ = one(START, date(2021, 3, 10))
    assert rec.idle_fee_wan == pytest.approx(200.0)
    for as_of in (date(2020, 6, 1), date(2022, 3, 10)):
        assert np.isnan(one(START, as_of)[0].idle_fee_wan)


def test_fee_without_land_price_is_null_and_listed():
    rec, missing = one({"agreed_start_on": "2020-03-10"}, date(2021, 6, 1))
    assert rec.idle_disposal == "idle_fee"
    assert np.isnan(rec.idle_fee_wan)
    assert missing == ["land_price_wan"]


@pytest.mark.parametrize("cause", ["government", "force_majeure"])
@pytest.mark.parametrize(("as_of", "stage"), [(date(2021, 6, 1), "idle_1y"), (date(2023, 1, 1), "idle_2y")])
def test_government_and_force_majeure_negotiate(cause, as_of, stage):
    rec, _ = one({**START, "delay_cause": cause}, as_of)
    assert (rec.idle_stage, rec.idle_disposal) == (stage, "negotiate")
    assert np.isnan(rec.idle_fee_wan)


def test_government_cause_still_warns_before_a_year():
    rec, _ = one({**START, "delay_cause": "government"}, date(2020, 6, 1))
    assert (rec.idle_stage, rec.idle_disposal) == ("overdue_start", "warn")


def test_only_supplied_parcels_by_as_of_are_examined():
    res = idle(
        [
            {**START, "supply_status": "unsupplied"},
            {**START, "supplied_on": "2021-03-11"},  # supplied the day after as-of: unsupplied then
            {**START, "supplied_on": "2021-03-10"},
            {**START, "supplied_on": None},  # supplied, date unknown: still supplied
        ],
        date(2021, 3, 10),
    )
    assert res.frame.idle_stage.tolist() == ["none", "none", "idle_1y", "idle_1y"]
    assert res.frame.idle_since.isna().tolist() == [True, True, False, False]


def test_completed_by_as_of_is_not_examined_but_completion_after_as_of_is():
    res = idle(
        [
            {
                **START,
                "started_on": "2020-03-01",
                "completed_on": "2021-03-10",
                "agreed_completion_on": "2020-12-31",
            },
            {
                **START,
                "started_on": "2020-03-01",
                "completed_on": "2021-03-11",
                "agreed_completion_on": "2020-12-31",
            },
        ],
        date(2021, 3, 10),
    )
    assert res.frame.idle_stage.tolist() == ["none", "overdue_completion"]
    assert res.frame.idle_disposal.tolist() == ["none", "warn"]


def test_start_after_as_of_has_not_happened():
    rec, _ = one(
        {**START, "started_on": "2021-03-11", "agreed_completion_on": "2022-01-01"}, date(2021, 3, 10)
    )
    assert rec.idle_stage == "idle_1y"
    assert rec.idle_since == pd.Timestamp("2020-03-10")


@pytest.mark.parametrize(
    ("as_of", "stage"),
    [(date(2022, 6, 30), "none"), (date(2022, 7, 1), "none"), (date(2022, 7, 2), "overdue_completion")],
)
def test_started_parcel_is_judged_on_completion(as_of, stage):
    rec, _ = one({**START, "started_on": "2020-03-01", "agreed_completion_on": "2022-07-01"}, as_of)
    assert rec.idle_stage == stage
    assert rec.idle_since == pd.Timestamp("2022-07-01")
    assert rec.idle_disposal == ("warn" if stage != "none" else "none")


STALL = {
    **START,
    "started_on": "2020-03-01",
    "agreed_completion_on": "2030-01-01",
    "suspended_on": "2021-05-01",
    "developed_fraction": 0.2,
    "invested_wan": 500.0,
    "total_investment_wan": 1000.0,
}


@pytest.mark.parametrize(
    ("as_of", "stage", "disposal", "since"),
    [
        (date(2022, 4, 30), "none", "none", "2030-01-01"),  # before the anniversary: like any started parcel
        (date(2022, 5, 1), "stalled", "review", "2021-05-01"),
        (date(2025, 1, 1), "stalled", "review", "2021-05-01"),
    ],
)
def test_stalled_anniversary(as_of, stage, disposal, since):
    rec, _ = one(STALL, as_of)
    assert (rec.idle_stage, rec.idle_disposal) == (stage, disposal)
    assert rec.idle_since == pd.Timestamp(since)
    if stage == "stalled":
        assert rec.idle_days == (pd.Timestamp(as_of) - pd.Timestamp("2021-05-01")).days


def test_suspended_but_not_yet_stalled_can_be_overdue_completion():
    rec, _ = one({**STALL, "agreed_completion_on": "2021-12-31"}, date(2022, 4, 30))
    assert (rec.idle_stage, rec.idle_since) == ("overdue_completion", pd.Timestamp("2021-12-31"))


@pytest.mark.parametrize(
    ("developed", "invested", "stage"),
    [
        (1 / 3, 250.0, "none"),  # exactly 1/3 and exactly 25 %: neither is "不足"
        (0.3333, 250.0, "stalled"),
        (1 / 3, 249.99, "stalled"),
        (0.9, 100.0, "stalled"),  # either test suffices
        (0.9, 900.0, "none"),
    ],
)
def test_one_third_and_25_percent(developed, invested, stage):
    rec, _ = one({**STALL, "developed_fraction": developed, "invested_wan": invested}, date(2023, 1, 1))
    assert rec.idle_stage == stage


@pytest.mark.parametrize("cause", ["government", "force_majeure"])
def test_stalled_with_government_cause_negotiates(cause):
    rec, _ = one({**STALL, "delay_cause": cause}, date(2023, 1, 1))
    assert (rec.idle_stage, rec.idle_disposal) == ("stalled", "negotiate")


def test_suspension_after_as_of_has_not_happened():
    rec, _ = one({**STALL, "suspended_on": "2023-01-02"}, date(2023, 1, 1))
    assert rec.idle_stage == "none"


def test_missing_dates_give_none_and_are_listed():
    res = idle(
        [
            {"land_price_wan": 1.0},  # not started, no agreed start
            {"started_on": "2020-01-01"},  # started, no agreed completion
            {**STALL, "developed_fraction": None, "invested_wan": None},  # suspended, progress unknown
            {"supply_status": "unsupplied"},  # not examined: nothing is missing
        ],
        date(2023, 1, 1),
    )
    assert res.frame.idle_stage.tolist() == ["none"] * 4
    listed = [[k for k, v in res.missing.items() if v[i]] for i in range(4)]
    assert listed == [
        ["agreed_start_on"],
        ["agreed_completion_on"],
        ["developed_fraction", "invested_wan"],
        [],
    ]
    assert res.frame.idle_days.isna().all()
