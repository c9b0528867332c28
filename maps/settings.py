"""Map settings: which online basemaps to offer (none by default: the map must work offline) and viewport limits."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["MapSettings"]


class MapSettings(BaseSettings):
    """Read from ``LANDREADY_MAP_*`` environment variables (or passed in by the app)."""

    model_config = SettingsConfigDict(env_prefix="LANDREADY_MAP_", extra="ignore")

    #: offer OpenStreetMap tiles (needs internet)
    osm: bool = False
    #: Tianditu browser key (``tk``); empty = no Tianditu layers
    tianditu_key: str = ""
    #: offer AMap/Gaode tiles; overlays are shifted to GCJ-02 while it is the basemap
    amap: bool = False
    #: most features returned for one viewport request (largest first beyond it)
    feature_cap: int = Field(1500, gt=0)
    #: layers with at most this many features are put in the page instead of fetched by viewport
    inline_max_features: int = Field(1500, ge=0)
