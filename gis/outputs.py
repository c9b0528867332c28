"""Writing outputs: all-or-nothing output directories and RFC 7946 GeoJSON."""

from __future__ import annotations

import json
import math
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import geopandas as gpd
import shapely

__all__ = ["atomic_dir", "geojson_bytes", "json_default", "write_geojson"]


@contextmanager
def atomic_dir(out: Path) -> Iterator[Path]:
    """Yield a temporary directory beside `out` and move its files into `out` only when the block succeeds.

    On any error the temporary directory is removed and `out` is left as it was: an output directory is either
    complete or untouched (CONTRACT §1).
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        yield tmp
        if out.exists() and not any(out.iterdir()):
            out.rmdir()
        if out.exists():
            # keep files of other commands (audit and readiness share a directory); replace ours one by one
            for item in tmp.iterdir():
                target = out / item.name
                if target.is_dir():
                    shutil.rmtree(target)
                item.replace(target)
            tmp.rmdir()
        else:
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def json_default(value: Any) -> Any:
    """Turn numpy, pandas and date values into JSON; NaN and NaT become null."""
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, pd.Timestamp | datetime | date):
        return None if pd.isna(value) else value.strftime("%Y-%m-%d")
    if value is pd.NaT or value is pd.NA:
        return None
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.floating) and np.isnan(value):
        return None
    if value is pd.NaT or value is pd.NA or value is None:
        return None
    if isinstance(value, pd.Timestamp | datetime | date):
        return value.strftime("%Y-%m-%d")
    return value


def geojson_bytes(gdf: gpd.GeoDataFrame, *, precision: int = 7) -> bytes:
    """An RFC 7946 FeatureCollection: EPSG:4326, counter-clockwise exteriors, `precision` decimals.

    Lists and dicts in properties stay JSON arrays and objects; NaN, NaT and None become null.
    """
    wgs = gdf.to_crs(4326) if gdf.crs is not None and not gdf.crs.equals("EPSG:4326") else gdf
    geoms = shapely.orient_polygons(wgs.geometry.values, exterior_cw=False)
    geoms = shapely.transform(geoms, lambda xy: np.round(xy, precision))
    # GEOS prints 17 significant digits (116.85279010000001); re-print long numbers at `precision` decimals
    long_number = re.compile(r"-?\d+\.\d{" + str(precision + 1) + ",}")
    shorten = lambda m: repr(round(float(m.group()), precision))  # noqa: E731
    geojson = [None if g is None else long_number.sub(shorten, g) for g in shapely.to_geojson(geoms)]
    columns = [c for c in wgs.columns if c != wgs.geometry.name]
    records = wgs[columns].astype(object).to_dict("records")
    parts = []
    for rec, geom in zip(records, geojson, strict=True):
        props = {k: _clean(v) for k, v in rec.items()}
        parts.append(
            '{"type":"Feature","properties":'
            + json.dumps(props, ensure_ascii=False, default=json_default)
            + ',"geometry":'
            + (geom if geom is not None else "null")
            + "}"
        )
    return ('{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}").encode()


def write_geojson(gdf: gpd.GeoDataFrame, path: Path) -> None:
    """Write `gdf` as RFC 7946 GeoJSON (see `geojson_bytes`)."""
    Path(path).write_bytes(geojson_bytes(gdf))
