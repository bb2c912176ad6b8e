"""The piccolo app: every domain's tables (found by backend.domains), so
`piccolo migrations new remotecase --auto` sees them."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from backend.domains import tables

APP_CONFIG = AppConfig(
    app_name="remotecase",
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    table_classes=tables(),
    migration_dependencies=[],
    commands=[],
)
