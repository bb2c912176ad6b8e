"""scheduler_leases: the lease that lets one scheduler run the jobs while a second one waits as a standby
(backend.ops.lease): taken or renewed in one statement, taken over once the holder stops renewing it."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-02T00:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "scheduler_leases: one active scheduler"

TABLE = {"table_class_name": "SchedulerLease", "tablename": "scheduler_leases", "schema": None}


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
    manager.add_table(class_name="SchedulerLease", tablename="scheduler_leases", schema=None, columns=None)
    columns = [
        ("name", "Varchar", Varchar, _params(length=64, primary_key=True)),
        ("holder", "Varchar", Varchar, _params(length=200)),
        ("expires_at", "Timestamptz", Timestamptz, _params(default=TimestamptzNow())),
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
