from typer.testing import CliRunner

from api.cli import app

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
