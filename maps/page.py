"""The map page, built with folium: layers a planner toggles, legend, scale, fullscreen, measure, search, summary.

Every asset comes from ``/maps/static/`` (see `maps.assets`). Large layers are not in the page: the client fetches
them by viewport from ``/maps/features/{layer}``. A standalone page inlines everything instead.
"""

from __future__ import annotations

import json
import math
from typing import Any

from branca.element import Element

import folium
from folium import plugins
from folium.elements import JSCSSMixin

from maps.assets import css, js
from maps.features import FeatureIndex
from maps.i18n import label, table
from maps.settings import MapSettings
from maps.styles import LayerStyle, layer_style

__all__ = ["build_page"]

_LEAFLET_JS = [("leaflet", js("vendor/leaflet/leaflet.js"))]
_LEAFLET_CSS = [("leaflet_css", css("vendor/leaflet/leaflet.css"))]
_APP_JS = [("landready_map", js("landready-map.js"))]
_APP_CSS = [("landready_map_css", css("landready-map.css"))]

_TIANDITU = (
    "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER={layer}"
    "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={tk}"
)
_AMAP = "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}"


class _OfflineMap(folium.Map):
    """folium.Map with Leaflet only, from our own static files (no jQuery, Bootstrap or icon fonts needed)."""

    default_js = _LEAFLET_JS
    default_css = _LEAFLET_CSS


class _Fullscreen(plugins.Fullscreen):
    default_js = [  # noqa: RUF012 (folium's own attribute)
        ("Control.Fullscreen.js", js("vendor/leaflet.fullscreen/Control.FullScreen.js"))
    ]
    default_css = [  # noqa: RUF012 (folium's own attribute)
        ("Control.FullScreen.css", css("vendor/leaflet.fullscreen/Control.FullScreen.css"))
    ]


class _Measure(plugins.MeasureControl):
    default_js = [  # noqa: RUF012 (folium's own attribute)
        ("leaflet_measure_js", js("vendor/leaflet-measure/leaflet-measure.js"))
    ]
    default_css = [  # noqa: RUF012 (folium's own attribute)
        ("leaflet_measure_css", css("vendor/leaflet-measure/leaflet-measure.css"))
    ]


class _MeasureZh(_Measure):
    default_js = [  # noqa: RUF012 (folium's own attribute)
        ("leaflet_measure_js", js("vendor/leaflet-measure/leaflet-measure.cn.js"))
    ]


class _App(JSCSSMixin, folium.MacroElement):
    """Starts the landready client once the map and its feature groups exist."""

    _template = folium.template.Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var data = {{ this.data_js }};
            var cfg = {{ this.config_js }};
            cfg.layers.forEach(function (l) { if (data[l.id]) l.data = data[l.id]; });
            LandreadyMap.init({{ this._parent.get_name() }}, {
            {%- for id, group in this.groups %}
                {{ id|tojson }}: {{ group.get_name() }},
            {%- endfor %}
            }, cfg, {{ this.control.get_name() }});
        })();
        {% endmacro %}
        """
    )
    default_js = _APP_JS
    default_css = _APP_CSS

    def __init__(
        self,
        groups: list[tuple[str, folium.FeatureGroup]],
        control: folium.LayerControl,
        config: dict[str, Any],
        data: dict[str, bytes],
    ):
        super().__init__()
        self.control = control
        self._name = "LandreadyApp"
        self.groups = groups
        self.config_js = _script_json(json.dumps(config, ensure_ascii=False))
        self.data_js = _script_json(
            "{" + ",".join(f"{json.dumps(k)}:{v.decode()}" for k, v in data.items()) + "}"
        )


def _script_json(text: str) -> str:
    """JSON safe inside a <script> element."""
    return text.replace("</", "<\\/")


def _layer_config(style: LayerStyle) -> dict[str, Any]:
    return {
        "id": style.id,
        "palette": style.palette,
        "labelPrefix": style.label_prefix,
        "weight": style.weight,
        "fillOpacity": style.fill_opacity,
        "dash": style.dash,
        "line": style.geometry == "line" or style.fill_opacity == 0,
        "parcelCard": style.parcel_card,
        "z": style.z,
    }


def _basemaps(m: folium.Map, settings: MapSettings, lang: str, hillshade_url: str | None) -> None:
    def add(layer: folium.TileLayer, *, local: bool = False) -> None:
        # only the local hillshade is on at start: online basemaps are opt-in (the client adds "no basemap")
        layer.show = local
        layer.add_to(m)

    if hillshade_url:
        add(
            folium.TileLayer(
                hillshade_url,
                attr="DEM",
                name=label("basemap_hillshade", lang),
                max_zoom=20,
                max_native_zoom=18,
                overlay=False,
            ),
            local=True,
        )
    if settings.tianditu_key:
        for code in ("vec", "img"):
            add(
                folium.TileLayer(
                    _TIANDITU.replace("{layer}", code),
                    attr="© 天地图 Tianditu",
                    name=label(f"basemap_tianditu_{code}", lang),
                    subdomains="01234567",
                    tk=settings.tianditu_key,
                    max_zoom=18,
                    overlay=False,
                )
            )
        folium.TileLayer(
            _TIANDITU.replace("{layer}", "cva"),
            attr="© 天地图 Tianditu",
            name=label("basemap_tianditu_cva", lang),
            subdomains="01234567",
            tk=settings.tianditu_key,
            max_zoom=18,
            overlay=True,
            show=False,
        ).add_to(m)
    if settings.osm:
        add(
            folium.TileLayer(
                "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                attr="© OpenStreetMap contributors",
                name=label("basemap_osm", lang),
                max_zoom=19,
                overlay=False,
            )
        )
    if settings.amap:
        add(
            folium.TileLayer(
                _AMAP,
                attr="© 高德地图 AMap",
                name=label("basemap_amap", lang),
                subdomains="1234",
                max_zoom=18,
                overlay=False,
                gcj02=True,
            )
        )


def _fit_zoom(
    west: float, south: float, east: float, north: float, width: int = 1000, height: int = 650
) -> int:
    """About the zoom the client's fitBounds will pick, so the first tiles are requested at the right zoom."""

    def merc(lat: float) -> float:
        return math.degrees(math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)))

    span_x = max(east - west, 1e-6)
    span_y = max(merc(north) - merc(south), 1e-6)
    zoom = min(math.log2(width * 360 / (256 * span_x)), math.log2(height * 360 / (256 * span_y)))
    return int(max(1, min(18, math.floor(zoom))))


