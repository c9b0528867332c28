"""Field normalization on read: headers to schema names (`gis.io.headers`), values to schema types (vectorized).

Values: enums accept canonical values and their Chinese aliases (any case, stripped);
dates accept ISO strings, ``2020/1/5``, ``2020.1.5``, ``2020年1月5日``, ``20200105``, Excel serial numbers and
datetimes; numbers accept thousands separators and a trailing ``%``; booleans accept true/false, 1/0, 是/否,
yes/no, Y/N, 有/无.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable

import numpy as np
import pandas as pd

from gis.io.headers import MOJIBAKE, match_fields
from gis.io.where import ROW, Where
from gis.schema import FieldSpec, LayerSpec

__all__ = ["DATE_DTYPE", "normalize_fields", "parse_dates", "parse_numbers"]

#: dtype of every date column of a bundle
DATE_DTYPE = "datetime64[ns]"
#: the last date that datetime64[ns] holds; later dates (e.g. "valid until 9999-12-31") are clipped to it
_MAX_DATE = pd.Timestamp("2262-04-01")
_MIN_YEAR = 1900

#: values that mean "empty" in typed (date, number, enum) columns
NULL_TOKENS = frozenset(
    {"", "-", "--", "—", "——", "/", "\\", "无", "空", "null", "none", "nan", "nat", "n/a", "na", "#n/a"}
)

_BOOLS = {
    **dict.fromkeys(
        ("true", "t", "1", "1.0", "yes", "y", "是", "有", "√", "✓", "已落实", "已完成", "存在"), True
    ),
    **dict.fromkeys(
        ("false", "f", "0", "0.0", "no", "n", "否", "无", "×", "✗", "未落实", "未完成", "不存在"), False
    ),
}

#: unit suffixes that may follow a number, by the field name's last part (land_price_wan -> "wan")
_UNITS: dict[str, tuple[str, ...]] = {
    "wan": ("万元", "万"),
    "kv": ("kv", "千伏"),
    "m2": ("平方米", "㎡", "m²", "m2"),
}

_DATE = re.compile(
    r"^(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:(?:[T\s]|\s*)\d{1,2}[:时].*)?$"
)


# ── value parsing ─────────────────────────────────────────────────────────────────────────────────────────


def _text(values: pd.Series) -> pd.Series:
    """Values as stripped NFKC strings (NaN stays NaN; integral floats lose their ``.0``)."""
    if pd.api.types.is_float_dtype(values.dtype):
        whole = values.notna() & (values == np.floor(values.fillna(0))) & (values.abs() < 1e15)
        out = values.astype("str")
        out[whole] = values[whole].astype("int64").astype("str")
        return out
    text = values.astype("str").str.normalize("NFKC").str.strip()
    if values.dtype == object:
        # Excel hands back 1001.0 for a numeric cell; the user typed 1001
        text = text.str.replace(r"^(-?\d+)\.0+$", r"\1", regex=True)
    return text


def _null(text: pd.Series) -> pd.Series:
    return text.isna() | text.str.lower().isin(NULL_TOKENS)


def _on_uniques(
    values: pd.Series, parse: Callable[[pd.Series], tuple[pd.Series, pd.Series]]
) -> tuple[pd.Series, pd.Series]:
    """Run `parse` (values -> (parsed, bad mask)) on the distinct values only and spread the result back.

    Dates, enums and flags repeat a lot: a million rows hold a few thousand distinct dates, so the string
    work, which pandas does element by element, runs on thousands of values instead of millions.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if len(uniques) == 0 or len(uniques) * 2 > len(values):  # all empty, or mostly distinct
        return parse(values)
    parsed, bad = parse(pd.Series(uniques))
    # take() on the typed array (-1, a missing value, gives NA): no Python objects per row
    out = parsed.reset_index(drop=True).array.take(codes, allow_fill=True)
    bad_rows = np.where(codes >= 0, bad.to_numpy(dtype=bool)[np.maximum(codes, 0)], False)
    return pd.Series(out, index=values.index), pd.Series(bad_rows, index=values.index)


