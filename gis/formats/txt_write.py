"""Write the 界址点坐标 TXT exchange format, FORMATS.md §1.13.

What we emit is the canonical form: GBK (UTF-8 on request), CRLF, no BOM, the CASS header keys, one parcel per
feature with rows counted closing rows included, hectares to 4 decimals (net of holes), shells clockwise and holes
counter-clockwise in (E, N), each ring starting at its north-west vertex and closed by repeating its first point name.
"""

from __future__ import annotations

import codecs
import datetime
import math
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

import geopandas as gpd
import shapely

from gis.errors import InputError
from gis.formats.field_codes import PINYIN_CODES
from gis.formats.gauss_kruger import DATUM_LABELS, datum_from_text, to_gk
from gis.formats.txt_read import HEADER_ALIASES
from gis.schema import LAYERS
from gis.units import M2_PER_HA

__all__ = ["HEADER_KEYS", "write_txt"]

#: the ``[属性描述]`` keys we write, in order (CASS)
HEADER_KEYS = (
    "格式版本号",
    "数据产生单位",
    "数据产生日期",
    "坐标系",
    "几度分带",
    "投影类型",
    "计量单位",
    "带号",
    "精度",
    "转换参数",
)
_TRAILING = ("spot_type", "land_class", "grade_before", "grade_after", "remark")
# a planned_use without a 地块用途 text is written with its usual Chinese name
_USE_LABELS = {
    "industrial": "工业用地",
    "warehouse": "仓储用地",
    "commercial": "商业服务业用地",
    "residential": "住宅用地",
    "public": "公共管理与公共服务用地",
    "infrastructure": "交通运输用地",
    "green": "绿地与广场用地",
    "other": "其他用地",
}


def write_txt(
    gdf: gpd.GeoDataFrame,
    *,
    attributes: Mapping[str, object] | None = None,
    encoding: str = "gbk",
    split_parts: bool = False,
    northwest_start: bool = True,
    warnings: list[str] | None = None,
) -> bytes:
    """The bytes of a 界址点坐标 TXT file holding the polygons of `gdf`.

    Parameters
    ----------
    gdf : GeoDataFrame
        Polygons or MultiPolygons. Columns used (English or Chinese name): ``parcel_id`` (地块编号), ``name``
        (地块名称), ``sheet_no`` (图幅号), ``land_use`` (地块用途; else the Chinese name of ``planned_use``),
        ``land_class_code`` (地类编码) and the 补充耕地 fields ``spot_type`` … ``remark`` when present. A layer in a
        Gauss-Krüger zone of CGCS2000, Xian-80 or Beijing-54 keeps its zone; any other CRS is reprojected to the
        CGCS2000 3° zone nearest its centroid. Eastings are written with the zone prefix.
    attributes : mapping, optional
        ``[属性描述]`` values (for example `TxtResult.attributes`); unknown keys are written after the standard ones.
        坐标系, 几度分带 and 带号 always follow the CRS.
    encoding : str
        ``"gbk"`` (default), ``"gb18030"`` or ``"utf-8"``.
    split_parts : bool
        Write each part of a MultiPolygon as its own parcel (``<id>-1``, ``<id>-2`` …) instead of one parcel whose
        parts have their own ring numbers.
    northwest_start : bool
        Start each ring at its northernmost vertex (westernmost on a tie), as polygon-txt does.
    warnings : list, optional
        Receives what the writer changed (commas in names, reprojection, …).

    Returns
    -------
    bytes

    Raises
    ------
    InputError
        For an empty or non-polygon geometry, or a value `encoding` cannot hold (naming the feature and field).
    """
    notes = warnings if warnings is not None else []
    try:
        codec = codecs.lookup(encoding).name
    except LookupError as exc:
        raise InputError(f"未知的编码 {encoding!r} (unknown encoding)") from exc
    if len(gdf) == 0:
        raise InputError("图层没有要素,无法写出 TXT (no features to write)")
    columns = _columns(gdf)
    trailing = [c for c in _TRAILING if c in columns]
    ids = _text_column(gdf, columns.get("parcel_id"), notes)
    bad = shapely.is_empty(gdf.geometry.values) | shapely.is_missing(gdf.geometry.values)
    types = shapely.get_type_id(gdf.geometry.values)
    for j in np.flatnonzero(bad | ~np.isin(types, (3, 6))):
        what = "为空" if bad[j] else f"是 {gdf.geometry.iloc[j].geom_type} 而不是面"
        raise InputError(f"几何{what} (geometry must be a non-empty polygon)", feature=ids[j] or int(j) + 1)
    gk, zone, reprojected = to_gk(gdf, prefixed=True)
    if reprojected:
        notes.append(f"已投影到 CGCS2000 3° 带 {zone.zone} (EPSG:{zone.epsg}) (reprojected)")
    attrs = {k: "" if v is None else str(v) for k, v in (attributes or {}).items()}
    header = {
        "格式版本号": attrs.get("格式版本号", "1.01版本"),
        "数据产生单位": attrs.get("数据产生单位", ""),
        "数据产生日期": attrs.get("数据产生日期", datetime.date.today().isoformat()),
        "坐标系": attrs["坐标系"]
        if datum_from_text(attrs.get("坐标系")) == zone.datum
        else DATUM_LABELS[zone.datum],
        "几度分带": str(zone.width),
        "投影类型": "高斯克吕格",
        "计量单位": "米",
        "带号": str(zone.zone),
        "精度": attrs.get("精度", "0.001"),
        "转换参数": attrs.get("转换参数", ",,,,,,"),
    }
    for key in ("坐标系", "几度分带", "带号"):
        if attrs.get(key) not in (None, "", header[key]):
            notes.append(f"{key}={attrs[key]} 与坐标参考系不符,写为 {header[key]} ({key} follows the CRS)")
    header |= {k: v for k, v in attrs.items() if k not in header and k != "分带"}
    lines = ["[属性描述]"]
    for key, value in header.items():
        _encodable(key, codec, None, "[属性描述]")
        _encodable(value, codec, None, key)
        lines.append(f"{key}={value}")
    lines.append("[地块坐标]")

    geoms = shapely.orient_polygons(gk.geometry.values, exterior_cw=True)
    values = {
        key: _text_column(gk, columns.get(key), notes) for key in ("name", "sheet_no", "land_class_code")
    }
    values["land_use"] = _land_use(gk, columns)
    for key in trailing:
        values[key] = _text_column(gk, columns[key], notes)
    for i, geom in enumerate(geoms):
        pid = ids[i] or str(i + 1)
        if not ids[i]:
            notes.append(f"第 {i + 1} 个要素没有地块编号,写为 {pid} (missing parcel id)")
        parts = list(shapely.get_parts(geom))
        chunks = (
            [(f"{pid}-{k}", [p]) for k, p in enumerate(parts, start=1)]
            if split_parts and len(parts) > 1
            else []
        )
        for part_id, part_list in chunks or [(pid, parts)]:
            fields = [part_id, values["name"][i], "面", values["sheet_no"][i], values["land_use"][i]]
            fields += [values["land_class_code"][i], *(values[key][i] for key in trailing)]
            labels = [
                "parcel_id",
                "name",
                "geometry_kind",
                "sheet_no",
                "land_use",
                "land_class_code",
                *trailing,
            ]
            for label, value in zip(labels, fields, strict=True):
                _encodable(value, codec, pid, label)
            rows = _rows(part_list, northwest_start)
            area = float(sum(p.area for p in part_list)) / M2_PER_HA
            lines.append(f"{len(rows)},{area:.4f}," + ",".join(fields) + ",@")
            lines.extend(rows)
    return ("\r\n".join(lines) + "\r\n").encode(codec)


