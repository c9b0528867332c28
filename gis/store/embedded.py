"""The embedded store: one GeoPackage (SQLite) file inside the bundle, `landready-store.gpkg`.

The parcels are a real GeoPackage layer (QGIS opens the file); the ledger, history and tokens are plain tables.
Every write is one SQLite transaction (`BEGIN IMMEDIATE` serializes writers across threads and processes), so a
killed process leaves either the whole write with its history row or nothing.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from gis.errors import NotFoundError, PreconditionFailedError
from gis.store import gpkg_blob
from gis.store.base import (
    Action,
    LedgerEntry,
    Store,
    StoredParcel,
    check_write,
    frame_from_json,
    initial_ledger_etag,
    new_etag,
    properties_json,
    records_json,
)

__all__ = ["STORE_NAME", "EmbeddedStore"]

STORE_NAME = "landready-store.gpkg"

_SCHEMA = """
CREATE UNIQUE INDEX IF NOT EXISTS parcels_parcel_id ON parcels (parcel_id);
CREATE TABLE IF NOT EXISTS ledger (
    parcel_id TEXT PRIMARY KEY, "values" TEXT NOT NULL, etag TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS history (
    id INTEGER PRIMARY KEY AUTOINCREMENT, parcel_id TEXT NOT NULL, at TEXT NOT NULL, actor TEXT NOT NULL,
    action TEXT NOT NULL, before TEXT, after TEXT);
CREATE INDEX IF NOT EXISTS history_parcel ON history (parcel_id, id);
CREATE TRIGGER IF NOT EXISTS history_no_update BEFORE UPDATE ON history
    BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;
CREATE TRIGGER IF NOT EXISTS history_no_delete BEFORE DELETE ON history
    BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;
CREATE TABLE IF NOT EXISTS tokens (
    token_id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, hash TEXT NOT NULL, created_at TEXT NOT NULL);
"""


class EmbeddedStore(Store):
    """A store in one GeoPackage file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise NotFoundError(f"no store at {self.path}")
        with self._connect() as conn:
            row = conn.execute(
                "SELECT g.srs_id, s.organization, s.organization_coordsys_id, s.definition "
                "FROM gpkg_geometry_columns g JOIN gpkg_spatial_ref_sys s USING (srs_id) WHERE g.table_name='parcels'"
            ).fetchone()
        self._srs_id = int(row[0])
        self.crs = CRS.from_epsg(int(row[2])) if str(row[1]).upper() == "EPSG" else CRS.from_wkt(row[3])

    @classmethod
    def create(cls, path: Path, parcels: gpd.GeoDataFrame) -> EmbeddedStore:
        """Write a new store from a bundle's (normalized) parcels; all or nothing."""
        path = Path(path)
        tmp = path.with_name(".partial-" + path.name)
        tmp.unlink(missing_ok=True)
        frame = gpd.GeoDataFrame(
            {
                "parcel_id": parcels["parcel_id"].astype(str).to_numpy(),
                "props": records_json(parcels.drop(columns=["parcel_id"])),
                "etag": [new_etag() for _ in range(len(parcels))],
            },
            geometry=parcels.geometry.to_numpy(),
            crs=parcels.crs,
        )
        # no R-tree: its triggers call GDAL's SQL functions, which plain sqlite3 writes do not have
        pyogrio.write_dataframe(
            frame,
            tmp,
            layer="parcels",
            driver="GPKG",
            layer_options={"SPATIAL_INDEX": "NO", "GEOMETRY_NAME": "geom"},
        )
        conn = sqlite3.connect(tmp)
        try:
            conn.executescript(_SCHEMA)
            conn.commit()
        finally:
            conn.close()
        tmp.replace(path)
        return cls(path)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    # ── parcels ────────────────────────────────────────────────────────────────────────────────────────────
    def read_parcels(self) -> gpd.GeoDataFrame:
        """Every parcel, with an ``_etag`` column."""
        with self._connect() as conn:
            rows = conn.execute("SELECT parcel_id, props, etag, geom FROM parcels ORDER BY fid").fetchall()
        gdf = frame_from_json(
            [r[0] for r in rows], [r[1] for r in rows], [gpkg_blob.decode(r[3]) for r in rows], self.crs
        )
        gdf["_etag"] = [r[2] for r in rows]
        return gdf

    def get(self, parcel_id: str) -> StoredParcel:
        """One parcel."""
        with self._connect() as conn:
            row = conn.execute(
                "SELECT props, etag, geom FROM parcels WHERE parcel_id=?", (parcel_id,)
            ).fetchone()
        if row is None:
            raise NotFoundError(f"parcel {parcel_id!r} not found")
        return _parcel(parcel_id, row)

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
        """Create, update or delete a parcel with its history row in one transaction."""
        with self._transaction() as conn:
            row = conn.execute(
                "SELECT props, etag, geom FROM parcels WHERE parcel_id=?", (parcel_id,)
            ).fetchone()
            before = _parcel(parcel_id, row) if row is not None else None
            check_write(action, parcel_id, before, if_match)
            after: StoredParcel | None = None
            if action == "delete":
                conn.execute("DELETE FROM parcels WHERE parcel_id=?", (parcel_id,))
            else:
                if properties is None or geometry is None:
                    raise ValueError(f"{action} needs properties and a geometry")
                after = StoredParcel(parcel_id, properties, geometry, new_etag())
                args = (
                    properties_json(properties),
                    after.etag,
                    gpkg_blob.encode(geometry, self._srs_id),
                    parcel_id,
                )
                if action == "create":
                    conn.execute(
                        "INSERT INTO parcels (props, etag, geom, parcel_id) VALUES (?, ?, ?, ?)", args
                    )
                else:
                    conn.execute("UPDATE parcels SET props=?, etag=?, geom=? WHERE parcel_id=?", args)
            _append_history(conn, parcel_id, actor, action, before, after)
        return after

    # ── ledger ─────────────────────────────────────────────────────────────────────────────────────────────
    def get_ledger(self, parcel_id: str) -> LedgerEntry:
        """The ledger entry (empty before anyone wrote it)."""
        with self._connect() as conn:
            return _ledger(conn, parcel_id)

    def write_ledger(
        self, parcel_id: str, changes: dict[str, Any], *, if_match: str, actor: str
    ) -> LedgerEntry:
        """Merge `changes` into the entry if `if_match` is current."""
        with self._transaction() as conn:
            current = _ledger(conn, parcel_id)
            if if_match != current.etag:
                raise PreconditionFailedError(
                    f"the ledger entry of {parcel_id!r} was changed since it was read"
                )
            entry = LedgerEntry(parcel_id, {**current.values, **changes}, new_etag())
            conn.execute(
                'INSERT INTO ledger (parcel_id, "values", etag) VALUES (?, ?, ?) '
                'ON CONFLICT (parcel_id) DO UPDATE SET "values"=excluded."values", etag=excluded.etag',
                (parcel_id, json.dumps(entry.values, ensure_ascii=False), entry.etag),
            )
            conn.execute(
                "INSERT INTO history (parcel_id, at, actor, action, before, after) "
                "VALUES (?, strftime('%Y-%m-%dT%H:%M:%fZ','now'), ?, 'ledger', ?, ?)",
                (
                    parcel_id,
                    actor,
                    json.dumps(current.values, ensure_ascii=False),
                    json.dumps(entry.values, ensure_ascii=False),
                ),
            )
        return entry

    def ledger_entries(self) -> dict[str, dict[str, Any]]:
        """Every written ledger entry's values by parcel id."""
        with self._connect() as conn:
            rows = conn.execute('SELECT parcel_id, "values" FROM ledger').fetchall()
        return {pid: json.loads(values) for pid, values in rows}

    # ── what other processes wrote ─────────────────────────────────────────────────────────────────────────
    def change_cursor(self) -> int:
        """The last history row's id (SQLite has one writer at a time, so ids commit in order)."""
        with self._connect() as conn:
            return int(conn.execute("SELECT coalesce(max(id), 0) FROM history").fetchone()[0])

    def changes_since(self, cursor: int) -> tuple[int, list[str]]:
        """Parcels written after history row `cursor`."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT id, parcel_id FROM history WHERE id > ? AND action <> 'ledger' ORDER BY id", (cursor,)
            ).fetchall()
        last = max((r[0] for r in rows), default=cursor)
        return last, list(dict.fromkeys(r[1] for r in rows))

    # ── history and tokens ─────────────────────────────────────────────────────────────────────────────────
    def history(self, parcel_id: str) -> list[dict[str, Any]]:
        """Every change of the parcel, oldest first."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT at, actor, action, before, after FROM history WHERE parcel_id=? ORDER BY id",
                (parcel_id,),
            ).fetchall()
        return [
            {
                "at": at,
                "actor": actor,
                "action": action,
                "before": json.loads(b) if b else None,
                "after": json.loads(a) if a else None,
            }
            for at, actor, action, b, a in rows
        ]

    def _insert_token(self, token_id: str, name: str, role: str, secret_hash: str) -> None:
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO tokens (token_id, name, role, hash, created_at) "
                "VALUES (?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%SZ','now'))",
                (token_id, name, role, secret_hash),
            )

    def _find_token(self, token_id: str) -> tuple[str, str, str] | None:
        with self._connect() as conn:
            row = conn.execute("SELECT name, role, hash FROM tokens WHERE token_id=?", (token_id,)).fetchone()
        return None if row is None else (row[0], row[1], row[2])


