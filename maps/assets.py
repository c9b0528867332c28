"""Scripts, stylesheets and images the page needs, all shipped in `maps/static/` (vendored from npm with licences).

folium loads Leaflet, jQuery, Bootstrap and its plugins from public CDNs by default; government intranets cannot
reach them (SERVING.md §3). The map classes here replace every default asset with a file under ``/maps/static/``,
and `inline_assets` turns those links into inline ``<script>``/``<style>`` (images as data URIs) for a page that
must open from disk.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

__all__ = ["STATIC_DIR", "STATIC_URL", "css", "inline_assets", "js", "static_file"]

STATIC_DIR = Path(__file__).parent / "static"
STATIC_URL = "/maps/static/"

_MIME = {".png": "image/png", ".svg": "image/svg+xml", ".js": "text/javascript", ".css": "text/css"}


def js(path: str) -> str:
    """URL of a script under maps/static/."""
    return STATIC_URL + path


css = js


def static_file(path: str) -> Path | None:
    """The file for a ``/maps/static/`` path, or None when it is not one of ours (no escaping the directory)."""
    target = (STATIC_DIR / path).resolve()
    if STATIC_DIR.resolve() not in target.parents or not target.is_file():
        return None
    return target


def _data_uri(path: Path) -> str:
    mime = _MIME.get(path.suffix.lower(), "application/octet-stream")
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


def _inline_css(path: Path) -> str:
    text = path.read_text(encoding="utf-8")

    def embed(match: re.Match[str]) -> str:
        ref = match.group(2)
        if ref.startswith(("data:", "#", "http:", "https:")):
            return match.group(0)
        target = (path.parent / ref).resolve()
        return f'url("{_data_uri(target)}")' if target.is_file() else match.group(0)

    return re.sub(r"""url\((['"]?)([^'")]+)\1\)""", embed, text)


def inline_assets(html: str) -> str:
    """Replace every ``/maps/static/`` script and stylesheet link with its content; fail on any other URL."""

    def script(match: re.Match[str]) -> str:
        path = static_file(match.group(1))
        if path is None:
            raise FileNotFoundError(match.group(1))
        code = re.sub(r"//# sourceMappingURL=\S+", "", path.read_text(encoding="utf-8"))
        return "<script>" + code.replace("</script", "<\\/script") + "</script>"

    def style(match: re.Match[str]) -> str:
        path = static_file(match.group(1))
        if path is None:
            raise FileNotFoundError(match.group(1))
        return "<style>" + _inline_css(path).replace("</style", "<\\/style") + "</style>"

    html = re.sub(r'<script src="' + re.escape(STATIC_URL) + r'([^"]+)"></script>', script, html)
    html = re.sub(r'<link rel="stylesheet" href="' + re.escape(STATIC_URL) + r'([^"]+)"\s*/?>', style, html)
    return html
