"""Input checks shared by account services; each failure names its field."""

from __future__ import annotations

import re

import phonenumbers

from backend.core.errors import InvalidInput

REGION = re.compile(r"^\d{6}$")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")


MAX_PHONE_INPUT = 40  # formatting included; phonenumbers' own limit is 250


def phone(value: str, field: str = "phone") -> str:
    """The number in E.164 form (+8613800138000), which every account, code and limit is keyed on.
    phonenumbers reads any script's digits, so '+86１３８...' in fullwidth digits is the same number,
    the same account and the same SMS limits; a number no region assigns is refused."""
    message = "must be a valid phone number in international form, such as +8613800138000"
    if len(value) > MAX_PHONE_INPUT:
        raise InvalidInput(field, message)
    try:
        number = phonenumbers.parse(value.strip(), None)  # no default region: the country code is required
    except phonenumbers.NumberParseException:
        raise InvalidInput(field, message) from None
    if number.extension or not phonenumbers.is_valid_number(number):  # an SMS cannot reach an extension
        raise InvalidInput(field, message)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


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
