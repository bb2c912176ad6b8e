from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-22T13:47:22:014666"
VERSION = "1.38.0"
DESCRIPTION = "fence_zones.shape_key: one parse per distinct shape"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="remotecase", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="FenceZone",
        tablename="fence_zones",
        column_name="shape_key",
        db_column_name="shape_key",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 64,
            "default": None,
            "null": True,
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