def parse_numbers(values: pd.Series, units: tuple[str, ...] = ()) -> tuple[pd.Series, pd.Series]:
    """Numbers as float64 and the mask of non-empty values that are not numbers.

    `units` are suffixes that may follow the number (``220kV``, ``1200万元``) and are dropped.

    Examples
    --------
    >>> parse_numbers(pd.Series(["1,234.5", "50%", "", "abc"]))[0].tolist()
    [1234.5, 0.5, nan, nan]
    >>> parse_numbers(pd.Series(["220kV", "110 千伏"]), units=("kv", "千伏"))[0].tolist()
    [220.0, 110.0]
    """
    if pd.api.types.is_bool_dtype(values.dtype) or pd.api.types.is_numeric_dtype(values.dtype):
        out = values.astype("float64")
        return out, pd.Series(False, index=values.index) | ~np.isfinite(out.fillna(0))
    return _on_uniques(values, functools.partial(_numbers, units=units))


def _numbers(values: pd.Series, units: tuple[str, ...] = ()) -> tuple[pd.Series, pd.Series]:
    text = _text(values)
    empty = _null(text)
    text = text.str.replace(r"[,\s_']", "", regex=True)
    if units:
        text = text.str.replace("(?i)(" + "|".join(re.escape(u) for u in units) + ")$", "", regex=True)
    percent = text.str.endswith("%", na=False)
    text = text.str.removesuffix("%")
    out = pd.to_numeric(text.where(~empty), errors="coerce").astype("float64")
    out = out.where(~percent, out / 100)
    bad = ~empty & (out.isna() | ~np.isfinite(out.fillna(0)))
    return out.where(~bad), bad


def parse_dates(values: pd.Series) -> tuple[pd.Series, pd.Series, int]:
    """Dates as datetime64[ns] at midnight, the mask of non-empty values that are not dates, and the number
    of dates after 2262 that were clipped (e.g. "永久" validity written as 9999-12-31).

    Examples
    --------
    >>> s = pd.Series(["2020-01-05", "2020/1/5", "2020.1.5", "2020年1月5日", "20200105", "43835", None])
    >>> parse_dates(s)[0].dt.strftime("%Y-%m-%d").tolist()
    ['2020-01-05', '2020-01-05', '2020-01-05', '2020-01-05', '2020-01-05', '2020-01-05', nan]
    """
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
    if pd.api.types.is_datetime64_dtype(values.dtype):
        return _finish_dates(values.dt.normalize(), pd.Series(False, index=values.index))
    dates, bad = _on_uniques(values, _dates)
    return _finish_dates(dates, bad)


