"""`landready load`: a bundle into PostGIS, all or nothing, safe to re-run."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

import psycopg

import shapely

from gis.bundle import Bundle
from gis.errors import InputError
from gis.store.base import new_etag, records_json
from gis.store.postgis import _PERSISTENT, SCHEMA, _safe

__all__ = ["load_bundle"]


def load_bundle(bundle: Bundle, url: str, *, progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Replace the database's zone data with `bundle` in ONE transaction; return rows loaded per layer.

    Edits history, tokens and the ledger are kept across re-loads. A load killed at any point rolls back, leaving
    the database as it was (PostgreSQL aborts the transaction when the connection drops).
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
        with conn.cursor().copy(f"COPY {SCHEMA}.parcels (parcel_id, props, etag, geom) FROM STDIN") as copy:
            for pid, prop, geom in zip(parcels["parcel_id"].astype(str), props, wkb, strict=True):
                copy.write_row((pid, prop, new_etag(), f"SRID={epsg};{geom}"))
        conn.execute(f"CREATE INDEX parcels_geom ON {SCHEMA}.parcels USING gist (geom)")
        counts["parcels"] = len(parcels)

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
            "source": str(bundle.path),
        }
        with conn.cursor() as cur:
            cur.executemany(f"INSERT INTO {SCHEMA}.meta (key, value) VALUES (%s, %s)", list(meta.items()))
    return counts
