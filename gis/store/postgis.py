"""The team store on PostGIS: every layer of a bundle, the rasters, the ledger, history and tokens.

Geometries stay in the data's CGCS2000 CRS with GiST indexes. History is append-only by trigger, so no client —
the API or psql — can change or delete it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

import geopandas as gpd
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from gis.errors import ConflictError, InputError, NotFoundError, PreconditionFailedError
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
)

__all__ = ["SCHEMA", "PostgisStore"]

SCHEMA = "landready"

#: tables that outlive a re-load: people's work
_PERSISTENT = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
CREATE TABLE IF NOT EXISTS {SCHEMA}.ledger (
    parcel_id text PRIMARY KEY, "values" jsonb NOT NULL, etag text NOT NULL);
CREATE TABLE IF NOT EXISTS {SCHEMA}.history (
    id bigserial PRIMARY KEY, parcel_id text NOT NULL, at timestamptz NOT NULL DEFAULT now(),
    actor text NOT NULL, action text NOT NULL, before jsonb, after jsonb);
CREATE INDEX IF NOT EXISTS history_parcel ON {SCHEMA}.history (parcel_id, id);
-- the writing transaction: other server processes find what was written since they last looked (changes_since)
ALTER TABLE {SCHEMA}.history ADD COLUMN IF NOT EXISTS xid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX IF NOT EXISTS history_xid ON {SCHEMA}.history (xid);
CREATE TABLE IF NOT EXISTS {SCHEMA}.tokens (
    token_id text PRIMARY KEY, name text NOT NULL, role text NOT NULL, hash text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now());
CREATE OR REPLACE FUNCTION {SCHEMA}.history_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'history is append-only'; END $$;
DROP TRIGGER IF EXISTS history_no_change ON {SCHEMA}.history;
CREATE TRIGGER history_no_change BEFORE UPDATE OR DELETE ON {SCHEMA}.history
    FOR EACH ROW EXECUTE FUNCTION {SCHEMA}.history_is_append_only();
DROP TRIGGER IF EXISTS history_no_truncate ON {SCHEMA}.history;
CREATE TRIGGER history_no_truncate BEFORE TRUNCATE ON {SCHEMA}.history
    FOR EACH STATEMENT EXECUTE FUNCTION {SCHEMA}.history_is_append_only();
"""


