"""Request and response shapes of live alerts."""

import msgspec


class LiveTicketOut(msgspec.Struct):
    ticket: str  # open /api/v1/alerts/live?ticket=<ticket> with it, once
    expires_in: int  # seconds
