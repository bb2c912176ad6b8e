"""piccolo returns JSON columns as text on some paths (SQLite, objects()); read them through this."""

from __future__ import annotations

import json
from typing import Any


def loaded(value: Any, default: Any = None) -> Any:
    if isinstance(value, str | bytes):
        return json.loads(value) if value else default
    return default if value is None else value
