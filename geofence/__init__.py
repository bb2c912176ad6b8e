"""geofence: fences and location judgement for supervised persons. Pure library: shapely, geopy, numpy.

Typical use (see README.md):

    zones = zones_from_geojson(feature_collection)
    book = FenceBook({person_id: PersonFences(tuple(zones), tz="Asia/Shanghai"), ...})
    result = judge_batch(book, state, FixBatch.from_arrays(...), Settings())
    state = result.state; events = result.events
"""

from geofence.book import FenceBook
from geofence.engine import BatchResult, judge_batch, judge_person, sweep_signal
from geofence.errors import FixBatchError, GeometryError, ZoneError
from geofence.events import Event, EventKind, Fix, Flag, flag_names
from geofence.fixes import FixBatch
from geofence.geojson import zone_from_geojson, zone_to_geojson, zones_from_geojson, zones_to_geojson
from geofence.schedule import Schedule, Window
from geofence.settings import Settings
from geofence.state import PersonState, RuleState, State
from geofence.zones import Area, Circle, PersonFences, Role, Severity, Zone

__all__ = [
    "Area",
    "BatchResult",
    "Circle",
    "Event",
    "EventKind",
    "FenceBook",
    "Fix",
    "FixBatch",
    "FixBatchError",
    "Flag",
    "GeometryError",
    "PersonFences",
    "PersonState",
    "Role",
    "RuleState",
    "Schedule",
    "Settings",
    "Severity",
    "State",
    "Window",
    "Zone",
    "ZoneError",
    "flag_names",
    "judge_batch",
    "judge_person",
    "sweep_signal",
    "zone_from_geojson",
    "zone_to_geojson",
    "zones_from_geojson",
    "zones_to_geojson",
]
