"""Parcels' rows to geometry in the resolved CRS (FORMATS.md §1.6–§1.9, §1.12 "per parcel").

Internal to `gis.formats.txt_read`: axis order, zone prefix and CRS, rings by number and closure, shells and holes
by containment depth, the declared area's unit and the point count check, each oddity reported as a warning.
"""

from __future__ import annotations

import re

import numpy as np

import geopandas as gpd
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from gis.crs import AREA_OF_USE_ERROR_DEG, AREA_OF_USE_WARN_DEG, degrees_outside_area, to_lonlat
from gis.formats.gauss_kruger import GkZone, datum_from_text, nearest_3deg_zone, parse_gk_crs, zone_width
from gis.formats.gcj02 import in_china
from gis.formats.txt_parse import HEADER_ALIASES, ParcelRows, Reporter
from gis.schema import LAYERS
from gis.units import M2_PER_HA

__all__ = ["build"]

_AREA_UNIT = re.compile(
    r"^\s*([-+]?\d+(?:\.\d*)?|\.\d+)\s*(公顷|hm2|hm²|ha|平方米|㎡|m2|m²|亩)?\s*$", re.IGNORECASE
)
_UNIT_CANON = {
    "公顷": "ha",
    "hm2": "ha",
    "hm²": "ha",
    "ha": "ha",
    "平方米": "m2",
    "㎡": "m2",
    "m2": "m2",
    "m²": "m2",
    "亩": "mu",
}
_SAME_POINT = 5e-4  # metres: files carry 2–3 decimals
# a closing row that names the ring's first point may be this far off (rounding, a 2-decimal copy): snapped
_SNAP = 0.01
_FAR = 1e5  # metres: no parcel polygon spans 100 km, so a vertex that far from the others is a typo
_USE_KEYWORDS = (
    ("industrial", ("工业", "工矿")),
    ("warehouse", ("仓储", "物流")),
    ("commercial", ("商业", "商服", "商务", "批发", "零售", "餐饮", "旅馆")),
    ("residential", ("住宅", "居住")),
    ("public", ("公共管理", "公共服务", "机关", "教育", "科研", "医疗", "文化", "体育")),
    ("infrastructure", ("交通", "道路", "公用设施", "供水", "排水", "供电", "通信")),
    ("green", ("绿地", "广场", "公园")),
)


def _orient(
    parcels: list[ParcelRows], swap_xy: bool | None, reader: Reporter
) -> tuple[np.ndarray, np.ndarray, str]:
    """Northing and easting of every row, and "projected" or "geographic" (FORMATS.md §1.8 step 1)."""
    a = np.concatenate([np.asarray(p.a, dtype=float) for p in parcels])
    b = np.concatenate([np.asarray(p.b, dtype=float) for p in parcels])
    lines = np.concatenate([np.asarray(p.lines) for p in parcels])
    lat_lon = np.all((a >= 0) & (a <= 60)) and np.all((b >= 70) & (b <= 140))
    lon_lat = np.all((b >= 0) & (b <= 60)) and np.all((a >= 70) & (a <= 140))
    if swap_xy is None and (lat_lon or lon_lat):
        if lon_lat:
            a, b = b, a
            reader.notes.add(
                "坐标为经纬度,X 列为经度、Y 列为纬度,已交换为 X=纬度、Y=经度 "
                "(coordinates are degrees with X = longitude; columns swapped)"
            )
        else:
            reader.notes.add("坐标为经纬度(X=纬度,Y=经度),不是高斯投影坐标 (coordinates are degrees)")
        return a, b, "geographic"
    if swap_xy is None:
        # a zone-prefixed column (≥ 1e7) is the easting; only without one do the magnitudes decide (in the far
        # south a northing of 450 000 looks like an unprefixed easting)
        a_prefixed, b_prefixed = a >= 1e7, b >= 1e7
        neither = ~a_prefixed & ~b_prefixed
        swapped = (a_prefixed & ~b_prefixed) | (neither & (a >= 1.5e5) & (a <= 8.5e5) & (b > 1.5e6))
        standard = (b_prefixed & ~a_prefixed) | (neither & (b >= 1.5e5) & (b <= 8.5e5) & (a > 1.5e6))
        if swapped.any() and standard.any():
            odd, usual = (swapped, standard) if swapped.sum() <= standard.sum() else (standard, swapped)
            i = int(np.flatnonzero(odd)[0])
            order = "X=北、Y=东" if usual is standard else "X=东、Y=北"
            reader.fail(
                f"坐标 X={a[i]:.3f}, Y={b[i]:.3f} 与其他 {int(usual.sum())} 行({order})的列顺序不符 "
                "(this row's X/Y order differs from the other rows': swapped columns, or a typo)",
                int(lines[i]),
            )
        if swapped.any():
            reader.notes.add("第 3 列是东坐标、第 4 列是北坐标,已交换;标准为 X=北,Y=东 (columns swapped)")
            return b, a, "projected"
        if not standard.all():
            reader.notes.add(
                "无法从数值判断 X/Y 顺序,按 X=北坐标、Y=东坐标读取 (axis order ambiguous; X=northing assumed)"
            )
        return a, b, "projected"
    return (b, a, "projected") if swap_xy else (a, b, "projected")


