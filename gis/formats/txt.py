"""界址点坐标 TXT: `read_txt` (gis.formats.txt_read), `write_txt` (gis.formats.txt_write) and the CLI steps
`import_txt` / `export_txt` (gis.formats.txt_cli) in one place."""

from __future__ import annotations

from gis.formats.txt_cli import export_txt, import_txt
from gis.formats.txt_read import HEADER_ALIASES, TxtResult, read_txt
from gis.formats.txt_write import write_txt

__all__ = ["HEADER_ALIASES", "TxtResult", "export_txt", "import_txt", "read_txt", "write_txt"]
