"""Fixtures for the geofence tests: a realistic county boundary and person fences around Hangzhou."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The repository root, so `import geofence` works however pytest is started.
_ROOT = Path(__file__).resolve().parents[3]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from geofence_testkit import county_polygon  # noqa: E402
from shapely.geometry import Polygon  # noqa: E402


@pytest.fixture(scope="session")
def county() -> Polygon:
    """A county-like outline (~600 vertices, about 45 x 40 km) around Hangzhou."""
    return county_polygon()
