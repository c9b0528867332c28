"""Reading vector layer files: GeoJSON, GeoPackage, Shapefile (GBK or UTF-8) and GeoParquet.

Shapefile text encoding (FORMATS.md §5.4): an explicit ``encoding`` wins; with a ``.cpg`` GDAL uses it, and a
`UnicodeDecodeError` (a ``.cpg`` saying UTF-8 over GBK bytes) is retried as GB18030; without a ``.cpg`` the DBF's
text bytes are tested as strict UTF-8, else read as GB18030 (a superset of GBK and GB2312). Text that still
looks like Latin-1 mojibake (``µØ¿é``) gets a warning.
"""

from __future__ import annotations

import codecs
import struct
from pathlib import Path

import pandas as pd
import pyarrow as pa

import geopandas as gpd
import pyogrio

from gis.errors import InputError
from gis.formats.field_codes import read_legend
from gis.io.fields import MOJIBAKE
from gis.io.where import one_line

__all__ = ["garbled", "list_gpkg_layers", "read_parquet", "read_shapefile", "read_vector"]

_SAMPLE_BYTES = 4 << 20  # DBF bytes tested for UTF-8
_ICONV = {
    "latin-1": "ISO-8859-1",
    "iso8859-1": "ISO-8859-1",
    "utf-8": "UTF-8",
    "gbk": "GBK",
    "gb18030": "GB18030",
    "gb2312": "GB2312",
}


def _ogr(path: Path, **kwargs: object) -> gpd.GeoDataFrame:
    """pyogrio with Arrow (fast); the geometry column is always called ``geometry``."""
    gdf = gpd.read_file(path, engine="pyogrio", use_arrow=True, **kwargs)
    if gdf.geometry.name != "geometry":
        gdf = gdf.rename_geometry("geometry")
    return gdf


def _unreadable(path: Path, exc: Exception, layer: str | None = None) -> InputError:
    return InputError(f"文件无法读取 (cannot read file: {one_line(exc)})", file=path, layer=layer)


def list_gpkg_layers(path: Path) -> list[str]:
    """The vector layers of a GeoPackage."""
    try:
        return [str(name) for name, geom in pyogrio.list_layers(path) if geom is not None]
    except Exception as exc:  # pyogrio raises several error types for corrupt files
        raise _unreadable(path, exc) from None


def read_vector(path: Path, *, layer: str, gpkg_layer: str | None = None) -> gpd.GeoDataFrame:
    """Read a GeoJSON file or a GeoPackage layer; any failure is an `InputError` naming the file."""
    try:
        if gpkg_layer:
            return _ogr(path, layer=gpkg_layer)
        # GDAL would turn "2020-02-30" into 2020-03-01 silently: keep dates as text and check them ourselves
        return _ogr(path, DATE_AS_STRING="YES")
    except Exception as exc:
        raise _unreadable(path, exc, layer) from None


def read_parquet(path: Path, *, layer: str) -> gpd.GeoDataFrame | pd.DataFrame:
    """A GeoParquet file as a GeoDataFrame; a plain Parquet table (no geo metadata) as a DataFrame."""
    try:
        gdf = gpd.read_parquet(path)
    except ValueError as exc:
        if "geo" not in str(exc).lower():
            raise _unreadable(path, exc, layer) from None
        try:
            return pd.read_parquet(path)
        except Exception as exc2:
            raise _unreadable(path, exc2, layer) from None
    except Exception as exc:
        raise _unreadable(path, exc, layer) from None
    if gdf.geometry.name != "geometry":
        gdf = gdf.rename_geometry("geometry")
    return gdf


def _iconv_name(encoding: str) -> str:
    """The name GDAL (iconv) knows for a Python codec name: latin-1 → ISO-8859-1, cp936 → GBK."""
    try:
        python_name = codecs.lookup(encoding).name
    except LookupError:
        return encoding
    return _ICONV.get(python_name, encoding.upper())


