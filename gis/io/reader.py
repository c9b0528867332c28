"""`read_bundle`: a zone's files to a checked, normalized `Bundle` (CONTRACT.md §2)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import numpy as np

import geopandas as gpd
from pyproj import CRS

from gis.bundle import Bundle
from gis.crs import (
    AREA_OF_USE_ERROR_DEG,
    AREA_OF_USE_WARN_DEG,
    crs_label,
    degrees_outside_area,
    epsg_code,
    lonlat_bounds,
    to_lonlat,
    working_crs,
)
from gis.errors import InputError
from gis.io.fields import normalize_fields
from gis.io.geometry import check_geometry
from gis.io.sources import Source, find_sources, gpkg_sources
from gis.io.tables import frame_to_layer, parse_crs, read_csv, read_xlsx
from gis.io.vector import garbled, read_parquet, read_shapefile, read_vector
from gis.io.where import ROW, Where, one_line
from gis.schema import LAYERS, RASTERS, LayerSpec

__all__ = ["read_bundle"]

_ZONE_FILE = "zone.toml"


# ── zone.toml and rasters ─────────────────────────────────────────────────────────────────────────────────


def _read_zone(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        # Windows Notepad writes a BOM, which TOML does not allow
        zone = tomllib.loads(path.read_bytes().decode("utf-8-sig"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"zone.toml 语法错误 (TOML syntax error: {one_line(exc)})", file=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"zone.toml 无法读取 (cannot read: {one_line(exc)})", file=path) from None
    if "crs" in zone:
        try:
            parse_crs(zone["crs"])
        except Exception:
            raise InputError(
                f"无法识别的坐标系 (unknown CRS {zone['crs']!r})", file=path, field="crs"
            ) from None
    return zone


def _find_rasters(directory: Path) -> dict[str, Path]:
    import rasterio  # only when a bundle has rasters

    found: dict[str, Path] = {}
    by_name = {f.name.lower(): f for f in directory.iterdir() if f.is_file()}
    for key, filename in RASTERS.items():
        stem = Path(filename).stem.lower()
        path = by_name.get(f"{stem}.tif") or by_name.get(f"{stem}.tiff")
        if path is None:
            continue
        try:
            with rasterio.open(path) as src:
                crs = src.crs
        except Exception as exc:
            raise InputError(
                f"栅格无法读取 (cannot read raster: {one_line(exc)})", file=path, layer=key
            ) from None
        if crs is None:
            raise InputError("栅格没有坐标系 (raster has no CRS)", file=path, layer=key)
        found[key] = path
    return found


# ── one layer ─────────────────────────────────────────────────────────────────────────────────────────────


def _read_source(
    source: Source, spec: LayerSpec, encoding: str | None, zone_crs: CRS | None, warnings: list[str]
) -> tuple[gpd.GeoDataFrame, Where]:
    where = Where(
        source.file, source.layer, "row" if source.kind in {"csv", "xlsx"} else "feature", source.kind
    )
    layer = source.layer
    if source.kind in {"geojson", "gpkg"}:
        gdf = read_vector(source.file, layer=layer, gpkg_layer=source.gpkg_layer)
    elif source.kind == "shp":
        gdf, notes = read_shapefile(source.file, layer=layer, encoding=encoding)
        warnings.extend(notes)
    elif source.kind == "parquet":
        table = read_parquet(source.file, layer=layer)
        if isinstance(table, gpd.GeoDataFrame):
            gdf = table
        else:
            where.row_word = "row"
            return frame_to_layer(
                table, spec, where, warnings, zone_crs=zone_crs, has_header_row=False
            ), where
    elif source.kind == "csv":
        raw = read_csv(source.file, encoding=encoding)
        if garbled(raw):
            warnings.append(
                f"{layer}: {source.file.name} 的中文疑似乱码, 请用 encoding='GBK' 或另存为 UTF-8 "
                "(text looks garbled; pass encoding='GBK' or save the CSV as UTF-8)"
            )
        return frame_to_layer(raw, spec, where, warnings, zone_crs=zone_crs), where
    elif source.kind == "xlsx":
        raw = read_xlsx(source.file, layer=layer, title=spec.title)
        return frame_to_layer(raw, spec, where, warnings, zone_crs=zone_crs), where
    else:  # 界址点坐标 TXT, parsed by the formats module
        from gis.formats.txt import read_txt

        try:
            result = read_txt(source.file)
        except InputError:
            if zone_crs is None:
                raise
            result = read_txt(source.file, crs=zone_crs)
        warnings.extend(f"{layer}: {note}" for note in result.warnings)
        gdf = result.gdf if result.gdf.crs is not None else result.gdf.set_crs(result.crs)
    gdf = gdf.reset_index(drop=True)
    gdf[ROW] = np.arange(1, len(gdf) + 1)
    return gdf, where


def _check_crs(gdf: gpd.GeoDataFrame, where: Where, warnings: list[str]) -> None:
    if gdf.crs is None:
        raise where.error(
            "没有坐标系 (the layer has no CRS: add a .prj file or declare the EPSG code)", field="geometry"
        )
    if epsg_code(gdf.crs) is None:
        warnings.append(f"{where.layer}: 坐标系没有 EPSG 代码 (CRS {gdf.crs.name!r} has no EPSG code)")
    if gdf.empty:
        return
    bounds = gdf.total_bounds
    if not np.isfinite(bounds).all():
        return  # null geometries: reported by the geometry check with the feature named
    if gdf.crs.is_geographic:
        if not lonlat_bounds(bounds):
            raise where.error(
                f"坐标不是经纬度, 但图层坐标系是 {crs_label(gdf.crs)} (coordinates are not longitude/latitude; "
                "GeoJSON without a 'crs' member is EPSG:4326 — declare the projected CRS)",
                field="geometry",
            )
        return
    _check_area_of_use(gdf.crs, bounds, where, warnings)


def _check_area_of_use(crs: CRS, bounds: np.ndarray, where: Where, warnings: list[str]) -> None:
    """Coordinates far outside their CRS's area of use mean a wrong CRS (e.g. a zone prefix in an unprefixed zone)."""
    if crs.area_of_use is None:
        return
    lon, lat = to_lonlat(crs, (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2)
    off = float(degrees_outside_area(crs, lon, lat))
    if not np.isfinite(off):
        raise where.error(
            f"坐标与坐标系 {crs_label(crs)} 不符 (coordinates do not fit the CRS)", field="geometry"
        )
    if off > AREA_OF_USE_ERROR_DEG:
        raise where.error(
            f"坐标与坐标系 {crs_label(crs)} 不符: 中心 ({lon:.2f}, {lat:.2f}) 远在其适用范围之外 "
            "(coordinates do not fit the CRS: check the zone and its prefix)",
            field="geometry",
        )
    if off > AREA_OF_USE_WARN_DEG:
        warnings.append(
            f"{where.layer}: 坐标中心 ({lon:.2f}, {lat:.2f}) 在 {crs_label(crs)} 的适用范围之外 "
            "(the layer lies outside its CRS's area of use; check the zone)"
        )


def _check_unique_ids(
    gdf: gpd.GeoDataFrame, field: str, where: Where, warnings: list[str], *, strict: bool
) -> None:
    ids = gdf[field]
    dup = ids.notna() & ids.duplicated(keep=False)
    if not dup.any():
        return
    positions = np.flatnonzero(dup.to_numpy())
    first_id = ids.iloc[positions[0]]
    same = positions[ids.iloc[positions].to_numpy() == first_id]
    rows = ", ".join(where.row_label(r) for r in gdf[ROW].to_numpy()[same][:5])
    others = int(ids[dup].nunique()) - 1
    more = f" (另有 {others} 个重复编号 / {others} more duplicated ids)" if others else ""
    message = f"{field} 重复 (duplicate {field} {first_id!r} in {rows}){more}"
    if strict:
        raise where.error(message, field=field, feature=first_id)
    warnings.append(f"{where.layer}: {message}")


def _read_layer(
    source: Source, encoding: str | None, zone_crs: CRS | None, warnings: list[str]
) -> tuple[gpd.GeoDataFrame, Where]:
    spec = LAYERS[source.layer]
    gdf, where = _read_source(source, spec, encoding, zone_crs, warnings)
    if gdf.empty and source.layer == "parcels":
        raise where.error("地块图层没有要素 (the parcels layer has no features)")
    _check_crs(gdf, where, warnings)
    gdf = normalize_fields(gdf, spec, where, warnings, require=not gdf.empty)
    gdf = check_geometry(gdf, spec, where, warnings)
    if where.id_field:
        _check_unique_ids(gdf, where.id_field, where, warnings, strict=source.layer == "parcels")
    return gdf, where


def _reproject(gdf: gpd.GeoDataFrame, crs: CRS, where: Where) -> gpd.GeoDataFrame:
    if gdf.crs is not None and (gdf.crs == crs or CRS(gdf.crs).equals(crs, ignore_axis_order=True)):
        return gdf.set_crs(crs, allow_override=True)
    out = gdf.to_crs(crs)
    if len(out) and not np.isfinite(out.total_bounds).all():
        raise where.error(
            f"无法从 {crs_label(gdf.crs)} 转换到 {crs_label(crs)} (reprojection gives infinite coordinates)",
            field="geometry",
        )
    return out


# ── the bundle ────────────────────────────────────────────────────────────────────────────────────────────


def read_bundle(path: Path | str, *, encoding: str | None = None) -> Bundle:
    """Read and check a zone's bundle (CONTRACT.md §2).

    Parameters
    ----------
    path
        A directory holding one file per layer, ``<layer>.<ext>`` with ext ``geojson`` (or ``json``), ``gpkg``,
        ``shp``, ``parquet`` (GeoParquet), ``csv``, ``xlsx`` or ``txt`` (界址点坐标); a layer may also be named by
        its Chinese title (``地块.shp``), and a GeoPackage in the directory may hold several layers named after
        bundle layers. Or a single GeoPackage whose layer names are the layer names. Rasters ``dem.tif`` and
        ``flood_depth.tif`` and the optional ``zone.toml`` sit in the directory (beside the GeoPackage).
    encoding
        Text encoding of shapefiles and CSV files, overriding detection (``.cpg``, UTF-8, else GB18030).

    Returns
    -------
    Bundle
        Layers in one projected CRS: the parcels' own projected CRS, or for geographic parcels the CGCS2000
        3-degree Gauss-Krüger zone without prefix (EPSG 4534–4554) nearest their centre. Every schema field is
        a column (English name, typed: str, float64, datetime64[ns], bool, canonical enum values; defaults
        filled), unknown fields follow unchanged. `Bundle.warnings` lists repairs and other notes.

    Raises
    ------
    InputError
        Bad input; the one-line message names the file, layer, feature and field.

    Notes
    -----
    Spreadsheet layers (CSV, XLSX, Parquet without geo metadata) carry geometry in a ``wkt`` column (also
    ``WKT``, ``geometry``, ``几何``), or as boundary-point rows (id, 圈号, 点号, ``X坐标``/``Y坐标`` with X the
    northing, or ``经度``/``纬度``). Their CRS is declared by an ``epsg`` (or ``crs``, ``坐标系``) column, else by
    ``crs = "EPSG:4527"`` in zone.toml; without either, longitude/latitude coordinates are EPSG:4326 and
    zone-prefixed Gauss-Krüger coordinates give their zone (warned); see `gis.io.tables`.

    Examples
    --------
    >>> from data import DEMO_BUNDLE
    >>> bundle = read_bundle(DEMO_BUNDLE)  # doctest: +SKIP
    >>> bundle.crs.is_projected, "parcels" in bundle.layers  # doctest: +SKIP
    (True, True)
    """
    path = Path(path)
    if not path.exists():
        raise InputError("数据包不存在 (bundle not found)", file=path)
    warnings: list[str] = []
    if path.is_dir():
        base = path
        sources = find_sources(path, warnings)
    elif path.suffix.lower() == ".gpkg":
        base = path.parent
        sources = {s.layer: s for s in gpkg_sources(path, warnings)}
    else:
        raise InputError("数据包应为目录或 GeoPackage (a bundle is a directory or a .gpkg file)", file=path)
    zone = _read_zone(base / _ZONE_FILE)
    zone_crs = parse_crs(zone["crs"]) if "crs" in zone else None
    if "parcels" not in sources:
        raise InputError(
            "缺少必需图层 parcels (地块) (required layer missing: parcels.geojson/.gpkg/.shp/.parquet/.csv/.xlsx)",
            file=path,
            layer="parcels",
        )
    layers: dict[str, gpd.GeoDataFrame] = {}
    wheres: dict[str, Where] = {}
    for name in LAYERS:  # schema order: parcels first
        if name in sources:
            layers[name], wheres[name] = _read_layer(sources[name], encoding, zone_crs, warnings)
    crs = working_crs(layers["parcels"])
    for name, gdf in layers.items():
        gdf = _reproject(gdf, crs, wheres[name]).drop(columns=[ROW]).reset_index(drop=True)
        gdf.attrs["source"] = str(wheres[name].file)
        layers[name] = gdf
    rasters = _find_rasters(base)
    return Bundle(path=path, crs=crs, layers=layers, rasters=rasters, zone=zone, warnings=warnings)


def normalize_layer(gdf: gpd.GeoDataFrame, layer: str, *, source: str = "store") -> gpd.GeoDataFrame:
    """Check and type one layer that did not come from a file (a store's rows, an edited feature).

    The same rules as `read_bundle`: aliases, types, enums, defaults and geometry checks; `source` names the
    origin in error messages.
    """
    spec = LAYERS[layer]
    where = Where(Path(source), layer)
    warnings: list[str] = []
    gdf = normalize_fields(gdf, spec, where, warnings, require=not gdf.empty)
    gdf = check_geometry(gdf, spec, where, warnings)
    return gdf.reset_index(drop=True)
