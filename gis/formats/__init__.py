"""China's exchange formats: 界址点坐标 TXT, GBK shapefiles, Gauss-Krüger zones and GCJ-02 / BD-09 (FORMATS.md).

Modules: `txt` (read and write the TXT, re-exporting `txt_read` and `txt_write`; the reader's internals are
`txt_parse` and `txt_geometry`), `txt_cli` (the two functions behind `landready import-txt` / `export-txt`),
`shapefile` (zipped GBK shapefile with a field legend), `gauss_kruger` (CGCS2000 / Xian-80 / Beijing-54 zone and EPSG
arithmetic) and `gcj02` (the basemap offsets).
"""