def _dbf_parts(dbf: Path) -> tuple[list[bytes], bytes]:
    """The raw field names and a sample of whole records of a DBF file."""
    with dbf.open("rb") as fh:
        head = fh.read(32)
        if len(head) < 32:
            return [], b""
        header_len, record_len = struct.unpack("<HH", head[8:12])
        descriptors = fh.read(max(header_len - 32, 0))
        records = fh.read(_SAMPLE_BYTES // max(record_len, 1) * max(record_len, 1))
    names = []
    for start in range(0, len(descriptors) - 31, 32):
        if descriptors[start] == 0x0D:
            break
        names.append(descriptors[start : start + 11].split(b"\x00", 1)[0])
    return names, records


def _decodes(data: bytes, encoding: str, *, truncated_ok: bool = False) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError as exc:
        # DBF field names are cut at 10 bytes, possibly inside a character
        return truncated_ok and exc.reason == "unexpected end of data" and exc.end == len(data)
    return True


def _sniff_dbf(dbf: Path) -> str | None:
    """UTF-8 when the DBF's non-ASCII bytes are UTF-8 (names may be cut inside a character), else GB18030;
    None when everything is ASCII."""
    names, records = _dbf_parts(dbf)
    if all(n.isascii() for n in names) and records.isascii():
        return None
    utf8 = all(_decodes(n, "utf-8", truncated_ok=True) for n in names) and _decodes(records, "utf-8")
    return "UTF-8" if utf8 else "GB18030"


def _decode_name(raw: bytes, encoding: str) -> tuple[str, bool]:
    """A field name decoded, dropping a character cut by the 10-byte limit; (name, was_cut)."""
    try:
        return raw.decode(encoding), False
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data" and exc.end == len(raw):
            return raw[: exc.start].decode(encoding, errors="replace"), True
        try:
            return raw.decode("gb18030"), False
        except UnicodeDecodeError:
            return raw.decode(encoding, errors="replace"), False


def _transcode(gdf: gpd.GeoDataFrame, encoding: str) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Re-decode a layer read as ISO-8859-1 (bytes kept one to one) with `encoding`, else GB18030 per column."""
    notes: list[str] = []
    renames: dict[str, str] = {}
    for column in gdf.columns:
        if column == "geometry":
            continue
        name, cut = _decode_name(str(column).encode("latin-1"), encoding)
        if cut:
            notes.append(f"字段名 {name!r} 在 10 字节处被截断 (field name cut at the 10-byte DBF limit)")
        renames[column] = name
        values = gdf[column]
        if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
            present = values.dropna()
            if present.empty or not all(isinstance(v, str) for v in present.iloc[:1]):
                continue
            raw = present.str.encode("latin-1")
            sample = b"\x00".join(raw.iloc[:5000].tolist())
            chosen = encoding if _decodes(sample, encoding) else "gb18030"
            decoded = raw.str.decode(chosen, errors="replace")
            gdf[column] = values.astype(object).where(values.isna(), decoded).astype("str")
    return gdf.rename(columns=renames), notes


def _cpg(path: Path) -> Path | None:
    for suffix in (".cpg", ".CPG"):
        candidate = path.with_suffix(suffix)
        if candidate.exists():
            return candidate
    return None


def read_shapefile(
    path: Path, *, layer: str, encoding: str | None = None
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Read a shapefile, choosing its text encoding (see the module docstring).

    Returns
    -------
    (GeoDataFrame, warnings)
    """
    warnings: list[str] = []
    dbf = next((p for p in (path.with_suffix(".dbf"), path.with_suffix(".DBF")) if p.exists()), None)
    if dbf is None:
        raise InputError(
            "缺少属性表 .dbf 文件 (the shapefile's .dbf file is missing)", file=path, layer=layer
        )
    cpg = _cpg(path)
    declared = cpg.read_text(errors="replace").strip() if cpg else None
    chosen = _iconv_name(encoding) if encoding else None
    if chosen is None and cpg is None:
        chosen = _sniff_dbf(dbf)
    try:
        gdf = _ogr(path, encoding=chosen) if chosen else _ogr(path)
        _check_utf8(gdf)
    except UnicodeDecodeError:
        # GDAL could not decode some text (a wrong .cpg, or Chinese field names cut inside a character):
        # read the bytes unchanged as ISO-8859-1 and decode them here
        preferred = chosen or _python_codec(declared) or "utf-8"
        try:
            gdf = _ogr(path, encoding="ISO-8859-1")
        except Exception as exc:
            raise _unreadable(path, exc, layer) from None
        gdf, notes = _transcode(gdf, preferred)
        warnings.extend(f"{layer}: {path.name}: {note}" for note in notes)
        if not notes:
            warnings.append(
                f"{layer}: {path.name} 的编码声明 {declared or preferred} 与内容不符, 已按 GB18030 读取 "
                f"(declared encoding {declared or preferred} does not decode the text; read as GB18030)"
            )
    except Exception as exc:
        raise _unreadable(path, exc, layer) from None
    if garbled(gdf):
        warnings.append(
            f"{layer}: {path.name} 的中文疑似乱码, 请用 encoding='GBK' 或补充 .cpg 文件 "
            f"(text looks garbled, e.g. Latin-1 mojibake; pass encoding='GBK' or add a .cpg file)"
        )
    # a 字段对照表.csv beside it (our shapefile export writes one) gives the short DBF names back their full names;
    # one legend serves a folder, so only when it names exactly this file's fields
    legend = read_legend(path)
    if legend and set(legend) == set(gdf.columns) - {gdf.geometry.name}:
        gdf = gdf.rename(columns={c: legend[c] for c in gdf.columns if c in legend and legend[c] not in gdf})
    return gdf, warnings


def _check_utf8(gdf: gpd.GeoDataFrame) -> None:
    """Raise the `UnicodeDecodeError` that a read without Arrow would have raised: Arrow keeps text values that
    are not UTF-8 (a .cpg saying UTF-8 over GBK values) undecoded until they are used."""
    for column in gdf.columns:
        values = gdf[column]
        if column != "geometry" and isinstance(values.array, pd.arrays.ArrowExtensionArray):
            try:
                pa.array(values).validate(full=True)
            except pa.ArrowInvalid as exc:
                raise UnicodeDecodeError("utf-8", b"", 0, 1, f"field {column}: {exc}") from None


def _python_codec(name: str | None) -> str | None:
    if not name:
        return None
    text = name.strip()
    if text.isdigit():  # ArcGIS code page numbers: 936 = GBK, 65001 = UTF-8
        text = {"936": "gbk", "65001": "utf-8", "54936": "gb18030"}.get(text, f"cp{text}")
    try:
        return codecs.lookup(text).name
    except LookupError:
        return None


def garbled(frame: pd.DataFrame, sample: int = 2000) -> bool:
    """True when headers or a sample of text values look like mojibake (GBK read as Latin-1, or U+FFFD)."""
    texts = [str(c) for c in frame.columns]
    for column in frame.columns:
        values = frame[column]
        if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
            head = values.iloc[:sample].dropna()
            texts.extend(head[[isinstance(v, str) for v in head]].astype(str).tolist())
    joined = "\n".join(texts)
    return bool(MOJIBAKE.search(joined))
