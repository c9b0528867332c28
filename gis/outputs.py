"""Writing outputs: all-or-nothing output directories and RFC 7946 GeoJSON."""

from __future__ import annotations

import io
import json
import math
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

import geopandas as gpd
import shapely

from gis.errors import InputError

__all__ = [
    "OUTPUT_GROUPS",
    "atomic_dir",
    "geojson_bytes",
    "json_default",
    "write_geojson",
    "write_geojson_stream",
    "write_gpkg",
]


#: the entries each command writes into an output directory (``bundle`` is the demo's copy of its data). A run
#: that writes any entry of a group owns the whole group: the ones it no longer writes are stale and removed, so
#: an audit without batches leaves no old ``batches.csv``. Anything else in the directory is never touched.
OUTPUT_GROUPS = (
    frozenset({"audit.geojson", "unsupplied.geojson", "batches.csv", "summary.json", "ledger.xlsx"}),
    frozenset({"readiness.geojson"}),
    frozenset({"bundle"}),
)
_OLD = ".replaced"  # inside the temporary directory: what the swap took out of `out`, until it succeeds


@contextmanager
def atomic_dir(out: Path) -> Iterator[Path]:
    """Yield a temporary directory and put its entries into `out` only when the block succeeds.

    On any error nothing is left behind and `out` stays as it was: an output directory is either complete or
    untouched (CONTRACT §1); missing parent directories are created only on success. An existing `out` keeps
    the files landready did not write (audit and readiness share a directory; a user's own files stay), while
    the stale entries of the `OUTPUT_GROUPS` the run wrote are removed. A path that exists and is not a
    directory is an input error naming ``--out``.
    """
    out = Path(out)
    anchor = _existing_ancestor(out)
    try:
        tmp = _fresh_dir(anchor, f".{out.name}.")
    except OSError as exc:
        raise InputError(
            f"无法写入输出目录 (cannot write: {exc.strerror or exc})", file=out, field="--out"
        ) from None
    try:
        yield tmp
        if out.is_dir() and not out.is_symlink() and not any(out.iterdir()):
            out.rmdir()
        if out.is_dir():
            _swap_into(tmp, out)
            shutil.rmtree(tmp)
        else:
            out.parent.mkdir(parents=True, exist_ok=True)
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _existing_ancestor(out: Path) -> Path:
    """The nearest existing directory at or above `out`'s parent; an existing non-directory on the way is an
    input error (``open`` would fail later with a bare NotADirectoryError)."""
    for path in (out, *out.parents):
        if not (path.exists() or path.is_symlink()):
            continue
        if not path.is_dir():
            what = "输出路径已存在且不是目录 (exists and is not a directory)"
            if path != out:
                what = f"{path} 不是目录 ({path} is not a directory)"
            raise InputError(what, file=out, field="--out")
        return out.parent if path == out else path
    return Path.cwd()


def _fresh_dir(parent: Path, prefix: str) -> Path:
    """A new empty directory with the umask's mode: `tempfile.mkdtemp` makes it 0700, which the renamed output
    directory would keep."""
    for _ in range(100):
        path = parent / f"{prefix}{secrets.token_hex(4)}"
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"no free temporary name in {parent}")


def _swap_into(tmp: Path, out: Path) -> None:
    """Replace `out`'s entries by `tmp`'s and remove the stale ones of the groups `tmp` writes; on failure put
    everything back as it was."""
    new = [p.name for p in tmp.iterdir()]
    present = {p.name for p in out.iterdir()}
    # a group counts as an earlier run's only when `out` holds a member this run rewrites; a lone file of the
    # same name as an optional output is the user's
    stale = {name for group in OUTPUT_GROUPS if group.intersection(new, present) for name in group}
    stale = stale.intersection(present).difference(new)
    old = tmp / _OLD
    old.mkdir()
    moved: list[str] = []  # taken out of `out` into `old`
    placed: list[str] = []  # put into `out` from `tmp`
    try:
        for name in sorted(stale.union(new)):
            target = out / name
            if target.exists() or target.is_symlink():
                target.rename(old / name)
                moved.append(name)
        for name in new:
            (tmp / name).rename(out / name)
            placed.append(name)
    except BaseException:
        for name in placed:
            (out / name).rename(tmp / name)
        for name in moved:
            (old / name).rename(out / name)
        raise


