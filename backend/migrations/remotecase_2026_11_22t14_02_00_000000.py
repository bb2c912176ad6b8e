"""Check-in windows by (measure, status, opens_at): a check-in finds the open window it answers without
reading the person's other windows."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-22T14:02:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "index checkin_windows (measure, status, opens_at)"


class RawTable(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="remotecase", description=DESCRIPTION)

    async def create_index():
        await RawTable.raw(
            "CREATE INDEX IF NOT EXISTS checkin_windows_measure_status_opens "
            "ON checkin_windows (measure, status, opens_at)"
        )

    manager.add_raw(create_index)
    return manager
