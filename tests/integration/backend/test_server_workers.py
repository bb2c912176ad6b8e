"""`remotecase run --workers 2`: two server processes and a third writer (this test process, as the
scheduler would be) share one database. Every check-in is answered once, and the audit chain that all of
them append to stays one unbroken chain."""

from __future__ import annotations

import asyncio

import httpx

from backend.audit import services as audit
from backend.core.context import Actor
from tests.support.api import bearer, demo_staff
from tests.support.live_server import live_server
from tests.support.supervision import acknowledge, enrol_and_place, open_window

PERSONS, WINDOWS = 3, 8


async def test_two_server_workers_and_another_writer_share_the_database(demo_logins):
    with live_server({"WEB_WORKERS": "2"}) as url:
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            officer = await demo_staff(http, demo_logins, "officer")
            cases = []
            for _ in range(PERSONS):
                case = await enrol_and_place(http, officer)
                await acknowledge(http, case["phone"])
                case["windows"] = [
                    (await open_window(http, officer, case["measure"]["id"]))["id"] for _ in range(WINDOWS)
                ]
                cases.append(case)

        async def check_in(case: dict, window_id: str) -> dict:
            # A connection per submission, as phones make them: the two workers take turns accepting.
            async with httpx.AsyncClient(base_url=url, timeout=60) as phone:
                from backend.core.clock import utcnow

                now = utcnow().isoformat()
                response = await phone.post(
                    "/m/v1/checkins",
                    json={
                        "captured_at": now,
                        "window_id": window_id,
                        "selfie_jpeg_base64": "A" * 400,
                        "location": {
                            "latitude": 30.27,
                            "longitude": 120.15,
                            "accuracy_m": 12.0,
                            "fix_time": now,
                        },
                    },
                    headers=bearer(case["phone"]),
                )
            assert response.status_code == 201, response.text
            return response.json()

        actor = Actor(id="test-writer", role="system")

        async def all_windows(case: dict) -> list[dict]:
            return await asyncio.gather(*(check_in(case, window) for window in case["windows"]))

        answers, _ = await asyncio.gather(
            asyncio.gather(*(all_windows(case) for case in cases)),
            asyncio.gather(*(audit.record(actor, "test.third_writer", "test", i) for i in range(20))),
        )

    for case, receipts in zip(cases, answers, strict=True):
        assert [r["outcome"] for r in receipts] == ["accepted"] * WINDOWS, receipts
        assert [r["window_id"] for r in receipts] == case["windows"]
    result = await audit.verify_chain()
    assert result.ok, result