class PostgisStore(Store):
    """A store in a PostGIS database (schema ``landready``) that `landready load` filled."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            with self._connect() as conn:
                row = conn.execute(f"SELECT value FROM {SCHEMA}.meta WHERE key='crs'").fetchone()
        except psycopg.errors.UndefinedTable:
            raise InputError(
                "the database holds no landready data: run `landready load` first", file=_safe(url)
            ) from None
        except psycopg.OperationalError as exc:
            raise InputError(f"cannot connect: {str(exc).strip().splitlines()[0]}", file=_safe(url)) from None
        if row is None:
            raise InputError(
                "the landready load in this database is incomplete: run `landready load` again",
                file=_safe(url),
            )
        if not self._has_change_feed():
            raise InputError(
                "this database was loaded by an older landready: run `landready load` again (edits, history and "
                "tokens are kept)",
                file=_safe(url),
            )
        self.crs = CRS.from_user_input(row[0])

    def _has_change_feed(self) -> bool:
        with self._connect() as conn:
            row = conn.execute(
                "SELECT 1 FROM information_schema.columns WHERE table_schema=%s AND table_name='history' "
                "AND column_name='xid'",
                (SCHEMA,),
            ).fetchone()
        return row is not None

    @contextmanager
    def _connect(self, *, quick: bool = False) -> Iterator[psycopg.Connection[Any]]:
        # quick: the look a server takes between requests gives up fast rather than wait behind a load's locks
        options = "-c lock_timeout=1000 -c statement_timeout=5000" if quick else ""
        with psycopg.connect(self.url, connect_timeout=2 if quick else 10, options=options) as conn:
            yield conn

    def meta(self) -> dict[str, str]:
        """The load's metadata: crs, zone (zone.toml text), bundle name, loaded_at, layers."""
        with self._connect() as conn:
            return dict(conn.execute(f"SELECT key, value FROM {SCHEMA}.meta").fetchall())

    def read_layer(self, name: str) -> gpd.GeoDataFrame:
        """A non-parcel vector layer as loaded (properties as JSON values)."""
        with self._connect() as conn:
            rows = conn.execute(
                f"SELECT props::text, ST_AsBinary(geom) FROM {SCHEMA}.layer_{name} ORDER BY fid"
            ).fetchall()
        gdf = frame_from_json([""] * len(rows), [r[0] for r in rows], [bytes(r[1]) for r in rows], self.crs)
        return gdf.drop(columns=["parcel_id"])

    def read_rasters(self) -> dict[str, bytes]:
        """The bundle's rasters by name (dem, flood_depth) as GeoTIFF bytes."""
        with self._connect() as conn:
            return {
                n: bytes(d) for n, d in conn.execute(f"SELECT name, data FROM {SCHEMA}.rasters").fetchall()
            }

    # ── parcels ────────────────────────────────────────────────────────────────────────────────────────────
    def read_parcels(self) -> gpd.GeoDataFrame:
        """Every parcel, with an ``_etag`` column."""
        with self._connect() as conn:
            rows = conn.execute(
                f"SELECT parcel_id, props::text, etag, ST_AsBinary(geom) FROM {SCHEMA}.parcels ORDER BY fid"
            ).fetchall()
        gdf = frame_from_json(
            [r[0] for r in rows], [r[1] for r in rows], [bytes(r[3]) for r in rows], self.crs
        )
        gdf["_etag"] = [r[2] for r in rows]
        return gdf

    def get(self, parcel_id: str) -> StoredParcel:
        """One parcel."""
        with self._connect() as conn:
            row = _select_parcel(conn, parcel_id, lock=False)
        if row is None:
            raise NotFoundError(f"parcel {parcel_id!r} not found")
        return row

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
        """Create, update or delete with its history row in one transaction (row lock, then compare ETags)."""
        with self._connect() as conn, conn.transaction():
            before = _select_parcel(conn, parcel_id, lock=True)
            check_write(action, parcel_id, before, if_match)
            after: StoredParcel | None = None
            if action == "delete":
                conn.execute(f"DELETE FROM {SCHEMA}.parcels WHERE parcel_id=%s", (parcel_id,))
            else:
                if properties is None or geometry is None:
                    raise ValueError(f"{action} needs properties and a geometry")
                after = StoredParcel(parcel_id, properties, geometry, new_etag())
                args = (properties_json(properties), after.etag, shapely.to_wkb(geometry), parcel_id)
                srid = self.crs.to_epsg()
                if action == "create":
                    try:
                        conn.execute(
                            f"INSERT INTO {SCHEMA}.parcels (props, etag, geom, parcel_id) "
                            f"VALUES (%s::jsonb, %s, ST_GeomFromWKB(%s, {srid}), %s)",
                            args,
                        )
                    except psycopg.errors.UniqueViolation:
                        raise ConflictError(f"parcel {parcel_id!r} already exists") from None
                else:
                    conn.execute(
                        f"UPDATE {SCHEMA}.parcels SET props=%s::jsonb, etag=%s, geom=ST_GeomFromWKB(%s, {srid}) "
                        "WHERE parcel_id=%s",
                        args,
                    )
            conn.execute(
                f"INSERT INTO {SCHEMA}.history (parcel_id, actor, action, before, after) "
                "VALUES (%s, %s, %s, %s::jsonb, %s::jsonb)",
                (
                    parcel_id,
                    actor,
                    action,
                    None if before is None else json.dumps(before.as_history(), ensure_ascii=False),
                    None if after is None else json.dumps(after.as_history(), ensure_ascii=False),
                ),
            )
        return after

    # ── ledger ─────────────────────────────────────────────────────────────────────────────────────────────
    def get_ledger(self, parcel_id: str) -> LedgerEntry:
        """The ledger entry (empty before anyone wrote it)."""
        with self._connect() as conn:
            return _ledger(conn, parcel_id, lock=False)

    def write_ledger(
        self, parcel_id: str, changes: dict[str, Any], *, if_match: str, actor: str
    ) -> LedgerEntry:
        """Merge `changes` into the entry if `if_match` is current."""
        with self._connect() as conn, conn.transaction():
            # serialize writers of this entry even before its first row exists
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", ("ledger:" + parcel_id,))
            current = _ledger(conn, parcel_id, lock=True)
            if if_match != current.etag:
                raise PreconditionFailedError(
                    f"the ledger entry of {parcel_id!r} was changed since it was read"
                )
            entry = LedgerEntry(parcel_id, {**current.values, **changes}, new_etag())
            conn.execute(
                f'INSERT INTO {SCHEMA}.ledger (parcel_id, "values", etag) VALUES (%s, %s::jsonb, %s) '
                'ON CONFLICT (parcel_id) DO UPDATE SET "values"=excluded."values", etag=excluded.etag',
                (parcel_id, json.dumps(entry.values, ensure_ascii=False), entry.etag),
            )
            conn.execute(
                f"INSERT INTO {SCHEMA}.history (parcel_id, actor, action, before, after) "
                "VALUES (%s, %s, 'ledger', %s::jsonb, %s::jsonb)",
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
            return dict(conn.execute(f'SELECT parcel_id, "values" FROM {SCHEMA}.ledger').fetchall())

    # ── what other processes wrote ─────────────────────────────────────────────────────────────────────────
    def generation(self) -> str | None:
        """The id of the last `landready load` (a new one replaces every layer, not only parcels)."""
        with self._connect(quick=True) as conn:
            row = conn.execute(f"SELECT value FROM {SCHEMA}.meta WHERE key='load_id'").fetchone()
        return None if row is None else str(row[0])

    # History ids (a sequence) do not commit in order, so "ids above the last one seen" can miss a slow writer.
    # A transaction that commits after a snapshot was taken has an id >= that snapshot's xmin, so asking for the
    # rows of transactions >= the previous xmin misses none; the ids already seen among them are skipped.
    def change_cursor(self) -> tuple[int, frozenset[int]]:
        """The current snapshot's xmin and the history rows at or above it that are already visible."""
        with self._connect() as conn:
            xmin, rows = _history_since(conn, None)
        return xmin, frozenset(r[0] for r in rows)

    def changes_since(
        self, cursor: tuple[int, frozenset[int]]
    ) -> tuple[tuple[int, frozenset[int]], list[str]]:
        """Parcels written by transactions that committed after `cursor` was taken."""
        since, seen = cursor
        with self._connect(quick=True) as conn:
            xmin, rows = _history_since(conn, since)
        # ledger entries are read live; a load's rows are covered by its new load id (`generation`)
        ids = [pid for hid, pid, action, _ in rows if hid not in seen and action not in ("ledger", "reload")]
        return (xmin, frozenset(hid for hid, _, _, xid in rows if xid >= xmin)), list(dict.fromkeys(ids))

    # ── history and tokens ─────────────────────────────────────────────────────────────────────────────────
    def history(self, parcel_id: str) -> list[dict[str, Any]]:
        """Every change of the parcel, oldest first."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), actor, action, before, after "
                f"FROM {SCHEMA}.history WHERE parcel_id=%s ORDER BY id",
                (parcel_id,),
            ).fetchall()
        return [
            {"at": at, "actor": actor, "action": action, "before": b, "after": a}
            for at, actor, action, b, a in rows
        ]

    def _insert_token(self, token_id: str, name: str, role: str, secret_hash: str) -> None:
        with self._connect() as conn:
            conn.execute(
                f"INSERT INTO {SCHEMA}.tokens (token_id, name, role, hash) VALUES (%s, %s, %s, %s)",
                (token_id, name, role, secret_hash),
            )

    def _find_token(self, token_id: str) -> tuple[str, str, str] | None:
        with self._connect() as conn:
            row = conn.execute(
                f"SELECT name, role, hash FROM {SCHEMA}.tokens WHERE token_id=%s", (token_id,)
            ).fetchone()
        return None if row is None else (row[0], row[1], row[2])


def _history_since(
    conn: psycopg.Connection[Any], since: int | None
) -> tuple[int, list[tuple[int, str, str, int]]]:
    """One statement, so one snapshot: its xmin and the visible history rows of transactions >= `since` (>= the
    xmin itself when None)."""
    rows = conn.execute(
        "WITH snap AS (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin) "
        "SELECT snap.xmin, h.id, h.parcel_id, h.action, h.xid::text::bigint FROM snap "
        f"LEFT JOIN {SCHEMA}.history h ON h.xid >= coalesce(%s::bigint, snap.xmin)::text::xid8 ORDER BY h.id",
        (since,),
    ).fetchall()
    return int(rows[0][0]), [(r[1], r[2], r[3], r[4]) for r in rows if r[1] is not None]


def _select_parcel(conn: psycopg.Connection[Any], parcel_id: str, *, lock: bool) -> StoredParcel | None:
    row = conn.execute(
        f"SELECT props, etag, ST_AsBinary(geom) FROM {SCHEMA}.parcels WHERE parcel_id=%s"
        + (" FOR UPDATE" if lock else ""),
        (parcel_id,),
    ).fetchone()
    if row is None:
        return None
    return StoredParcel(parcel_id, row[0], shapely.from_wkb(bytes(row[2])), row[1])


def _ledger(conn: psycopg.Connection[Any], parcel_id: str, *, lock: bool) -> LedgerEntry:
    row = conn.execute(
        f'SELECT "values", etag FROM {SCHEMA}.ledger WHERE parcel_id=%s' + (" FOR UPDATE" if lock else ""),
        (parcel_id,),
    ).fetchone()
    if row is None:
        return LedgerEntry(parcel_id, {}, initial_ledger_etag(parcel_id))
    return LedgerEntry(parcel_id, row[0], row[1])


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url
