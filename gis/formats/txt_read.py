"""Read the 界址点坐标 TXT exchange format (勘测定界 / 建设用地报批 电子报盘), FORMATS.md §1.12.

The format has no formal standard and many dialects, so the reader is tolerant but never silent: every deviation from
the canonical form (fixture B) is a warning naming the line, and only input that cannot be understood raises
`InputError`. Geometry is in the resolved projected CRS with x = easting and y = northing (the file's X is the northing).
Parsing is in `gis.formats.txt_parse`, geometry and CRS resolution in `gis.formats.txt_geometry`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
from pyproj import CRS

from gis.errors import InputError
from gis.formats.txt_geometry import build
from gis.formats.txt_parse import HEADER_ALIASES, Notes, Reporter, decode, parse

__all__ = ["HEADER_ALIASES", "TxtResult", "read_txt"]


@dataclass
class TxtResult:
    """What `read_txt` found.

    Attributes
    ----------
    gdf : GeoDataFrame
        One row per parcel (columns of `HEADER_ALIASES` that the file fills, geometry in `crs`, x = easting).
    crs : pyproj.CRS
        The resolved CRS (an EPSG Gauss-Krüger zone for CGCS2000, Xian-80 and Beijing-54).
    attributes : dict
        The ``[属性描述]`` block as written (keys and values stripped).
    warnings : list of str
        Every deviation from the canonical format, in Chinese with the English gist in brackets.
    encoding : str
        The decoding used: ``utf-8-sig``, ``utf-8``, ``utf-16`` or ``gb18030``.
    sections : dict
        Other sections (``[项目信息]`` …) and stray lines (key ``""``), verbatim.
    """

    gdf: gpd.GeoDataFrame
    crs: CRS
    attributes: dict[str, str]
    warnings: list[str]
    encoding: str = "utf-8"
    sections: dict[str, list[str]] = field(default_factory=dict)


def read_txt(
    source: Path | str | bytes,
    *,
    crs: object = None,
    swap_xy: bool | None = None,
    repair: bool = False,
    name: str | None = None,
) -> TxtResult:
    """Read a 界址点坐标 TXT file.

    Parameters
    ----------
    source : Path, str or bytes
        The file, or its bytes.
    crs : CRS-like, optional
        Use this CRS instead of the one resolved from the file (needed when the file carries neither a zone prefix
        nor 带号). A disagreement with the file is a warning; for a Gauss-Krüger zone the eastings get or lose the
        zone prefix to fit it. An unknown CRS, or one the coordinates cannot be in (degrees vs metres, another
        zone, outside China), is an `InputError` with field ``crs``.
    swap_xy : bool, optional
        Force the column order: False = the standard (X northing, Y easting), True = easting first. By default it is
        detected from the values (FORMATS.md §1.8) and a swap is reported.
    repair : bool
        Apply ``make_valid`` to invalid parcels (always reported; by default they are kept as read).
    name : str, optional
        The file name used in messages when `source` is bytes.

    Returns
    -------
    TxtResult

    Raises
    ------
    InputError
        When the file cannot be decoded or parsed; the message names the file and the line.

    Examples
    --------
    >>> txt = "[属性描述]\\n带号=39\\n[地块坐标]\\n5,1.0000,D1,一号,面,,,,@\\n"
    >>> txt += "J1,1,3400100,39500000\\nJ2,1,3400100,39500100\\nJ3,1,3400000,39500100\\n"
    >>> txt += "J4,1,3400000,39500000\\nJ1,1,3400100,39500000\\n"
    >>> result = read_txt(txt.encode())
    >>> result.crs.to_epsg(), float(result.gdf.area.iloc[0])
    (4527, 10000.0)
    """
    if isinstance(source, bytes):
        data, where = source, name or "TXT"
    else:
        path = Path(source)
        where = name or str(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"无法读取文件 (cannot read): {exc.strerror}", file=where) from exc
    notes = Notes()
    reader = Reporter(where, notes)
    text, encoding = decode(data, reader)
    if encoding.startswith("utf-16"):
        notes.add(f"文件编码为 {encoding.upper()},通常为 GBK (encoding {encoding})")
    attributes, parcels, field_names, sections = parse(text, reader)
    if not parcels:
        reader.fail("没有地块 (no parcel header line ending in ',@' in [地块坐标])")
    gdf, resolved = build(parcels, attributes, field_names, reader, crs, swap_xy, repair)
    return TxtResult(gdf, resolved, attributes, notes.render(), encoding, sections)
