"""Lines of a 界址点坐标 TXT file to sections, attributes and parcels' rows (FORMATS.md §1.2–§1.5, §1.10–§1.12).

Internal to `gis.formats.txt_read`: decoding, line normalisation (full-width brackets and commas, braces, blank
lines), the ``[属性描述]`` block, parcel header lines located by the position of 面/线/点, and point rows.
"""

from __future__ import annotations

import codecs
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import NoReturn

import numpy as np

from gis.errors import InputError

__all__ = ["HEADER_ALIASES", "Notes", "ParcelRows", "Reporter", "decode", "parse"]

ATTRIBUTE_SECTION = "属性描述"
COORD_SECTION = "地块坐标"
_KINDS = ("面", "线", "点")
#: header columns of the gdf and their Chinese names (also used by the writer and the shapefile legend)
HEADER_ALIASES: dict[str, str] = {
    "parcel_id": "地块编号",
    "name": "地块名称",
    "planned_use": "规划用途",
    "land_use": "地块用途",
    "land_class_code": "地类编码",
    "sheet_no": "图幅号",
    "geometry_kind": "记录图形属性",
    "declared_points": "界址点数",
    "declared_area_ha": "地块面积",
    "admin_code": "行政区代码",
    "village": "村名",
    "spot_type": "图斑类型",
    "land_class": "地类",
    "grade_before": "改造前质量等别",
    "grade_after": "改造后质量等别",
    "remark": "备注",
}
# the 12/13-field 补充耕地 variant continues after 地类编码 with these (znlgis GtTxtUtil.getDefaultFieldNames)
_TRAILING = ("spot_type", "land_class", "grade_before", "grade_after", "remark")
_BY_CHINESE = {v: k for k, v in HEADER_ALIASES.items()} | {
    "地类编号": "land_class_code",
    "图形属性": "geometry_kind",
    "面积": "declared_area_ha",
}
# literal field codes some tools write as values (polygon-txt test data: "FID_0,DKMC,面,TFH,DKYT,DLBM")
_PLACEHOLDERS = {"DKMC", "TFH", "DKYT", "DLBM", "DKBH", "DKMJ", "JZDS"}
_FULL_WIDTH = str.maketrans({"【": "[", "】": "]", "［": "[", "］": "]", "＠": "@", "＝": "="})


class Notes:
    """Warnings, the repeated ones folded into one message listing their line numbers."""

    def __init__(self) -> None:
        self.folded: dict[str, list[int]] = defaultdict(list)
        self.items: list[str] = []

    def line(self, message: str, line: int) -> None:
        if not self.folded[message]:
            self.items.append(message)
        self.folded[message].append(line)

    def add(self, message: str) -> None:
        self.items.append(message)

    def render(self) -> list[str]:
        out = []
        for item in self.items:
            lines = self.folded.get(item)
            if lines:
                shown = "、".join(str(n) for n in lines[:8]) + (
                    f" 等 {len(lines)} 行" if len(lines) > 8 else ""
                )
                out.append(f"第 {shown} 行: {item}")
            else:
                out.append(item)
        return out


@dataclass
class ParcelRows:
    line: int
    fields: dict[str, str | None]
    names: list[str] = field(default_factory=list)
    rings: list[int] = field(default_factory=list)
    a: list[float] = field(default_factory=list)
    b: list[float] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)


class Reporter:
    def __init__(self, where: str, notes: Notes) -> None:
        self.where = where
        self.notes = notes

    def fail(
        self, message: str, line: int | None = None, feature: object = None, field: str | None = None
    ) -> NoReturn:
        prefix = f"第 {line} 行 (line {line}): " if line is not None else ""
        raise InputError(prefix + message, file=self.where, feature=feature, field=field)


def decode(data: bytes, reader: Reporter) -> tuple[str, str]:
    """BOM, then strict UTF-8, then GB18030 (a superset of GBK and GB2312, FORMATS.md §1.10)."""
    for bom, codec in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(codec), "utf-8-sig" if codec == "utf-8" else "utf-16"
            except UnicodeDecodeError as exc:
                if codec == "utf-8":
                    # an editor added a UTF-8 BOM to a GBK file: strip it and fall through to GB18030 (§1.12)
                    data = data[len(bom) :]
                    reader.notes.add(
                        "文件以 UTF-8 BOM 开头,但内容不是 UTF-8,已去除 BOM 按 GB18030 读取 "
                        "(UTF-8 BOM over non-UTF-8 text; BOM stripped, read as GB18030)"
                    )
                    break
                line = data[: len(bom) + exc.start].count(b"\n") + 1
                reader.fail(f"文件以 {codec.upper()} BOM 开头,但内容不是 {codec.upper()} (bad {codec})", line)
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        reader.fail("无法解码: 既不是 UTF-8 也不是 GBK/GB18030 (cannot decode the file)", line)


