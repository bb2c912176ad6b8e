"""The piccolo app: every table of the product, so `piccolo migrations new remotecase --auto` sees them."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from backend.db.tables import ALL_TABLES

APP_CONFIG = AppConfig(
    app_name="remotecase",
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    table_classes=ALL_TABLES,
    migration_dependencies=[],
    commands=[],
)
