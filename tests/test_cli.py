import json
import os
import stat

import pytest
from typer.testing import CliRunner

import geopandas as gpd
from shapely.geometry import box

from api.cli import app
from gis.audit.summary import NO_BATCHES_WARNING

runner = CliRunner()


def test_bad_as_of_exits_2_and_writes_nothing(tmp_path):
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    out = tmp_path / "out"
    result = runner.invoke(app, ["audit", str(bundle), "--as-of", "2025-13-01", "--out", str(out)])
    assert result.exit_code == 2
    assert "--as-of" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_missing_bundle_exits_2(tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["readiness", str(tmp_path / "nope"), "--as-of", "2025-08-31", "--out", str(out)]
    )
    assert result.exit_code == 2
    assert "nope" in result.output
    assert not out.exists()


def _bundle(path, *, batches=False, zone_toml=None):
    """One 1 ha supplied industrial parcel in EPSG:4547 (and a batch over it)."""
    path.mkdir()
    parcels = gpd.GeoDataFrame(
        {"parcel_id": ["P1"], "supply_status": ["supplied"], "planned_use": ["industrial"]},
        geometry=[box(500_000, 3_000_000, 500_100, 3_000_100)],
        crs="EPSG:4547",
    )
    parcels.to_file(path / "parcels.geojson", driver="GeoJSON")
    if batches:
        batch = gpd.GeoDataFrame(
            {"batch_id": ["B1"], "approved_on": ["2020-01-01"]},
            geometry=[box(500_000, 3_000_000, 500_200, 3_000_100)],
            crs="EPSG:4547",
        )
        batch.to_file(path / "batches.geojson", driver="GeoJSON")
    if zone_toml is not None:
        (path / "zone.toml").write_text(zone_toml, encoding="utf-8")
    return path


def audit(bundle, out):
    return runner.invoke(app, ["audit", str(bundle), "--as-of", "2024-06-30", "--out", str(out)])


def test_bad_zone_rule_exits_2_naming_the_file_and_creates_no_parent(tmp_path):
    bundle = _bundle(tmp_path / "bundle", zone_toml='[rules]\n"idle.nonexistent" = 1\n')
    result = audit(bundle, tmp_path / "parent" / "sub")
    assert result.exit_code == 2, result.output
    assert f"file {bundle / 'zone.toml'}," in result.output
    assert "rules.idle.nonexistent" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle"]


@pytest.mark.parametrize("below", ["", "sub"])
def test_out_onto_a_file_exits_2_naming_out(tmp_path, below):
    bundle = _bundle(tmp_path / "bundle")
    (tmp_path / "afile").write_text("x")
    result = audit(bundle, tmp_path / "afile" / below)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "--out" in lines[0] and "afile" in lines[0]
    assert "NotADirectoryError" not in result.output
    assert (tmp_path / "afile").read_text() == "x"


def test_rerun_without_batches_leaves_no_batch_outputs(tmp_path):
    out = tmp_path / "out"
    assert audit(_bundle(tmp_path / "with", batches=True), out).exit_code == 0
    assert {"batches.csv", "unsupplied.geojson"} <= {p.name for p in out.iterdir()}
    (out / "notes.txt").write_text("mine")
    result = audit(_bundle(tmp_path / "without"), out)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "audit.geojson",
        "ledger.xlsx",
        "notes.txt",
        "summary.json",
    ]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert NO_BATCHES_WARNING in summary["warnings"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "with", "without"]


def test_output_directory_has_the_umask_mode(tmp_path):
    old = os.umask(0o022)
    try:
        assert audit(_bundle(tmp_path / "bundle"), tmp_path / "out").exit_code == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o755
