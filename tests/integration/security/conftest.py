"""`case`: an officer and a supervised person with a measure, logged in on a phone (the hostile-input
tests send their values into its records)."""

from __future__ import annotations

import pytest

from tests.support.api import demo_staff
from tests.support.supervision import enrol_and_place


@pytest.fixture
async def case(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    placed = await enrol_and_place(client, officer)
    return placed