def parse(
    text: str, reader: Reporter
) -> tuple[dict[str, str], list[ParcelRows], list[str] | None, dict[str, list[str]]]:
    notes = reader.notes
    attributes: dict[str, str] = {}
    parcels: list[ParcelRows] = []
    sections: dict[str, list[str]] = {}
    field_names: list[str] | None = None
    section: str | None = None
    seen_coords = False
    raw_lines = re.split(r"\r\n|\r|\n", text)
    if raw_lines and not raw_lines[-1]:
        raw_lines.pop()  # the end of the last line, not a blank line
    for number, raw in enumerate(raw_lines, start=1):
        line = raw.strip()
        if not line:
            notes.line("空行,已跳过 (blank line skipped)", number)
            continue
        if line[0] == "{" or line[-1] == "}":
            # before the fast path, which would keep "{J1" as a point name
            notes.line("花括号已去除 (template braces removed)", number)
            line = line.strip("{}").strip()
            if not line:
                continue
        if section == COORD_SECTION and parcels and line.isascii() and _fast_point(line, number, parcels[-1]):
            continue  # the common case, a clean point row
        if line.startswith("\ufeff"):
            line = line.lstrip("\ufeff")
        if not line.isascii():
            normalized = line.translate(_FULL_WIDTH)
            if normalized != line:
                notes.line("全角括号或符号已改为半角 (full-width brackets/symbols normalised)", number)
            if "，" in normalized:
                normalized = normalized.replace("，", ",")
                notes.line("中文逗号已改为英文逗号 (Chinese comma replaced)", number)
            line = normalized
        if line.startswith("[") and line.endswith("]"):
            inner = line[1:-1].strip()
            if section == COORD_SECTION and inner.endswith("@") and "," in inner:
                # polygon-txt's "advanced" form: a field list naming the header columns
                field_names = [f.strip() for f in inner[:-1].rstrip(",").split(",")]
                notes.line("地块头字段表行,按字段名读取 (header field list)", number)
                continue
            section = inner
            if section == COORD_SECTION:
                seen_coords = True
            elif section != ATTRIBUTE_SECTION:
                sections.setdefault(section, [])
            continue
        if section == ATTRIBUTE_SECTION:
            if "=" not in line:
                notes.line("[属性描述] 中缺少 '=' 的行,已忽略 (attribute line without '=')", number)
                sections.setdefault("", []).append(raw)
                continue
            key, value = (part.strip() for part in line.split("=", 1))
            if key in attributes and attributes[key] != value:
                notes.line(f"属性 {key} 重复,取最后一个值 (duplicate key)", number)
            attributes[key] = value
            continue
        if section != COORD_SECTION and not seen_coords and line.endswith("@") and "," in line:
            notes.line("缺少 [地块坐标] 节标记 (missing [地块坐标] section)", number)
            section = COORD_SECTION
            seen_coords = True
        if section != COORD_SECTION:
            if section is None:
                notes.line("不在任何节内的行,已忽略 (line outside any section)", number)
            sections.setdefault(section or "", []).append(raw)
            continue
        if line.endswith("@"):
            parcels.append(ParcelRows(number, _header(line, number, field_names, reader)))
            continue
        if _lacks_at(line):
            notes.line("地块头行缺少结尾的 @,已按地块头读取 (header line without the closing @)", number)
            parcels.append(ParcelRows(number, _header(line + ",@", number, field_names, reader)))
            continue
        _point(line, number, parcels, reader)
    if not seen_coords:
        reader.fail("缺少 [地块坐标] 节 (no [地块坐标] section)")
    return attributes, parcels, field_names, sections


def _lacks_at(line: str) -> bool:
    """A header line whose terminating @ was deleted: 面/线/点 in a later column and an integer count first."""
    if not any(kind in line for kind in _KINDS):
        return False
    cols = [c.strip() for c in line.split(",")]
    return len(cols) >= 5 and cols[0].isdigit() and any(c in _KINDS for c in cols[2:])


def _header(line: str, number: int, field_names: list[str] | None, reader: Reporter) -> dict[str, str | None]:
    notes = reader.notes
    body = line[:-1].rstrip()
    if body.endswith(","):
        body = body[:-1]
    raw_fields = body.split(",")
    fields = [f.strip() for f in raw_fields]
    if fields != raw_fields:
        notes.line("地块头行的值两侧有空格,已去除 (spaces around header values)", number)
    out: dict[str, str | None] = {}
    if field_names is not None:
        if len(field_names) != len(fields):
            notes.line(
                f"地块头有 {len(fields)} 个值,字段表有 {len(field_names)} 个 (header/field list mismatch)",
                number,
            )
        for label, value in zip(field_names, fields, strict=False):
            out[_BY_CHINESE.get(label, label)] = value
    else:
        out = _header_by_position(fields, number, reader)
    for key in ("name", "sheet_no", "land_use", "land_class_code"):
        current = out.get(key)
        if current is not None and current.upper() in _PLACEHOLDERS:
            notes.line(f"{HEADER_ALIASES[key]} 为占位符 {current},已置空 (placeholder value dropped)", number)
            out[key] = None
    return {k: (v if v else None) for k, v in out.items()}


