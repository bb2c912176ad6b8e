"""idempotency_records claimed before the request runs: a claim token and its time, and when it applied.

A keyed request first claims its key in a short statement of its own (status_code NULL while in flight),
then runs like any other request; the first write transaction that commits inside it marks the record
applied in that same transaction, so a retry never repeats a state change even when the response was
never stored. A claim whose process died can be taken over once its lease has run out, unless it applied.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Timestamptz, Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-01T20:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "idempotency_records.claim_token, claimed_at, applied_at"

TABLE = {"table_class_name": "IdempotencyRecord", "tablename": "idempotency_records", "schema": None}


def _params(**overrides) -> dict:
    return {
        "default": None,
        "null": True,
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
    columns = (
        ("claim_token", "Varchar", Varchar, _params(length=36)),
        ("claimed_at", "Timestamptz", Timestamptz, _params()),
        ("applied_at", "Timestamptz", Timestamptz, _params()),
    )
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
