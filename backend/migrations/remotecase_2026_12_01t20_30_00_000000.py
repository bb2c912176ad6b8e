"""live_tickets: single-use, short-lived tickets that open the live-alerts websocket.

The socket took the access token in its query string, which request logs write out; a ticket is claimed
once (DELETE ... RETURNING) within seconds, so a logged URL opens nothing.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import UUID, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod

from backend.core.ids import uuid7

ID = "2026-12-01T20:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "live_tickets for the live-alerts websocket"

TABLE = {"table_class_name": "LiveTicket", "tablename": "live_tickets", "schema": None}


def _params(**overrides) -> dict:
    return {
        "default": "",
        "null": False,
        "primary_key": False,
        "unique": False,
        "index": False,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
    } | overrides


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="remotecase", description=DESCRIPTION)
    manager.add_table(class_name="LiveTicket", tablename="live_tickets", schema=None, columns=None)
    columns = [
        ("id", "UUID", UUID, _params(default=uuid7, primary_key=True)),
        ("ticket_hash", "Varchar", Varchar, _params(length=64, unique=True)),
        ("session", "UUID", UUID, _params(default=uuid7, index=True)),
        ("expires_at", "Timestamptz", Timestamptz, _params(default=TimestamptzNow(), index=True)),
    ]
    for name, class_name, column_class, params in columns:
        manager.add_column(
            **TABLE,
            column_name=name,
            db_column_name=name,
            column_class_name=class_name,
            column_class=column_class,
            params=params,
        )
    return manager