def _header_by_position(fields: list[str], number: int, reader: Reporter) -> dict[str, str | None]:
    """Map header values by the position of 面/线/点, so that longer provincial variants work (FORMATS.md §1.4)."""
    notes = reader.notes
    found = [i for i in range(2, len(fields)) if fields[i] in _KINDS]
    if 4 in found:
        kind = 4
    elif found:
        kind = found[0]
    else:
        fields = fields + [""] * max(0, 5 - len(fields))
        given = f" {fields[4]!r}" if fields[4] else ""
        notes.line(
            f"地块头缺少记录图形属性(面/线/点){given},按面读取 (no 面/线/点 in header; polygon assumed)",
            number,
        )
        kind = 4
        fields[4] = "面"  # store what is assumed, so that the geometry is built as a polygon
    out: dict[str, str | None] = {
        "declared_points": fields[0],
        "declared_area_ha": fields[1] if kind > 1 else None,
    }
    if kind == 4:
        out["parcel_id"], out["name"] = fields[2], fields[3]
    elif kind < 4:
        notes.line("地块头缺少地块编号或地块名称 (header lacks parcel id or name)", number)
        out["parcel_id"] = fields[2] if kind == 3 else None
        out["name"] = None
    elif kind == 6 and fields[2].isdigit():
        # "报省部标": two leading attributes (administrative code, village) before 编号 and 名称
        notes.line("报省部标地块头(编号前有行政区代码和村名两个字段) (provincial header variant)", number)
        out["admin_code"], out["village"] = fields[2], fields[3]
        out["parcel_id"], out["name"] = fields[4], fields[5]
    else:
        notes.line("地块名称含逗号,已合并 (comma inside the parcel name)", number)
        out["parcel_id"], out["name"] = fields[2], ",".join(fields[3:kind])
    out["geometry_kind"] = fields[kind]
    rest = fields[kind + 1 :]
    for key, value in zip(("sheet_no", "land_use", "land_class_code", *_TRAILING), rest, strict=False):
        out[key] = value
    for i, value in enumerate(rest[3 + len(_TRAILING) :], start=1):
        out[f"extra_{i}"] = value
    return out


def _fast_point(line: str, number: int, parcel: ParcelRows) -> bool:
    """Append a canonical ``name,ring,X,Y`` row (no spaces, finite numbers); False for anything else."""
    parts = line.split(",")
    if len(parts) != 4 or " " in line or "\t" in line:
        return False
    try:
        ring, a, b = int(parts[1]), float(parts[2]), float(parts[3])
    except ValueError:
        return False
    if not (math.isfinite(a) and math.isfinite(b)):
        return False
    parcel.names.append(parts[0])
    parcel.rings.append(ring)
    parcel.a.append(a)
    parcel.b.append(b)
    parcel.lines.append(number)
    return True


def _point(line: str, number: int, parcels: list[ParcelRows], reader: Reporter) -> None:
    notes = reader.notes
    if "," in line:
        raw_cols = line.split(",")
    else:
        raw_cols = line.split()
        if len(raw_cols) >= 3:
            notes.line("坐标行以空格分隔 (whitespace-separated point row)", number)
    cols = [c.strip() for c in raw_cols]
    if "," in line and cols != raw_cols:
        notes.line("坐标值两侧有空格,已去除 (spaces around values)", number)
    feature = parcels[-1].fields.get("parcel_id") if parcels else None
    if len(cols) == 3:
        notes.line("坐标行只有 3 列(点号,X,Y),圈号按 1 读取 (3-column row, ring 1)", number)
        cols = [cols[0], "1", cols[1], cols[2]]
    if len(cols) < 4:
        reader.fail(f"坐标行应为 点号,圈号,X,Y,实为 {line!r} (expected name,ring,X,Y)", number, feature)
    if len(cols) > 4 and any(cols[4:]):
        notes.line("坐标行第 4 列之后的列已忽略 (extra point columns ignored)", number)
    if not parcels:
        reader.fail("坐标行出现在第一个地块头行之前 (point row before any parcel header)", number)
    parcel = parcels[-1]
    try:
        ring_value = float(cols[1])
    except ValueError:
        reader.fail(f"圈号 {cols[1]!r} 不是整数 (ring number is not an integer)", number, feature, "圈号")
    if not ring_value.is_integer():
        reader.fail(f"圈号 {cols[1]!r} 不是整数 (ring number is not an integer)", number, feature, "圈号")
    values = []
    for label, text in (("X坐标", cols[2]), ("Y坐标", cols[3])):
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not np.isfinite(value):
            reader.fail(f"{label} {text!r} 不是数字 (coordinate is not a number)", number, feature, label)
        values.append(value)
    parcel.names.append(cols[0])
    parcel.rings.append(int(ring_value))
    parcel.a.append(values[0])
    parcel.b.append(values[1])
    parcel.lines.append(number)
