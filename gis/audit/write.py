"""Write an audit's five output files into a directory (CONTRACT §1 ``landready audit``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from gis.audit.ledger import write_ledger
from gis.outputs import json_default, write_geojson

if TYPE_CHECKING:
    from gis.audit import AuditResult

__all__ = ["BATCHES_CSV_COLUMNS", "write_audit_outputs", "write_batches_csv", "write_summary"]

BATCHES_CSV_COLUMNS = ["batch_id", "approved_on", "batch_m2", "supplied_m2", "unsupplied_m2", "supply_rate"]


def write_audit_outputs(result: AuditResult, out_dir: Path, *, lang: str = "zh") -> list[Path]:
    """Write ``audit.geojson``, ``unsupplied.geojson``, ``batches.csv``, ``summary.json`` and ``ledger.xlsx``.

    Without a ``batches`` layer (``result.batches is None``) the two batch files are not written (CONTRACT
    §4.3). Call it inside `gis.outputs.atomic_dir` so that a failure leaves nothing behind.

    Parameters
    ----------
    result : gis.audit.AuditResult
        The audit.
    out_dir : pathlib.Path
        An existing directory.
    lang : {"zh", "en"}
        Ledger language.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    out_dir = Path(out_dir)
    written = [out_dir / "audit.geojson"]
    write_geojson(result.parcels, written[-1])
    if result.unsupplied is not None:
        written.append(out_dir / "unsupplied.geojson")
        write_geojson(result.unsupplied, written[-1])
    if result.batches is not None:
        written.append(out_dir / "batches.csv")
        write_batches_csv(result.batches, written[-1])
    written.append(out_dir / "summary.json")
    write_summary(result.summary, written[-1])
    written.append(out_dir / "ledger.xlsx")
    write_ledger(result, written[-1], lang=lang)  # type: ignore[arg-type]
    return written


def write_batches_csv(batches: pd.DataFrame, path: Path) -> None:
    """``batches.csv``: the §4.3 columns in order, dates ISO, UTF-8."""
    table = batches.reindex(columns=BATCHES_CSV_COLUMNS).copy()
    when = pd.to_datetime(table["approved_on"], errors="coerce")
    table["approved_on"] = when.dt.strftime("%Y-%m-%d").where(when.notna(), "")
    table.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")


def write_summary(summary: dict, path: Path) -> None:
    """``summary.json``, UTF-8 with Chinese kept readable; NaN becomes null."""
    text = json.dumps(_nan_to_none(summary), ensure_ascii=False, indent=2, default=json_default)
    Path(path).write_text(text + "\n", encoding="utf-8")


def _nan_to_none(value):  # type: ignore[no-untyped-def]
    if isinstance(value, dict):
        return {k: _nan_to_none(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_nan_to_none(v) for v in value]
    if isinstance(value, float) and value != value:
        return None
    return value
