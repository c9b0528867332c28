"""The bundle as the domain sees it: normalized layers in one projected CRS, raster paths and the zone's config."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import geopandas as gpd
from pyproj import CRS

__all__ = ["Bundle", "StoreState"]


class StoreState(NamedTuple):
    """Where a store stood when a bundle's parcels were read from it (`api.sync` follows it from there)."""

    #: the store's change cursor, taken before the parcels were read (`gis.store.Store.change_cursor`)
    cursor: Any
    #: the parcels' ETags by parcel id
    etags: dict[str, str]
    #: the store's load id (`gis.store.Store.generation`)
    generation: str | None


@dataclass
class Bundle:
    """A zone's data, read and checked by `gis.io.read_bundle`.

    Every layer is a GeoDataFrame in `crs` (projected, metres) with English snake_case columns, canonical enum
    values, dates as ``datetime64[ns]`` (NaT when empty), numbers as float (NaN when empty) and booleans filled with
    their defaults. Unknown input columns are kept as they were.
    """

    path: Path
    crs: CRS
    layers: dict[str, gpd.GeoDataFrame]
    rasters: dict[str, Path] = field(default_factory=dict)
    #: contents of zone.toml (name, area source, ``rules`` overrides); empty when there is none
    zone: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: where the store stood when the parcels came from one (a server follows later writes from there)
    store_state: StoreState | None = None

    @property
    def parcels(self) -> gpd.GeoDataFrame:
        """The required parcels layer."""
        return self.layers["parcels"]

    def layer(self, name: str) -> gpd.GeoDataFrame | None:
        """An optional layer, or None when the bundle has none."""
        return self.layers.get(name)

    @property
    def name(self) -> str:
        """The zone's name from zone.toml, else the zone boundary's name, else the bundle's directory name."""
        if self.zone.get("name"):
            return str(self.zone["name"])
        boundary = self.layers.get("zone_boundary")
        if boundary is not None and "name" in boundary and boundary["name"].notna().any():
            return str(boundary["name"].dropna().iloc[0])
        return self.path.stem
