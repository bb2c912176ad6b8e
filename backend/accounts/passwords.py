"""Password hashing (argon2id) and TOTP second factor."""

from __future__ import annotations

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from backend.core.errors import InvalidInput

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 12


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(stored_hash: str | None, password: str) -> bool:
    if not stored_hash:
        # Spend the same effort as a real check so timing does not reveal unknown usernames.
        _hasher.hash(password)
        return False
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def validate_new_password(password: str, field: str = "new_password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(field, f"must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(set(password)) < 5:
        raise InvalidInput(field, "is too repetitive")


def new_totp_secret() -> str:
    return pyotp.random_base32()


def check_totp(secret: str, code: str) -> bool:
    # valid_window=1 accepts the previous and next 30 s step, for clock drift between phone and server.
    return pyotp.TOTP(secret).verify(code, valid_window=1)
