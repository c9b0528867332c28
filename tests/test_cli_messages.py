"""The CLI prints ids, names and paths as given: text like "[/x]" or "[bold]" is data, not Rich markup."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
from shapely.geometry import box

from tests.test_api_edit_support import run_cli


def _bundle(directory: Path, ids: list[str]) -> Path:
    directory.mkdir(parents=True)
    gpd.GeoDataFrame(
        {"parcel_id": ids},
        geometry=[
            box(39_500_000 + 200 * i, 3_500_000, 39_500_100 + 200 * i, 3_500_100) for i in range(len(ids))
        ],
        crs=4527,
    ).to_file(directory / "parcels.gpkg")
    return directory


def test_an_error_naming_a_bracketed_id_is_one_line_with_the_id_intact(tmp_path: Path) -> None:
    for pid in ("[/x]", "[bold]A"):
        bundle = _bundle(tmp_path / f"b{len(pid)}", [pid, pid])
        run = run_cli("audit", bundle, "--as-of", "2025-08-31", "--out", tmp_path / f"out{len(pid)}")
        assert run.returncode == 2, run.stderr
        lines = run.stderr.strip().splitlines()
        assert len(lines) == 1 and pid in lines[0], run.stderr
        assert not (tmp_path / f"out{len(pid)}").exists()


def test_a_bracketed_output_path_is_printed_as_given(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path / "bundle", ["A1"])
    target = tmp_path / "[2025]审计"
    run = run_cli("audit", bundle, "--as-of", "2025-08-31", "--out", target)
    assert run.returncode == 0, run.stderr
    assert str(target) in run.stdout


def test_readiness_prints_what_it_could_not_check_or_repaired(tmp_path: Path) -> None:
    from shapely.geometry import Polygon

    bundle = tmp_path / "bow"
    bundle.mkdir()
    x, y = 39_500_000, 3_500_000
    bowtie = Polygon([(x, y), (x + 100, y + 100), (x + 100, y), (x, y + 100)])
    gpd.GeoDataFrame({"parcel_id": ["B1"]}, geometry=[bowtie], crs=4527).to_file(bundle / "parcels.gpkg")
    run = run_cli("readiness", bundle, "--as-of", "2025-08-31", "--out", tmp_path / "out")
    assert run.returncode == 0, run.stderr
    assert "警告 warning" in run.stderr and "B1" in run.stderr