def json_default(value: Any) -> Any:
    """Turn numpy, pandas and date values into JSON; NaN and NaT become null."""
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, pd.Timestamp | datetime | date):
        return None if pd.isna(value) else value.strftime("%Y-%m-%d")
    if value is pd.NaT or value is pd.NA:
        return None
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def _is_missing(value: Any) -> bool:
    return value is None or value is pd.NaT or value is pd.NA or (isinstance(value, float) and value != value)


def _json_text(value: Any) -> str | None:
    return None if _is_missing(value) else json.dumps(value, ensure_ascii=False, default=json_default)


def _encode_distinct(values: pd.Series) -> pa.Array:
    """JSON text of each value, computed once per distinct value (null for missing)."""
    keys = values.map(lambda v: tuple(v) if isinstance(v, list) else v)
    try:
        codes, uniques = pd.factorize(keys, use_na_sentinel=True)
    except TypeError:  # dicts, lists of dicts: every row is its own value
        return pa.array([_json_text(v) for v in values], pa.string())
    distinct = pa.array([_json_text(list(u) if isinstance(u, tuple) else u) for u in uniques], pa.string())
    return pc.take(distinct, pa.array(np.where(codes < 0, None, codes), pa.int64()))


def _column_json(col: pd.Series) -> pa.Array:
    """One property column as JSON text per row (null where missing)."""
    if pd.api.types.is_datetime64_any_dtype(col):
        days = pa.array(col.dt.strftime("%Y-%m-%d").to_numpy(dtype=object, na_value=None), pa.string())
        return pc.binary_join_element_wise('"', days, '"', "", null_handling="emit_null")
    if pd.api.types.is_bool_dtype(col):
        flags = pa.array(col.to_numpy(dtype=object, na_value=None), pa.bool_())
        return pc.if_else(flags, "true", "false")
    if pd.api.types.is_integer_dtype(col):
        return pc.cast(pa.array(col.to_numpy(dtype=object, na_value=None), pa.int64()), pa.string())
    if pd.api.types.is_float_dtype(col):
        num = col.to_numpy(dtype=float, na_value=np.nan)
        return pc.cast(pa.array(np.where(np.isfinite(num), num, np.nan), from_pandas=True), pa.string())
    if pd.api.types.is_string_dtype(col) and not pd.api.types.is_object_dtype(col):
        return _string_json(col)
    return _encode_distinct(col.astype(object))


