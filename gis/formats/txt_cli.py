"""The file-to-file steps behind ``landready import-txt`` and ``landready export-txt`` (CONTRACT §1).

Both write the output only when everything succeeded: the output goes to a temporary file beside `out` that is
renamed at the end, so bad input never leaves a partial file behind.

``import-txt`` writes GeoJSON (RFC 7946: EPSG:4326, 7 decimals), or a GeoPackage / GeoParquet layer that keeps the
file's own Gauss-Krüger CRS. Every output carries the ``[属性描述]`` values as fields named by their keys
(格式版本号, 数据产生单位, 数据产生日期 …), which ``export-txt`` writes back, so that TXT → GeoPackage → TXT
reproduces the file.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

import geopandas as gpd
import shapely

from gis.errors import InputError
from gis.formats.gauss_kruger import datum_shift_note
from gis.formats.txt_read import read_txt
from gis.formats.txt_write import HEADER_KEYS, value_text, write_txt
from gis.io.vector import read_shapefile
from gis.outputs import geojson_bytes, write_gpkg

__all__ = ["OUTPUT_TYPES", "export_txt", "import_txt", "read_layer"]

#: `import_txt` output types by file extension
OUTPUT_TYPES = {
    ".geojson": "geojson",
    ".json": "geojson",
    ".gpkg": "gpkg",
    ".parquet": "parquet",
    ".geoparquet": "parquet",
}
#: the GeoPackage layer name, so that the file can serve as a bundle (CONTRACT §2)
GPKG_LAYER = "parcels"


def import_txt(
    src: Path, out: Path, *, crs: object = None, swap_xy: bool | None = None, repair: bool = False
) -> list[str]:
    """Convert a 界址点坐标 TXT file to a layer file chosen by the extension of `out`; return the warnings.

    Parameters
    ----------
    src : Path
        The TXT file.
    out : Path
        ``.geojson`` / ``.json`` (RFC 7946, EPSG:4326, 7 decimals), ``.gpkg`` (layer ``parcels``) or ``.parquet``;
        the last two keep the TXT's Gauss-Krüger CRS and its coordinates exactly.
    crs : CRS-like, optional
        The CRS of the coordinates when the file cannot tell (no zone prefix and no 带号). The zone prefix is
        added or removed to fit it; coordinates that cannot be in it are an error.
    swap_xy : bool, optional
        The column order when detection cannot tell (the far south): False = X northing first (the standard),
        True = easting first; None detects it (`gis.formats.txt_read.read_txt`).
    repair : bool
        Repair invalid parcels with ``make_valid`` (reported either way).

    Raises
    ------
    InputError
        When the TXT is malformed (naming the file and line), `crs` is unknown or does not fit the coordinates
        (field ``--crs``), or `out` has another extension (field ``--out``).
    """
    out = Path(out)
    kind = OUTPUT_TYPES.get(out.suffix.lower())
    if kind is None:
        raise InputError(
            f"不支持的输出类型 {out.suffix or '(无扩展名)'},请用 .geojson、.gpkg 或 .parquet "
            f"(unsupported output type {out.suffix or '(no extension)'!r}: use .geojson, .gpkg or .parquet)",
            file=out,
            field="--out",
        )
    try:
        result = read_txt(Path(src), crs=crs, swap_xy=swap_xy, repair=repair)
    except InputError as exc:
        if exc.field != "crs":
            raise
        raise InputError(exc.message, file=exc.file, feature=exc.feature, field="--crs") from None
    notes = list(result.warnings)
    gdf = _with_attributes(result.gdf, result.attributes, notes)
    if kind == "geojson":
        wgs = _to_lonlat(gdf, Path(src), result.attributes, notes)
        _write_atomic(out, lambda path: path.write_bytes(geojson_bytes(wgs)))
    elif kind == "gpkg":
        _write_atomic(out, lambda path: write_gpkg(gdf, path, GPKG_LAYER))
    else:
        _write_atomic(out, lambda path: gdf.to_parquet(path))
    return notes


def export_txt(layer_path: Path, out: Path, *, encoding: str = "gbk", split_parts: bool = False) -> list[str]:
    """Write the polygons of a vector layer file as a 界址点坐标 TXT file (GBK, CRLF).

    A layer in a CGCS2000 (or Xian-80, Beijing-54) Gauss-Krüger zone keeps its zone; a geographic layer, or any
    other projection, goes to the CGCS2000 3° zone whose central meridian is nearest the layer's centroid. Eastings
    carry the zone prefix. ``[属性描述]`` values come from fields named 格式版本号, 数据产生单位, 数据产生日期 …
    when the layer has them (as `import_txt` writes). Returns what the reader and the writer noticed (for example a
    comma replaced in a name).

    Raises
    ------
    InputError
        For an unreadable layer, a layer without CRS, a non-polygon or empty geometry, or text `encoding` cannot hold.
    """
    notes: list[str] = []
    gdf = read_layer(Path(layer_path), warnings=notes)
    attributes = _attributes_from_fields(gdf, notes)
    try:
        data = write_txt(
            gdf, attributes=attributes, encoding=encoding, split_parts=split_parts, warnings=notes
        )
    except InputError as exc:
        exc.file = exc.file or str(layer_path)
        raise InputError(
            exc.message, file=exc.file, layer=exc.layer, feature=exc.feature, field=exc.field
        ) from exc
    _write_atomic(Path(out), lambda path: path.write_bytes(data))
    return notes


def read_layer(path: Path, *, warnings: list[str] | None = None) -> gpd.GeoDataFrame:
    """A vector layer file (GeoJSON, GeoPackage, shapefile, GeoParquet) as a GeoDataFrame, errors as InputError.

    A shapefile is read as the bundle reader reads it (its encoding sniffed when there is no .cpg, FORMATS.md §5.4);
    the short field names of our own export are restored from ``字段对照表.csv`` beside it. Notes go to `warnings`.
    """
    if not path.exists():
        raise InputError("文件不存在 (file not found)", file=path)
    suffix = path.suffix.lower()
    if suffix == ".shp":
        gdf, notes = read_shapefile(path, layer=path.stem)
        if warnings is not None:
            warnings.extend(notes)
    else:
        try:
            gdf = gpd.read_parquet(path) if suffix in (".parquet", ".geoparquet") else gpd.read_file(path)
        except Exception as exc:  # pyogrio / arrow raise many types for unreadable files
            raise InputError(f"无法读取图层 (cannot read the layer): {exc}", file=path) from exc
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry is None:
        raise InputError("文件中没有几何列 (no geometry column)", file=path)
    if gdf.crs is None:
        raise InputError("图层没有坐标参考系 (layer has no CRS)", file=path)
    return gdf


def _with_attributes(gdf: gpd.GeoDataFrame, attributes: dict[str, str], notes: list[str]) -> gpd.GeoDataFrame:
    """`gdf` with one text column per ``[属性描述]`` key, before the geometry."""
    out = gdf.copy()
    geometry = out.geometry.name
    for key, value in attributes.items():
        if key in out.columns:
            notes.append(f"属性 {key} 与地块字段同名,未作为字段写出 (attribute {key} clashes with a field)")
            continue
        out[key] = pd.Series([value] * len(out), index=out.index, dtype=object)
    return out[[c for c in out.columns if c != geometry] + [geometry]]


def _attributes_from_fields(gdf: gpd.GeoDataFrame, notes: list[str]) -> dict[str, str]:
    """``[属性描述]`` values from the layer's fields named by the standard keys (one value per layer)."""
    attributes: dict[str, str] = {}
    for key in HEADER_KEYS:
        if key not in gdf.columns:
            continue
        values = [v for v in dict.fromkeys(value_text(v) for v in gdf[key].tolist()) if v is not None]
        if not values:
            continue
        if len(values) > 1:
            notes.append(
                f"字段 {key} 有 {len(values)} 个不同的值,写出第一个 {values[0]!r} "
                f"(field {key} differs between features; the first value is written)"
            )
        attributes[key] = values[0]
    return attributes


