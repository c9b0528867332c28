"""Downloads (CONTRACT §5 ``/exports/{layer}.{fmt}``): the bytes of one layer in one format, and their file names."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd

import geopandas as gpd

from api.collections import Collection, FeatureStore, json_values
from gis.audit.ledger import neutralize
from gis.errors import InputError, NotFoundError
from gis.outputs import geojson_bytes, json_default, write_gpkg

__all__ = ["FORMATS", "content_disposition", "export_bytes", "export_name"]

#: format -> media type
FORMATS = {
    "geojson": "application/geo+json",
    "gpkg": "application/geopackage+sqlite3",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "zip": "application/zip",
    "txt": "text/plain; charset=gbk",
}
#: layers whose xlsx download is the 三清 ledger
LEDGER_LAYERS = ("ledger", "parcels", "idle", "low_efficiency", "unsupplied")


def export_name(layer: str, fmt: str, title: str, zone: str) -> tuple[str, str]:
    """(Chinese file name, ASCII fallback), e.g. ("某开发区_地块.geojson", "parcels.geojson")."""
    chinese = "三清台账" if fmt == "xlsx" and layer in LEDGER_LAYERS else title
    prefix = f"{zone}_" if zone else ""
    return f"{prefix}{chinese}.{fmt}", f"{layer}.{fmt}"


def content_disposition(name: str, ascii_name: str) -> str:
    """An attachment header with an RFC 5987 UTF-8 name and an ASCII fallback for old clients."""
    safe = ascii_name.encode("ascii", "replace").decode().replace('"', "")
    return f"attachment; filename=\"{safe}\"; filename*=UTF-8''{quote(name, safe='')}"


def _plain_frame(gdf: pd.DataFrame) -> pd.DataFrame:
    """Properties with lists and dicts as JSON text and dates as ISO text (for csv, xlsx and GeoPackage)."""
    out = {}
    for name in gdf.columns:
        if isinstance(gdf[name].dtype, gpd.array.GeometryDtype):
            continue
        s = gdf[name]
        if s.dtype == object and s.map(lambda v: isinstance(v, list | dict | tuple)).any():
            out[name] = [
                None if v is None else json.dumps(v, ensure_ascii=False, default=json_default)
                for v in json_values(s)
            ]
        elif pd.api.types.is_datetime64_any_dtype(s.dtype):
            out[name] = json_values(s)
        else:
            out[name] = s
    return pd.DataFrame(out, index=gdf.index)


def _gpkg(gdf: gpd.GeoDataFrame, layer: str) -> bytes:
    plain = gpd.GeoDataFrame(_plain_frame(gdf), geometry=gdf.geometry.values, crs=gdf.crs)
    with tempfile.TemporaryDirectory(prefix="landready-export-") as tmp:
        path = Path(tmp) / f"{layer}.gpkg"
        write_gpkg(plain, path, layer)
        return path.read_bytes()


def _spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Text a spreadsheet would run as a formula (=, +, -, @) prefixed with ' (as in the 台账)."""
    out = frame.copy()
    for name in out.columns:
        if name != "wkt" and not pd.api.types.is_numeric_dtype(out[name]):
            out[name] = neutralize(out[name])
    return out


def _csv(frame: pd.DataFrame) -> bytes:
    # UTF-8 with a BOM: Excel in China opens it without mojibake
    return _spreadsheet_safe(frame).to_csv(index=False).encode("utf-8-sig")


def _xlsx_table(frame: pd.DataFrame, sheet: str) -> bytes:
    with tempfile.TemporaryDirectory(prefix="landready-export-") as tmp:
        path = Path(tmp) / "table.xlsx"
        _spreadsheet_safe(frame).to_excel(path, sheet_name=sheet[:31], index=False)
        return path.read_bytes()


def _ledger(results: Any, lang: str, followups: dict[str, dict[str, Any]] | None) -> bytes:
    from gis.audit.ledger import write_ledger

    with tempfile.TemporaryDirectory(prefix="landready-export-") as tmp:
        path = Path(tmp) / "ledger.xlsx"
        write_ledger(results.audit, path, lang=lang, followups=followups)  # type: ignore[arg-type]
        return path.read_bytes()


def export_bytes(
    store: FeatureStore,
    results: Any,
    layer: str,
    fmt: str,
    *,
    lang: str = "zh",
    followups: dict[str, dict[str, Any]] | None = None,
) -> bytes:
    """The download of `layer` in `fmt`; NotFoundError for an unknown layer, InputError for an unknown format.

    `followups` (the auditors' ledger entries by parcel id) fill the ledger's 责任单位 / 处置期限 / 处置进展.
    """
    if fmt not in FORMATS:
        raise InputError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}", field="fmt")
    if fmt == "xlsx" and layer in LEDGER_LAYERS:
        if results is None:
            raise NotFoundError("no audit is loaded, so there is no ledger")
        return _ledger(results, lang, followups)
    if layer == "batches" and fmt == "csv" and results is not None and results.audit.batches is not None:
        return _csv(_plain_frame(results.audit.batches))
    if layer == "ledger":
        raise InputError("the ledger is only offered as xlsx", field="fmt")
    c: Collection = store.get(layer)
    gdf = c.gdf
    if fmt == "geojson":
        return geojson_bytes(gdf)
    if fmt == "gpkg":
        return _gpkg(gdf, layer)
    if fmt == "csv":
        frame = _plain_frame(gdf)
        frame["wkt"] = gdf.geometry.to_wkt().to_numpy()  # CONTRACT §2: a csv layer carries a wkt column
        return _csv(frame)
    if fmt == "xlsx":
        return _xlsx_table(_plain_frame(gdf), c.title)
    if fmt == "zip":
        from gis.formats.shapefile import shapefile_zip

        return shapefile_zip(gdf, layer)
    from gis.formats.txt import write_txt

    return write_txt(gdf)
