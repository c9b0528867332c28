"""Matching input headers to schema field names: Chinese aliases, full-width brackets, unit annotations.

Headers match a field's English name (any case, spaces or hyphens for underscores) or its Chinese alias from
`gis.schema`, after Unicode NFKC folding (full-width → half-width), with surrounding spaces, a wrapping pair of
brackets, and unit annotations in brackets removed: ``出让价款(万元)``, ``出让价款（万元）``, ``实际开工日期（）`` and
`` 地块编号 `` all match.
"""

from __future__ import annotations

import re
import unicodedata

from gis.formats.field_codes import PINYIN_CODES, short_field_names
from gis.schema import LayerSpec

__all__ = ["MOJIBAKE", "clean_header", "match_fields"]

#: a few headers that county spreadsheets use besides the schema's own alias
_EXTRA_ALIASES: dict[str, dict[str, str]] = {
    "parcels": {
        "宗地编号": "parcel_id",
        "宗地代码": "parcel_id",
        "地块代码": "parcel_id",
        "项目名称": "name",
    },
    "batches": {"批次名": "batch_name", "批复日期": "approved_on", "批复文号": "approval_doc"},
}

#: GBK text decoded as Latin-1 (µØ¿é), or undecodable bytes
MOJIBAKE = re.compile(r"[\u00a0-\u00ff]{2,}|\ufffd")
_BRACKETED = re.compile(r"[(\[{【〔〖<《][^()\[\]{}【】〔〕〖〗<>《》]*[)\]}】〕〗>》]")
_WRAPPED = re.compile(r"^[(\[{【〔〖<《](.*)[)\]}】〕〗>》]$")


def clean_header(text: object) -> str:
    """A header folded for matching: NFKC, lower case, no spaces, no wrapping brackets.

    Examples
    --------
    >>> clean_header(" （地块编号） "), clean_header("Parcel ID")
    ('地块编号', 'parcel_id')
    """
    key = unicodedata.normalize("NFKC", str(text)).strip().lower()
    key = re.sub(r"[\s\-]+", "_", key).strip("_")
    wrapped = _WRAPPED.match(key)
    if wrapped and not _BRACKETED.sub("", key):
        key = wrapped.group(1).strip("_")
    return key.replace("_", "") if _has_cjk(key) else key


def _has_cjk(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" for ch in text)


def _variants(key: str) -> list[str]:
    """The keys under which a header is looked up, most specific first."""
    out = [key]
    stripped = _BRACKETED.sub("", key).strip("_")
    if stripped and stripped != key:
        out.append(stripped)
    out.extend(k.replace("_", "") for k in list(out))
    return out


def _alias_index(spec: LayerSpec, *, short: bool = False) -> dict[str, str]:
    index: dict[str, str] = {}
    names = [(f.name, f.name) for f in spec.fields]
    names += [(f.alias, f.name) for f in spec.fields if f.alias]
    names += list(_EXTRA_ALIASES.get(spec.name, {}).items())
    # the customary pinyin codes (DKBH, DKMC, GHYT …) that our shapefile export and county databases use
    names += [(PINYIN_CODES[f.name], f.name) for f in spec.fields if f.name in PINYIN_CODES]
    if short:
        names += list(_short_names(spec).items())
    for text, name in names:
        for key in _variants(clean_header(text)):
            index.setdefault(key, name)
    return index


def _short_names(spec: LayerSpec) -> dict[str, str]:
    """The 10-character DBF names `gis.formats.shapefile.shapefile_zip` writes (supply_sta, agreed_s_1 …) and their
    fields; it writes a layer's schema fields first and in schema order, so the names are the same here."""
    return {code: name for name, code in short_field_names([f.name for f in spec.fields]).items()}


def _whole_words(spec: LayerSpec) -> dict[str, str]:
    """Short names cut at a word boundary (``investment`` of investment_min_wan_per_mu): a county's own column may
    carry such a name with another meaning, so a match through them is reported."""
    return {
        clean_header(code): name
        for code, name in _short_names(spec).items()
        if "_" not in code and name.startswith(code + "_")
    }


def match_fields(
    columns: list[object], spec: LayerSpec, *, prefixes: bool = False
) -> tuple[dict[object, str], list[str]]:
    """Map input headers to schema field names.

    Customary pinyin codes (``DKBH`` = parcel_id, ``DKMC`` = name, ``GHYT`` = planned_use …) always match. With
    `prefixes` (shapefiles, whose DBF cuts field names at 10 bytes: 3 Chinese characters in UTF-8, 5 in GBK), a
    Chinese header of at least 3 characters that begins exactly one alias also matches it, and so do the short
    names our shapefile export writes (``supply_sta`` = supply_status).

    Returns
    -------
    (mapping, warnings)
        `mapping` from input header to field name for the headers that match; when two headers match one
        field, an exact English name wins (else the first), and the other is kept under its own name.
    """
    index = _alias_index(spec, short=prefixes)
    exact = {f.name for f in spec.fields}
    claims: dict[str, list[object]] = {}
    for column in columns:
        if not isinstance(column, str):
            continue
        name = next((index[k] for k in _variants(clean_header(column)) if k in index), None)
        if name is None and prefixes:
            name = _prefix_match(clean_header(column), index)
        if name is not None:
            claims.setdefault(name, []).append(column)
    mapping: dict[object, str] = {}
    warnings: list[str] = []
    whole_words = _whole_words(spec) if prefixes else {}
    for name, cols in claims.items():
        chosen = next((c for c in cols if c == name), cols[0]) if name in exact else cols[0]
        mapping[chosen] = name
        if isinstance(chosen, str) and whole_words.get(clean_header(chosen)) == name:
            warnings.append(
                f"{spec.name}: 字段 {chosen} 按本工具导出的 10 字符短字段名读作 {name} "
                f"(the shapefile field {chosen!r} is read as {name}, the short name our export writes; "
                "rename the column if it means something else)"
            )
        others = [c for c in cols if c != chosen]
        if others:
            warnings.append(
                f"{spec.name}: 字段 {name} 有多个来源列 {[chosen, *others]}, 使用 {chosen!r} "
                f"(several columns match field {name}; using {chosen!r}, the others are kept as they are)"
            )
    return mapping, warnings


def _prefix_match(key: str, index: dict[str, str]) -> str | None:
    if len(key) < 3 or not _has_cjk(key):
        return None
    names = {name for alias, name in index.items() if alias.startswith(key) and _has_cjk(alias)}
    return names.pop() if len(names) == 1 else None
