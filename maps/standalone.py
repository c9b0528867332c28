"""One self-contained HTML map to attach to an audit report: every script, style, image, feature and card inline,
so it opens from disk (file://) with no network at all.
"""

from __future__ import annotations

import base64
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from maps.assets import inline_assets
from maps.cards import feature_card, parcel_card
from maps.features import FeatureIndex
from maps.hillshade import overview_png
from maps.page import build_page
from maps.styles import layer_style
from maps.summary import summary_html

__all__ = ["standalone_html", "write_map"]


def _cards(index: FeatureIndex, lang: str) -> dict[str, dict[str, Any]]:
    rules = index.results.rules
    parcels = index.layers["parcels"]
    cards: dict[str, dict[str, Any]] = {"parcels": {}}
    for pid in parcels.ids.tolist():
        rows = index.parcel_rows(pid)
        if rows is not None:
            cards["parcels"][pid] = parcel_card(rows[0], rows[1], rules, lang)
    for layer_id, layer in index.layers.items():
        if layer_style(layer_id).parcel_card:
            continue
        cards[layer_id] = {
            fid: feature_card(layer_id, layer.frame.iloc[i], lang) for i, fid in enumerate(layer.ids.tolist())
        }
    return cards


def standalone_html(results: Any, lang: str = "zh") -> str:
    """The self-contained page's HTML."""
    index = FeatureIndex(results)
    parcels = index.layers["parcels"]
    search_index = [
        [pid, name, *np.round(b, 7).tolist()]
        for pid, name, b in zip(parcels.ids.tolist(), parcels.names.tolist(), parcels.bounds, strict=True)
    ]
    dem = (getattr(results.bundle, "rasters", None) or {}).get("dem")
    image = None
    if dem is not None:
        png, bounds = overview_png(Path(dem))
        image = ("data:image/png;base64," + base64.b64encode(png).decode(), bounds)
    html = build_page(
        index,
        lang,
        standalone=True,
        summary=summary_html(results, lang),
        extra_data={"cards": _cards(index, lang), "searchIndex": search_index},
        hillshade_image=image,
    )
    return inline_assets(html)


def write_map(results: Any, out: Path, *, lang: str = "zh") -> None:
    """Write the self-contained map of `results` to `out` (atomically: a failed write leaves nothing behind)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    html = standalone_html(results, lang)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(html)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a report attachment is meant to be read
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