def _check_outliers(
    parcel: ParcelRows, north: np.ndarray, east: np.ndarray, reader: Reporter, label: str
) -> None:
    """Fail on a vertex far from the parcel's other vertices (a digit dropped or added), naming its row."""
    off = np.maximum(np.abs(north - np.median(north)), np.abs(east - np.median(east)))
    i = int(np.argmax(off))
    if off[i] > _FAR:
        reader.fail(
            f"地块 {label} 的坐标 X={parcel.a[i]:.3f}, Y={parcel.b[i]:.3f} 离本地块其他点约 {off[i] / 1000:.0f} 公里,"
            "疑似数值输入错误 (a coordinate far from the parcel's other points: a typo?)",
            parcel.lines[i],
            label,
        )


def _int_or_none(value: str | None) -> int | None:
    match = re.search(r"\d+", value or "")
    return int(match.group()) if match else None


def _resolve_zone(
    easting: np.ndarray, attributes: dict[str, str], reader: Reporter, user_crs: CRS | None
) -> tuple[GkZone | None, np.ndarray]:
    """Zone width, number and prefix from the eastings, cross-checked with 几度分带 and 带号 (§1.8 steps 2–3)."""
    notes = reader.notes
    width_text = attributes.get("几度分带") or attributes.get("分带")
    if "几度分带" not in attributes and "分带" in attributes:
        notes.add("属性 分带 按 几度分带 读取 (key 分带 read as 几度分带)")
    width = _int_or_none(width_text)
    if width is not None and width not in (3, 6):
        notes.add(f"几度分带={width_text} 不是 3 或 6,已忽略 (zone width ignored)")
        width = None
    zone_attr = _int_or_none(attributes.get("带号"))
    datum = datum_from_text(attributes.get("坐标系"))
    if datum is None:
        if attributes.get("坐标系"):
            notes.add(
                f"无法识别坐标系 {attributes['坐标系']!r},按 2000 国家大地坐标系读取 (datum unknown; CGCS2000)"
            )
        else:
            notes.add("缺少坐标系,按 2000 国家大地坐标系读取 (no 坐标系; CGCS2000 assumed)")
        datum = "CGCS2000"
    if attributes.get("计量单位") and attributes["计量单位"] not in ("米", "m", "M"):
        notes.add(f"计量单位={attributes['计量单位']},应为 米 (unit is not metres)")
    prefixed = easting >= 1e6 * 10
    prefixes = np.unique(np.floor(easting[prefixed] / 1e6).astype(int))
    if len(prefixes) > 1:
        reader.fail(f"文件含多个带号前缀 {', '.join(map(str, prefixes))} (several zones in one file)")
    if len(prefixes) == 1:
        zone = int(prefixes[0])
        found_width = zone_width(zone)
        if found_width is None:
            reader.fail(
                f"Y 坐标的带号前缀 {zone} 不是中国的 3° 或 6° 带 (zone prefix {zone} is not a Chinese zone)"
            )
        assert found_width is not None
        if width is not None and width != found_width:
            notes.add(
                f"几度分带={width},但坐标前缀 {zone} 是 {found_width}° 带,以坐标为准 (zone width conflict)"
            )
        if zone_attr is not None and zone_attr != zone:
            notes.add(f"带号={zone_attr} 与坐标前缀 {zone} 不符,以坐标为准 (带号 conflicts with the prefix)")
        if not prefixed.all():
            notes.add(f"部分坐标没有带号前缀,已补上 {zone} (zone prefix added to some eastings)")
            easting = np.where(prefixed, easting, easting + zone * 1e6)
        return GkZone(datum, found_width, zone, True), easting
    if zone_attr is None:
        if user_crs is None:
            reader.fail("坐标没有带号前缀,带号也为空,无法确定投影带;请指定 CRS (no zone: pass crs=)")
        return None, easting
    if width is None and zone_width(zone_attr) is None and 75 <= zone_attr <= 135 and zone_attr % 3 == 0:
        width = 3
    if width is not None and 75 <= zone_attr <= 135 and zone_attr not in range(13, 46):
        notes.add(f"带号={zone_attr} 是中央经线,已换算为带号 (带号 holds the central meridian)")
        zone_attr = zone_attr // 3 if width == 3 else (zone_attr + 3) // 6
    if width is None:
        width = zone_width(zone_attr)
        if width is not None:
            notes.add(f"缺少几度分带,由带号 {zone_attr} 判断为 {width}° 带 (zone width from 带号)")
    if width is None or zone_width(zone_attr) != width:
        if user_crs is None:
            reader.fail(f"带号={zone_attr} 不是中国的 {width or 3}° 带 (带号 is not a Chinese zone)")
        return None, easting
    return GkZone(datum, width, zone_attr, False), easting


