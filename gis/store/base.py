"""What every store does: parcels with ETags, the auditors' ledger, append-only history and tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

import geopandas as gpd
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from gis.errors import ConflictError, InputError, NotFoundError, PreconditionFailedError
from gis.outputs import json_default
from gis.store.tokens import ROLES, Principal, hash_secret, new_token, split_token, verify_secret

__all__ = [
    "LEDGER_FIELDS",
    "PROGRESS",
    "LedgerEntry",
    "Store",
    "StoredParcel",
    "check_ledger_changes",
    "check_write",
    "new_etag",
    "properties_json",
    "records_json",
]

Action = Literal["create", "update", "delete"]
PROGRESS = ("pending", "in_progress", "done")
LEDGER_FIELDS = ("responsible_unit", "deadline", "progress", "note")


@dataclass(frozen=True)
class StoredParcel:
    """One parcel as stored: its properties (JSON values), geometry in the store's CRS and ETag."""

    parcel_id: str
    properties: dict[str, Any]
    geometry: BaseGeometry
    etag: str

    def as_history(self) -> dict[str, Any]:
        """The parcel as a history snapshot (geometry as GeoJSON in the store's CRS)."""
        return {"properties": self.properties, "geometry": json.loads(shapely.to_geojson(self.geometry))}


@dataclass(frozen=True)
class LedgerEntry:
    """An auditor's follow-up of one parcel: 责任单位, 处置期限, 处置进展, note."""

    parcel_id: str
    values: dict[str, Any]
    etag: str


def new_etag() -> str:
    """A fresh strong ETag (quoted, per RFC 9110)."""
    return f'"{uuid.uuid4().hex}"'


def initial_ledger_etag(parcel_id: str) -> str:
    """The ETag of a parcel's ledger entry before anyone wrote it (stable, so a GET then PATCH works)."""
    return '"L0-' + hashlib.sha1(parcel_id.encode()).hexdigest()[:16] + '"'


def _clean(value: Any) -> Any:
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date):
        return value.strftime("%Y-%m-%d")
    return value


def properties_json(properties: dict[str, Any]) -> str:
    """JSON text of a property dict: NaN/NaT → null, dates → ISO, numpy scalars → Python."""
    return json.dumps({k: _clean(v) for k, v in properties.items()}, ensure_ascii=False, default=json_default)


def records_json(gdf: gpd.GeoDataFrame) -> list[str]:
    """JSON text of every row's properties (all columns but the geometry)."""
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    return [properties_json(rec) for rec in gdf[columns].astype(object).to_dict("records")]


def frame_from_json(parcel_ids: list[str], props: list[str], wkb: list[bytes], crs: CRS) -> gpd.GeoDataFrame:
    """Rebuild a GeoDataFrame of raw (JSON-typed) properties; the caller normalizes types with the reader."""
    df = pd.DataFrame.from_records([json.loads(p) for p in props]) if props else pd.DataFrame()
    df["parcel_id"] = parcel_ids
    return gpd.GeoDataFrame(df, geometry=shapely.from_wkb(wkb), crs=crs)


def check_write(action: Action, parcel_id: str, before: StoredParcel | None, if_match: str | None) -> None:
    """The rules of a write, checked against the stored row: create needs a free id, update and delete the
    current ETag."""
    if action == "create":
        if before is not None:
            raise ConflictError(f"parcel {parcel_id!r} already exists")
    elif before is None:
        raise NotFoundError(f"parcel {parcel_id!r} not found")
    elif if_match != before.etag:
        raise PreconditionFailedError(f"parcel {parcel_id!r} was changed since it was read")


def check_ledger_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """Validate an auditor's merge patch of a ledger entry; unknown keys and bad values are input errors."""
    if not isinstance(changes, dict) or not changes:
        raise InputError("a ledger change is a JSON object with any of " + ", ".join(LEDGER_FIELDS))
    out: dict[str, Any] = {}
    for key, value in changes.items():
        if key not in LEDGER_FIELDS:
            raise InputError(f"unknown ledger field; use {', '.join(LEDGER_FIELDS)}", field=key)
        if value is None:
            out[key] = None
        elif key == "progress":
            if value not in PROGRESS:
                raise InputError(f"progress must be one of {', '.join(PROGRESS)}, got {value!r}", field=key)
            out[key] = value
        elif key == "deadline":
            try:
                out[key] = dt.date.fromisoformat(str(value)).isoformat()
            except ValueError:
                raise InputError(f"deadline must be a date YYYY-MM-DD, got {value!r}", field=key) from None
        else:
            if not isinstance(value, str):
                raise InputError("must be text", field=key)
            out[key] = value
    return out


