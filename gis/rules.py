"""The versioned rules file (`data/rules/rules.toml`) and a zone's overrides from its `zone.toml`."""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from data import RULES_FILE
from gis.errors import InputError
from gis.schema import LAYERS

__all__ = ["INFRA_KINDS", "Rule", "Rules", "load_rules"]

#: the `infrastructure` layer's kinds: the only ones the readiness rules can name
INFRA_KINDS = tuple(dict.fromkeys(LAYERS["infrastructure"].field("kind").values.values()))
#: rules naming infrastructure kinds (a list, or a table's keys)
_KIND_RULES = frozenset({"readiness.service_distance_m", "readiness.required_infrastructure"})
#: rules holding distances in metres (a number, or a table's values)
_DISTANCE_RULES = frozenset(
    {"readiness.service_distance_m", "readiness.hv_corridor_half_width_m", "readiness.hv_corridor_default_m"}
)


@dataclass(frozen=True)
class Rule:
    """One threshold: its value, unit, source citation and verification status."""

    key: str
    value: Any
    unit: str
    source: str
    status: str
    overridden: bool = False


class Rules(Mapping[str, Any]):
    """Thresholds by dotted key (``rules["idle.fee_rate"]`` is the value; ``rules.rule(key)`` the whole entry)."""

    def __init__(self, entries: dict[str, Rule], version: str) -> None:
        self._entries = entries
        self.version = version

    def __getitem__(self, key: str) -> Any:
        return self._entries[key].value

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def rule(self, key: str) -> Rule:
        """The full entry of `key`."""
        return self._entries[key]

    def source(self, key: str) -> str:
        """The citation of `key`, for `rule_refs` and the ledger."""
        return self._entries[key].source

    def with_overrides(self, overrides: Mapping[str, Any], *, origin: str = "zone.toml") -> Rules:
        """A copy with `overrides` applied (flat dotted keys or nested tables).

        Unknown keys, values of another type than the default's, and values the checks cannot use (an unknown
        infrastructure kind, a negative distance) are input errors naming `origin` and the field.
        """
        entries = dict(self._entries)
        for key, value in _flatten(overrides, entries):
            if key not in entries:
                raise InputError(f"unknown rule {key!r}", file=origin, field=f"rules.{key}")
            old = entries[key]
            if not _same_shape(old.value, value):
                raise InputError(
                    f"rule {key!r} must be like {old.value!r}, got {value!r}",
                    file=origin,
                    field=f"rules.{key}",
                )
            _check_override(key, value, origin)
            merged = {**old.value, **value} if isinstance(old.value, dict) else value
            entries[key] = Rule(key, merged, old.unit, old.source, old.status, overridden=True)
        return Rules(entries, self.version)


def load_rules(path: Path = RULES_FILE, overrides: Mapping[str, Any] | None = None) -> Rules:
    """Read the rules file and apply a zone's overrides.

    >>> load_rules()["idle.fee_rate"]
    0.2
    >>> load_rules(overrides={"low_efficiency": {"coverage_min": 0.3}})["low_efficiency.coverage_min"]
    0.3
    """
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    entries: dict[str, Rule] = {}
    for section, table in raw.items():
        if not isinstance(table, dict):
            continue
        for name, entry in table.items():
            key = f"{section}.{name}"
            entries[key] = Rule(key, entry["value"], entry.get("unit", ""), entry["source"], entry["status"])
    rules = Rules(entries, str(raw.get("version", "")))
    return rules.with_overrides(overrides) if overrides else rules


def _flatten(tree: Mapping[str, Any], known: Mapping[str, Rule], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for name, value in tree.items():
        key = f"{prefix}{name}"
        if isinstance(value, Mapping) and key not in known:
            out.extend(_flatten(value, known, key + "."))
        else:
            out.append((key, value))
    return out


def _check_override(key: str, value: Any, origin: str) -> None:
    """Raise `InputError` for values of the right shape that the readiness checks cannot use."""
    field = f"rules.{key}"
    if key in _KIND_RULES:
        unknown = [k for k in value if k not in INFRA_KINDS]
        if unknown:
            raise InputError(
                f"unknown infrastructure kind {unknown[0]!r} (known: {' '.join(INFRA_KINDS)})",
                file=origin,
                field=field,
            )
    if key == "readiness.hv_corridor_half_width_m":
        for kv in value:
            try:
                float(kv)
            except (TypeError, ValueError):
                raise InputError(f"voltage {kv!r} is not a number (kV)", file=origin, field=field) from None
    if key in _DISTANCE_RULES:
        items = value.items() if isinstance(value, Mapping) else [(None, value)]
        for name, metres in items:
            if (
                isinstance(metres, bool)
                or not isinstance(metres, int | float)
                or not math.isfinite(metres)
                or metres < 0
            ):
                raise InputError(
                    f"must be a distance ≥ 0 (m), got {metres!r}",
                    file=origin,
                    field=field if name is None else f"{field}.{name}",
                )


def _same_shape(old: Any, new: Any) -> bool:
    if isinstance(old, bool) or isinstance(new, bool):
        return isinstance(old, bool) and isinstance(new, bool)
    if isinstance(old, int | float):
        return isinstance(new, int | float)
    return isinstance(new, type(old))
