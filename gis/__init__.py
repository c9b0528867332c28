"""landready's domain and geoprocessing: reading bundles, the 三清 audit, 标准地 readiness.

Nothing in this package imports web code (FastAPI, folium).
"""
