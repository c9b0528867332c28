"""The map's layers prepared once per result set, then cut by viewport into compact GeoJSON.

Large layers never go into the page: the browser asks for the features in a box at a zoom, and gets them simplified
to about half a screen pixel, rounded to a tenth of a pixel, with three short properties (``id``, class ``c`` and
name ``n``) and at most a cap of them (largest first) — a planner's click then fetches the full card.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any

import numpy as np
import pandas as pd

import geopandas as gpd
import shapely

from gis.audit import as_timestamp, supplied_mask
from maps.styles import LAYERS, layer_style

__all__ = ["FeatureIndex", "LayerIndex", "pixel_degrees"]

#: a JSON string literal (C-accelerated, no ensure_ascii escaping of Chinese names)
_quote = encode_basestring

# metres of corridor half-width for an HV line when the rules have none (CONTRACT §3 default)
_HV_DEFAULT_M = 10.0


def pixel_degrees(zoom: float) -> float:
    """Width of one 256-px-tile screen pixel in degrees of longitude at `zoom`."""
    return 360.0 / (256.0 * 2.0 ** max(0.0, zoom))


@dataclass
class LayerIndex:
    """One map layer in WGS84 with a spatial index, feature ids, classes and names."""

    id: str
    frame: (
        pd.DataFrame
    )  # original rows (bundle CRS) for cards; only the classifying columns for parcel subsets
    ids: np.ndarray  # str
    classes: np.ndarray  # str ("" when the layer has one colour)
    names: np.ndarray  # str
    geoms: np.ndarray  # shapely geometries, EPSG:4326
    rank: np.ndarray  # float, larger first when a cap applies (area or length)
    tree: shapely.STRtree
    bounds: np.ndarray  # (n, 4) EPSG:4326

    def __len__(self) -> int:
        return len(self.ids)

    def query(
        self, bbox: tuple[float, float, float, float], zoom: float, cap: int, min_px: float = 0.0
    ) -> tuple[bytes, int, bool]:
        """Compact GeoJSON of the features touching `bbox` at `zoom`: (body, count, truncated).

        Features narrower and shorter than `min_px` screen pixels are left out (and the answer says it was cut).
        """
        hits = self.tree.query(shapely.box(*bbox))
        truncated = False
        if min_px > 0 and len(hits):
            b = self.bounds[hits]
            visible = np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]) >= min_px * pixel_degrees(zoom)
            truncated = not visible.all()
            hits = hits[visible]
        truncated = truncated or len(hits) > cap
        if truncated:
            keep = np.argpartition(-self.rank[hits], cap - 1)[:cap]
            hits = hits[keep]
        hits.sort()
        return self._encode(hits, zoom, truncated)

    def all(self, zoom: float = 18) -> bytes:
        """Every feature (for pages that inline a layer), lightly simplified."""
        body, _, _ = self._encode(np.arange(len(self.ids)), zoom, False)
        return body

    def _encode(self, hits: np.ndarray, zoom: float, truncated: bool) -> tuple[bytes, int, bool]:
        px = pixel_degrees(zoom)
        geoms = self.geoms[hits]
        simple = shapely.simplify(geoms, px * 0.5, preserve_topology=False)
        # a parcel smaller than the tolerance collapses: keep its original shape (it is still clickable)
        empty = shapely.is_empty(simple) | shapely.is_missing(simple)
        if empty.any():
            simple[empty] = geoms[empty]
        decimals = max(5, min(8, math.ceil(-math.log10(px * 0.1))))
        simple = shapely.transform(simple, lambda xy: np.round(xy, decimals))
        coords = shapely.to_geojson(simple)
        ids, classes, names = self.ids[hits], self.classes[hits], self.names[hits]
        parts = [
            '{"type":"Feature","properties":{"id":'
            + _quote(i)
            + ',"c":'
            + _quote(c)
            + ',"n":'
            + _quote(n)
            + '},"geometry":'
            + g
            + "}"
            for i, c, n, g in zip(
                ids.tolist(), classes.tolist(), names.tolist(), coords.tolist(), strict=True
            )
        ]
        body = '{"type":"FeatureCollection","truncated":' + ("true" if truncated else "false")
        body += ',"features":[' + ",".join(parts) + "]}"
        return body.encode(), len(parts), truncated


def _str_array(column: pd.Series) -> np.ndarray:
    col = column.astype(object)
    return col.where(col.notna(), "").astype(str).to_numpy(dtype=object)


def _class_values(frame: gpd.GeoDataFrame, field: str, default: str) -> np.ndarray:
    if not field or field not in frame.columns:
        return np.full(len(frame), default, dtype=object)
    col = frame[field].astype(object)
    return col.where(col.notna(), default).astype(str).to_numpy(dtype=object)


def _has_item(column: pd.Series, item: str) -> np.ndarray:
    """Rows whose list-valued `column` contains `item`."""
    flat = column.explode()
    hit = flat.astype(object).eq(item)
    return hit.groupby(level=0).any().reindex(column.index, fill_value=False).to_numpy()


#: a layer's rows, its id column ("" = row number) and, for layers cut from the parcels, their parcel positions
_Frame = tuple[pd.DataFrame, str, np.ndarray | None]


def _layer_frames(results: Any) -> dict[str, _Frame]:
    """Each map layer's rows; layers cut from the parcels keep the parcels' positions (projected once)."""
    audit = results.audit
    parcels: gpd.GeoDataFrame = audit.parcels.reset_index(drop=True)
    # coloured by the status as of the date: a parcel supplied later is still unsupplied on this map
    supplied = supplied_mask(parcels, as_timestamp(results.as_of))
    parcels["supply_as_of"] = np.where(supplied, "supplied", "unsupplied").astype(object)
    frames: dict[str, _Frame] = {"parcels": (parcels, "parcel_id", None)}

    def subset(mask: np.ndarray, *columns: str) -> pd.DataFrame:
        # geometry, ids and names come from the parcels layer: keep only the columns that classify
        return parcels.loc[mask, [c for c in columns if c in parcels.columns]]

    if getattr(audit, "unsupplied", None) is not None and len(audit.unsupplied):
        frames["unsupplied"] = (audit.unsupplied.reset_index(drop=True), "batch_id", None)
    if "idle_stage" in parcels.columns:
        stage = parcels["idle_stage"].astype(object)
        idle = subset((stage.notna() & stage.ne("none")).to_numpy(), "idle_stage")
        frames["idle"] = (idle, "parcel_id", idle.index.to_numpy())
    if "mujun_grade" in parcels.columns or "findings" in parcels.columns:
        none = np.zeros(len(parcels), dtype=bool)
        rated = parcels["mujun_grade"].notna().to_numpy() if "mujun_grade" in parcels.columns else none
        low = _has_item(parcels["findings"], "low_efficiency") if "findings" in parcels.columns else none
        sub = subset(rated | low, "mujun_grade", "low_efficiency_reasons").copy()
        if "mujun_grade" not in sub.columns:
            sub["mujun_grade"] = None
        sub["mujun_grade"] = sub["mujun_grade"].astype(object).where(sub["mujun_grade"].notna(), "unrated")
        frames["low_efficiency"] = (sub, "parcel_id", sub.index.to_numpy())
        if "low_efficiency_reasons" in sub.columns:
            # the first reason in CONTRACT order (far, coverage, …) is the one the colour shows
            first = sub["low_efficiency_reasons"].explode().groupby(level=0).first().dropna()
            reasons = sub.loc[first.index].copy()
            reasons["first_reason"] = first.astype(str)
            frames["low_efficiency_reason"] = (reasons, "parcel_id", reasons.index.to_numpy())
    readiness = getattr(results, "readiness", None)
    if readiness is not None and "readiness_tier" in readiness.columns:
        ready = readiness[readiness["readiness_tier"].astype(object).ne("supplied").to_numpy()]
        pos = pd.Series(np.arange(len(parcels)), index=parcels["parcel_id"].astype(str).to_numpy())
        where = pos.reindex(ready["parcel_id"].astype(str).to_numpy()).to_numpy()
        known = ~np.isnan(where)
        frames["readiness"] = (ready[known], "parcel_id", where[known].astype(np.int64))
    layers = results.bundle.layers
    for name in ("basic_farmland", "eco_redline", "infrastructure", "assessments", "zone_boundary"):
        if layers.get(name) is not None and len(layers[name]):
            frames[name] = (layers[name].reset_index(drop=True), "", None)
    if layers.get("batches") is not None and len(layers["batches"]):
        frames["batches"] = (layers["batches"].reset_index(drop=True), "batch_id", None)
    if layers.get("hv_lines") is not None and len(layers["hv_lines"]):
        frames["hv_lines"] = (_hv_corridors(layers["hv_lines"], results.rules), "", None)
    return frames


def _hv_corridors(lines: gpd.GeoDataFrame, rules: Any) -> gpd.GeoDataFrame:
    """The lines drawn as their protection corridors (half-widths from the rules, CONTRACT §3)."""
    try:
        table = {float(k): float(v) for k, v in rules["readiness.hv_corridor_half_width_m"].items()}
        default = float(rules["readiness.hv_corridor_default_m"])
    except (KeyError, TypeError, AttributeError):
        table, default = {}, _HV_DEFAULT_M
    kv = pd.to_numeric(
        lines.get("voltage_kv", pd.Series(np.nan, index=lines.index)), errors="coerce"
    ).to_numpy()
    width = np.full(len(lines), default)
    for threshold in sorted(table):  # ascending: the highest threshold reached wins
        width[kv >= threshold] = table[threshold]
    out = lines.reset_index(drop=True).copy()
    out["half_width_m"] = width
    out = out.set_geometry(shapely.buffer(out.geometry.values, width, cap_style="flat"))
    return out


class FeatureIndex:
    """All map layers of one result set, ready for viewport queries, cards and search."""

    def __init__(self, results: Any) -> None:
        self.results = results
        self.layers: dict[str, LayerIndex] = {}
        for name, (frame, id_col, positions) in _layer_frames(results).items():
            if positions is None:
                assert isinstance(frame, gpd.GeoDataFrame)
                self.layers[name] = self._index(name, frame, id_col)
            else:
                self.layers[name] = self._subset(name, frame, self.layers["parcels"], positions)
        parcels = self.layers["parcels"]
        self._parcel_pos = pd.Series(np.arange(len(parcels)), index=parcels.ids)
        self._search_text = pd.Series(parcels.ids + " " + parcels.names, dtype=object).str.lower()
        readiness = getattr(results, "readiness", None)
        self._readiness_pos: pd.Series | None = None
        if readiness is not None and "parcel_id" in readiness.columns:
            self._readiness = readiness.reset_index(drop=True)
            ids = self._readiness["parcel_id"].astype(str).to_numpy()
            self._readiness_pos = pd.Series(np.arange(len(ids)), index=ids)

    @staticmethod
    def _index(name: str, frame: gpd.GeoDataFrame, id_col: str) -> LayerIndex:
        style = layer_style(name)
        n = len(frame)
        geoms_proj = frame.geometry.values
        if frame.crs is not None and frame.crs.is_projected:
            rank = np.asarray(shapely.area(geoms_proj) + shapely.length(geoms_proj), dtype=float)
        else:
            rank = np.ones(n)
        wgs = frame.to_crs(4326).geometry.to_numpy() if frame.crs is not None else frame.geometry.to_numpy()
        ids = (
            frame[id_col].astype(str).to_numpy(dtype=object)
            if id_col and id_col in frame.columns
            else np.array([str(i) for i in range(n)], dtype=object)
        )
        default = "unrated" if name == "low_efficiency" else ""
        classes = _class_values(frame, style.class_field, default)
        if name == "infrastructure" and "status" in frame.columns:
            # planned networks are drawn dashed: the class carries the status after a colon
            planned = frame["status"].astype(object).eq("planned").to_numpy()
            classes = np.where(planned, classes + ":planned", classes).astype(object)
        name_col = (
            "name" if "name" in frame.columns else ("batch_name" if "batch_name" in frame.columns else "")
        )
        names = _str_array(frame[name_col]) if name_col else np.full(n, "", dtype=object)
        return LayerIndex(
            name,
            frame,
            ids,
            classes,
            names,
            wgs,
            rank,
            shapely.STRtree(wgs),
            shapely.bounds(wgs).reshape(-1, 4) if n else np.empty((0, 4)),
        )

    @staticmethod
    def _subset(name: str, frame: pd.DataFrame, parcels: LayerIndex, positions: np.ndarray) -> LayerIndex:
        """A layer of some parcels: geometry, ids and names taken from the parcels layer, classes of its own."""
        style = layer_style(name)
        default = "unrated" if name == "low_efficiency" else ""
        geoms = parcels.geoms[positions]
        return LayerIndex(
            name,
            frame,
            parcels.ids[positions],
            _class_values(frame, style.class_field, default),
            parcels.names[positions],
            geoms,
            parcels.rank[positions],
            shapely.STRtree(geoms),
            parcels.bounds[positions],
        )

    def bounds(self) -> tuple[float, float, float, float]:
        """Extent of the zone (boundary, else parcels) in EPSG:4326: west, south, east, north."""
        layer = self.layers.get("zone_boundary") or self.layers["parcels"]
        b = layer.bounds
        return float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max())

    def parcel_rows(self, parcel_id: str) -> tuple[pd.Series, pd.Series | None] | None:
        """The audit row and the readiness row (or None) of one parcel; None when there is no such parcel."""
        pos = self._parcel_pos.get(parcel_id)
        if pos is None:
            return None
        audit_row = self.layers["parcels"].frame.iloc[int(pos)]
        ready_row = None
        if self._readiness_pos is not None:
            rpos = self._readiness_pos.get(parcel_id)
            if rpos is not None:
                ready_row = self._readiness.iloc[int(rpos)]
        return audit_row, ready_row

    def feature_row(self, layer: str, fid: str) -> tuple[pd.Series, int] | None:
        """One feature of a non-parcel layer by its id."""
        index = self.layers.get(layer)
        if index is None:
            return None
        found = np.flatnonzero(index.ids == fid)
        if not len(found):
            return None
        return index.frame.iloc[int(found[0])], int(found[0])

    def search(self, text: str, limit: int = 10) -> list[dict[str, Any]]:
        """Parcels whose id or name contains `text` (an exact id first), with their WGS84 bounds."""
        raw = text.strip()
        if not raw:
            return []
        parcels = self.layers["parcels"]
        pos = self._parcel_pos.get(raw)
        exact = [] if pos is None else [int(pos)]
        contains = np.flatnonzero(self._search_text.str.contains(raw.lower(), regex=False).to_numpy())
        order = list(dict.fromkeys([*exact, *contains.tolist()]))[:limit]
        return [
            {
                "id": parcels.ids[i],
                "name": parcels.names[i],
                "bbox": [round(float(v), 7) for v in parcels.bounds[i]],
            }
            for i in order
        ]

    def layer_ids(self) -> list[str]:
        """Layers present, in drawing order."""
        return [style.id for style in LAYERS if style.id in self.layers]
