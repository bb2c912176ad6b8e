"""The lean SQLite converters read back exactly what piccolo's own converters would."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from piccolo.engine import sqlite as piccolo_sqlite

from backend.db import sqlite_types

STORED = {
    "INTEGER": [b"0", b"-7", b"9223372036854775807", b"1.0", b"1e3"],
    "UUID": [str(uuid.uuid4()).encode()],
    "BOOLEAN": [b"1", b"0"],
    "TIMESTAMPTZ": [b"2026-11-22 08:30:00.123456", b"2026-11-22 08:30:00+00:00", b"2026-01-01 00:00:00"],
    "TIMESTAMP": [b"2026-11-22 08:30:00.5"],
    "DATE": [b"2026-02-28"],
}


@pytest.mark.parametrize("type_name", sorted(STORED))
def test_each_converter_matches_piccolos(type_name):
    ours, theirs = sqlite_types.CONVERTERS[type_name], piccolo_sqlite.CONVERTERS[type_name]
    for value in STORED[type_name]:
        assert ours(value) == theirs(value) and type(ours(value)) is type(theirs(value)), value


def test_rows_read_through_a_connection_come_back_typed(tmp_path):
    sqlite_types.install()
    conn = sqlite3.connect(tmp_path / "t.db", detect_types=sqlite3.PARSE_DECLTYPES)
    conn.row_factory = sqlite_types.row_as_dict
    conn.execute("CREATE TABLE t (n INTEGER, at TIMESTAMPTZ, ok BOOLEAN, day DATE, note TEXT)")
    at = datetime(2026, 11, 22, 8, 30, tzinfo=UTC)
    conn.execute("INSERT INTO t VALUES (?, ?, ?, ?, ?)", (3, at, True, date(2026, 11, 22), "x"))
    row = conn.execute("SELECT * FROM t").fetchone()
    assert row == {"n": 3, "at": at, "ok": True, "day": date(2026, 11, 22), "note": "x"}
    assert row["at"].tzinfo is not None


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 11, 22, 23, 30, 5, 123456, tzinfo=ZoneInfo("Asia/Shanghai")),
        datetime(2026, 11, 22, 15, 30, tzinfo=UTC),
        datetime(2026, 11, 22, 15, 30, 0, 1),  # naive: stored as given
    ],
)
def test_fix_times_are_stored_as_piccolos_adapter_stores_them(value):
    """Upload rows carry their times as text made before the write lock; range queries compare that text
    with times piccolo wrote, so it must be the very same text."""
    from piccolo.engine.sqlite import convert_datetime_in

    from backend.supervision.fences.store import sqlite_time as _sqlite_time

    assert _sqlite_time(value) == convert_datetime_in(value)
