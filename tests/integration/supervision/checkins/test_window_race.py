"""Two submissions racing for one window: one answers it."""

from __future__ import annotations

from tests.support.api import bearer, demo_staff
from tests.support.supervision import acknowledge, checkin_body, enrol_and_place, open_window


async def test_two_submissions_racing_for_one_window_answer_it_once(client, demo_logins):
    """A double tap sends two check-ins at once: one answers the window, the other gets a rejected receipt."""
    import asyncio

    officer = await demo_staff(client, demo_logins, "officer")
    case = await enrol_and_place(client, officer)
    await acknowledge(client, case["phone"])
    window = await open_window(client, officer, case["measure"]["id"])
    body = checkin_body(window_id=window["id"])
    answers = await asyncio.gather(
        *(client.post("/m/v1/checkins", json=body, headers=bearer(case["phone"])) for _ in range(2))
    )
    assert [a.status_code for a in answers] == [201, 201]
    outcomes = sorted((a.json()["outcome"], tuple(a.json()["reasons"])) for a in answers)
    assert outcomes[0][0] == "doubtful"  # no face enrolled
    assert outcomes[1][0] == "rejected" and any(r.startswith("window_already_done") for r in outcomes[1][1])
    assert all(a.json()["receipt"] for a in answers)
