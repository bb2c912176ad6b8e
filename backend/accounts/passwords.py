"""Password hashing (argon2id) and TOTP second factor."""

from __future__ import annotations

import asyncio
import hmac
import time
from concurrent.futures import ThreadPoolExecutor

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from backend.core.errors import InvalidInput

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 12
# argon2 takes ~180 ms of CPU (and 64 MiB) per check: run on the event loop, 16 wrong logins in flight made
# /health wait 2.3 s. Checks run on these threads instead (argon2-cffi releases the GIL), at most this many
# at once per process, so a flood of logins queues here rather than taking every core and the memory.
CONCURRENT_CHECKS = 4
_checkers = ThreadPoolExecutor(max_workers=CONCURRENT_CHECKS, thread_name_prefix="argon2")


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


async def verify_password(stored_hash: str | None, password: str) -> bool:
    """check_password off the event loop."""
    return await asyncio.get_running_loop().run_in_executor(_checkers, check_password, stored_hash, password)


async def hash_password_off_loop(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_checkers, hash_password, password)


def validate_new_password(password: str, field: str = "new_password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(field, f"must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(set(password)) < 5:
        raise InvalidInput(field, "is too repetitive")


def is_ascii_code(code: str, min_length: int, max_length: int) -> bool:
    """ASCII digits 0-9 only: str.isdigit() also accepts other scripts' digits ('١٢٣٤٥٦'), which no code
    contains (and which hmac.compare_digest refuses with a TypeError)."""
    return min_length <= len(code) <= max_length and code.isascii() and code.isdigit()


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_step(secret: str, code: str, at: float | None = None) -> int | None:
    """The 30 s time step whose code this is, or None. The previous and next step are accepted too, for
    clock drift between phone and server. The caller makes a code single use by accepting only steps after
    the last one accepted (RFC 6238, section 5.2)."""
    totp = pyotp.TOTP(secret)
    now = time.time() if at is None else at
    step = int(now // totp.interval)
    code = str(code)
    if not is_ascii_code(code, totp.digits, totp.digits):
        return None
    for candidate in (step - 1, step, step + 1):
        if hmac.compare_digest(totp.generate_otp(candidate), code):
            return candidate
    return None