def _rings(parcel: ParcelRows, north: np.ndarray, east: np.ndarray, reader: Reporter, label: str):
    """Split rows into rings: on a ring-number change, or after a row that closes the ring (§1.6)."""
    notes = reader.notes
    polygon = parcel.fields.get("geometry_kind") in (None, "面")
    numbers = np.asarray(parcel.rings)
    names = np.asarray(parcel.names, dtype=object)
    breaks = np.flatnonzero(np.diff(numbers) != 0) + 1
    groups: list[tuple[int, int]] = []
    for run_start, run_end in zip(np.r_[0, breaks], np.r_[breaks, len(numbers)], strict=True):
        start = int(run_start)
        while start < run_end:
            # the ring ends at the first later row that repeats its first point (by name, within _SNAP)
            later = slice(start + 1, run_end)
            d_north = np.abs(north[later] - north[start])
            d_east = np.abs(east[later] - east[start])
            hits = np.flatnonzero(
                ((d_north <= _SAME_POINT) & (d_east <= _SAME_POINT))
                | ((names[later] == names[start]) & (d_north <= _SNAP) & (d_east <= _SNAP))
            )
            end = start + 2 + int(hits[0]) if len(hits) else int(run_end)
            groups.append((start, end))
            start = end
    rings = []
    for first, end in groups:
        last = end - 1
        ring_no = parcel.rings[first]
        line = parcel.lines[first]
        closed = last > first and _same(north, east, last, first)
        if closed and parcel.names[last] != parcel.names[first]:
            notes.line(
                f"地块 {label} 圈 {ring_no} 闭合点名 {parcel.names[last]} 与起点名 {parcel.names[first]} 不同 "
                "(closing point name differs)",
                parcel.lines[last],
            )
        xy = np.column_stack([east[first:end], north[first:end]])
        if not closed and last > first and parcel.names[last] == parcel.names[first]:
            d_east, d_north = abs(east[last] - east[first]), abs(north[last] - north[first])
            if max(d_east, d_north) <= _SNAP:
                gap = float(np.hypot(d_east, d_north))
                closed = True
                xy[-1] = xy[0]
                notes.line(
                    f"地块 {label} 圈 {ring_no} 闭合点 {parcel.names[last]} 与起点相差 {gap * 1000:.0f} 毫米,"
                    "已取起点坐标闭合 (closing point snapped to the start)",
                    parcel.lines[last],
                )
        if not polygon:
            rings.append((ring_no, line, xy))
            continue
        if not closed:
            xy = np.vstack([xy, xy[:1]])
        # fewer than 3 distinct vertices; long rings of repeated points are left to the validity check
        if len(xy) < 4 or (len(xy) < 10 and len(np.unique(np.round(xy[:-1], 3), axis=0)) < 3):
            notes.line(f"地块 {label} 圈 {ring_no} 不足 3 个不同的点,已舍弃 (ring dropped)", line)
            continue
        if not closed:
            notes.line(f"地块 {label} 圈 {ring_no} 未闭合,已自动闭合 (ring closed automatically)", line)
        rings.append((ring_no, line, xy))
    return rings


