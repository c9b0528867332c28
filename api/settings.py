"""Server settings: one class, read from ``LANDREADY_*`` environment variables or passed in."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings"]


class Settings(BaseSettings):
    """How `landready serve` runs: what it serves, where, and its limits."""

    model_config = SettingsConfigDict(env_prefix="LANDREADY_", env_file=".env", extra="ignore")

    bundle: Path | None = None
    #: database URL of a store (issue 7); the bundle is used when it is None
    db: str | None = None
    #: the as-of date of every date-dependent rule; today when not set
    as_of: date = Field(default_factory=date.today)
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    auth: Literal["writes", "all"] = "writes"
    max_limit: int = Field(10_000, ge=1)
    default_limit: int = Field(100, ge=1)
    lang: Literal["zh", "en"] = "zh"
    tianditu_key: str | None = None
    amap: bool = False
    osm: bool = False
    #: seconds a client may reuse a read-only response before revalidating it with its ETag
    cache_max_age: int = Field(60, ge=0)
    #: seconds between looks at the store for edits made by other server processes (0: before every request)
    sync_seconds: float = Field(1.0, ge=0)

    @model_validator(mode="after")
    def _limits(self) -> Settings:
        if self.default_limit > self.max_limit:
            raise ValueError(f"default_limit {self.default_limit} exceeds max_limit {self.max_limit}")
        return self


@lru_cache
def get_settings() -> Settings:
    """The settings of the environment, built once."""
    return Settings()
