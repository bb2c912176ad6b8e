from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-22T13:35:42:312716"
VERSION = "1.38.0"
DESCRIPTION = "measures.fences_version keys the compiled-fence cache"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="remotecase", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="Measure",
        tablename="measures",
        column_name="fences_version",
        db_column_name="fences_version",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
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
