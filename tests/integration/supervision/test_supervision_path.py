"""The whole supervision path: measure -> acknowledgement -> check-ins -> misses -> yellow -> red -> alert and
video request -> excuse -> back to green."""

from __future__ import annotations

import asyncio
import json

from backend.accounts.tables import User
from backend.notify.tables import Notification
from backend.settings import get_settings
from backend.supervision.checkins.receipts import verify_receipt
from backend.web.alert_channels import live_alerts_plugin
from tests.support.api import bearer, demo_staff
from tests.support.supervision import acknowledge, checkin_body, enrol_and_place, miss, open_window


async def test_the_whole_path(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    case = await enrol_and_place(client, officer)
    measure_id, phone = case["measure"]["id"], case["phone"]
    assert case["measure"]["score"] == 100 and case["measure"]["code"] == "green"
    assert {o["code"] for o in case["measure"]["obligations"]} >= {"stay_in_area", "appear_when_summoned"}

    # Check-ins are refused until the notice is acknowledged.
    await open_window(client, officer, measure_id)
    refused = await client.post("/m/v1/checkins", json=checkin_body(), headers=bearer(phone))
    assert refused.status_code == 409
    assert refused.json()["type"] == "/problems/precondition-required"
    await acknowledge(client, phone, "zh")

    accepted = await client.post("/m/v1/checkins", json=checkin_body(), headers=bearer(phone))
    assert accepted.status_code == 201, accepted.text
    body = accepted.json()
    # No face template yet: nothing proves who checked in, so doubtful, and an officer is asked to enrol.
    assert body["outcome"] == "doubtful" and body["reasons"] == ["face_not_enrolled"]
    key = (await client.get("/m/v1/receipts/public-key")).json()["public_key"]
    receipt = verify_receipt(body["receipt"], key)
    assert receipt["checkin_id"] == body["id"] and receipt["outcome"] == "doubtful"
    assert verify_receipt(body["receipt"][:-4] + "AAAA", key) is None
    listed = (await client.get("/m/v1/checkins", headers=bearer(phone))).json()["items"]
    assert listed[0]["id"] == body["id"] and listed[0]["reasons"] == body["reasons"]
    assert listed[0]["receipt"] == body["receipt"]

    # Four misses: 80, still green. The fifth: 75, yellow -> review task and a message to the person.
    await miss(client, officer, measure_id, 4)
    detail = (await client.get(f"/api/v1/measures/{measure_id}", headers=bearer(officer))).json()
    assert (detail["score"], detail["code"]) == (80, "green")
    await miss(client, officer, measure_id, 1)
    detail = (await client.get(f"/api/v1/measures/{measure_id}", headers=bearer(officer))).json()
    assert (detail["score"], detail["code"]) == (75, "yellow")
    tasks = (await client.get("/api/v1/tasks", headers=bearer(officer))).json()["items"]
    assert any(t["kind"] == "review" and t["measure_id"] == measure_id for t in tasks)
    assert [t["kind"] for t in tasks if t["measure_id"] == measure_id].count("face_enrolment") == 1
    inbox = (await client.get("/m/v1/inbox", headers=bearer(phone))).json()["items"]
    assert any(m["kind"] == "code_yellow" for m in inbox)

    # Down to red: an alert (pushed live after commit), SMS to officers, a video request and a review.
    officer_user = await User.objects().where(User.username == "officer").first()
    await User.update({User.phone: "+8613800000010"}).where(User.id == officer_user.id)
    channels = live_alerts_plugin(get_settings())  # what each server process runs
    async with channels, channels.alerts_of({detail["executing_agency_id"]}) as queue:
        await miss(client, officer, measure_id, 4)
        pushed = json.loads(await asyncio.wait_for(queue.next_event(), timeout=5))
    detail = (await client.get(f"/api/v1/measures/{measure_id}", headers=bearer(officer))).json()
    assert (detail["score"], detail["code"]) == (55, "red")
    assert pushed["measure_id"] == measure_id and pushed["level"] == "red"
    alerts = (await client.get("/api/v1/alerts", headers=bearer(officer))).json()["items"]
    assert any(a["measure_id"] == measure_id for a in alerts)
    kinds = {
        t["kind"]
        for t in (await client.get("/api/v1/tasks", headers=bearer(officer))).json()["items"]
        if t["measure_id"] == measure_id
    }
    assert {"video_verification", "review_measure"} <= kinds
    sms = await Notification.objects().where(
        (Notification.user == officer_user.id)
        & (Notification.kind == "alert_red")
        & (Notification.channel == "sms")
    )
    assert sms and sms[0].urgent

    # The ledger explains every point; excusing deductions restores them, back to green.
    ledger = (await client.get(f"/api/v1/measures/{measure_id}/ledger", headers=bearer(officer))).json()[
        "items"
    ]
    misses = [e for e in ledger if e["event"] == "missed_checkin"]
    assert len(misses) == 9 and all(e["points"] == -5 and e["rule_id"] == "missed_checkin" for e in misses)
    assert [e["score_after"] for e in misses] == [95, 90, 85, 80, 75, 70, 65, 60, 55]
    for entry in misses[:5]:
        excused = await client.post(
            f"/api/v1/measures/{measure_id}/ledger/{entry['id']}/excuse",
            json={"reason": "Network outage in the district, confirmed by the carrier"},
            headers=bearer(officer),
        )
        assert excused.status_code == 200, excused.text
    detail = (await client.get(f"/api/v1/measures/{measure_id}", headers=bearer(officer))).json()
    assert (detail["score"], detail["code"]) == (80, "green")
    again = await client.post(
        f"/api/v1/measures/{measure_id}/ledger/{misses[0]['id']}/excuse",
        json={"reason": "twice"},
        headers=bearer(officer),
    )
    assert again.status_code == 409
    mine = (await client.get("/m/v1/measure/ledger", headers=bearer(phone))).json()["items"]
    assert [e["status"] for e in mine if e["event"] == "missed_checkin"][:5] == ["excused"] * 5
    assert any(
        m["kind"] == "code_green"
        for m in (await client.get("/m/v1/inbox", headers=bearer(phone))).json()["items"]
    )


async def test_technical_failures_never_cost_points(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    case = await enrol_and_place(client, officer)
    measure_id, phone = case["measure"]["id"], case["phone"]
    await acknowledge(client, phone)
    window = await open_window(client, officer, measure_id)
    camera = await client.post(
        "/m/v1/checkins", json=checkin_body(technical_failure="camera_error"), headers=bearer(phone)
    )
    no_fix = await client.post("/m/v1/checkins", json=checkin_body(location=None), headers=bearer(phone))
    assert camera.json()["outcome"] == no_fix.json()["outcome"] == "technical_failure"
    assert "no_gps_fix" in no_fix.json()["reasons"]
    assert camera.json()["receipt"] and no_fix.json()["receipt"]
    # The window stays open for a retry, and the score is untouched.
    retry = await client.post(
        "/m/v1/checkins", json=checkin_body(window_id=window["id"]), headers=bearer(phone)
    )
    assert retry.json()["outcome"] == "doubtful" and retry.json()["reasons"] == ["face_not_enrolled"]
    detail = (await client.get(f"/api/v1/measures/{measure_id}", headers=bearer(officer))).json()
    assert detail["score"] == 100


async def test_mock_location_is_doubtful_and_asks_for_video(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    case = await enrol_and_place(client, officer)
    await acknowledge(client, case["phone"])
    await open_window(client, officer, case["measure"]["id"])
    body = checkin_body()
    body["location"]["mock"] = True
    response = await client.post("/m/v1/checkins", json=body, headers=bearer(case["phone"]))
    assert response.json()["outcome"] == "doubtful" and "mock_location" in response.json()["reasons"]
    tasks = (await client.get("/api/v1/tasks", headers=bearer(officer))).json()["items"]
    assert any(t["kind"] == "video_verification" and t["ref_id"] == response.json()["id"] for t in tasks)


async def test_statutory_maximum_durations(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    me = (await client.get("/api/v1/me", headers=bearer(officer))).json()
    person = (
        await client.post(
            "/api/v1/supervisees",
            json={"phone": "+8613977700001", "display_name": "Max", "region_code": "330106"},
            headers=bearer(officer),
        )
    ).json()
    base = {
        "person_id": person["id"],
        "legal_basis": "CPL",
        "deciding_agency_id": me["agency_id"],
        "start_date": "2027-01-31",
        "checkin_plan": {"kind": "daily", "times": ["09:00"]},
    }
    too_long_bail = await client.post(
        "/api/v1/measures", json=base | {"kind": "bail", "end_date": "2028-02-01"}, headers=bearer(officer)
    )
    assert too_long_bail.status_code == 422
    assert too_long_bail.json()["errors"][0]["field"] == "end_date"
    assert "12 months" in too_long_bail.json()["detail"]
    too_long_rs = await client.post(
        "/api/v1/measures",
        json=base | {"kind": "residential_surveillance", "end_date": "2027-08-01"},
        headers=bearer(officer),
    )
    assert too_long_rs.status_code == 422 and "6 months" in too_long_rs.json()["detail"]
    ok = await client.post(
        "/api/v1/measures",
        json=base | {"kind": "residential_surveillance", "end_date": "2027-07-31"},
        headers=bearer(officer),
    )
    assert ok.status_code == 201, ok.text
    bad_plan = await client.post(
        "/api/v1/measures",
        json=base
        | {"kind": "bail", "end_date": "2027-03-01", "checkin_plan": {"kind": "daily", "times": ["25:00"]}},
        headers=bearer(officer),
    )
    assert bad_plan.status_code == 422 and bad_plan.json()["errors"][0]["field"] == "checkin_plan.times"


async def test_the_agency_handling_plan_decides_what_yellow_and_red_set_in_motion(client, demo_logins):
    from zoneinfo import ZoneInfo

    from backend.core.clock import utcnow
    from backend.supervision import jobs
    from backend.supervision.checkins.tables import CheckinWindow

    admin = await demo_staff(client, demo_logins, "admin")
    officer = await demo_staff(client, demo_logins, "officer")
    case = await enrol_and_place(client, officer)
    measure_id = case["measure"]["id"]
    detail = (await client.get(f"/api/v1/measures/{measure_id}", headers=bearer(officer))).json()
    url = f"/api/v1/agencies/{detail['executing_agency_id']}/handling-plan"
    defaults = (await client.get(url, headers=bearer(officer))).json()
    assert defaults == {
        "yellow_extra_windows": 1,
        "red_extra_windows": 1,
        "yellow_review_task": True,
        "red_sms_officers": True,
        "red_video_verification": True,
    }
    refused = await client.put(url, json={"red_sms_officers": False}, headers=bearer(officer))
    assert refused.status_code == 403
    too_dense = await client.put(url, json={"yellow_extra_windows": 9}, headers=bearer(admin))
    assert too_dense.status_code == 400 and too_dense.json()["errors"][0]["field"] == "yellow_extra_windows"
    nothing = await client.put(url, json={}, headers=bearer(admin))
    assert nothing.status_code == 422 and nothing.json()["errors"][0]["field"] == "body"

    changed = await client.put(
        url,
        json={"yellow_extra_windows": 2, "yellow_review_task": False, "red_sms_officers": False},
        headers=bearer(admin),
    )
    assert changed.status_code == 200, changed.text
    assert changed.json() == defaults | {
        "yellow_extra_windows": 2,
        "yellow_review_task": False,
        "red_sms_officers": False,
    }
    officer_user = await User.objects().where(User.username == "officer").first()
    await User.update({User.phone: "+8613800000010"}).where(User.id == officer_user.id)
    try:

        async def upcoming_local_times() -> set[str]:
            rows = await CheckinWindow.select(CheckinWindow.opens_at).where(
                (CheckinWindow.measure == measure_id)
                & (CheckinWindow.kind == "scheduled")
                & (CheckinWindow.opens_at > utcnow())
            )
            return {r["opens_at"].astimezone(ZoneInfo("Asia/Shanghai")).strftime("%H:%M") for r in rows}

        assert await upcoming_local_times() == {"09:00"}
        await miss(client, officer, measure_id, 5)  # 75: yellow
        await jobs.plan_all_windows()
        assert await upcoming_local_times() == {"09:00", "12:00", "15:00"}  # two denser windows each
        tasks = (await client.get("/api/v1/tasks", headers=bearer(officer))).json()["items"]
        assert not any(t["kind"] == "review" and t["measure_id"] == measure_id for t in tasks)

        await miss(client, officer, measure_id, 4)  # 55: red
        alerts = (await client.get("/api/v1/alerts", headers=bearer(officer))).json()["items"]
        alert = next(a for a in alerts if a["measure_id"] == measure_id)  # cannot be switched off
        tasks = (await client.get("/api/v1/tasks", headers=bearer(officer))).json()["items"]
        assert {"video_verification", "review_measure"} <= {
            t["kind"] for t in tasks if t["measure_id"] == measure_id
        }
        sms = await Notification.objects().where(Notification.dedupe_key.like(f"alert:{alert['id']}:%"))
        assert sms == []
    finally:
        restored = await client.put(url, json=defaults, headers=bearer(admin))
        assert restored.json() == defaults
