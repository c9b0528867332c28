"""Where edits live: the embedded single-file store beside a bundle, or PostGIS for a team.

Both keep parcels with ETags, the auditors' ledger, append-only history and token hashes, and pass one test suite.
"""

from __future__ import annotations

from pathlib import Path

from gis.store.base import LedgerEntry, Store, StoredParcel
from gis.store.embedded import STORE_NAME, EmbeddedStore
from gis.store.postgis import PostgisStore

__all__ = [
    "STORE_NAME",
    "EmbeddedStore",
    "LedgerEntry",
    "PostgisStore",
    "Store",
    "StoredParcel",
    "embedded_store_path",
    "is_db_url",
]


def is_db_url(target: str | Path) -> bool:
    """Whether `target` names a PostgreSQL database rather than a bundle path."""
    return str(target).startswith(("postgresql://", "postgres://"))


def embedded_store_path(bundle_path: Path) -> Path:
    """Where a bundle keeps its embedded store: inside its directory, or beside a single GeoPackage."""
    bundle_path = Path(bundle_path)
    return bundle_path / STORE_NAME if bundle_path.is_dir() else bundle_path.with_name(STORE_NAME)
