"""location_batches.fixes_hash: a hash of a batch's fixes, so a device_seq sent again with other fixes is
refused instead of answered as a replay (and its fixes silently dropped). Batches stored before it have
an empty hash and replay as before."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-01T21:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "location_batches.fixes_hash"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="remotecase", description=DESCRIPTION)
    manager.add_column(
        table_class_name="LocationBatch",
        tablename="location_batches",
        column_name="fixes_hash",
        db_column_name="fixes_hash",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 64,
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )
    return manager
