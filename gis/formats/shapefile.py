"""Zipped shapefile export for Chinese desktop GIS: GBK with a .cpg, short ASCII field names and a legend (FORMATS.md §5).

DBF field names hold 10 bytes, so Chinese or long English names cannot survive (UTF-8 Chinese names are even cut in
the middle of a character, §5.3). We write short ASCII names — the customary pinyin codes (DKBH, DKMC, DLBM …) where
one exists, else the English name cut to 10 characters and made unique — plus ``字段对照表.csv`` (UTF-8 with BOM, so
Excel opens it) mapping each short name to the English and Chinese names.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import tempfile
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

import geopandas as gpd

from gis.errors import InputError
from gis.formats.field_codes import LEGEND_NAME, PINYIN_CODES, short_field_names
from gis.formats.txt_read import HEADER_ALIASES
from gis.outputs import json_default
from gis.schema import chinese_name

__all__ = ["LEGEND_NAME", "PINYIN_CODES", "shapefile_zip", "short_field_names"]


_MAX_BYTES = 254  # DBF string fields


def shapefile_zip(
    gdf: gpd.GeoDataFrame,
    layer: str,
    *,
    encoding: str = "GBK",
    warnings_out: list[str] | None = None,
) -> bytes:
    """A zip of ``<layer>.shp/.shx/.dbf/.prj/.cpg`` in `encoding` and the field legend ``字段对照表.csv``.

    Parameters
    ----------
    gdf : GeoDataFrame
        Any columns: lists and dicts are written as JSON text, dates as ``YYYY-MM-DD`` text, booleans as logical
        fields. Polygons and MultiPolygons may be mixed (a shapefile polygon holds both).
    layer : str
        The base name of the files and the layer whose Chinese field names go into the legend
        (`gis.schema.chinese_name`).
    encoding : str
        ``"GBK"`` (default, what ArcGIS-era county data uses), ``"GB18030"`` or ``"UTF-8"``.
    warnings_out : list, optional
        Receives the names of text values cut to the 254-byte DBF limit.

    Returns
    -------
    bytes

    Raises
    ------
    InputError
        When a value cannot be encoded in `encoding` (naming the feature and field), or `gdf` has no CRS.
    """
    notes = warnings_out if warnings_out is not None else []
    if gdf.crs is None:
        raise InputError("图层没有坐标参考系 (layer has no CRS)", layer=layer)
    base = re.sub(r'[\\/:*?"<>|\s]+', "_", layer).strip("_") or "layer"
    geometry = gdf.geometry.name
    columns = [c for c in gdf.columns if c != geometry]
    names = short_field_names([str(c) for c in columns])
    ids = _feature_ids(gdf)
    table = {}
    for column in columns:
        table[names[str(column)]] = _dbf_values(gdf[column], str(column), encoding, ids, layer, notes)
    out = gpd.GeoDataFrame(table, geometry=gdf.geometry.values, crs=gdf.crs)
    with tempfile.TemporaryDirectory(prefix="landready-shp-") as tmp:
        path = Path(tmp) / f"{base}.shp"
        with warnings.catch_warnings():
            # GDAL warns when it narrows a width; values were checked and cut above
            warnings.simplefilter("ignore", RuntimeWarning)
            out.to_file(path, driver="ESRI Shapefile", encoding=encoding, engine="pyogrio")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
                file = path.with_suffix(ext)
                if file.exists():
                    archive.write(file, file.name)
            archive.writestr(LEGEND_NAME, _legend(columns, names, layer))
    return buffer.getvalue()


def _feature_ids(gdf: gpd.GeoDataFrame) -> list[object]:
    for column in ("parcel_id", "地块编号", "batch_id"):
        if column in gdf.columns:
            return gdf[column].tolist()
    return list(range(1, len(gdf) + 1))


def _dbf_values(
    series: pd.Series, column: str, encoding: str, ids: list[object], layer: str, notes: list[str]
) -> pd.Series | np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(series):
        return series.dt.strftime("%Y-%m-%d").astype(object).where(series.notna(), None)
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
        return series.to_numpy() if not isinstance(series.dtype, pd.ArrowDtype) else series.astype(float)
    values = []
    for row, value in enumerate(series.tolist()):
        text = _as_text(value)
        if text is not None:
            try:
                encoded = text.encode(encoding)
            except UnicodeEncodeError as exc:
                bad = text[exc.start : exc.end]
                raise InputError(
                    f"{bad!r} (U+{ord(bad[0]):04X}) 无法用 {encoding} 编码 (character not encodable in {encoding})",
                    layer=layer,
                    feature=ids[row],
                    field=column,
                ) from exc
            if len(encoded) > _MAX_BYTES:
                # cut at a character boundary; GDAL would cut inside a double-byte character
                text = encoded[:_MAX_BYTES].decode(encoding, errors="ignore")
                notes.append(f"要素 {ids[row]} 字段 {column} 超过 {_MAX_BYTES} 字节,已截断 (text truncated)")
        values.append(text)
    return pd.Series(values, index=series.index, dtype=object)


def _as_text(value: object) -> str | None:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, list | dict | tuple | np.ndarray):
        return json.dumps(value, ensure_ascii=False, default=json_default)
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if hasattr(value, "isoformat"):
        return value.isoformat()  # type: ignore[no-any-return]
    return str(value)


def _legend(columns: list, names: dict[str, str], layer: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["字段名", "英文名", "中文名"])
    for column in columns:
        english = str(column)
        chinese = chinese_name(layer, english)
        if chinese == english:
            chinese = HEADER_ALIASES.get(english, english)
        writer.writerow([names[english], english, chinese])
    return buffer.getvalue().encode("utf-8-sig")
