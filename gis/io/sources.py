"""Finding a bundle's layers: one file per layer in a directory, or the layers of GeoPackages."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gis.errors import InputError
from gis.io.headers import clean_header
from gis.io.vector import list_gpkg_layers
from gis.schema import LAYERS

__all__ = ["Source", "find_sources", "gpkg_sources"]

#: layer file extensions and their formats
_KINDS = {
    ".geojson": "geojson",
    ".json": "geojson",
    ".gpkg": "gpkg",
    ".shp": "shp",
    ".parquet": "parquet",
    ".geoparquet": "parquet",
    ".csv": "csv",
    ".xlsx": "xlsx",
    ".txt": "txt",
}
#: files in a bundle directory that are not layers: the API's edit store
_NOT_LAYERS = {"landready-store.gpkg"}


@dataclass(frozen=True)
class Source:
    """Where one bundle layer is read from."""

    layer: str
    file: Path
    kind: str
    gpkg_layer: str | None = None


def _layer_name(stem: str) -> str | None:
    """The bundle layer a file or GeoPackage layer name stands for (English name or Chinese title)."""
    key = clean_header(stem)
    for name, spec in LAYERS.items():
        if key in {clean_header(name), clean_header(spec.title)}:
            return name
    return None


# ── finding the layers ────────────────────────────────────────────────────────────────────────────────────


def gpkg_sources(path: Path, warnings: list[str], *, own_layer: str | None = None) -> list[Source]:
    """The bundle layers inside a GeoPackage (layers named after bundle layers)."""
    names = list_gpkg_layers(path)
    found: list[Source] = []
    for name in names:
        layer = _layer_name(name)
        if layer is not None:
            found.append(Source(layer, path, "gpkg", name))
        elif own_layer is None:
            warnings.append(
                f"{path.name}: 图层 {name} 不是数据包图层, 已忽略 (layer {name!r} is not a bundle layer; ignored)"
            )
    if own_layer is not None and not any(s.layer == own_layer for s in found):
        if len(names) == 1:
            found.append(Source(own_layer, path, "gpkg", names[0]))
        else:
            raise InputError(
                f"GeoPackage 有多个图层但没有名为 {own_layer} 的图层 (several layers {names[:6]}, none named {own_layer})",
                file=path,
                layer=own_layer,
            )
    return found


def find_sources(directory: Path, warnings: list[str]) -> dict[str, Source]:
    own: dict[str, Source] = {}
    contained: dict[str, Source] = {}
    for file in sorted(directory.iterdir()):
        kind = _KINDS.get(file.suffix.lower())
        if (
            kind is None
            or not file.is_file()
            or file.name.startswith(("~$", "."))
            or file.name in _NOT_LAYERS
        ):
            continue
        layer = _layer_name(file.stem)
        if layer is not None:
            if layer in own:
                raise InputError(
                    f"同一图层有两个文件 (two files for one layer: {own[layer].file.name}, {file.name})",
                    file=file,
                    layer=layer,
                )
            if kind != "gpkg":
                own[layer] = Source(layer, file, kind)
        if kind == "gpkg":
            for source in gpkg_sources(file, warnings, own_layer=layer):
                if source.layer == layer:
                    own[layer] = source
                elif source.layer in contained:
                    raise InputError(
                        f"图层 {source.layer} 出现在两个 GeoPackage 中 ({contained[source.layer].file.name}, {file.name})",
                        file=file,
                        layer=source.layer,
                    )
                else:
                    contained[source.layer] = source
        elif layer is None and kind in {"geojson", "shp", "parquet"}:
            warnings.append(f"{file.name}: 不是数据包图层, 已忽略 (not a bundle layer name; ignored)")
    for layer, source in contained.items():
        if layer in own:
            warnings.append(
                f"{layer}: 使用 {own[layer].file.name}, 忽略 {source.file.name} 中的同名图层 "
                f"(using {own[layer].file.name}; the layer of the same name in {source.file.name} is ignored)"
            )
        else:
            own[layer] = source
    return own