class Store(ABC):
    """Parcels that people edit, with history, the ledger and tokens. Two implementations pass one test suite.

    Writes are compare-and-swap on the ETag inside one database transaction, together with their history row: a
    write either happens whole, with its history, or not at all.
    """

    crs: CRS

    # ── parcels ────────────────────────────────────────────────────────────────────────────────────────────
    @abstractmethod
    def read_parcels(self) -> gpd.GeoDataFrame:
        """Every parcel (properties as stored JSON values), geometry in `crs`, plus an ``_etag`` column."""

    @abstractmethod
    def get(self, parcel_id: str) -> StoredParcel:
        """One parcel; NotFoundError when there is none."""

    @abstractmethod
    def write(
        self,
        action: Action,
        parcel_id: str,
        properties: dict[str, Any] | None,
        geometry: BaseGeometry | None,
        *,
        if_match: str | None,
        actor: str,
    ) -> StoredParcel | None:
        """Create, update or delete a parcel and append its history row, atomically.

        ``if_match`` must equal the stored ETag for update and delete (PreconditionFailedError otherwise); create
        fails with ConflictError when the id exists. Returns the stored parcel (None after delete).
        """

    # ── ledger ─────────────────────────────────────────────────────────────────────────────────────────────
    @abstractmethod
    def get_ledger(self, parcel_id: str) -> LedgerEntry:
        """The ledger entry of a parcel (empty values before anyone wrote it)."""

    @abstractmethod
    def write_ledger(
        self, parcel_id: str, changes: dict[str, Any], *, if_match: str, actor: str
    ) -> LedgerEntry:
        """Merge `changes` into the entry if `if_match` is current; append history."""

    @abstractmethod
    def ledger_entries(self) -> dict[str, dict[str, Any]]:
        """Every written ledger entry's values by parcel id (for the 台账 export)."""

    # ── history ────────────────────────────────────────────────────────────────────────────────────────────
    @abstractmethod
    def history(self, parcel_id: str) -> list[dict[str, Any]]:
        """Every change of a parcel and its ledger entry, oldest first: at, actor, action, before, after."""

    # ── what other processes wrote ─────────────────────────────────────────────────────────────────────────
    @abstractmethod
    def change_cursor(self) -> Any:
        """Where the history stands now: `changes_since` of it lists the parcels written later.

        Take it *before* reading the parcels, so that a write made while they are read is listed, not lost.
        """

    @abstractmethod
    def changes_since(self, cursor: Any) -> tuple[Any, list[str]]:
        """The ids of the parcels created, updated or deleted since `cursor` (in the order written, each once)
        and the cursor to ask with next time. Ledger entries are not listed: readers take those live."""

    def generation(self) -> str | None:
        """What changes when a load replaces the data as a whole (None for a store that is never re-loaded)."""
        return None

    # ── tokens ─────────────────────────────────────────────────────────────────────────────────────────────
    @abstractmethod
    def _insert_token(self, token_id: str, name: str, role: str, secret_hash: str) -> None: ...

    @abstractmethod
    def _find_token(self, token_id: str) -> tuple[str, str, str] | None:
        """``(name, role, hash)`` of a token id, or None."""

    def create_token(self, role: str, name: str) -> str:
        """Store a new token's hash and return the token (shown once)."""
        if role not in ROLES:
            raise InputError(f"role must be one of {', '.join(ROLES)}, got {role!r}", field="--role")
        if not name.strip():
            raise InputError("a token needs a name (it is the actor in history)", field="--name")
        token_id, secret, token = new_token()
        self._insert_token(token_id, name.strip(), role, hash_secret(secret))
        return token

    def authenticate(self, token: str) -> Principal | None:
        """The principal of a presented token, or None when it is unknown or wrong."""
        parts = split_token(token)
        if parts is None:
            return None
        found = self._find_token(parts[0])
        if found is None:
            return None
        name, role, stored = found
        if not verify_secret(parts[1], stored):
            return None
        return Principal(parts[0], name, role)  # type: ignore[arg-type]

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