def _same(north: np.ndarray, east: np.ndarray, i: int, j: int) -> bool:
    return abs(north[i] - north[j]) <= _SAME_POINT and abs(east[i] - east[j]) <= _SAME_POINT


def _assemble(rings: list, reader: Reporter, label: str):
    """Polygon or MultiPolygon by nesting depth: even depth is a shell, odd depth a hole of its container (§1.6)."""
    if len(rings) == 1:
        ring_no, line, xy = rings[0]
        if ring_no != 1:
            reader.notes.line(
                f"地块 {label} 唯一的圈号为 {ring_no},不是 1 (single ring not numbered 1)", line
            )
        return shapely.Polygon(xy)
    polys = np.array([shapely.Polygon(xy) for _, _, xy in rings])
    area = shapely.area(polys)
    covers = shapely.covers(polys[:, None], polys[None, :])
    np.fill_diagonal(covers, False)
    bigger = area[:, None] > area[None, :]
    container = np.full(len(rings), -1)
    for i in range(len(rings)):
        candidates = np.flatnonzero(covers[:, i] & bigger[:, i])
        if len(candidates):
            container[i] = candidates[np.argmin(area[candidates])]
    depth = np.zeros(len(rings), dtype=int)
    for i in range(len(rings)):
        j = container[i]
        while j >= 0:
            depth[i] += 1
            j = container[j]
    parts = []
    ring1_shells = 0
    for i, (ring_no, line, xy) in enumerate(rings):
        if depth[i] % 2:
            if ring_no == 1:
                reader.notes.line(f"地块 {label} 圈 1 位于另一圈内,作为洞 (ring 1 is a hole)", line)
            continue
        ring1_shells += ring_no == 1
        if ring_no == 1 and ring1_shells > 1:
            # separated only by closure: a second outer ring under the same number is easy to miss
            reader.notes.line(
                f"地块 {label} 圈号 1 下有多个互不包含的圈,作为多部件的另一部分 "
                "(another part also numbered ring 1; multipart)",
                line,
            )
        elif ring_no != 1:
            where = "不在其他圈内" if depth[i] == 0 else "位于洞内(岛)"
            reader.notes.line(
                f"地块 {label} 圈 {ring_no} {where},作为多部件的另一部分而非洞 (extra part, not a hole)", line
            )
        holes = [rings[j][2] for j in np.flatnonzero((container == i) & (depth == depth[i] + 1))]
        parts.append(shapely.Polygon(xy, holes))
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def _area_ha(
    value: str | None,
    computed_m2: float | None,
    reader: Reporter,
    label: str,
    line: int,
    *,
    guess_unit: bool = True,
) -> float | None:
    """The declared 地块面积 in hectares: strip unit suffixes, else tell ha, m² and 亩 apart by the computed area
    (not when `guess_unit` is off: the area of an invalid polygon says nothing about the unit)."""
    notes = reader.notes
    if value is None:
        notes.line(f"地块 {label} 缺少地块面积 (no declared area)", line)
        return None
    match = _AREA_UNIT.match(value)
    if match is None:
        notes.line(f"地块 {label} 的地块面积 {value!r} 不是数字,已忽略 (declared area is not a number)", line)
        return None
    number = float(match.group(1))
    unit = _UNIT_CANON.get((match.group(2) or "").lower()) if match.group(2) else None
    if match.group(2):
        notes.line(f"地块 {label} 的地块面积带单位 {match.group(2)},已去除 (area had unit suffix)", line)
    if computed_m2 is None:
        return _to_ha(number, unit or "ha")
    computed_ha = computed_m2 / M2_PER_HA
    if unit is None and not guess_unit:
        unit = "ha"
    if unit is None:
        candidates = {"ha": number, "m2": number / M2_PER_HA, "mu": number / 15}
        unit = next((u for u, v in candidates.items() if _close(v, computed_ha)), None)
        if unit in ("m2", "mu"):
            name = "平方米" if unit == "m2" else "亩"
            notes.line(
                f"地块 {label} 的地块面积 {value} 应为公顷,按数值判断为{name} (area is in {unit})", line
            )
        elif unit is None:
            unit = "ha"
            if number == 0:
                notes.line(f"地块 {label} 的地块面积为 0 (declared area is zero)", line)
            else:
                notes.line(
                    f"地块 {label} 申报面积 {value} 公顷与计算面积 {computed_ha:.4f} 公顷不符 "
                    "(declared area differs from the geometry)",
                    line,
                )
        return _to_ha(number, unit)
    ha = _to_ha(number, unit)
    if not _close(ha, computed_ha):
        notes.line(
            f"地块 {label} 申报面积 {value} 与计算面积 {computed_ha:.4f} 公顷不符 (declared area differs from the geometry)",
            line,
        )
    return ha


