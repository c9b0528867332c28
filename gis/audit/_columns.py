"""Column access shared by the audit modules: optional fields, as-of masks and list cells built without a loop."""

from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "add_years",
    "as_timestamp",
    "dates",
    "happened",
    "lists_from_flags",
    "lists_from_keys",
    "numbers",
    "supplied_mask",
    "texts",
]


def as_timestamp(as_of: date) -> pd.Timestamp:
    """The as-of date as a midnight `pd.Timestamp` (dates in a bundle carry no time)."""
    return pd.Timestamp(as_of).normalize()


def dates(df: pd.DataFrame, name: str) -> pd.Series:
    """Column `name` as datetimes (all NaT when the bundle has no such field)."""
    if name not in df:
        return pd.Series(pd.NaT, index=df.index, dtype="datetime64[us]")
    col = df[name]
    if not pd.api.types.is_datetime64_any_dtype(col):
        col = pd.to_datetime(col, errors="coerce")
    if getattr(col.dt, "tz", None) is not None:
        col = col.dt.tz_localize(None)
    return col


def numbers(df: pd.DataFrame, name: str) -> pd.Series:
    """Column `name` as float (NaN when empty or absent)."""
    if name not in df:
        return pd.Series(np.nan, index=df.index, dtype=float)
    return pd.to_numeric(df[name], errors="coerce").astype(float)


def texts(df: pd.DataFrame, name: str) -> pd.Series:
    """Column `name` as strings with missing values as NaN (absent field: all missing)."""
    if name not in df:
        return pd.Series(np.nan, index=df.index, dtype=object)
    return df[name]


def happened(when: pd.Series, as_of: pd.Timestamp) -> np.ndarray:
    """True where the date is set and on or before as-of (a later date has not happened yet)."""
    return (when.notna() & (when <= as_of)).to_numpy()


def supplied_mask(df: pd.DataFrame, as_of: pd.Timestamp) -> np.ndarray:
    """Parcels supplied by as-of: ``supply_status = supplied`` and ``supplied_on`` empty or on/before as-of."""
    status = texts(df, "supply_status")
    supplied_on = dates(df, "supplied_on")
    later = (supplied_on.notna() & (supplied_on > as_of)).to_numpy()
    return (status == "supplied").fillna(False).to_numpy(dtype=bool) & ~later


def add_years(when: pd.Series, years: int) -> pd.Series:
    """The calendar anniversary `years` after each date (29 Feb + 1 year = 28 Feb), vectorized."""
    return when + pd.DateOffset(years=int(years))


_copy_list = np.frompyfunc(list.copy, 1, 1)


def lists_from_keys(keys: np.ndarray, *builds: Callable[[int], list[Any]]) -> list[pd.Series]:
    """Per build, one fresh list per row, built once per distinct integer key and copied to its rows.

    The number of distinct keys (combinations of findings, reasons, missing fields) is small, so this costs one
    call of each `build` per combination plus a cheap copy per row instead of Python logic per parcel.
    """
    inverse, uniq = pd.factorize(np.asarray(keys, dtype=np.int64))
    out = []
    for build in builds:
        shared = np.empty(len(uniq), dtype=object)
        for i, k in enumerate(uniq):
            shared[i] = build(int(k))
        # copies, so that editing one cell never changes another; the cyclic GC is paused meanwhile because a
        # million new lists would otherwise trigger repeated full scans (4× slower)
        paused = gc.isenabled()
        gc.disable()
        try:
            copies = _copy_list(shared[inverse]) if len(inverse) else np.empty(0, dtype=object)
        finally:
            if paused:
                gc.enable()
        out.append(pd.Series(copies, dtype=object))
    return out


def lists_from_flags(flags: Sequence[tuple[str, np.ndarray]], n: int) -> pd.Series:
    """Per row, the names whose flag is true, in the order given (a repeated name is listed once)."""
    merged: dict[str, np.ndarray] = {}
    for name, flag in flags:
        flag = np.asarray(flag, dtype=bool)
        merged[name] = merged[name] | flag if name in merged else flag
    keys = np.zeros(n, dtype=np.int64)
    for bit, flag in enumerate(merged.values()):
        keys |= flag.astype(np.int64) << bit
    names = list(merged)
    return lists_from_keys(keys, lambda k: [name for bit, name in enumerate(names) if k >> bit & 1])[0]
