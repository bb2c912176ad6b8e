"""Contest, travel, transfer, offline check-ins, reminders, delivery and access checks of supervision."""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from backend.core.clock import utcnow
from backend.core.crypto import b64e
from backend.notify import services as notify
from backend.notify.tables import Notification
from backend.ops.sms import ConsoleSmsSender
from backend.ops.tables import SmsMessage
from backend.supervision import jobs
from backend.supervision.checkins.receipts import canonical
from backend.supervision.checkins.services import Submission
from backend.supervision.checkins.tables import CheckinWindow
from backend.supervision.decisions.tables import Summons
from backend.supervision.fences.allowed_areas import approved_trip_areas
from backend.supervision.measures.tables import Measure
from tests.support.api import bearer, demo_staff, phone_login
from tests.support.supervision import SELFIE, acknowledge, checkin_body, enrol_and_place, miss, open_window

CHINA_TIME = ZoneInfo("Asia/Shanghai")


async def test_contest_upheld_reverses_the_entry(client, demo_logins, app):
    officer = await demo_staff(client, demo_logins, "officer")
    case = await enrol_and_place(client, officer)
    measure_id, phone = case["measure"]["id"], case["phone"]
    await miss(client, officer, measure_id)
    entry = (await client.get("/m/v1/measure/ledger", headers=bearer(phone))).json()["items"][-1]
    proof = base64.b64encode(b"%PDF-1.4 hospital admission note").decode()
    filed = await client.post(
        f"/m/v1/ledger/{entry['id']}/contests",
        json={
            "text": "I was in hospital; the note is attached",
            "files": [{"name": "note.pdf", "content_base64": proof}],
        },
        headers=bearer(phone),
    )
    assert filed.status_code == 201, filed.text
    contest = filed.json()
    assert (
        contest["attachments"][0]["sha256"] == hashlib.sha256(b"%PDF-1.4 hospital admission note").hexdigest()
    )
    assert app.state.services.storage.path_of(contest["attachments"][0]["sha256"]).exists()
    duplicate = await client.post(
        f"/m/v1/ledger/{entry['id']}/contests", json={"text": "again"}, headers=bearer(phone)
    )
    assert duplicate.status_code == 409
    tasks = (await client.get("/api/v1/tasks", headers=bearer(officer))).json()["items"]
    assert any(t["kind"] == "contest" and t["ref_id"] == contest["id"] for t in tasks)

    decided = await client.post(
        f"/api/v1/contests/{contest['id']}/decision",
        json={"approve": True, "note": "Hospital record checked"},
        headers=bearer(officer),
    )
    assert decided.status_code == 200 and decided.json()["status"] == "upheld"
    ledger = (await client.get("/m/v1/measure/ledger", headers=bearer(phone))).json()["items"]
    assert (
        ledger[-1]["event"] == "contest_upheld"
        and ledger[-1]["points"] == 5
        and ledger[-1]["score_after"] == 100
    )
    assert [e["status"] for e in ledger if e["id"] == entry["id"]] == ["overturned"]
    assert not any(
        t["ref_id"] == contest["id"]
        for t in (await client.get("/api/v1/tasks", headers=bearer(officer))).json()["items"]
    )
    assert any(
        m["kind"] == "contest_decided"
        for m in (await client.get("/m/v1/inbox", headers=bearer(phone))).json()["items"]
    )


