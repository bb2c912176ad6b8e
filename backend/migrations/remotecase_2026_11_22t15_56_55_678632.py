"""Location fixes: one index on (measure, t) instead of one on each column. The track query reads by
measure and time; every upload inserts ~100 rows, and each index is upkeep on that insert."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import ForeignKey, Timestamptz
from piccolo.table import Table

ID = "2026-11-22T15:56:55:678632"
VERSION = "1.38.0"
DESCRIPTION = "index location_fixes (measure, t) instead of measure and t apart"


class RawTable(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="remotecase", description=DESCRIPTION)

    manager.alter_column(
        table_class_name="LocationFix",
        tablename="location_fixes",
        column_name="measure",
        db_column_name="measure",
        params={"index": False},
        old_params={"index": True},
        column_class=ForeignKey,
        old_column_class=ForeignKey,
        schema=None,
    )

    manager.alter_column(
        table_class_name="LocationFix",
        tablename="location_fixes",
        column_name="t",
        db_column_name="t",
        params={"index": False},
        old_params={"index": True},
        column_class=Timestamptz,
        old_column_class=Timestamptz,
        schema=None,
    )

    async def create_index():
        await RawTable.raw(
            "CREATE INDEX IF NOT EXISTS location_fixes_measure_t ON location_fixes (measure, t)"
        )

    manager.add_raw(create_index)
    return manager
