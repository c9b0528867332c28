"""GeoPackage geometry blobs (GPKG spec §2.1.3): a small header with the SRS id and envelope, then WKB."""

from __future__ import annotations

import struct

import shapely
from shapely.geometry.base import BaseGeometry

__all__ = ["decode", "encode"]

_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def encode(geom: BaseGeometry, srs_id: int) -> bytes:
    """A little-endian GPKG blob with an XY envelope."""
    minx, miny, maxx, maxy = geom.bounds
    flags = 0b0000_0011  # little-endian header, envelope [minx, maxx, miny, maxy]
    header = (
        b"GP" + bytes([0, flags]) + struct.pack("<i", srs_id) + struct.pack("<4d", minx, maxx, miny, maxy)
    )
    return header + shapely.to_wkb(geom, byte_order=1)


def decode(blob: bytes) -> bytes:
    """The WKB inside a GPKG blob."""
    if blob[:2] != b"GP":
        raise ValueError("not a GeoPackage geometry blob")
    envelope = (blob[3] >> 1) & 0b111
    return bytes(blob[8 + _ENVELOPE_BYTES[envelope] :])
