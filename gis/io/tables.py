"""Spreadsheet layers (CSV, XLSX, plain Parquet) to GeoDataFrames: a WKT column, or boundary-point rows.

Geometry comes from either

* a WKT column: ``wkt`` / ``WKT`` / ``geometry`` / ``几何`` (EWKT ``SRID=4527;POLYGON(...)`` and hex WKB also
  work), one feature per row; or
* boundary-point rows (界址点): one row per vertex with an id column (``parcel_id``/地块编号 for parcels,
  ``batch_id``/批次编号 for batches, else ``id``/编号; without one the whole table is one feature), an optional
  ring number (圈号/ring: 1 = outer ring, others holes or extra parts by containment; a row repeating a vertex
  of its ring closes it), an optional point number (点号: rows are sorted by its number when they are out of
  order, the closing repeat of the first point last), and coordinates ``X坐标``/``Y坐标`` (X = northing,
  Y = easting, the Chinese surveying convention), ``x``/``y`` (easting/northing), ``东坐标``/``北坐标``, or
  ``经度``/``纬度``. Blank id or ring cells (merged cells) repeat the value above; the other columns are taken
  from each feature's first non-empty cell. Northing and easting swapped against the header are detected from
  the values (Chinese northings have 7 digits, eastings 6, or 8 with the zone prefix) and swapped back.
  Polygon layers get polygons, line layers (hv_lines) lines.

CRS, first that applies:

1. a column ``epsg`` / ``crs`` / ``srid`` / ``坐标系`` (one value for the whole table: ``4527``, ``EPSG:4527``);
2. the SRID of EWKT;
3. for ``经度``/``纬度`` columns: zone.toml's ``crs`` if geographic (``EPSG:4490``), else EPSG:4326;
4. ``crs = "EPSG:4527"`` in zone.toml;
5. EPSG:4326 when the coordinates fit longitude/latitude;
6. the CGCS2000 zone named by zone-prefixed eastings (39 500 000 → EPSG:4527), with a warning.

Other projected coordinates without a declared CRS are an error.

Title rows that Chinese spreadsheets put above the header are skipped: the header is the first of the first ten
rows that names a known field, a geometry column or a coordinate column.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

import geopandas as gpd
import shapely
from pyproj import CRS

from gis.crs import GEOGRAPHIC_DEFAULT, lonlat_bounds, prefixed_epsg
from gis.errors import InputError
from gis.io.headers import clean_header, match_fields
from gis.io.points import coordinate_role, rings_to_features
from gis.io.where import ID_FIELDS, ROW, Where, one_line
from gis.schema import LayerSpec

__all__ = ["frame_to_layer", "parse_crs", "read_csv", "read_xlsx"]

_WKT = {"wkt", "geometry", "geom", "the_geom", "shape", "几何", "图形", "空间信息", "wkt几何", "几何wkt"}
_CRS = {"epsg", "crs", "srid", "坐标系", "坐标系统", "epsg代码", "epsg_code"}
_GENERIC_IDS = ("id", "fid", "编号", "objectid")
_HEADER_SCAN = 10
_EWKT = re.compile(r"^\s*SRID=(\d+)\s*;\s*", re.IGNORECASE)


# ── reading the raw table ─────────────────────────────────────────────────────────────────────────────────


def _decode(path: Path, encoding: str | None) -> str:
    data = path.read_bytes()
    if encoding:
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise InputError(
                f"按 {encoding} 无法解码 (cannot decode as {encoding}: {one_line(exc)})", file=path
            ) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel saves CSV in the ANSI code page, GBK on Chinese Windows
        return data.decode("gb18030", errors="replace")


def read_csv(path: Path, *, encoding: str | None = None) -> pd.DataFrame:
    """A CSV file as a header-less table of strings (UTF-8 with or without BOM, else GB18030)."""
    text = _decode(path, encoding)
    head = text.lstrip("\ufeff").splitlines()[: _HEADER_SCAN + 10]
    sep = max((",", "\t", ";", "|"), key=lambda s: max((line.count(s) for line in head), default=0))
    # title rows above the header have fewer cells: size the table by the widest of the first rows
    width = max((len(row) for row in csv.reader(head, delimiter=sep)), default=1)
    try:
        return pd.read_csv(
            io.StringIO(text),
            header=None,
            names=range(width),
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            sep=sep,
            skip_blank_lines=True,
        )
    except Exception as exc:
        raise InputError(f"CSV 无法读取 (cannot read CSV: {one_line(exc)})", file=path) from None


def read_xlsx(path: Path, *, layer: str, title: str = "") -> pd.DataFrame:
    """The sheet named after the layer (English or Chinese), else the first sheet, as a header-less table."""
    try:
        with pd.ExcelFile(path, engine="openpyxl") as book:
            names = list(book.sheet_names)
            wanted = {clean_header(layer), clean_header(title)} - {""}
            sheet = next((n for n in names if clean_header(n) in wanted), names[0])
            return pd.read_excel(book, sheet_name=sheet, header=None, dtype=object)
    except Exception as exc:
        raise InputError(
            f"Excel 文件无法读取 (cannot read xlsx: {one_line(exc)})", file=path, layer=layer
        ) from None


def _is_header(cells: list[object], spec: LayerSpec) -> bool:
    keys = [clean_header(c) for c in cells if isinstance(c, str) and c.strip()]
    if any(k in _WKT or coordinate_role(k) in {"north_cn", "east_cn", "lon", "lat"} for k in keys):
        return True
    return bool(match_fields([c for c in cells if isinstance(c, str)], spec)[0])


def _apply_header(raw: pd.DataFrame, spec: LayerSpec) -> pd.DataFrame:
    """Find the header row, name the columns after it, and number the data rows as the spreadsheet does."""
    header = 0
    for i in range(min(_HEADER_SCAN, len(raw))):
        if _is_header(list(raw.iloc[i]), spec):
            header = i
            break
    names: list[str] = []
    for j, cell in enumerate(raw.iloc[header] if len(raw) else []):
        name = str(cell).strip() if isinstance(cell, str) and str(cell).strip() else f"column_{j + 1}"
        if pd.notna(cell) and not isinstance(cell, str):
            name = str(cell)
        while name in names:
            name = f"{name}_"
        names.append(name)
    data = raw.iloc[header + 1 :].copy()
    data.columns = names
    data = data.dropna(how="all")
    data[ROW] = data.index.to_numpy() + 1  # raw index 0 is spreadsheet row 1
    return data.reset_index(drop=True)


# ── CRS ───────────────────────────────────────────────────────────────────────────────────────────────────


def parse_crs(value: object) -> CRS:
    """A CRS from ``4527``, ``"4527"``, ``"EPSG:4527"`` or any text pyproj understands.

    Raises
    ------
    ValueError
        When pyproj does not know it.
    """
    text = str(value).strip()
    if re.fullmatch(r"\d+(\.0+)?", text):
        text = f"EPSG:{int(float(text))}"
    return CRS.from_user_input(text)


def _declared_crs(frame: pd.DataFrame, crs_col: str | None, where: Where) -> CRS | None:
    if crs_col is None:
        return None
    values = frame[crs_col].dropna().astype(str).str.strip()
    values = values[values != ""].unique()
    if len(values) == 0:
        return None
    if len(values) > 1:
        raise where.error(
            f"一个表只能有一个坐标系 (one CRS per table, found {list(values)[:5]})", field=crs_col
        )
    try:
        return parse_crs(values[0])
    except Exception:
        raise where.error(f"无法识别的坐标系 (unknown CRS {values[0]!r})", field=crs_col) from None


def _infer_crs(bounds: np.ndarray, where: Where, warnings: list[str], field: str) -> CRS:
    if lonlat_bounds(bounds):
        return CRS.from_epsg(GEOGRAPHIC_DEFAULT)
    epsg = prefixed_epsg(float(bounds[0]))
    if epsg is not None and epsg == prefixed_epsg(float(bounds[2])):
        warnings.append(
            f"{where.layer}: {where.file.name} 未声明坐标系, 按带号坐标推定为 EPSG:{epsg} "
            f"(no CRS declared; EPSG:{epsg} inferred from the zone-prefixed eastings)"
        )
        return CRS.from_epsg(epsg)
    raise where.error(
        "未声明坐标系且坐标不是经纬度 (projected coordinates without a CRS: add an 'epsg' column, "
        'or crs = "EPSG:…" in zone.toml)',
        field=field,
    )


# ── geometry from a WKT column ────────────────────────────────────────────────────────────────────────────


def _from_wkt(frame: pd.DataFrame, column: str, where: Where) -> tuple[np.ndarray, int | None]:
    text = frame[column].astype("str").str.strip()
    empty = text.isna() | (text == "")
    srid = text.str.extract(_EWKT, expand=False).dropna().unique()
    srid_code = int(srid[0]) if len(srid) == 1 else None
    if len(srid) > 1:
        raise where.error(f"SRID 不一致 (several SRIDs in one table: {list(srid)[:5]})", field=column)
    text = text.str.replace(_EWKT, "", regex=True)
    is_hex = text.str.fullmatch(r"(?:[0-9A-Fa-f]{2})+", na=False) & (text.str.len() >= 18)
    values = text.where(~empty).to_numpy(dtype=object)
    geoms = np.full(len(values), None, dtype=object)
    wkt_mask = ~empty.to_numpy() & ~is_hex.to_numpy()
    geoms[wkt_mask] = shapely.from_wkt(values[wkt_mask], on_invalid="ignore")
    if is_hex.any():
        geoms[is_hex.to_numpy()] = shapely.from_wkb(values[is_hex.to_numpy()], on_invalid="ignore")
    bad = ~empty.to_numpy() & shapely.is_missing(geoms)
    where.fail_rows(frame, bad, "WKT 无法解析 (not valid WKT)", column, _short(frame[column]))
    return geoms, srid_code


def _short(values: pd.Series) -> pd.Series:
    text = values.astype("str")
    return text.where(text.str.len() <= 60, text.str[:57] + "...")


# ── geometry from boundary-point rows ─────────────────────────────────────────────────────────────────────


# ── the layer ─────────────────────────────────────────────────────────────────────────────────────────────


def frame_to_layer(
    raw: pd.DataFrame,
    spec: LayerSpec,
    where: Where,
    warnings: list[str],
    *,
    zone_crs: CRS | None = None,
    has_header_row: bool = True,
) -> gpd.GeoDataFrame:
    """Build a layer from a table (see the module docstring for the columns and the CRS rules).

    Parameters
    ----------
    raw
        Header-less cells (CSV, XLSX) when `has_header_row`, else a table with named columns (Parquet).
    spec
        The layer's schema (geometry kind, id field).
    where
        File and layer, for messages.
    warnings
        Receives notes (inferred CRS, swapped axes).
    zone_crs
        ``crs`` from zone.toml, if any.
    """
    if has_header_row:
        if raw.dropna(how="all").empty:
            raise where.error("表格为空, 没有表头 (the table is empty: no header row)")
        frame = _apply_header(raw, spec)
    else:
        frame = raw.reset_index(drop=True).copy()
        frame[ROW] = np.arange(1, len(frame) + 1)
    keys = {c: clean_header(c) for c in frame.columns if c != ROW}
    stripped = {c: re.sub(r"\(.*\)$", "", k) for c, k in keys.items()}
    wkt_col = next((c for c, k in keys.items() if k in _WKT or stripped[c] in _WKT), None)
    crs_col = next((c for c, k in keys.items() if k in _CRS or stripped[c] in _CRS), None)
    roles: dict[str, str] = {}
    for column in keys:
        role = coordinate_role(keys[column])
        if role and role not in roles and column not in (wkt_col, crs_col):
            roles[role] = column
    declared = _declared_crs(frame, crs_col, where)
    if crs_col:
        frame = frame.drop(columns=[crs_col])
    if wkt_col is not None:
        geoms, srid = _from_wkt(frame, wkt_col, where)
        attrs = frame.drop(columns=[wkt_col])
        lonlat, coord_field = False, wkt_col
        if declared is None and srid is not None:
            declared = CRS.from_epsg(srid)
    elif roles.keys() & {"north_cn", "east_cn", "east", "north", "lon", "lat"}:
        mapping, _ = match_fields([c for c in frame.columns if c not in roles.values()], spec)
        id_name = ID_FIELDS.get(spec.name)
        id_col = next((str(c) for c, n in mapping.items() if n == id_name), None) if id_name else None
        if id_col is None:
            id_col = next((c for c, k in keys.items() if k in _GENERIC_IDS and c not in roles.values()), None)
        attrs, geoms, lonlat, coord_field = rings_to_features(frame, roles, id_col, spec, where, warnings)
    else:
        raise where.error(
            "没有几何列 (no geometry: add a 'wkt' column, or X坐标/Y坐标 or 经度/纬度 boundary-point columns)",
            field="wkt",
        )
    gdf = gpd.GeoDataFrame(attrs, geometry=gpd.GeoSeries(geoms, index=attrs.index))
    if declared is None:
        if lonlat:  # 经度/纬度 columns: zone.toml's CRS only when it is geographic too (e.g. EPSG:4490)
            declared = zone_crs if zone_crs is not None and zone_crs.is_geographic else CRS.from_epsg(4326)
        elif zone_crs is not None:
            declared = zone_crs
        else:
            valid = gdf.geometry[~gdf.geometry.isna() & ~gdf.geometry.is_empty]
            bounds = valid.total_bounds if len(valid) else np.zeros(4)
            declared = _infer_crs(bounds, where, warnings, coord_field)
    return gdf.set_crs(declared, allow_override=True)
