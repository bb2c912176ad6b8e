"""scheduler_leases: the lease that lets one scheduler run the jobs while a second one waits as a standby
(backend.ops.lease): taken or renewed in one statement, taken over once the holder stops renewing it.

agency_policies.signal_loss_task_seconds: how long a phone may be silent before an officer task is opened
and the person told (backend.supervision.signal_loss_tasks); existing agencies get the default, 2 hours."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-02T00:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "scheduler_leases; agency_policies.signal_loss_task_seconds"

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
    manager.add_column(
        table_class_name="AgencyPolicy",
        tablename="agency_policies",
        column_name="signal_loss_task_seconds",
        db_column_name="signal_loss_task_seconds",
        column_class_name="Integer",
        column_class=Integer,
        params=_params(default=7200),
        schema=None,
    )
    return manager
