"""The map's layers: which class each feature falls in, and the colour of that class.

Colours read at a glance: red is urgent (idle 2 years, grade D, 5-year-old remainders, blocked), amber is a warning,
green is fine. Each layer names the field that classifies its features and the label prefix in `maps.i18n`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LAYERS", "LayerStyle", "layer_style"]


@dataclass(frozen=True)
class LayerStyle:
    """How one map layer is classified, coloured and loaded."""

    id: str
    #: field whose value picks the colour ("" = one colour for the whole layer)
    class_field: str
    #: label prefix in maps.i18n for the class values
    label_prefix: str
    palette: dict[str, str]
    geometry: str = "polygon"  # polygon | line
    #: fetched by viewport (can be large) or inlined in the page (always small)
    viewport: bool = False
    shown: bool = True
    fill_opacity: float = 0.55
    weight: float = 1.0
    dash: str | None = None
    #: parcels layers open the parcel card on click; others show their own properties
    parcel_card: bool = False
    #: features smaller than this many screen pixels are not sent (the base layer only: a grey speck says nothing)
    min_px: float = 0.0

    @property
    def z(self) -> int:
        """Stacking order (higher on top): parcels above the areas they sit in, so a click reaches the card."""
        return _STACK.index(self.id)


LAYERS: tuple[LayerStyle, ...] = (
    LayerStyle("zone_boundary", "", "", {"": "#222222"}, fill_opacity=0.0, weight=2.5, dash="8 4"),
    LayerStyle("batches", "", "", {"": "#6a51a3"}, fill_opacity=0.0, weight=1.2, dash="4 3", shown=False),
    LayerStyle(
        "parcels",
        "supply_as_of",
        "supply_status",
        {"supplied": "#9e9e9e", "unsupplied": "#d9d9d9"},
        viewport=True,
        fill_opacity=0.25,
        weight=0.6,
        parcel_card=True,
        min_px=2.0,
    ),
    LayerStyle(
        "unsupplied",
        "age_bucket",
        "age_bucket",
        {"lt2y": "#c6dbef", "2to5y": "#6baed6", "ge5y": "#08306b"},
        viewport=True,
        fill_opacity=0.6,
    ),
    LayerStyle(
        "idle",
        "idle_stage",
        "idle_stage",
        {
            "overdue_start": "#fee08b",
            "overdue_completion": "#fdae61",
            "idle_1y": "#f46d43",
            "idle_2y": "#a50026",
            "stalled": "#762a83",
        },
        viewport=True,
        fill_opacity=0.7,
        parcel_card=True,
    ),
    LayerStyle(
        "low_efficiency",
        "mujun_grade",
        "mujun_grade",
        {"A": "#1a9850", "B": "#91cf60", "C": "#fee08b", "D": "#d73027", "unrated": "#bdbdbd"},
        viewport=True,
        fill_opacity=0.65,
        parcel_card=True,
        shown=False,
    ),
    LayerStyle(
        "low_efficiency_reason",
        "first_reason",
        "reason",
        {
            "far": "#8c510a",
            "coverage": "#d8b365",
            "investment": "#5ab4ac",
            "tax": "#01665e",
            "stopped": "#000000",
            "mujun_d": "#d73027",
        },
        viewport=True,
        fill_opacity=0.65,
        parcel_card=True,
        shown=False,
    ),
    LayerStyle(
        "readiness",
        "readiness_tier",
        "readiness_tier",
        {"ready": "#1a9850", "nearly_ready": "#a6d96a", "not_ready": "#fdae61", "blocked": "#d73027"},
        viewport=True,
        fill_opacity=0.6,
        parcel_card=True,
        shown=False,
    ),
    LayerStyle("basic_farmland", "", "", {"": "#e6c229"}, fill_opacity=0.35, weight=0.8, shown=False),
    LayerStyle("eco_redline", "", "", {"": "#2e7d32"}, fill_opacity=0.35, weight=0.8, shown=False),
    LayerStyle("hv_lines", "", "", {"": "#ff00aa"}, fill_opacity=0.25, weight=1.0, dash="2 3", shown=False),
    LayerStyle(
        "infrastructure",
        "kind",
        "infra_kind",
        {
            "road": "#555555",
            "water": "#1f78b4",
            "drainage": "#8c6d31",
            "power": "#e31a1c",
            "telecom": "#6a3d9a",
            "gas": "#ff7f00",
            "heat": "#b15928",
        },
        geometry="line",
        weight=2.0,
        fill_opacity=0.2,
        shown=False,
    ),
    LayerStyle(
        "assessments",
        "kind",
        "assessment",
        {
            "energy": "#8dd3c7",
            "eia": "#80b1d3",
            "flood": "#1f78b4",
            "soil_water": "#b3de69",
            "water_resources": "#bebada",
            "mineral": "#fb8072",
            "geohazard": "#fdb462",
            "heritage": "#bc80bd",
            "seismic": "#ccebc5",
        },
        fill_opacity=0.08,
        weight=1.2,
        shown=False,
    ),
)

_STACK = (
    "assessments",
    "zone_boundary",
    "batches",
    "basic_farmland",
    "eco_redline",
    "unsupplied",
    "hv_lines",
    "parcels",
    "readiness",
    "low_efficiency",
    "low_efficiency_reason",
    "idle",
    "infrastructure",
)
_BY_ID = {style.id: style for style in LAYERS}


def layer_style(layer: str) -> LayerStyle:
    """The style of map layer `layer` (KeyError for an unknown layer)."""
    return _BY_ID[layer]
