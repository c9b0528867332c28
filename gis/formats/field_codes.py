"""Short ASCII DBF field names: the customary pinyin codes and 10-character cuts (FORMATS.md §5.4).

Kept free of heavy imports, so that the bundle reader's header matching (`gis.io.headers`) can accept the names our
shapefile export writes (`gis.formats.shapefile`) without importing the writer.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

__all__ = ["LEGEND_NAME", "PINYIN_CODES", "read_legend", "short_field_names"]

#: customary field codes of Chinese land data (三调 / 报批 databases) for the fields that have one
PINYIN_CODES = {
    "parcel_id": "DKBH",
    "name": "DKMC",
    "land_use": "DKYT",
    "land_class_code": "DLBM",
    "sheet_no": "TFH",
    "planned_use": "GHYT",
    "declared_points": "JZDS",
    "declared_area_ha": "DKMJ",
    "admin_code": "XZQDM",
    "village": "CM",
    "spot_type": "TBLX",
    "land_class": "DL",
    "grade_before": "GZQ",
    "grade_after": "GZH",
    "remark": "BZ",
    "batch_id": "PCBH",
    "batch_name": "PCMC",
}


def short_field_names(columns: list[str]) -> dict[str, str]:
    """Map each column to a unique ASCII DBF field name of at most 10 characters.

    Examples
    --------
    >>> short_field_names(["parcel_id", "agreed_start_on", "agreed_start_at", "备注"])
    {'parcel_id': 'DKBH', 'agreed_start_on': 'agreed_sta', 'agreed_start_at': 'agreed_s_1', '备注': 'F4'}
    """
    out: dict[str, str] = {}
    used: set[str] = set()
    for position, column in enumerate(columns, start=1):
        base = PINYIN_CODES.get(column) or re.sub(r"[^A-Za-z0-9_]", "", column)[:10]
        if not base or not base[0].isalpha():
            base = f"F{position}" if not base else f"F{base}"[:10]
        name, k = base, 0
        while name.upper() in used:  # DBF names are case-insensitive
            k += 1
            suffix = f"_{k}"
            name = base[: 10 - len(suffix)] + suffix
        used.add(name.upper())
        out[column] = name
    return out


LEGEND_NAME = "字段对照表.csv"


def read_legend(shp: Path) -> dict[str, str]:
    """Short DBF name -> full column name from the ``字段对照表.csv`` beside `shp` (what `shapefile_zip` writes);
    empty when there is none or it cannot be read."""
    path = Path(shp).with_name(LEGEND_NAME)
    try:
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    except (OSError, UnicodeDecodeError, csv.Error):
        return {}
    if not rows or rows[0][:2] != ["字段名", "英文名"]:
        return {}
    return {row[0]: row[1] for row in rows[1:] if len(row) >= 2 and row[0] and row[1]}
