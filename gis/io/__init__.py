"""Reading bundles: `read_bundle` turns a zone's files into a checked, normalized `gis.bundle.Bundle`.

Modules: `reader` (read_bundle: layers, zone.toml, rasters, the bundle CRS), `sources` (which file holds which
layer), `vector` (GeoJSON, GeoPackage, Shapefile encodings, GeoParquet), `tables` (CSV, XLSX: WKT and CRS) and
`points` (boundary-point rows to polygons), `headers` (Chinese/English header aliases), `fields` (value types),
`geometry` (type checks, make_valid), `where` (file/layer/feature of every message). Only this package and
`gis.formats` open input files.
"""

from __future__ import annotations

from gis.io.reader import normalize_layer, read_bundle

__all__ = ["normalize_layer", "read_bundle"]
