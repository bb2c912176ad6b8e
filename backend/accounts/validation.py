"""Input checks shared by account services; each failure names its field."""

from __future__ import annotations

import re

from backend.core.errors import InvalidInput

E164 = re.compile(r"^\+[1-9]\d{7,14}$")
REGION = re.compile(r"^\d{6}$")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")


def phone(value: str, field: str = "phone") -> str:
    value = value.strip().replace(" ", "")
    if not E164.match(value):
        raise InvalidInput(field, "must be an E.164 number such as +8613800138000")
    return value


def region_code(value: str, field: str = "region_code") -> str:
    if not REGION.match(value):
        raise InvalidInput(field, "must be a 6-digit administrative division code such as 330106")
    return value


def username(value: str, field: str = "username") -> str:
    value = value.strip().lower()
    if not USERNAME.match(value):
        raise InvalidInput(field, "must be 3-64 characters: lowercase letters, digits, '.', '_' or '-'")
    return value


def name(value: str, field: str = "display_name") -> str:
    value = value.strip()
    if not 1 <= len(value) <= 200:
        raise InvalidInput(field, "must be 1-200 characters")
    return value
