"""`gis.recompute.apply_edit` equals a full recompute from scratch after every kind of edit, on the demo zone (batches,
constraint layers, infrastructure and both rasters): status, dates, 亩均 inputs, a geometry moved across batch
edges, a new parcel and a deleted one.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pytest

import geopandas as gpd

from data import DEMO_BUNDLE
from gis.io import normalize_layer, read_bundle
from gis.pipeline import Results, compute
from gis.recompute import apply_edit
from gis.store.base import frame_from_json, records_json

AS_OF = date(2025, 6, 30)


@pytest.fixture(scope="module")
def start() -> Results:
    return compute(read_bundle(DEMO_BUNDLE), AS_OF)


def _row(parcels: gpd.GeoDataFrame, i: int, geometry: Any = None, pid: str | None = None, **changes: Any):
    """Parcel `i` as the API validates an edit: JSON properties with `changes`, normalized by the reader."""
    props = json.loads(records_json(parcels.iloc[[i]].drop(columns=["parcel_id"]))[0]) | changes
    props = {k: v for k, v in props.items() if v is not None}
    geom = parcels.geometry.iloc[i] if geometry is None else geometry
    raw = frame_from_json([pid or parcels["parcel_id"].iloc[i]], [json.dumps(props)], [geom.wkb], parcels.crs)
    return normalize_layer(raw, "parcels", source="test")


def _text(s: pd.Series) -> list[str]:
    return s.astype(object).where(s.notna(), None).map(str).tolist()


def _assert_same(mine: Results, full: Results) -> None:
    a, b = mine.audit, full.audit
    assert list(a.parcels.columns) == list(b.parcels.columns)
    for name in a.parcels.columns:
        if name == a.parcels.geometry.name:
            assert a.parcels.geometry.geom_equals(b.parcels.geometry).all()
        else:
            assert _text(a.parcels[name]) == _text(b.parcels[name]), name
    assert json.dumps(a.summary, sort_keys=True, default=str) == json.dumps(
        b.summary, sort_keys=True, default=str
    )
    pd.testing.assert_frame_equal(a.batches.reset_index(drop=True), b.batches.reset_index(drop=True))
    pd.testing.assert_frame_equal(
        pd.DataFrame(a.unsupplied.drop(columns="geometry")),
        pd.DataFrame(b.unsupplied.drop(columns="geometry")),
    )
    assert a.unsupplied.geometry.geom_equals_exact(b.unsupplied.geometry, 1e-6).all()
    assert list(mine.readiness.columns) == list(full.readiness.columns)
    for name in mine.readiness.columns:
        if name != mine.readiness.geometry.name:
            assert _text(mine.readiness[name]) == _text(full.readiness[name]), name
            assert mine.readiness[name].dtype == full.readiness[name].dtype, name


def test_every_kind_of_edit_equals_a_full_recompute(start: Results) -> None:
    parcels = start.bundle.parcels
    supplied = np.flatnonzero((parcels["supply_status"] == "supplied").to_numpy())
    unsupplied = np.flatnonzero((parcels["supply_status"] == "unsupplied").to_numpy())
    in_batch = [i for i in unsupplied if start.audit.parcels["batch_covered_share"].iloc[i] > 0.99]
    rated = np.flatnonzero(start.audit.parcels["mujun_score"].notna().to_numpy())
    i, j, k = int(supplied[0]), int(in_batch[0]), int(rated[0])
    edits = [
        (
            "unsupply",
            parcels["parcel_id"].iloc[i],
            _row(parcels, i, supply_status="unsupplied", supplied_on=None),
        ),
        (
            "supply",
            parcels["parcel_id"].iloc[j],
            _row(
                parcels, j, supply_status="supplied", supplied_on="2020-01-01", agreed_start_on="2021-01-01"
            ),
        ),
        ("tax", parcels["parcel_id"].iloc[k], _row(parcels, k, annual_tax_wan=1e5, annual_output_wan=1e6)),
        ("move", parcels["parcel_id"].iloc[j], _row(parcels, j, parcels.geometry.iloc[j].buffer(40))),
        ("create", "新增-1", _row(parcels, j, parcels.geometry.iloc[j].buffer(60), pid="新增-1")),
        ("delete", parcels["parcel_id"].iloc[i], None),
    ]
    current = start
    grades_before = start.audit.parcels["mujun_grade"].copy()
    for label, pid, row in edits:
        current = apply_edit(current, pid, row)
        full = compute(current.bundle, AS_OF, current.rules)
        _assert_same(current, full)
        if label == "tax":  # one parcel's tax moved other parcels' 亩均 ranks
            changed = (current.audit.parcels["mujun_grade"] != grades_before).sum()
            assert changed > 1, label
    assert len(current.audit.parcels) == len(parcels)  # one created, one deleted
    assert start.audit.parcels["parcel_id"].iloc[i] not in set(current.audit.parcels["parcel_id"])