async def test_contest_rejected_keeps_the_points(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    case = await enrol_and_place(client, officer)
    await miss(client, officer, case["measure"]["id"])
    entry = (await client.get("/m/v1/measure/ledger", headers=bearer(case["phone"]))).json()["items"][-1]
    contest = (
        await client.post(
            f"/m/v1/ledger/{entry['id']}/contests", json={"text": "Not me"}, headers=bearer(case["phone"])
        )
    ).json()
    no_reason = await client.post(
        f"/api/v1/contests/{contest['id']}/decision", json={"approve": False}, headers=bearer(officer)
    )
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "note"
    rejected = await client.post(
        f"/api/v1/contests/{contest['id']}/decision",
        json={"approve": False, "note": "No evidence"},
        headers=bearer(officer),
    )
    assert rejected.json()["status"] == "rejected"
    detail = (await client.get(f"/api/v1/measures/{case['measure']['id']}", headers=bearer(officer))).json()
    assert detail["score"] == 95


SHANGHAI = {
    "type": "Polygon",
    "coordinates": [[[121.3, 31.1], [121.6, 31.1], [121.6, 31.35], [121.3, 31.35], [121.3, 31.1]]],
}


async def test_travel_approval_widens_the_allowed_area_for_its_dates_only(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    case = await enrol_and_place(client, officer)
    depart, back = date.today() + timedelta(days=3), date.today() + timedelta(days=5)
    bad = await client.post(
        "/m/v1/travel-requests",
        json={
            "depart_on": back.isoformat(),
            "return_on": depart.isoformat(),
            "destination": "Shanghai",
            "reason": "Hospital",
        },
        headers=bearer(case["phone"]),
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "return_on"
    broken_area = await client.post(
        "/m/v1/travel-requests",
        json={
            "depart_on": depart.isoformat(),
            "return_on": back.isoformat(),
            "destination": "Shanghai",
            "reason": "x",
            "destination_area": {
                "type": "Polygon",
                "coordinates": [
                    [[121.3, 31.1], [121.6, 31.35], [121.6, 31.1], [121.3, 31.35], [121.3, 31.1]]
                ],
            },
        },
        headers=bearer(case["phone"]),
    )
    assert broken_area.status_code == 422 and "Self-intersection" in broken_area.json()["detail"]
    trip = (
        await client.post(
            "/m/v1/travel-requests",
            json={
                "depart_on": depart.isoformat(),
                "return_on": back.isoformat(),
                "destination": "Shanghai",
                "reason": "Mother's surgery",
                "destination_area": SHANGHAI,
            },
            headers=bearer(case["phone"]),
        )
    ).json()
    assert trip["status"] == "pending"
    assert await approved_trip_areas(case["measure"]["id"], depart) == []
    decided = await client.post(
        f"/api/v1/travel-requests/{trip['id']}/decision",
        json={"approve": True, "note": "Bring the discharge papers"},
        headers=bearer(officer),
    )
    assert decided.json()["status"] == "approved"
    assert await approved_trip_areas(case["measure"]["id"], depart) == [SHANGHAI]
    assert await approved_trip_areas(case["measure"]["id"], back) == [SHANGHAI]
    assert await approved_trip_areas(case["measure"]["id"], back + timedelta(days=1)) == []
    twice = await client.post(
        f"/api/v1/travel-requests/{trip['id']}/decision", json={"approve": False}, headers=bearer(officer)
    )
    assert twice.status_code == 409


async def test_transfer_needs_acceptance_then_the_new_agency_sees_the_history(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    prosecutor = await demo_staff(client, demo_logins, "prosecutor")
    judge = await demo_staff(client, demo_logins, "judge")
    case = await enrol_and_place(client, officer)
    measure_id = case["measure"]["id"]
    await miss(client, officer, measure_id)
    agencies = (await client.get("/api/v1/agencies", params={"limit": 200}, headers=bearer(officer))).json()[
        "items"
    ]
    procuratorate = next(a for a in agencies if a["kind"] == "procuratorate" and a["region_code"] == "330100")
    court = next(a for a in agencies if a["kind"] == "court" and a["region_code"] == "330100")
    wrong_kind = await client.post(
        f"/api/v1/measures/{measure_id}/transfers",
        json={"to_agency_id": court["id"], "to_stage": "prosecution"},
        headers=bearer(officer),
    )
    assert wrong_kind.status_code == 422
    transfer = (
        await client.post(
            f"/api/v1/measures/{measure_id}/transfers",
            json={
                "to_agency_id": procuratorate["id"],
                "to_stage": "prosecution",
                "note": "Case file sent for review",
            },
            headers=bearer(officer),
        )
    ).json()
    assert transfer["status"] == "pending"
    # Not yet accepted: the judge's court cannot see it, and the prosecutor cannot act on it.
    assert (await client.get(f"/api/v1/measures/{measure_id}", headers=bearer(judge))).status_code == 404
    decline_by_court = await client.post(
        f"/api/v1/transfers/{transfer['id']}/decision", json={"approve": True}, headers=bearer(judge)
    )
    assert decline_by_court.status_code == 404
    incoming = (await client.get("/api/v1/transfers/incoming", headers=bearer(prosecutor))).json()["items"]
    assert transfer["id"] in {t["id"] for t in incoming}
    accepted = await client.post(
        f"/api/v1/transfers/{transfer['id']}/decision",
        json={"approve": True, "note": "ok"},
        headers=bearer(prosecutor),
    )
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"

    detail = (await client.get(f"/api/v1/measures/{measure_id}", headers=bearer(prosecutor))).json()
    assert detail["stage"] == "prosecution" and detail["executing_agency_id"] == procuratorate["id"]
    ledger = (await client.get(f"/api/v1/measures/{measure_id}/ledger", headers=bearer(prosecutor))).json()[
        "items"
    ]
    assert [e["event"] for e in ledger] == ["missed_checkin"]
    timeline = (
        await client.get(f"/api/v1/measures/{measure_id}/timeline", headers=bearer(prosecutor))
    ).json()["items"]
    assert any(i["kind"] == "transfer.accepted" for i in timeline)
    # The police keep read access to the history they wrote, but no longer act on the measure.
    assert (await client.get(f"/api/v1/measures/{measure_id}", headers=bearer(officer))).status_code == 200
    act = await client.post(
        f"/api/v1/measures/{measure_id}/random-checkins", json={"minutes": 10}, headers=bearer(officer)
    )
    assert act.status_code == 403
    assert (
        await client.post(
            f"/api/v1/measures/{measure_id}/random-checkins", json={"minutes": 10}, headers=bearer(prosecutor)
        )
    ).status_code == 201


def _device_key():
    key = Ed25519PrivateKey.generate()
    return key, b64e(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


async def test_late_offline_checkin_with_valid_and_forged_signatures(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    case = await enrol_and_place(client, officer)
    measure_id, phone = case["measure"]["id"], case["phone"]
    await acknowledge(client, phone)
    key, public = _device_key()
    device = (
        await client.post(
            "/m/v1/devices", json={"public_key": public, "label": "test phone"}, headers=bearer(phone)
        )
    ).json()

    async def closed_window() -> tuple[dict, datetime]:
        window = await open_window(client, officer, measure_id)
        now = utcnow()
        # Captured inside the window, which has since closed; the grace period is still running.
        await CheckinWindow.update(
            {
                CheckinWindow.opens_at: now - timedelta(minutes=50),
                CheckinWindow.closes_at: now - timedelta(minutes=20),
                CheckinWindow.grace_until: now + timedelta(minutes=60),
            }
        ).where(CheckinWindow.id == window["id"])
        return window, now - timedelta(minutes=30)

    def offline_body(window: dict, captured: datetime, signer) -> dict:
        body = checkin_body(
            captured_at=captured.isoformat(), window_id=window["id"], offline=True, device_id=device["id"]
        )
        body["location"]["t"] = captured.isoformat()
        sub = Submission(
            captured_at=captured,
            latitude=30.2741,
            longitude=120.1551,
            accuracy_m=12.0,
            fix_time=captured,
            selfie=base64.b64decode(SELFIE),
            window_id=window["id"],
            offline=True,
        )
        body["signature"] = b64e(signer.sign(canonical(sub.signed_payload(measure_id))))
        return body

    window, captured = await closed_window()
    online_late = await client.post(
        "/m/v1/checkins",
        json=checkin_body(captured_at=captured.isoformat(), window_id=window["id"]),
        headers=bearer(phone),
    )
    assert online_late.status_code == 422  # too old for an online check-in
    valid = await client.post(
        "/m/v1/checkins", json=offline_body(window, captured, key), headers=bearer(phone)
    )
    assert valid.status_code == 201, valid.text
    # No face enrolled: doubtful, not accepted (an officer is asked to enrol it).
    assert valid.json()["outcome"] == "doubtful" and valid.json()["offline"] is True
    assert valid.json()["reasons"] == ["face_not_enrolled"]

    window, captured = await closed_window()
    forger, _ = _device_key()
    forged = await client.post(
        "/m/v1/checkins", json=offline_body(window, captured, forger), headers=bearer(phone)
    )
    assert forged.json()["outcome"] == "rejected"
    assert "offline_signature_invalid" in forged.json()["reasons"]
    assert forged.json()["receipt"]  # a receipt even for a rejected submission
    tampered = offline_body(window, captured, key)
    tampered["location"]["lat"] = 31.0
    assert (await client.post("/m/v1/checkins", json=tampered, headers=bearer(phone))).json()[
        "outcome"
    ] == "rejected"
    future = offline_body(window, utcnow() + timedelta(hours=1), key)
    assert (await client.post("/m/v1/checkins", json=future, headers=bearer(phone))).status_code == 422


async def test_reminders_are_sent_once_even_across_a_scheduler_restart(client, demo_logins, app):
    officer = await demo_staff(client, demo_logins, "officer")
    case = await enrol_and_place(client, officer)
    now = utcnow()
    await CheckinWindow.insert(
        CheckinWindow(
            measure=case["measure"]["id"],
            kind="scheduled",
            opens_at=now + timedelta(minutes=5),
            closes_at=now + timedelta(minutes=65),
            grace_until=now + timedelta(minutes=185),
        )
    )
    person = case["person_id"]
    first = await jobs.send_reminders(now)
    count = await Notification.count().where(Notification.user == person)
    assert first >= 2 and count >= 2
    # A "restarted" scheduler runs the same job again: nothing new is queued.
    from backend.jobs import build_scheduler

    build_scheduler(app.state.services)
    assert await jobs.send_reminders(now) == 0
    assert await Notification.count().where(Notification.user == person) == count
    sent = await notify.deliver_due(ConsoleSmsSender())
    assert sent["sent"] >= 1
    assert (
        await SmsMessage.count().where(SmsMessage.to == case["phone"]["phone"]) >= 2
    )  # login code + reminder
    assert await notify.deliver_due(ConsoleSmsSender()) == {"sent": 0, "retry": 0, "failed": 0}


async def test_quiet_hours_hold_back_non_urgent_sms_but_not_urgent_ones():
    quiet = notify.QuietHours(22, 7, "Asia/Shanghai")
    late_evening = datetime.fromisoformat("2026-11-22T23:30:00+08:00")
    wake = quiet.next_allowed(late_evening)
    assert wake.isoformat() == "2026-11-23T07:00:00+08:00"
    noon = datetime.fromisoformat("2026-11-22T12:00:00+08:00")
    assert quiet.next_allowed(noon) == noon


class _BrokenSender:
    name = "broken"

    async def send(self, to, body):
        raise ConnectionError("provider down")


async def test_failed_delivery_backs_off_and_is_recorded(client):
    tokens = await phone_login(client)
    me = (await client.get("/m/v1/me", headers=bearer(tokens))).json()
    await notify.enqueue(me["id"], "test", "Hello", "World", f"test:{uuid.uuid4()}", urgent=True)
    counts = await notify.deliver_due(_BrokenSender())
    assert counts["retry"] >= 1
    note = (
        await Notification.objects()
        .where((Notification.user == me["id"]) & (Notification.channel == "sms"))
        .first()
    )
    assert note.status == "pending" and note.attempts == 1 and "provider down" in note.last_error
    assert note.not_before > utcnow() + timedelta(seconds=20)


async def test_every_supervision_endpoint_checks_who_is_asking(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    judge = await demo_staff(client, demo_logins, "judge")
    case = await enrol_and_place(client, officer)
    other = await enrol_and_place(client, officer)
    measure_id = case["measure"]["id"]
    await miss(client, officer, measure_id)
    entry = (await client.get("/m/v1/measure/ledger", headers=bearer(case["phone"]))).json()["items"][-1]
    for path in ("", "/ledger", "/checkins", "/windows", "/timeline", "/contests", "/travel-requests"):
        assert (
            await client.get(f"/api/v1/measures/{measure_id}{path}", headers=bearer(judge))
        ).status_code == 404
        assert (
            await client.get(f"/api/v1/measures/{uuid.uuid4()}{path}", headers=bearer(officer))
        ).status_code == 404
    for path, body in (
        ("/random-checkins", {"minutes": 10}),
        (f"/ledger/{entry['id']}/excuse", {"reason": "x"}),
    ):
        assert (
            await client.post(f"/api/v1/measures/{measure_id}{path}", json=body, headers=bearer(judge))
        ).status_code == 404
    # Another person's ledger entry cannot be contested; phone users cannot reach console endpoints.
    foreign = await client.post(
        f"/m/v1/ledger/{entry['id']}/contests", json={"text": "mine?"}, headers=bearer(other["phone"])
    )
    assert foreign.status_code == 404
    assert (
        await client.get(f"/api/v1/measures/{measure_id}", headers=bearer(case["phone"]))
    ).status_code == 403
    board = (
        await client.get("/api/v1/supervision/board", params={"limit": 200}, headers=bearer(judge))
    ).json()
    assert measure_id not in {r["measure_id"] for r in board["items"]}
    mine = (
        await client.get(
            "/api/v1/supervision/board", params={"code": "green", "limit": 200}, headers=bearer(officer)
        )
    ).json()
    assert measure_id in {r["measure_id"] for r in mine["items"]}
    assert (
        await client.post(f"/m/v1/inbox/{uuid.uuid4()}/read", headers=bearer(case["phone"]))
    ).status_code == 404
    # Another agency's handling plan is not even visible; changing it is for that agency's administrator.
    agency = (await client.get(f"/api/v1/measures/{measure_id}", headers=bearer(officer))).json()[
        "executing_agency_id"
    ]
    plan_url = f"/api/v1/agencies/{agency}/handling-plan"
    assert (await client.get(plan_url, headers=bearer(judge))).status_code == 404
    assert (await client.get(plan_url, headers=bearer(case["phone"]))).status_code == 403
    assert (
        await client.put(plan_url, json={"red_sms_officers": False}, headers=bearer(judge))
    ).status_code in (403, 404)


async def test_deadline_board_and_daily_digest(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    prosecutor = await demo_staff(client, demo_logins, "prosecutor")
    soon = await enrol_and_place(client, officer)
    overdue = await enrol_and_place(client, officer)
    quiet = await enrol_and_place(client, officer)
    today = date.today()
    await Measure.update({Measure.end_date: today + timedelta(days=5)}).where(
        Measure.id == soon["measure"]["id"]
    )
    await Measure.update({Measure.end_date: today - timedelta(days=2)}).where(
        Measure.id == overdue["measure"]["id"]
    )
    await Measure.update({Measure.last_activity_at: utcnow() - timedelta(days=40)}).where(
        Measure.id == quiet["measure"]["id"]
    )
    board = (
        await client.get(
            "/api/v1/supervision/deadlines", params={"inactive_days": 30}, headers=bearer(prosecutor)
        )
    ).json()
    assert soon["measure"]["id"] in {m["measure_id"] for m in board["ending_within_7_days"]}, board
    assert overdue["measure"]["id"] in {m["measure_id"] for m in board["overdue"]}
    assert quiet["measure"]["id"] in {m["measure_id"] for m in board["inactive"]}
    assert soon["measure"]["id"] not in {m["measure_id"] for m in board["ending_within_1_day"]}
    first = await jobs.deadlines.send_daily_digests()
    assert first >= 1
    assert await jobs.deadlines.send_daily_digests() == 0


async def test_a_check_in_or_an_upload_takes_a_quiet_measure_off_the_inactive_list(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    prosecutor = await demo_staff(client, demo_logins, "prosecutor")
    cases = [await enrol_and_place(client, officer) for _ in range(2)]

    async def inactive() -> set[str]:
        board = await client.get(
            "/api/v1/supervision/deadlines", params={"inactive_days": 30}, headers=bearer(prosecutor)
        )
        return {m["measure_id"] for m in board.json()["inactive"]}

    ids = [case["measure"]["id"] for case in cases]
    for case in cases:
        await acknowledge(client, case["phone"])
    await Measure.update({Measure.last_activity_at: utcnow() - timedelta(days=40)}).where(
        Measure.id.is_in(ids)
    )
    assert set(ids) <= await inactive()
    window = await open_window(client, officer, ids[0])
    checkin = await client.post(
        "/m/v1/checkins", json=checkin_body(window_id=window["id"]), headers=bearer(cases[0]["phone"])
    )
    assert checkin.status_code == 201, checkin.text
    now = utcnow()
    fixes = [
        {"t": (now - timedelta(minutes=5 - i)).isoformat(), "lat": 30.2741, "lon": 120.1551, "accuracy_m": 15}
        for i in range(3)
    ]
    upload = await client.post(
        "/m/v1/locations", json={"device_seq": 1, "fixes": fixes}, headers=bearer(cases[1]["phone"])
    )
    assert upload.status_code == 201, upload.text
    assert not set(ids) & await inactive()


async def test_rule_opens_random_checks_for_red_and_yellow_measures_only(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    red = await enrol_and_place(client, officer)
    green = await enrol_and_place(client, officer)
    await Measure.update({Measure.code: "red", Measure.score: 50}).where(Measure.id == red["measure"]["id"])
    # A day well after today: random windows other tests open at the real time are all older than six
    # hours then, so only the rule's own windows decide what opens.
    day = (utcnow() + timedelta(days=30)).astimezone(CHINA_TIME).date()
    noon = datetime.combine(day, time(12), tzinfo=CHINA_TIME)
    night = datetime.combine(day, time(2), tzinfo=CHINA_TIME)
    await jobs.random_checks(night)
    assert not await CheckinWindow.exists().where(
        (CheckinWindow.measure == red["measure"]["id"]) & (CheckinWindow.kind == "random")
    )
    assert await jobs.random_checks(noon) >= 1
    assert await jobs.random_checks(noon + timedelta(hours=1)) == 0  # not again within six hours
    windows = await CheckinWindow.objects().where(
        (CheckinWindow.measure == red["measure"]["id"]) & (CheckinWindow.kind == "random")
    )
    assert len(windows) == 1 and windows[0].created_by == "system"
    assert not await CheckinWindow.exists().where(
        (CheckinWindow.measure == green["measure"]["id"]) & (CheckinWindow.kind == "random")
    )
    inbox = (await client.get("/m/v1/inbox", headers=bearer(red["phone"]))).json()["items"]
    assert any(m["kind"] == "random_checkin" and m["urgent"] for m in inbox)


async def test_summons_is_announced_reminded_once_and_a_miss_costs_points(client, demo_logins):
    from backend.supervision.decisions import summonses

    officer = await demo_staff(client, demo_logins, "officer")
    case = await enrol_and_place(client, officer)
    measure_id, phone = case["measure"]["id"], case["phone"]
    soon = await client.post(
        f"/api/v1/measures/{measure_id}/summonses",
        json={"at": utcnow().isoformat(), "place": "Xihu PSB, room 3"},
        headers=bearer(officer),
    )
    assert soon.status_code == 422 and soon.json()["errors"][0]["field"] == "at"
    at = utcnow() + timedelta(hours=20)
    issued = await client.post(
        f"/api/v1/measures/{measure_id}/summonses",
        json={"at": at.isoformat(), "place": "Xihu PSB, room 3", "purpose": "Questioning"},
        headers=bearer(officer),
    )
    assert issued.status_code == 201, issued.text
    summons = issued.json()
    assert [
        s["id"] for s in (await client.get("/m/v1/summonses", headers=bearer(phone))).json()["items"]
    ] == [summons["id"]]
    inbox = (await client.get("/m/v1/inbox", headers=bearer(phone))).json()["items"]
    assert any(m["kind"] == "summons" and "room 3" in m["body"] for m in inbox)

    # 24 h ahead: one reminder; again (a restarted scheduler): nothing; 1 h ahead: the urgent one.
    assert await summonses.remind() >= 1
    assert await summonses.remind() == 0
    assert await summonses.remind(at - timedelta(minutes=50)) >= 1
    reminders = [
        m
        for m in (await client.get("/m/v1/inbox", headers=bearer(phone))).json()["items"]
        if m["kind"] == "summons_reminder"
    ]
    assert len(reminders) == 2

    early = await client.post(
        f"/api/v1/summonses/{summons['id']}/outcome", json={"attended": False}, headers=bearer(officer)
    )
    assert early.status_code == 422
    await Summons.update({Summons.at: utcnow() - timedelta(hours=1)}).where(Summons.id == summons["id"])
    missed = await client.post(
        f"/api/v1/summonses/{summons['id']}/outcome",
        json={"attended": False, "note": "No show, phone off"},
        headers=bearer(officer),
    )
    assert missed.status_code == 200 and missed.json()["status"] == "missed"
    ledger = (await client.get("/m/v1/measure/ledger", headers=bearer(phone))).json()["items"]
    assert [(e["rule_id"], e["points"], e["evidence_type"]) for e in ledger] == [
        ("missed_summons", -20, "summons")
    ]
    again = await client.post(
        f"/api/v1/summonses/{summons['id']}/outcome", json={"attended": True}, headers=bearer(officer)
    )
    assert again.status_code == 409


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