def _close(declared_ha: float, computed_ha: float) -> bool:
    # real files truncate to 4 decimals: 5.7089 declared for 5.708950 computed (FORMATS.md §1.9)
    return abs(declared_ha - computed_ha) <= max(0.001 * computed_ha, 0.0002)


def _to_ha(number: float, unit: str) -> float:
    return {"ha": number, "m2": number / M2_PER_HA, "mu": number / 15}[unit]


def _planned_use(land_use: str | None) -> str | None:
    """The canonical `planned_use` of a 地块用途 text, or None (the raw text stays in `land_use`)."""
    if not land_use:
        return None
    exact = LAYERS["parcels"].field("planned_use").values.get(land_use)
    if exact is not None:
        return exact
    for use, words in _USE_KEYWORDS:
        if any(word in land_use for word in words):
            return use
    return None


def _check_count(parcel: ParcelRows, rings: list, reader: Reporter, label: str) -> None:
    declared = parcel.fields.get("declared_points")
    if declared is None:
        return
    try:
        count = int(declared)
    except ValueError:
        reader.notes.line(
            f"地块 {label} 的界址点数 {declared!r} 不是整数 (point count is not an integer)", parcel.line
        )
        return
    closed_rows = sum(len(xy) for _, _, xy in rings)
    file_rows = len(parcel.rings)
    vertices = closed_rows - len(rings)
    if count == closed_rows or (
        parcel.fields.get("geometry_kind") not in (None, "面") and count == file_rows
    ):
        return
    if count == vertices:
        reader.notes.line(
            f"地块 {label} 的界址点数 {count} 是顶点数而非坐标行数 {closed_rows} (count {count} = vertices, not rows)",
            parcel.line,
        )
    # equal to the file's rows: the dropped ring or the added closure is reported already
    elif count != file_rows:
        used = f",闭合及舍弃无效圈后为 {closed_rows} 行" if closed_rows != file_rows else ""
        reader.notes.line(
            f"地块 {label} 的界址点数 {count} 与坐标行数不符: 文件中 {file_rows} 行{used} "
            f"(point count differs from rows: {count} declared, {file_rows} in the file)",
            parcel.line,
        )


def _user_crs(crs: object, reader: Reporter) -> CRS:
    try:
        return CRS.from_user_input(crs)
    except CRSError:
        reader.fail(
            f"无法识别的坐标系 {crs!r} (unknown CRS {crs!r}; give an EPSG code such as EPSG:4527)",
            field="crs",
        )