def _columns(gdf: gpd.GeoDataFrame) -> dict[str, str]:
    """English field name -> the column holding it, accepting the Chinese names (地块编号 …) and our shapefile codes."""
    aliases = dict(HEADER_ALIASES)
    for spec in LAYERS["parcels"].fields:
        aliases.setdefault(spec.name, spec.alias or spec.name)
    found: dict[str, str] = {}
    for key, alias in aliases.items():
        for candidate in (key, alias, PINYIN_CODES.get(key)):
            if candidate is not None and candidate in gdf.columns:
                found[key] = candidate
                break
    return found


def _text_column(gdf: gpd.GeoDataFrame, column: str | None, notes: list[str]) -> list[str]:
    if column is None:
        return [""] * len(gdf)
    return [_clean(v, column, notes) for v in gdf[column].tolist()]


def _land_use(gdf: gpd.GeoDataFrame, columns: dict[str, str]) -> list[str]:
    notes: list[str] = []
    land_use = _text_column(gdf, columns.get("land_use"), notes)
    planned = _text_column(gdf, columns.get("planned_use"), notes)
    return [lu or _USE_LABELS.get(pu, pu) for lu, pu in zip(land_use, planned, strict=True)]


def value_text(value: object) -> str | None:
    """A field value as the format writes it: None for null, whole numbers without ``.0``, dates as ISO."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return None
        if float(value).is_integer():
            value = int(value)
    if isinstance(value, pd.Timestamp | datetime.date):
        return value.strftime("%Y-%m-%d")
    return str(value)


def _clean(value: object, column: str, notes: list[str]) -> str:
    """A header value as text: empty for null; commas (no quoting exists in the format) become 、."""
    text = " ".join((value_text(value) or "").split())
    if "," in text or "，" in text:
        notes.append(f"字段 {column} 的值 {text!r} 含逗号,已改为 、 (comma replaced)")
        text = text.replace(",", "、").replace("，", "、")
    if text.endswith("@"):
        notes.append(f"字段 {column} 的值 {text!r} 以 @ 结尾,已去除 (trailing @ removed)")
        text = text.rstrip("@")
    return text


def _encodable(text: str, codec: str, feature: object, field: str) -> None:
    try:
        text.encode(codec)
    except UnicodeEncodeError as exc:
        bad = text[exc.start : exc.end]
        raise InputError(
            f"{bad!r} (U+{ord(bad[0]):04X}) 无法用 {codec.upper()} 编码;请改字或用 UTF-8 写出 "
            f"(character not encodable in {codec}; use encoding='utf-8')",
            feature=feature,
            field=field,
        ) from exc


def _rows(parts: Iterable[shapely.Polygon], northwest_start: bool) -> list[str]:
    """Point rows ``J<k>,<ring>,<N>,<E>``: names continue across rings, each closing row reuses its ring's first."""
    rows: list[str] = []
    k = 0
    ring_no = 0
    for polygon in parts:
        for ring in (polygon.exterior, *polygon.interiors):
            ring_no += 1
            xy = shapely.get_coordinates(ring)[:-1]
            if northwest_start:
                # northernmost vertex, westernmost on a tie (within 1 cm, so that reprojection noise does not decide)
                top = np.flatnonzero(xy[:, 1] >= xy[:, 1].max() - 0.01)
                start = int(top[np.argmin(xy[top, 0])])
                xy = np.roll(xy, -start, axis=0)
            first = k + 1
            coords = xy.tolist()  # Python floats format far faster than numpy scalars
            rows.extend(f"J{k},{ring_no},{n:.3f},{e:.3f}" for k, (e, n) in enumerate(coords, start=first))
            k += len(coords)
            rows.append(f"J{first},{ring_no},{coords[0][1]:.3f},{coords[0][0]:.3f}")
    return rows
