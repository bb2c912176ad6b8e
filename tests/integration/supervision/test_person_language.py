"""The person's language: stored in the account, else the phone's Accept-Language, else Chinese, for the
SMS and inbox items sent to them, the reasons and the notice the app shows; reminders in local time."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from backend import i18n
from backend.audit.tables import AuditEntry
from backend.core.clock import utcnow
from backend.notify import services as notify
from backend.notify.tables import Notification
from backend.ops.sms import ConsoleSmsSender
from backend.ops.tables import SmsMessage
from backend.supervision import jobs
from backend.supervision.checkins.tables import CheckinWindow
from backend.supervision.measures.tables import Measure
from tests.support.api import bearer, demo_staff, random_address, random_phone
from tests.support.supervision import acknowledge, checkin_body, enrol_and_place

# A fixed example: the window opens at 10:30 UTC, which is 18:30 in Shanghai.
OPENS = datetime(2031, 3, 4, 10, 30, tzinfo=UTC)
EN = {"Accept-Language": "en-GB,en;q=0.9"}


async def _reminded(case: dict, zone: str | None = None) -> tuple[Notification, Notification]:
    """Run the reminder sweep for a window opening at OPENS; the inbox item and the SMS queued for it."""
    if zone:
        await Measure.update({Measure.timezone: zone}).where(Measure.id == case["measure"]["id"])
    window = CheckinWindow(
        measure=case["measure"]["id"],
        kind="scheduled",
        opens_at=OPENS,
        closes_at=OPENS + timedelta(hours=1),
        grace_until=OPENS + timedelta(hours=3),
    )
    await CheckinWindow.insert(window)
    assert await jobs.send_reminders(OPENS - timedelta(minutes=10)) >= 2
    rows = await Notification.objects().where(Notification.dedupe_key.like(f"remind:window:{window.id}:%"))
    by_channel = {row.channel: row for row in rows}
    return by_channel["inbox"], by_channel["sms"]


async def _sms_bodies(phone: str) -> list[str]:
    rows = await SmsMessage.select(SmsMessage.body).where(SmsMessage.to == phone).order_by(SmsMessage.id)
    return [row["body"] for row in rows]


async def test_a_person_who_chose_english_gets_english_reminders_in_local_time(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    case = await enrol_and_place(client, officer)
    phone = case["phone"]
    chosen = await client.patch("/m/v1/me", json={"language": "en"}, headers=bearer(phone))
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["language"] == "en"
    assert (await client.get("/m/v1/me", headers=bearer(phone))).json()["language"] == "en"
    audit = await AuditEntry.objects().where(
        (AuditEntry.action == "user.language_set") & (AuditEntry.object_id == case["person_id"])
    )
    assert len(audit) == 1

    inbox, sms = await _reminded(case)
    assert (inbox.title, inbox.body) == (
        "Check-in window",
        "Your check-in window opens at 18:30 (Asia/Shanghai).",
    )
    assert sms.body == inbox.body
    items = (await client.get("/m/v1/inbox", headers=bearer(phone))).json()["items"]
    assert any(m["body"] == "Your check-in window opens at 18:30 (Asia/Shanghai)." for m in items)
    await notify.deliver_due(ConsoleSmsSender())
    assert "Check-in window: Your check-in window opens at 18:30 (Asia/Shanghai)." in await _sms_bodies(
        phone["phone"]
    )


async def test_the_reminder_is_in_the_measures_own_zone(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    case = await enrol_and_place(client, officer)
    await client.patch("/m/v1/me", json={"language": "en"}, headers=bearer(case["phone"]))
    inbox, _ = await _reminded(case, zone="America/New_York")
    assert inbox.body == "Your check-in window opens at 05:30 (America/New_York)."


async def test_without_a_choice_reminders_and_sms_are_chinese(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    case = await enrol_and_place(client, officer)
    assert (await client.get("/m/v1/me", headers=bearer(case["phone"]))).json()["language"] is None
    inbox, sms = await _reminded(case)
    assert (inbox.title, inbox.body) == ("签到提醒", "您的签到时段将于 18:30 (Asia/Shanghai) 开始。")
    assert sms.body == inbox.body
    await notify.deliver_due(ConsoleSmsSender())
    assert "签到提醒: 您的签到时段将于 18:30 (Asia/Shanghai) 开始。" in await _sms_bodies(
        case["phone"]["phone"]
    )


async def test_an_officer_opened_check_in_tells_the_person_in_their_language(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    case = await enrol_and_place(client, officer)
    phone = case["phone"]
    await client.patch("/m/v1/me", json={"language": "en"}, headers=bearer(phone))
    opened = await client.post(
        f"/api/v1/measures/{case['measure']['id']}/random-checkins",
        json={"minutes": 20},
        headers=bearer(officer),
    )
    assert opened.status_code == 201, opened.text
    items = (await client.get("/m/v1/inbox", headers=bearer(phone))).json()["items"]
    assert [(m["title"], m["body"]) for m in items if m["kind"] == "random_checkin"] == [
        ("Check in now", "Please check in within 20 minutes.")
    ]


async def test_accept_language_english_gives_english_reasons_and_notice(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    case = await enrol_and_place(client, officer)
    phone = case["phone"]
    notice = await client.get("/m/v1/notice", headers=bearer(phone) | EN)
    assert notice.status_code == 200 and notice.json()["language"] == "en"
    assert (await client.get("/m/v1/notice", headers=bearer(phone))).json()["language"] == "zh"
    asked = await client.get("/m/v1/notice", params={"language": "zh"}, headers=bearer(phone) | EN)
    assert asked.json()["language"] == "zh"  # a language asked for by name wins

    await acknowledge(client, phone, "en")
    english = await client.post("/m/v1/checkins", json=checkin_body(), headers=bearer(phone) | EN)
    assert english.status_code == 201, english.text
    checkin = english.json()
    assert checkin["reasons"], checkin  # a grey picture with no face: never accepted without a doubt
    # The codes stay machine-readable; beside them, what each means in the person's language.
    assert checkin["reason_texts"] == [i18n.translate(f"reason.{code}", "en") for code in checkin["reasons"]]
    chinese = (await client.post("/m/v1/checkins", json=checkin_body(), headers=bearer(phone))).json()
    assert chinese["reason_texts"] == [i18n.translate(f"reason.{code}", "zh") for code in chinese["reasons"]]
    texts = checkin["reason_texts"] + chinese["reason_texts"]
    assert texts and not [t for t in texts if t.startswith(("Reason:", "原因"))]  # no code lacks a text
    assert not [t for t in checkin["reason_texts"] if re.search(r"[\u4e00-\u9fff]", t)]
    assert all(re.search(r"[\u4e00-\u9fff]", t) for t in chinese["reason_texts"])
    listed = (await client.get("/m/v1/checkins", headers=bearer(phone) | EN)).json()["items"]
    assert [x["reason_texts"] for x in listed if x["id"] == checkin["id"]] == [checkin["reason_texts"]]


async def test_the_stored_language_wins_over_accept_language(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    case = await enrol_and_place(client, officer)
    phone = case["phone"]
    await client.patch("/m/v1/me", json={"language": "zh"}, headers=bearer(phone))
    assert (await client.get("/m/v1/notice", headers=bearer(phone) | EN)).json()["language"] == "zh"
    cleared = await client.patch("/m/v1/me", json={"language": None}, headers=bearer(phone))
    assert cleared.status_code == 200 and cleared.json()["language"] is None
    assert (await client.get("/m/v1/notice", headers=bearer(phone) | EN)).json()["language"] == "en"
    unchanged = await client.patch("/m/v1/me", json={}, headers=bearer(phone))
    assert unchanged.status_code == 200 and unchanged.json()["language"] is None


async def test_only_chinese_or_english_can_be_stored(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    case = await enrol_and_place(client, officer)
    for body in ({"language": "fr"}, {"language": "EN"}, {"language": ""}, {"language": "zh-CN"}):
        refused = await client.patch("/m/v1/me", json=body, headers=bearer(case["phone"]))
        assert refused.status_code == 422, body
        assert refused.json()["errors"][0]["field"] == "language", refused.json()
    malformed = await client.patch("/m/v1/me", json={"language": 1}, headers=bearer(case["phone"]))
    assert malformed.status_code == 400 and malformed.json()["errors"][0]["field"] == "language"
    unknown = await client.patch("/m/v1/me", json={"display_name": "x"}, headers=bearer(case["phone"]))
    assert unknown.status_code in (400, 422) and unknown.json()["errors"][0]["field"] == "display_name"
    assert (await client.get("/m/v1/me", headers=bearer(case["phone"]))).json()["language"] is None
    assert (
        await AuditEntry.count().where(
            (AuditEntry.action == "user.language_set") & (AuditEntry.object_id == case["person_id"])
        )
        == 0
    )


async def test_the_login_code_sms_follows_accept_language(client):
    phone, address = random_phone(), random_address()
    sent = await client.post(
        "/m/v1/auth/code", json={"phone": phone}, headers={"X-Forwarded-For": address} | EN
    )
    assert sent.status_code == 202, sent.text
    body = (await _sms_bodies(phone))[-1]
    assert body.startswith("Your remotecase login code is ") and "minutes" in body
    other = random_phone()
    await client.post("/m/v1/auth/code", json={"phone": other}, headers={"X-Forwarded-For": random_address()})
    assert (await _sms_bodies(other))[-1].startswith("您的 remotecase 登录验证码为 ")


async def test_a_summons_states_its_local_time(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    case = await enrol_and_place(client, officer)
    phone = case["phone"]
    await client.patch("/m/v1/me", json={"language": "en"}, headers=bearer(phone))
    at = (utcnow() + timedelta(days=2)).replace(hour=1, minute=0, second=0, microsecond=0)  # 09:00 Shanghai
    issued = await client.post(
        f"/api/v1/measures/{case['measure']['id']}/summonses",
        json={"at": at.isoformat(), "place": "Xihu PSB, room 3", "purpose": "Questioning"},
        headers=bearer(officer),
    )
    assert issued.status_code == 201, issued.text
    items = (await client.get("/m/v1/inbox", headers=bearer(phone))).json()["items"]
    local_day = (at + timedelta(hours=8)).date().isoformat()
    assert [m["body"] for m in items if m["kind"] == "summons"] == [
        f"Appear at Xihu PSB, room 3 at {local_day} 09:00 (Asia/Shanghai). Questioning"
    ]


async def test_the_ledger_says_what_each_entry_means_in_the_readers_language(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    case = await enrol_and_place(client, officer)
    measure = f"/api/v1/measures/{case['measure']['id']}"
    violation = await client.post(
        f"{measure}/violations",
        json={"rule_id": "unapproved_travel", "reason": "Seen in Ningbo on 3 March"},
        headers=bearer(officer),
    )
    assert violation.status_code == 201, violation.text
    entry = violation.json()
    excused = await client.post(
        f"{measure}/ledger/{entry['id']}/excuse", json={"reason": "Hospital visit"}, headers=bearer(officer)
    )
    assert excused.status_code in (200, 201), excused.text

    zh = (await client.get("/m/v1/measure/ledger", headers=bearer(case["phone"]))).json()["items"]
    en = (await client.get("/m/v1/measure/ledger", headers=bearer(case["phone"]) | EN)).json()["items"]
    assert [e["reason_text"] for e in zh[-2:]] == [
        "未经批准外出",
        f"已撤销第 {entry['id']} 条记录的扣分（免责或申诉成立）",
    ]
    assert en[-2]["reason_text"] == "Travelled without approval"
    assert en[-1]["reason_text"].startswith(f"Entry {entry['id']} taken back")
    assert en[-2]["reason"] == "Seen in Ningbo on 3 March"  # the recorded detail, as written
    console = (await client.get(f"{measure}/ledger", headers=bearer(officer) | EN)).json()["items"]
    assert console[-2]["reason_text"] == "Travelled without approval"