def _fit_user_crs(
    user_crs: CRS,
    kind: str,
    zone: GkZone | None,
    file_crs: CRS | None,
    north: np.ndarray,
    east: np.ndarray,
    reader: Reporter,
) -> np.ndarray:
    """The eastings in the given CRS: the zone prefix added or removed when the zone agrees; an error when the
    coordinates cannot be in that CRS (degrees vs metres, another zone, off its area of use)."""
    notes = reader.notes
    label = user_crs.to_string()
    if kind == "geographic" and not user_crs.is_geographic:
        reader.fail(
            f"坐标为经纬度,但指定的坐标系 {label} 是投影坐标系 (coordinates are degrees but the crs is projected)",
            field="crs",
        )
    if kind == "projected" and user_crs.is_geographic:
        reader.fail(
            f"坐标为米制投影坐标,但指定的坐标系 {label} 是经纬度 (coordinates are metres but the crs is geographic)",
            field="crs",
        )
    given = parse_gk_crs(user_crs) if kind == "projected" else None
    same_zone = False
    if given is not None:
        prefix = int(np.floor(np.median(east) / 1e6))
        if prefix >= 10:  # _resolve_zone has given every easting the same prefix
            if (prefix, zone_width(prefix)) != (given.zone, given.width):
                reader.fail(
                    f"东坐标的带号前缀 {prefix} 与指定坐标系 {label} 的 {given.width}° 带 {given.zone} 不符 "
                    f"(eastings carry zone prefix {prefix}, the crs is {given.width}-degree zone {given.zone})",
                    field="crs",
                )
            if not given.prefixed:
                east = east - prefix * 1e6
                notes.add(
                    f"已去除东坐标的带号前缀 {prefix},以符合指定的 {label} (zone prefix removed to fit the crs)"
                )
        elif given.prefixed:
            east = east + given.zone * 1e6
            notes.add(
                f"已为东坐标补上带号前缀 {given.zone},以符合指定的 {label} (zone prefix added to fit the crs)"
            )
        same_zone = zone is not None and zone[:3] == given[:3]
    if file_crs is not None and not same_zone and not user_crs.equals(file_crs):
        notes.add(f"使用指定的 {label},文件推断为 {file_crs.to_string()} (crs overrides the file)")
    _check_area_of_use(user_crs, north, east, reader)
    return east


def _check_area_of_use(crs: CRS, north: np.ndarray, east: np.ndarray, reader: Reporter) -> None:
    """Fail when the coordinates land nowhere near the CRS's area of use (or cannot be transformed at all)."""
    lon_, lat_ = to_lonlat(crs, float(np.median(east)), float(np.median(north)))
    lon, lat = float(lon_), float(lat_)
    off = float(degrees_outside_area(crs, lon, lat))
    label = crs.to_string()
    if not np.isfinite(off):
        reader.fail(f"坐标与指定的坐标系 {label} 不符 (the coordinates do not fit the crs)", field="crs")
    if not in_china(lon, lat):
        # the format is China's (and the zone arithmetic China's): elsewhere the given CRS is the wrong one
        reader.fail(
            f"按指定的坐标系 {label},坐标中心 ({lon:.2f}, {lat:.2f}) 位于中国境外 "
            "(with the given crs the coordinates lie outside China)",
            field="crs",
        )
    # the same thresholds as the bundle reader (gis.io.reader._check_area_of_use)
    if off > AREA_OF_USE_ERROR_DEG:
        reader.fail(
            f"坐标中心 ({lon:.2f}, {lat:.2f}) 远在指定坐标系 {label} 的适用范围之外 "
            "(the coordinates lie far outside the crs's area of use)",
            field="crs",
        )
    if off > AREA_OF_USE_WARN_DEG:
        reader.notes.add(
            f"坐标中心 ({lon:.2f}, {lat:.2f}) 在指定坐标系 {label} 的适用范围之外 "
            "(the coordinates lie outside the crs's area of use; check the zone)"
        )


