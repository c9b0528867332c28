"""Run the app with uvicorn (``landready serve``)."""

from __future__ import annotations

import uvicorn

from api.app import create_app, load_results
from api.settings import Settings

__all__ = ["serve"]


def serve(settings: Settings) -> None:
    """Serve the bundle of `settings` until interrupted.

    The bundle is read and computed before the server starts, so a bad bundle raises `gis.errors.InputError` here
    (the CLI's exit 2 with a one-line message) instead of failing inside uvicorn's startup.
    """
    app = create_app(settings, results=load_results(settings))
    uvicorn.run(app, host=settings.host, port=settings.port, proxy_headers=True, log_level="info")
