"""The whole computation for one bundle and one as-of date: the 三清 audit and 标准地 readiness."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import geopandas as gpd

from gis.audit import AuditResult, run_audit
from gis.bundle import Bundle
from gis.readiness import run_readiness
from gis.rules import Rules, load_rules

__all__ = ["Results", "compute", "zone_rules"]


@dataclass
class Results:
    """Everything the CLI, the API and the map show for a bundle as of a date."""

    bundle: Bundle
    as_of: date
    rules: Rules
    audit: AuditResult
    readiness: gpd.GeoDataFrame


def zone_rules(bundle: Bundle) -> Rules:
    """The rules file with the zone's `zone.toml` overrides applied; a bad override names that file's path."""
    rules = load_rules()
    overrides = bundle.zone.get("rules")
    if not overrides:
        return rules
    # zone.toml sits in the bundle directory, or beside a single-GeoPackage bundle (as gis.io.reader reads it)
    base = bundle.path.parent if bundle.path.suffix.lower() == ".gpkg" else bundle.path
    return rules.with_overrides(overrides, origin=str(base / "zone.toml"))


def compute(bundle: Bundle, as_of: date, rules: Rules | None = None) -> Results:
    """Run the audit and readiness for `bundle` as of `as_of`."""
    rules = rules if rules is not None else zone_rules(bundle)
    return Results(bundle, as_of, rules, run_audit(bundle, as_of, rules), run_readiness(bundle, as_of, rules))