def build_page(
    index: FeatureIndex,
    lang: str = "zh",
    settings: MapSettings | None = None,
    *,
    standalone: bool = False,
    hillshade_url: str | None = None,
    summary: str = "",
    extra_data: dict[str, Any] | None = None,
    hillshade_image: tuple[str, tuple[float, float, float, float]] | None = None,
) -> str:
    """The page's HTML (assets linked under ``/maps/static/``; `maps.assets.inline_assets` embeds them)."""
    settings = settings or MapSettings()
    lang = "en" if lang == "en" else "zh"
    west, south, east, north = index.bounds()
    m = _OfflineMap(
        location=[(south + north) / 2, (west + east) / 2],
        zoom_start=_fit_zoom(west, south, east, north),
        tiles=None,
        prefer_canvas=True,
        control_scale=False,
        max_zoom=20,
    )
    m.get_root().title = label("title", lang)  # type: ignore[attr-defined]
    # no favicon request (a 404 would be the page's only console error)
    m.get_root().header.add_child(Element('<link rel="icon" href="data:,">'), name="favicon")  # type: ignore[attr-defined]
    if not standalone:
        _basemaps(m, settings, lang, hillshade_url)
    if hillshade_image is not None:  # a page without a server: the DEM's hillshade as one picture
        uri, (w, s, e, n) = hillshade_image
        folium.raster_layers.ImageOverlay(
            uri, bounds=[[s, w], [n, e]], name=label("basemap_hillshade", lang), opacity=0.9, overlay=True
        ).add_to(m)

    groups: list[tuple[str, folium.FeatureGroup]] = []
    layers_cfg: list[dict[str, Any]] = []
    data: dict[str, bytes] = {}
    for layer_id in index.layer_ids():
        style = layer_style(layer_id)
        group = folium.FeatureGroup(name=label(f"layer.{layer_id}", lang), show=style.shown)
        group.add_to(m)
        groups.append((layer_id, group))
        layers_cfg.append(_layer_config(style))
        layer = index.layers[layer_id]
        if standalone or (len(layer) <= settings.inline_max_features and not style.viewport):
            data[layer_id] = layer.all()

    _Fullscreen(
        position="topright", title=label("fullscreen", lang), title_cancel=label("fullscreen_exit", lang)
    ).add_to(m)
    (_MeasureZh if lang == "zh" else _Measure)(
        position="topright",
        primary_length_unit="meters",
        secondary_length_unit="kilometers",
        primary_area_unit="sqmeters",
        secondary_area_unit="hectares",
    ).add_to(m)
    control = folium.LayerControl(position="topright", collapsed=False)
    control.add_to(m)

    config: dict[str, Any] = {
        "lang": lang,
        "bounds": [[south, west], [north, east]],
        "t": table(lang),
        "layers": layers_cfg,
        "summaryHtml": summary,
        "endpoints": {"features": "/maps/features/", "card": "/maps/card/", "search": "/maps/search"},
        "links": None if standalone else "",
        "langUrl": None if standalone else ("?lang=zh" if lang == "en" else "?lang=en"),
    }
    config.update(extra_data or {})
    _App(groups, control, config, data).add_to(m)
    html = m.get_root().render()
    return html.replace("<html>", f'<html lang="{"en" if lang == "en" else "zh-CN"}">', 1)