def _parcel(parcel_id: str, row: tuple[str, str, bytes]) -> StoredParcel:
    return StoredParcel(parcel_id, json.loads(row[0]), shapely.from_wkb(gpkg_blob.decode(row[2])), row[1])


def _ledger(conn: sqlite3.Connection, parcel_id: str) -> LedgerEntry:
    row = conn.execute('SELECT "values", etag FROM ledger WHERE parcel_id=?', (parcel_id,)).fetchone()
    if row is None:
        return LedgerEntry(parcel_id, {}, initial_ledger_etag(parcel_id))
    return LedgerEntry(parcel_id, json.loads(row[0]), row[1])


def _append_history(
    conn: sqlite3.Connection,
    parcel_id: str,
    actor: str,
    action: str,
    before: StoredParcel | None,
    after: StoredParcel | None,
) -> None:
    conn.execute(
        "INSERT INTO history (parcel_id, at, actor, action, before, after) "
        "VALUES (?, strftime('%Y-%m-%dT%H:%M:%fZ','now'), ?, ?, ?, ?)",
        (
            parcel_id,
            actor,
            action,
            None if before is None else json.dumps(before.as_history(), ensure_ascii=False),
            None if after is None else json.dumps(after.as_history(), ensure_ascii=False),
        ),
    )
