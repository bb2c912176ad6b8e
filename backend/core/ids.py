"""Time-ordered UUIDs (RFC 9562 version 7): unguessable, yet index- and cursor-friendly."""

import os
import time
import uuid


def uuid7() -> uuid.UUID:
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= ((rand >> 64) & 0xFFF) << 64  # rand_a
    value |= 0b10 << 62  # variant
    value |= rand & ((1 << 62) - 1)  # rand_b
    return uuid.UUID(int=value)


INT64_MAX = (1 << 63) - 1


def parse_int_id(value: int) -> int | None:
    """A caller-supplied integer id, or None when no database row could have it (beyond 64 bits)."""
    return value if -INT64_MAX - 1 <= value <= INT64_MAX else None


def parse_uuid(value: object) -> uuid.UUID | None:
    """A caller-supplied id as a UUID, or None when it is not one (an unknown id, not a server error)."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
