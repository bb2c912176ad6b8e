"""The officers' console API, mounted at /api/v1."""

from litestar import Router

from backend.accounts.controllers import AgencyController, StaffAuthController, UserController
from backend.audit.controllers import AuditController
from backend.supervision.checkins.controllers import MeasureCheckinController
from backend.supervision.controllers import MeasureController, SupervisionController
from backend.supervision.decisions.controllers import DecisionController, MeasureDecisionController
from backend.supervision.fences.controllers import MeasurePlacesController
from backend.supervision.handling.live.controllers import create_live_ticket, live_alerts

ROUTERS = [
    Router(
        path="/api/v1",
        route_handlers=[
            StaffAuthController,
            AgencyController,
            UserController,
            AuditController,
            MeasureController,
            MeasureCheckinController,
            SupervisionController,
            MeasureDecisionController,
            DecisionController,
            MeasurePlacesController,
        ],
    ),
    create_live_ticket,
    live_alerts,
]