def _to_lonlat(
    gdf: gpd.GeoDataFrame, src: Path, attributes: dict[str, str], notes: list[str]
) -> gpd.GeoDataFrame:
    """`gdf` in EPSG:4326, refusing coordinates that do not transform (never written as Infinity)."""
    wgs = gdf.to_crs(4326)
    xy, rows = shapely.get_coordinates(wgs.geometry.to_numpy(), return_index=True)
    bad = ~np.isfinite(xy).all(axis=1) | (np.abs(xy[:, 0]) > 180) | (np.abs(xy[:, 1]) > 90)
    if bad.any():
        row = int(rows[np.flatnonzero(bad)[0]])
        feature = wgs["parcel_id"].iloc[row] if "parcel_id" in wgs else row + 1
        raise InputError(
            f"坐标无法转换为经纬度,坐标系 {gdf.crs.to_string() if gdf.crs else '?'} 与坐标不符 "
            "(coordinates do not transform to longitude/latitude: the CRS does not fit them)",
            file=src,
            feature=feature,
            field="geometry",
        )
    if gdf.crs is not None and len(xy):
        note = datum_shift_note(gdf.crs, tuple(wgs.total_bounds))
        if note is not None:
            if any(p.strip() for p in attributes.get("转换参数", "").split(",")):
                note += "; 文件中的转换参数未使用 (the file's 转换参数 were not applied)"
            notes.append(note)
    return wgs


def _write_atomic(out: Path, write: Callable[[Path], object]) -> None:
    """Call ``write(path)`` on a temporary path beside `out`, then move it into place; nothing is left on error."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        partial = tmp / out.name
        write(partial)
        os.replace(partial, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