def build(
    parcels: list[ParcelRows],
    attributes: dict[str, str],
    field_names: list[str] | None,
    reader: Reporter,
    crs: object,
    swap_xy: bool | None,
    repair: bool,
) -> tuple[gpd.GeoDataFrame, CRS]:
    """One GeoDataFrame row per parcel and the CRS (see `gis.formats.txt_read.read_txt` for the parameters)."""
    notes = reader.notes
    kept = [p for p in parcels if p.rings]
    for parcel in parcels:
        if not parcel.rings:
            notes.line(
                f"地块 {parcel.fields.get('parcel_id')} 没有坐标行,已跳过 (parcel without points)",
                parcel.line,
            )
    if not kept:
        reader.fail("没有坐标行 (no point rows)")
    user_crs = _user_crs(crs, reader) if crs is not None else None
    north, east, kind = _orient(kept, swap_xy, reader)
    zone: GkZone | None = None
    if kind == "geographic":
        datum = datum_from_text(attributes.get("坐标系")) or "CGCS2000"
        file_crs: CRS | None = GkZone(datum, 3, 25, False).geographic_crs
    else:
        zone, east = _resolve_zone(east, attributes, reader, user_crs)
        file_crs = zone.crs if zone is not None else None
        if zone is not None:
            local = east - (zone.zone * 1e6 if zone.prefixed else 0.0)
            if np.any((local < 0) | (local > 1e6)) or np.any((north < 0) | (north > 6.5e6)):
                notes.add(
                    "部分坐标超出中国高斯投影带的范围 (coordinates outside a Chinese Gauss-Krüger zone)"
                )
    if user_crs is not None:
        east = _fit_user_crs(user_crs, kind, zone, file_crs, north, east, reader)
        file_crs = user_crs
    assert file_crs is not None
    area_crs = None
    if file_crs.is_geographic:
        lon = float(np.mean(east))
        area_crs = GkZone("CGCS2000", 3, nearest_3deg_zone(lon), False).crs

    records, geoms = [], []
    ids_seen: dict[str, int] = {}
    offset = 0
    for ordinal, parcel in enumerate(kept, start=1):
        n = len(parcel.rings)
        p_north, p_east = north[offset : offset + n], east[offset : offset + n]
        offset += n
        fields: dict[str, object] = dict(parcel.fields)
        label = parcel.fields.get("parcel_id") or str(ordinal)
        if not fields.get("parcel_id"):
            notes.line(f"地块编号为空,按顺序编为 {ordinal} (empty parcel id)", parcel.line)
        if label in ids_seen:
            ids_seen[label] += 1
            new = f"{label}-{ids_seen[label]}"
            notes.line(f"地块编号 {label} 重复,改为 {new} (duplicate parcel id renamed)", parcel.line)
            label = new
        ids_seen.setdefault(label, 1)
        fields["parcel_id"] = label
        kind_text = parcel.fields.get("geometry_kind") or "面"
        if kind_text == "面" and kind == "projected":
            _check_outliers(parcel, p_north, p_east, reader, label)
        rings = _rings(parcel, p_north, p_east, reader, label)
        if not rings:
            reader.fail(f"地块 {label} 没有有效的圈 (no valid ring)", parcel.line, label)
        valid = True
        if kind_text == "面":
            geom = _assemble(rings, reader, label)
            valid = bool(shapely.is_valid(geom))
            if not valid:
                reason = shapely.is_valid_reason(geom)
                if repair:
                    geom = shapely.make_valid(geom)
                    notes.line(
                        f"地块 {label} 的几何无效({reason}),已修复 (invalid geometry repaired)", parcel.line
                    )
                else:
                    notes.line(f"地块 {label} 的几何无效: {reason} (invalid geometry)", parcel.line)
        else:
            notes.line(f"地块 {label} 的记录图形属性为 {kind_text},不是面 (not a polygon)", parcel.line)
            if kind_text == "线":
                lines = [shapely.LineString(xy) for _, _, xy in rings]
                geom = lines[0] if len(lines) == 1 else shapely.MultiLineString(lines)
            else:
                geom = shapely.MultiPoint(np.column_stack([p_east, p_north]))
        _check_count(parcel, rings, reader, label)
        computed = None
        if kind_text == "面":
            # an invalid polygon's area (a bow-tie's lobes cancel) is no clue to the unit: compare, don't guess
            measured = geom if valid else shapely.make_valid(geom)
            computed = float(
                gpd.GeoSeries([measured], crs=file_crs).to_crs(area_crs).area.iloc[0]
                if area_crs
                else measured.area
            )
        fields["declared_area_ha"] = _area_ha(
            parcel.fields.get("declared_area_ha"), computed, reader, label, parcel.line, guess_unit=valid
        )
        fields["declared_points"] = _int_or_none(parcel.fields.get("declared_points"))
        fields["planned_use"] = _planned_use(parcel.fields.get("land_use"))
        records.append(fields)
        geoms.append(geom)

    columns = [c for c in HEADER_ALIASES if any(c in r for r in records)]
    columns += [c for r in records for c in r if c not in HEADER_ALIASES and c not in columns]
    table = {c: [r.get(c) for r in records] for c in columns}
    gdf = gpd.GeoDataFrame(table, geometry=geoms, crs=file_crs)
    gdf["declared_area_ha"] = gdf["declared_area_ha"].astype(float)
    gdf["declared_points"] = gdf["declared_points"].astype("Int64")
    if field_names is not None:
        gdf.attrs["field_names"] = field_names
    return gdf, file_crs