#: JSON escapes that Arrow can apply as plain substring replacements (backslash first)
_ESCAPES = (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"))


def _string_json(col: pd.Series) -> pa.Array:
    """A text column as JSON strings, escaped with Arrow; rare other control characters go through `json`."""
    text = pa.array(col.to_numpy(dtype=object, na_value=None), pa.string())
    escaped = text
    for old, new in _ESCAPES:
        escaped = pc.replace_substring(escaped, old, new)
    quoted = pc.binary_join_element_wise('"', escaped, '"', "", null_handling="emit_null")
    odd = pc.fill_null(pc.match_substring_regex(text, "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f]"), False)
    if pc.any(odd).as_py():
        rows = np.asarray(quoted.to_pylist(), dtype=object)
        mask = odd.to_numpy(zero_copy_only=False)
        rows[mask] = [_json_text(v) for v in col.to_numpy(dtype=object)[mask]]
        quoted = pa.array(rows, pa.string())
    return quoted


_GEOJSON_TYPES = {1: "LineString", 3: "Polygon", 5: "MultiLineString", 6: "MultiPolygon"}


def _geometry_json(geoms: np.ndarray, precision: int) -> pa.Array:
    """GeoJSON geometry text, built from WKT with `precision` decimals (GEOS's GeoJSON writer prints 17 digits).

    WKT ``((x y, x y), (…))`` becomes ``[[[x,y],[x,y]],[…]]`` by four substring replacements and one more bracket
    around the whole: the nesting of parentheses is the nesting of GeoJSON arrays.
    """
    geoms = shapely.transform(geoms, lambda xy: np.round(xy, precision))
    type_ids = shapely.get_type_id(geoms)
    unsupported = ~np.isin(type_ids, [-1, *_GEOJSON_TYPES])
    if unsupported.any():
        # points and collections are rare in outputs: let GEOS write them
        fallback = shapely.to_geojson(geoms[unsupported])
    wkt = pa.array(shapely.to_wkt(geoms, rounding_precision=precision, trim=True), pa.string())
    coords = pc.replace_substring_regex(wkt, r"^[A-Z]+ ", "")
    for old, new in ((", ", "],["), (" ", ","), ("(", "["), (")", "]")):
        coords = pc.replace_substring(coords, old, new)
    names = pa.array([_GEOJSON_TYPES.get(int(t), "") for t in type_ids], pa.string())
    out = pc.binary_join_element_wise('{"type":"', names, '","coordinates":[', coords, "]}", "")
    empty = shapely.is_empty(geoms) | shapely.is_missing(geoms)
    out = pc.if_else(pa.array(empty), pa.scalar("null", pa.string()), out)
    if unsupported.any():
        filled = np.asarray(out.to_pylist(), dtype=object)
        filled[unsupported] = fallback
        out = pa.array(filled, pa.string())
    return out


def write_geojson_stream(
    gdf: gpd.GeoDataFrame, out: BinaryIO, *, precision: int = 7, chunk: int = 50_000
) -> None:
    """Stream an RFC 7946 FeatureCollection to `out`: EPSG:4326, counter-clockwise exteriors, `precision`
    decimals; lists and dicts stay JSON arrays and objects; NaN, NaT and None become null.

    Properties are encoded column by column with Arrow (strings and lists once per distinct value) and written
    `chunk` features at a time, so memory stays bounded at a million parcels.
    """
    wgs = gdf.to_crs(4326) if gdf.crs is not None and not gdf.crs.equals("EPSG:4326") else gdf
    names = [c for c in wgs.columns if c != wgs.geometry.name]
    out.write(b'{"type":"FeatureCollection","features":[')
    for start in range(0, len(wgs), chunk):
        part = wgs.iloc[start : start + chunk]
        geoms = shapely.orient_polygons(part.geometry.to_numpy(), exterior_cw=False)
        pieces: list[Any] = ['{"type":"Feature","properties":{']
        for i, name in enumerate(names):
            key = ("," if i else "") + json.dumps(str(name), ensure_ascii=False) + ":"
            pieces += [key, pc.fill_null(_column_json(part[name]), "null")]
        pieces += ['},"geometry":', _geometry_json(geoms, precision), "}"]
        features = pc.binary_join_element_wise(*pieces, "")
        if start:
            out.write(b",")
        joined = pc.binary_join(
            pa.ListArray.from_arrays(pa.array([0, len(features)], pa.int32()), features), ","
        )
        out.write(joined[0].as_buffer())
    out.write(b"]}")


def geojson_bytes(gdf: gpd.GeoDataFrame, *, precision: int = 7) -> bytes:
    """`gdf` as RFC 7946 GeoJSON bytes (see `write_geojson_stream`)."""
    buffer = io.BytesIO()
    write_geojson_stream(gdf, buffer, precision=precision)
    return buffer.getvalue()


def write_geojson(gdf: gpd.GeoDataFrame, path: Path) -> None:
    """Write `gdf` as RFC 7946 GeoJSON (see `write_geojson_stream`)."""
    with Path(path).open("wb") as fh:
        write_geojson_stream(gdf, fh)


def write_gpkg(gdf: gpd.GeoDataFrame, path: Path, layer: str) -> None:
    """`gdf` as a GeoPackage layer, version 1.2: newer GDALs write 1.4, which Debian 12's GDAL 3.6 (and the QGIS on
    it) only partly reads."""
    gdf.to_file(path, layer=layer, driver="GPKG", engine="pyogrio", dataset_options={"VERSION": "1.2"})
