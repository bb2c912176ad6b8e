"""The phone app's API, mounted at /m/v1 by the app factory's router registry."""

from litestar import Router

from mobile_api.auth import PhoneAuthController
from mobile_api.me import MeController
from mobile_api.receipts import WELL_KNOWN, ReceiptJwksController
from mobile_api.supervision.checkins import MyCheckinController
from mobile_api.supervision.decisions import MyRequestController
from mobile_api.supervision.locations import MyPlacesController
from mobile_api.supervision.measure import MyMeasureController, ReceiptKeyController

ROUTERS = [
    Router(
        path="/m/v1",
        route_handlers=[
            PhoneAuthController,
            MeController,
            MyMeasureController,
            MyCheckinController,
            MyRequestController,
            MyPlacesController,
            ReceiptKeyController,
            ReceiptJwksController,
        ],
    ),
    WELL_KNOWN,
]