def _dates(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    text = _text(values)
    empty = _null(text)
    parts = text.str.extract(_DATE)
    compact = text.str.fullmatch(r"(19|20|21)\d{6}", na=False)
    parts.loc[compact, "y"] = text[compact].str[:4]
    parts.loc[compact, "m"] = text[compact].str[4:6]
    parts.loc[compact, "d"] = text[compact].str[6:8]
    ymd = parts.apply(pd.to_numeric, errors="coerce")
    dates = pd.to_datetime(
        pd.DataFrame({"year": ymd["y"], "month": ymd["m"], "day": ymd["d"]}), errors="coerce"
    ).astype("datetime64[us]")
    # Excel serial day numbers (1900 date system, day 0 = 1899-12-30) from numeric cells
    serial = text.str.fullmatch(r"\d{1,6}(\.\d+)?", na=False) & ~compact
    if serial.any():
        days = pd.to_numeric(text[serial], errors="coerce")
        days = days.where((days >= 1) & (days < 2_958_466))
        dates[serial] = pd.Timestamp("1899-12-30") + pd.to_timedelta(np.floor(days), unit="D")
    bad = ~empty & dates.isna()
    return dates.where(~empty), bad


def _finish_dates(dates: pd.Series, bad: pd.Series) -> tuple[pd.Series, pd.Series, int]:
    dates = dates.astype("datetime64[us]")
    too_early = dates.notna() & (dates.dt.year < _MIN_YEAR)
    too_late = dates.notna() & (dates > _MAX_DATE)
    dates = dates.where(~too_late, _MAX_DATE).where(~too_early)
    return dates.astype(DATE_DTYPE), bad | too_early, int(too_late.sum())


def _parse_bools(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.astype(object), pd.Series(False, index=values.index)
    return _on_uniques(values, _bools)


def _bools(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    text = _text(values).str.lower()
    out = text.map(_BOOLS).astype(object)
    empty = text.isna() | (text.str.len() == 0) | (text.isin(NULL_TOKENS) & ~text.isin(_BOOLS.keys()))
    bad = ~empty & out.isna()
    return out.where(~empty), bad


def _enum_index(spec: FieldSpec) -> dict[str, str]:
    return {unicodedata.normalize("NFKC", k).strip().lower(): v for k, v in spec.values.items()}


def _parse_enum(values: pd.Series, spec: FieldSpec) -> tuple[pd.Series, pd.Series]:
    index = _enum_index(spec)

    def parse(unique: pd.Series) -> tuple[pd.Series, pd.Series]:
        text = _text(unique)
        empty = _null(text)
        out = text.str.lower().map(index).astype(object)
        bad = ~empty & out.isna()
        return out.where(~empty).astype("str"), bad

    return _on_uniques(values, parse)


def _parse_str(values: pd.Series) -> pd.Series:
    """Text columns (ids, names, codes: mostly distinct values) stripped with vectorized Arrow string kernels."""
    if pd.api.types.is_float_dtype(values.dtype) or values.dtype == object:
        text = _text(values)  # 1001.0 -> "1001"
    else:
        text = values.astype("str").str.strip()
    return text.where(text.str.len() > 0).astype("str")


# ── the layer ─────────────────────────────────────────────────────────────────────────────────────────────


def normalize_fields(
    frame: pd.DataFrame, spec: LayerSpec, where: Where, warnings: list[str], *, require: bool = True
) -> pd.DataFrame:
    """Rename a layer's columns to schema names and convert their values to schema types.

    Every schema field ends up as a column (typed empty, or its default, when the input has none); unknown
    columns are kept unchanged after them.

    Parameters
    ----------
    frame
        The layer as read (a GeoDataFrame, geometry column included).
    spec
        The layer's schema.
    where
        The file and layer, for messages.
    warnings
        Receives notes (duplicate header matches, clipped dates).
    require
        Check that the layer's required fields exist (off for an empty layer, which may have no columns).

    Returns
    -------
    pandas.DataFrame
        Same class and rows as `frame`: schema columns (str, float64, datetime64[ns], bool, or str enums),
        then the unknown columns, then the geometry.

    Raises
    ------
    InputError
        A required field is missing or empty, or a value cannot be converted (names the feature and field).
    """
    geometry = frame.geometry.name if hasattr(frame, "geometry") else None
    columns = [c for c in frame.columns if c not in (geometry, ROW)]
    mapping, notes = match_fields(columns, spec, prefixes=where.kind == "shp")
    warnings.extend(notes)
    frame = frame.rename(columns={c: n for c, n in mapping.items() if c != n})
    present = set(mapping.values())
    for name in spec.required_fields if require else ():
        if name not in present:
            alias = next((f.alias for f in spec.fields if f.name == name and f.alias), None)
            hint = f" ({alias})" if alias else ""
            if any(MOJIBAKE.search(str(c)) for c in columns):
                hint += "; 表头疑似乱码, 请检查编码 (the headers look garbled: check the file's encoding)"
            raise where.error(f"缺少必需字段 required field missing: {name}{hint}", field=name)
    # ids first, so that every later message can name the feature by its id
    ordered = sorted(spec.fields, key=lambda f: f.name != where.id_field)
    for fspec in ordered:
        frame[fspec.name] = _convert(frame, fspec, fspec.name in present, where, warnings)
        if fspec.name in spec.required_fields:
            where.fail_rows(
                frame, frame[fspec.name].isna(), "必需字段为空 (required field is empty)", fspec.name
            )
    known = [f.name for f in spec.fields]
    rest = [c for c in frame.columns if c not in known and c != geometry]
    return frame[known + rest + ([geometry] if geometry else [])]


def _allowed(fspec: FieldSpec) -> list[str]:
    """Canonical enum values with their first Chinese name: ``industrial/工业``."""
    chinese: dict[str, str] = {}
    for alias, canonical in fspec.values.items():
        if alias != canonical:
            chinese.setdefault(canonical, alias)
    canonicals = dict.fromkeys(fspec.values.values())
    return [f"{c}/{chinese[c]}" if c in chinese else c for c in canonicals]


def _empty(index: pd.Index, fspec: FieldSpec) -> pd.Series:
    """The column of a field the input does not have: empty, or its default."""
    if fspec.type == "date":
        return pd.Series(pd.NaT, index=index, dtype=DATE_DTYPE)
    if fspec.type == "number":
        return pd.Series(np.nan, index=index, dtype="float64")
    if fspec.type == "bool":
        return pd.Series(bool(fspec.default), index=index, dtype=bool)
    return pd.Series(fspec.default if fspec.default is not None else np.nan, index=index, dtype="str")


def _convert(
    frame: pd.DataFrame, fspec: FieldSpec, present: bool, where: Where, warnings: list[str]
) -> pd.Series:
    if not present:
        return _empty(frame.index, fspec)
    raw = frame[fspec.name]
    name = fspec.name
    if fspec.type == "date":
        dates, bad, clipped = parse_dates(raw)
        where.fail_rows(frame, bad, "日期无效 (not a valid date)", name, raw)
        if clipped:
            warnings.append(
                f"{where.layer}: 字段 {name} 有 {clipped} 个日期晚于 2262 年, 按 {_MAX_DATE.date()} 处理 "
                f"({clipped} dates after 2262 in {name} read as {_MAX_DATE.date()})"
            )
        return dates
    if fspec.type == "number":
        numbers, bad = parse_numbers(raw, _UNITS.get(name.rsplit("_", 1)[-1], ()))
        where.fail_rows(frame, bad, "不是数字 (not a number)", name, raw)
        if fspec.minimum is not None:
            where.fail_rows(
                frame, numbers < fspec.minimum, f"数值小于下限 (below minimum {fspec.minimum:g})", name, raw
            )
        if fspec.maximum is not None:
            hint = (
                "; 比例请填 0–1 或百分数如 50% (a share: 0–1, or a percentage like 50%)"
                if fspec.maximum == 1
                else ""
            )
            where.fail_rows(
                frame,
                numbers > fspec.maximum,
                f"数值超过上限 (above maximum {fspec.maximum:g}{hint})",
                name,
                raw,
            )
        return numbers
    if fspec.type == "bool":
        bools, bad = _parse_bools(raw)
        where.fail_rows(frame, bad, "不是是/否值 (not a yes/no value)", name, raw)
        default = bool(fspec.default) if fspec.default is not None else False
        return pd.Series(np.where(bools.isna(), default, bools).astype(bool), index=frame.index)
    if fspec.type == "enum":
        enum, bad = _parse_enum(raw, fspec)
        allowed = " ".join(_allowed(fspec))
        where.fail_rows(frame, bad, f"取值无效 (not one of: {allowed})", name, raw)
        if fspec.default is not None:
            enum = enum.fillna(fspec.default)
        return enum.astype("str")
    return _parse_str(raw)
