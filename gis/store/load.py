"""`landready load`: a bundle into PostGIS, all or nothing, safe to re-run."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from typing import Any

import psycopg

import shapely

from gis.bundle import Bundle
from gis.errors import InputError
from gis.store.base import StoredParcel, new_etag, records_json
from gis.store.postgis import _PERSISTENT, SCHEMA, _safe

__all__ = ["load_bundle"]


def load_bundle(
    bundle: Bundle,
    url: str,
    *,
    progress: Callable[[str], None] | None = None,
    discard_edits: bool = False,
) -> dict[str, int]:
    """Replace the database's zone data with `bundle` in ONE transaction; return rows loaded per layer.

    Edits history, tokens and the ledger are kept across re-loads. Parcels edited through the API since the last
    load are not silently overwritten: that is an input error unless `discard_edits`. Every parcel the load
    changes, adds or removes gets a ``reload`` history row, and the load a new ``load_id`` (running servers then
    compute everything afresh, see `api.sync`); unchanged parcels keep their ETags. A load killed at any point
    rolls back, leaving the database as it was (PostgreSQL aborts the transaction when the connection drops).
    """
    step = progress or (lambda _text: None)
    epsg = bundle.crs.to_epsg()
    if epsg is None:
        raise InputError("the bundle's CRS has no EPSG code; PostGIS needs one", file=bundle.path)
    counts: dict[str, int] = {}
    try:
        conn = psycopg.connect(url, connect_timeout=10)
    except psycopg.OperationalError as exc:
        raise InputError(f"cannot connect: {str(exc).strip().splitlines()[0]}", file=_safe(url)) from None
    with conn, conn.transaction():
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        conn.execute(_PERSISTENT)
        # serialize concurrent loads of the same database
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('landready:load'))")
        old_layers = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema=%s AND table_name LIKE 'layer\\_%%'",
            (SCHEMA,),
        ).fetchall()
        previous = _previous_parcels(conn, url, discard_edits)
        first_load = previous is None
        before_load = previous or {}
        for (table,) in old_layers:
            conn.execute(f"DROP TABLE {SCHEMA}.{table}")
        for table in ("parcels", "rasters", "meta"):
            conn.execute(f"DROP TABLE IF EXISTS {SCHEMA}.{table}")
        conn.execute(
            f"CREATE TABLE {SCHEMA}.parcels (fid bigserial PRIMARY KEY, parcel_id text NOT NULL UNIQUE, "
            f"props jsonb NOT NULL, etag text NOT NULL, geom geometry(Geometry, {epsg}) NOT NULL)"
        )
        conn.execute(f"CREATE TABLE {SCHEMA}.rasters (name text PRIMARY KEY, data bytea NOT NULL)")
        conn.execute(f"CREATE TABLE {SCHEMA}.meta (key text PRIMARY KEY, value text NOT NULL)")

        step("parcels")
        parcels = bundle.parcels
        props = records_json(parcels.drop(columns=["parcel_id"]))
        wkb = shapely.to_wkb(parcels.geometry.to_numpy(), hex=True)
        changes: list[tuple[str, StoredParcel | None, StoredParcel | None]] = []
        geoms = parcels.geometry.to_numpy()
        with conn.cursor().copy(f"COPY {SCHEMA}.parcels (parcel_id, props, etag, geom) FROM STDIN") as copy:
            for i, (pid, prop, geom) in enumerate(
                zip(parcels["parcel_id"].astype(str), props, wkb, strict=True)
            ):
                before = before_load.pop(pid, None)
                values = json.loads(prop)
                if (
                    before is not None
                    and before.properties == values
                    and before.geometry.equals_exact(geoms[i], 0)
                ):
                    etag = before.etag
                else:
                    etag = new_etag()
                    if not first_load:
                        changes.append((pid, before, StoredParcel(pid, values, geoms[i], etag)))
                copy.write_row((pid, prop, etag, f"SRID={epsg};{geom}"))
        changes.extend((pid, before, None) for pid, before in before_load.items())
        conn.execute(f"CREATE INDEX parcels_geom ON {SCHEMA}.parcels USING gist (geom)")
        counts["parcels"] = len(parcels)
        _record_reload(conn, changes)

        for name, layer in bundle.layers.items():
            if name == "parcels":
                continue
            step(name)
            table = f"{SCHEMA}.layer_{name}"
            conn.execute(
                f"CREATE TABLE {table} (fid bigserial PRIMARY KEY, props jsonb NOT NULL, "
                f"geom geometry(Geometry, {epsg}) NOT NULL)"
            )
            layer_props = records_json(layer)
            layer_wkb = shapely.to_wkb(layer.geometry.to_numpy(), hex=True)
            with conn.cursor().copy(f"COPY {table} (props, geom) FROM STDIN") as copy:
                for prop, geom in zip(layer_props, layer_wkb, strict=True):
                    copy.write_row((prop, f"SRID={epsg};{geom}"))
            conn.execute(f"CREATE INDEX layer_{name}_geom ON {table} USING gist (geom)")
            counts[name] = len(layer)

        for name, path in bundle.rasters.items():
            step(name)
            conn.execute(
                f"INSERT INTO {SCHEMA}.rasters (name, data) VALUES (%s, %s)", (name, path.read_bytes())
            )
            counts[name] = 1

        meta = {
            "crs": f"EPSG:{epsg}",
            "name": bundle.name,
            "zone": json.dumps(bundle.zone, ensure_ascii=False, default=str),
            "warnings": json.dumps(bundle.warnings, ensure_ascii=False),
            "layers": json.dumps([n for n in bundle.layers if n != "parcels"]),
            "loaded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "load_id": uuid.uuid4().hex,  # running servers reload everything when it changes (api.sync)
            "source": str(bundle.path),
            # edits after this history row are people's work a later load must not overwrite unasked
            "history_mark": str(_scalar(conn, f"SELECT coalesce(max(id), 0) FROM {SCHEMA}.history")),
        }
        with conn.cursor() as cur:
            cur.executemany(f"INSERT INTO {SCHEMA}.meta (key, value) VALUES (%s, %s)", list(meta.items()))
    return counts


def _previous_parcels(
    conn: psycopg.Connection[Any], url: str, discard_edits: bool
) -> dict[str, StoredParcel] | None:
    """The parcels as loaded before, by id (None on a first load); an input error when people edited some
    since, unless discarding."""
    if _scalar(conn, "SELECT to_regclass(%s) IS NULL", (f"{SCHEMA}.parcels",)):
        return None
    # no edit may land between the check below and the replacement (readers go on; writers wait for the load)
    conn.execute(f"LOCK TABLE {SCHEMA}.parcels, {SCHEMA}.history IN EXCLUSIVE MODE")
    meta = dict(conn.execute(f"SELECT key, value FROM {SCHEMA}.meta").fetchall())
    # edits after the last load: by history row (older loads recorded only their time)
    since, args = (
        ("id > %s", (int(meta["history_mark"]),))
        if "history_mark" in meta
        else ("at > %s", (meta.get("loaded_at", "-infinity"),))
    )
    edited = [
        r[0]
        for r in conn.execute(
            f"SELECT DISTINCT parcel_id FROM {SCHEMA}.history "
            f"WHERE {since} AND action IN ('create', 'update', 'delete') ORDER BY parcel_id",
            args,
        ).fetchall()
    ]
    if edited and not discard_edits:
        shown = ", ".join(edited[:5]) + (" …" if len(edited) > 5 else "")
        raise InputError(
            f"{len(edited)} parcels were edited in the database since the last load ({shown}); loading would "
            "undo those edits: pass --discard-edits to load anyway (their history is kept)",
            file=_safe(url),
            field="--discard-edits",
        )
    rows = conn.execute(f"SELECT parcel_id, props, etag, ST_AsBinary(geom) FROM {SCHEMA}.parcels").fetchall()
    return {r[0]: StoredParcel(r[0], r[1], shapely.from_wkb(bytes(r[3])), r[2]) for r in rows}


def _record_reload(
    conn: psycopg.Connection[Any], changes: list[tuple[str, StoredParcel | None, StoredParcel | None]]
) -> None:
    """One ``reload`` history row per parcel the load changed, added or removed."""
    if not changes:
        return
    with conn.cursor() as cur:
        cur.executemany(
            f"INSERT INTO {SCHEMA}.history (parcel_id, actor, action, before, after) "
            "VALUES (%s, 'landready load', 'reload', %s::jsonb, %s::jsonb)",
            [
                (
                    pid,
                    None if before is None else json.dumps(before.as_history(), ensure_ascii=False),
                    None if after is None else json.dumps(after.as_history(), ensure_ascii=False),
                )
                for pid, before, after in changes
            ],
        )


def _scalar(conn: psycopg.Connection[Any], sql: str, args: tuple[Any, ...] = ()) -> Any:
    row = conn.execute(sql, args).fetchone()
    return None if row is None else row[0]
