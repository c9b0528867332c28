"""Where a value came from (file, layer, feature), so that every input error points at the offending cell."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gis.errors import InputError

__all__ = ["ROW", "Where", "one_line"]

#: internal column holding each feature's row (tables) or feature number (vector files), 1-based
ROW = "__row__"

#: the field that identifies a feature of each layer in messages
ID_FIELDS = {"parcels": "parcel_id", "batches": "batch_id"}


@dataclass
class Where:
    """A layer's source: the file (and GeoPackage layer), and how its rows are counted in messages."""

    file: Path
    layer: str
    #: "row" for spreadsheets (counted as the user sees them, header included: "row 3") or "feature" for
    #: vector files (numbered from 1: "#3")
    row_word: str = "feature"
    #: the file's format (geojson, gpkg, shp, parquet, csv, xlsx, txt)
    kind: str = ""

    @property
    def id_field(self) -> str | None:
        """The field naming a feature in messages (parcel_id, batch_id), if the layer has one."""
        return ID_FIELDS.get(self.layer)

    def error(self, message: str, *, field: str | None = None, feature: object | None = None) -> InputError:
        """An `InputError` located at this file and layer."""
        return InputError(message, file=self.file, layer=self.layer, feature=feature, field=field)

    def labels(self, frame: pd.DataFrame, positions: Sequence[int] | np.ndarray) -> list[str]:
        """Human labels of the features at `positions`: ``P-003 (row 5)``, ``P-003 (#4)`` or ``#4``."""
        positions = np.asarray(positions, dtype=int)
        rows = (
            frame[ROW].to_numpy()[positions] if ROW in frame.columns else positions + 1
        )  # fallback: position order
        ids: list[object] = [None] * len(positions)
        if self.id_field and self.id_field in frame.columns:
            ids = list(frame[self.id_field].to_numpy()[positions])
        return [
            f"{ident} ({self.row_label(row)})" if _present(ident) else self.row_label(row)
            for ident, row in zip(ids, rows, strict=True)
        ]

    def row_label(self, row: object) -> str:
        """``row 3`` (spreadsheets) or ``#3`` (vector files)."""
        return f"row {row}" if self.row_word == "row" else f"#{row}"

    def fail_rows(
        self,
        frame: pd.DataFrame,
        mask: np.ndarray | pd.Series,
        message: str,
        field: str | None = None,
        values: pd.Series | np.ndarray | None = None,
    ) -> None:
        """Raise an `InputError` naming the first row where `mask` is true (and how many more), if any."""
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        bad = np.flatnonzero(mask)
        label = self.labels(frame, bad[:1])[0]
        if values is not None:
            message = f"{message}: {np.asarray(values, dtype=object)[bad[0]]!r}"
        if len(bad) > 1:
            message = f"{message} (另有 {len(bad) - 1} 处 / and {len(bad) - 1} more)"
        raise self.error(message, field=field, feature=label)


def _present(value: object) -> bool:
    if value is None:
        return False
    try:
        return not bool(pd.isna(value))
    except (TypeError, ValueError):
        return True


def one_line(exc: BaseException) -> str:
    """An exception's message on one line (library messages may span several)."""
    text = " ".join(str(exc).split())
    return text or type(exc).__name__
