"""piccolo's configuration module (PICCOLO_CONF=backend.piccolo_conf): the engine comes from settings."""

from piccolo.conf.apps import AppRegistry

from backend.db.engine import make_engine
from backend.settings import get_settings

DB = make_engine(get_settings().database.url)
APP_REGISTRY = AppRegistry(apps=["backend.piccolo_app"])
