"""The message catalogues and the choice of language: complete in both languages, placeholders that agree,
Accept-Language read as browsers and phones send it, times in the measure's zone."""

from __future__ import annotations

import re
import string
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from backend import i18n
from backend.face import decision, engine, quality
from backend.i18n.catalogue import LANGUAGES, messages, po_path

REPO = Path(__file__).resolve().parents[3]


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_every_message_has_a_chinese_and_an_english_text_with_the_same_placeholders():
    catalogues = {lang: messages(lang) for lang in LANGUAGES}
    zh, en = catalogues["zh"], catalogues["en"]
    assert len(zh) > 50 and set(zh) == set(en), set(zh) ^ set(en)
    for msgid in zh:
        assert zh[msgid].strip() and en[msgid].strip(), msgid
        assert _placeholders(zh[msgid]) == _placeholders(en[msgid]), msgid
        # Chinese texts are Chinese (a copied English text would pass the other checks).
        if msgid != "reason.unknown":
            assert re.search(r"[\u4e00-\u9fff]", zh[msgid]), msgid


def test_the_po_files_parse_without_fuzzy_or_untranslated_entries():
    for lang in LANGUAGES:
        with po_path(lang).open("rb") as source:
            catalog = read_po(source, locale=lang)
        entries = [m for m in catalog if m.id]
        assert entries and not [m.id for m in entries if m.fuzzy or not m.string]


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("en-US,en;q=0.9", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("zh-Hans-CN", "zh"),
        ("zh-TW", "zh"),
        ("EN-gb", "en"),
        ("fr-FR, de;q=0.9, en;q=0.5", "en"),  # the best language we have, not the first one asked for
        ("en;q=0.2, zh-HK;q=0.8", "zh"),  # q-values, not order, rank them
        ("zh;q=0, en", "en"),  # q=0 means "not this one"
        ("en;q=abc, zh;q=0.1", "zh"),  # a malformed q-value ranks last
        ("fr, de", None),
        ("*", None),
        ("", None),
        (None, None),
    ],
)
def test_accept_language(header, language):
    assert i18n.from_accept_language(header) == language


def test_the_stored_language_wins_then_accept_language_then_chinese():
    assert i18n.choose("en", "zh-CN") == "en"
    assert i18n.choose("zh", "en-US") == "zh"
    assert i18n.choose(None, "en-US") == "en"
    assert i18n.choose(None, "fr") == "zh"
    assert i18n.choose(None, None) == "zh"
    assert i18n.choose("xx", None) == "zh"  # never trust a stored value blindly


def test_translate_fills_placeholders_and_never_fails_for_a_person():
    assert i18n.translate("reminder.checkin.body", "en", time="18:30 (Asia/Shanghai)") == (
        "Your check-in window opens at 18:30 (Asia/Shanghai)."
    )
    assert i18n.translate("reminder.checkin.body", "zh", time="18:30") == "您的签到时段将于 18:30 开始。"
    assert i18n.translate("ack_due.title", "fr") == i18n.translate("ack_due.title", "zh")
    assert i18n.reason_texts(["no_open_window", "something_new"], "en") == [
        "No check-in window is open now.",
        "Reason: something_new",
    ]


def test_a_time_is_the_measures_local_time_with_the_zone_named():
    at = datetime(2026, 12, 2, 10, 30, tzinfo=UTC)
    assert i18n.local_time(at, "Asia/Shanghai") == "18:30 (Asia/Shanghai)"
    assert i18n.local_time(at, "America/New_York") == "05:30 (America/New_York)"
    assert i18n.local_time(at.replace(tzinfo=None), None) == "18:30 (Asia/Shanghai)"  # SQLite: naive UTC
    assert i18n.local_datetime(datetime(2026, 12, 2, 17, 0, tzinfo=UTC), "Asia/Shanghai") == (
        "2026-12-03 01:00 (Asia/Shanghai)"  # the local date, not the UTC one
    )


def _codes_in_source() -> set[str]:
    """Every reason code the check-in path writes as a literal, and those it builds."""
    sources = {
        "backend/supervision/checkins/services.py": r'judgement\.add\("\w+", "(\w+)"\)',
        "backend/supervision/checkins/submission.py": r'judgement\.add\("\w+", "(\w+)"\)',
        "backend/biometrics/services.py": r'"(face_\w+)"',
        "backend/supervision/fences/checkin_fix.py": r'doubts\.append\("(\w+)"\)',
    }
    codes = {"camera_error", "app_error", "face_check_not_enabled"}  # sent by the phone; added as a list
    codes |= {f"window_already_{status}" for status in ("done", "missed", "excused")}
    for path, pattern in sources.items():
        codes |= set(re.findall(pattern, (REPO / path).read_text(encoding="utf-8")))
    return codes


def test_every_reason_the_app_can_show_has_a_text():
    face = [
        value
        for module in (quality, decision, engine)
        for value in vars(module).values()
        if isinstance(value, quality.Reason)
    ]
    codes = _codes_in_source() | {r.code for r in face}
    assert len(codes) > 30
    known = set(messages("en"))
    assert sorted(c for c in codes if f"reason.{c}" not in known) == []


def test_face_guidance_comes_in_both_languages():
    assert quality.TOO_SMALL.text("en") == "Move closer to the camera."
    assert quality.TOO_SMALL.text("zh") == "请靠近摄像头。"
    assert quality.TOO_SMALL.message == "Move closer to the camera."  # attempt records keep English
    assert engine.WRONG_PHOTO_COUNT.text("zh") == "请使用 3 至 5 张照片录入。"
