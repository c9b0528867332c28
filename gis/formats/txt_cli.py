"""The file-to-file steps behind ``landready import-txt`` and ``landready export-txt`` (CONTRACT §1).

Both write the output only when everything succeeded: the bytes go to a temporary file beside `out` that is renamed at
the end, so bad input never leaves a partial file behind.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import geopandas as gpd

from gis.errors import InputError
from gis.formats.txt_read import read_txt
from gis.formats.txt_write import write_txt
from gis.outputs import geojson_bytes

__all__ = ["export_txt", "import_txt", "read_layer"]


def import_txt(src: Path, out: Path, *, crs: object = None) -> list[str]:
    """Convert a 界址点坐标 TXT file to RFC 7946 GeoJSON (EPSG:4326, 7 decimals); return the reader's warnings.

    Parameters
    ----------
    src : Path
        The TXT file.
    out : Path
        The GeoJSON file to write.
    crs : CRS-like, optional
        The CRS of the coordinates when the file cannot tell (no zone prefix and no 带号).

    Raises
    ------
    InputError
        When the TXT is malformed (naming the file and line).
    """
    result = read_txt(Path(src), crs=crs)
    _write_atomic(Path(out), geojson_bytes(result.gdf))
    return result.warnings


def export_txt(layer_path: Path, out: Path, *, encoding: str = "gbk", split_parts: bool = False) -> list[str]:
    """Write the polygons of a vector layer file as a 界址点坐标 TXT file (GBK, CRLF).

    A layer in a CGCS2000 (or Xian-80, Beijing-54) Gauss-Krüger zone keeps its zone; a geographic layer, or any
    other projection, goes to the CGCS2000 3° zone whose central meridian is nearest the layer's centroid. Eastings
    carry the zone prefix. Returns what the writer changed (for example a comma replaced in a name).

    Raises
    ------
    InputError
        For an unreadable layer, a layer without CRS, a non-polygon or empty geometry, or text `encoding` cannot hold.
    """
    gdf = read_layer(Path(layer_path))
    notes: list[str] = []
    try:
        data = write_txt(gdf, encoding=encoding, split_parts=split_parts, warnings=notes)
    except InputError as exc:
        exc.file = exc.file or str(layer_path)
        raise InputError(
            exc.message, file=exc.file, layer=exc.layer, feature=exc.feature, field=exc.field
        ) from exc
    _write_atomic(Path(out), data)
    return notes


def read_layer(path: Path) -> gpd.GeoDataFrame:
    """A vector layer file (GeoJSON, GeoPackage, shapefile, GeoParquet) as a GeoDataFrame, errors as InputError."""
    if not path.exists():
        raise InputError("文件不存在 (file not found)", file=path)
    try:
        if path.suffix.lower() in (".parquet", ".geoparquet"):
            gdf = gpd.read_parquet(path)
        else:
            try:
                gdf = gpd.read_file(path)
            except UnicodeDecodeError:
                # a GBK shapefile with a missing or wrong .cpg (FORMATS.md §5.4)
                gdf = gpd.read_file(path, encoding="GB18030")
    except Exception as exc:  # pyogrio / arrow raise many types for unreadable files
        raise InputError(f"无法读取图层 (cannot read the layer): {exc}", file=path) from exc
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry is None:
        raise InputError("文件中没有几何列 (no geometry column)", file=path)
    if gdf.crs is None:
        raise InputError("图层没有坐标参考系 (layer has no CRS)", file=path)
    return gdf


def _write_atomic(out: Path, data: bytes) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
