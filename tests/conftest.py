"""Shared test helpers.

Under CI (CI=true) a missing external tool (GDAL's ogrinfo, Chromium, PostGIS) fails the run instead of skipping:
the tests that need them are the product's acceptance checks.
"""

from __future__ import annotations

import os

import pytest


def require(available: bool, what: str) -> None:
    """Skip when `what` is missing on a developer's machine; fail under CI."""
    if available:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} is required in CI but missing")
    pytest.skip(f"{what} not available")
