"""The web map: the folium page at ``/`` (`maps.router`), its viewport feature endpoint, parcel cards, search,
hillshade tiles, and the self-contained HTML file of ``landready map`` (`maps.standalone.write_map`).

Everything the browser loads is served from ``maps/static/`` (vendored Leaflet and plugins, with licences); no
label is written outside `maps.i18n`; no audit value is computed here.
"""
