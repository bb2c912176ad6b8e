"""The login and request safeguards under concurrent attack, against a real `remotecase run --workers 2`.

Each scenario fires its requests at once (one connection each, as separate phones or scripts would) and
counts what the server did. The figures are counts, not times: a safeguard is exact when the counts match
its limit in every trial. Prints one JSON line.

    python benchmarks/safeguard_races.py [--trials 5] [--backends sqlite,postgresql] [--workers 2]

Scenarios (issue 13's table):
- wrong_codes: 40 wrong login codes for one phone at once. `judged` counts the attempts that were checked
  (401); the limit is 5, the rest must be 423, and the phone must end locked.
- staff_passwords: 30 wrong passwords for one officer at once from one address; `judged` must be 5.
- right_among_wrong: 39 wrong codes and the right one at once. `judged` (401 + 200) must stay <= 5;
  the right code can only succeed when it happens to be among those 5.
- code_requests: 10 code requests for one phone at once, limit 1 per 30 s: `sms_sent` must be 1.
- refreshes: 4 refreshes of one single-use refresh token at once: `ok` must be 1.
- idempotent_posts: 4 POSTs with one Idempotency-Key at once: one 201, the rest replays or 409, no 5xx.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks._db import run_per_backend  # noqa: E402

PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _phone() -> str:
    return "+86139" + "".join(random.choice("0123456789") for _ in range(8))


def _address() -> str:
    return f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


async def _sms_rows(phone: str) -> list[str]:
    from backend.ops.tables import SmsMessage

    rows = await SmsMessage.select(SmsMessage.body).where(SmsMessage.to == phone).order_by(SmsMessage.id)
    return [r["body"] for r in rows]


async def _code(phone: str) -> str:
    import re

    return re.search(r"\b(\d{6})\b", (await _sms_rows(phone))[-1]).group(1)


async def _at_once(url: str, requests: list[tuple[str, dict, dict]]) -> list[int]:
    """POST every (path, json, headers) at the same moment, each on its own connection; 0 = no answer."""
    import httpx

    gate = asyncio.Event()

    async def one(path: str, body: dict, headers: dict) -> int:
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            try:
                await http.get("/health")  # connected before the gate opens
                await gate.wait()
                return (await http.post(path, json=body, headers=headers)).status_code
            except httpx.TransportError:
                return 0  # no answer within 60 s (or none at all): counted as a server error below
            finally:
                gate.set()  # a request that never connected must not hold the others back

    tasks = [asyncio.create_task(one(*r)) for r in requests]
    await asyncio.sleep(0.5)
    gate.set()
    return list(await asyncio.gather(*tasks))


def _wrong(code: str, i: int) -> str:
    wrong = f"{(int(code) + 1 + i) % 10**6:06d}"
    return wrong if wrong != code else f"{(int(code) + 500_000) % 10**6:06d}"


async def _request_code(http, phone: str, address: str) -> None:
    sent = await http.post("/m/v1/auth/code", json={"phone": phone}, headers={"X-Forwarded-For": address})
    if sent.status_code != 202:
        raise RuntimeError(f"code request: {sent.status_code} {sent.text[:200]}")


async def _wrong_codes(url: str, http) -> dict:
    phone, address = _phone(), _address()
    await _request_code(http, phone, address)
    code = await _code(phone)
    headers = {"X-Forwarded-For": address}
    body = [("/m/v1/auth/login", {"phone": phone, "code": _wrong(code, i)}, headers) for i in range(40)]
    statuses = Counter(await _at_once(url, body))
    after = await http.post("/m/v1/auth/login", json={"phone": phone, "code": code}, headers=headers)
    return {"judged": statuses[401], "statuses": dict(statuses), "locked": after.status_code == 423}


async def _staff_passwords(url: str, demo: dict) -> dict:
    officer = next(s for s in demo["staff"] if s["role"] == "officer")
    headers = {"X-Forwarded-For": _address()}
    body = {"username": officer["username"], "password": "wrong password 123", "totp": "000000"}
    statuses = Counter(await _at_once(url, [("/api/v1/auth/login", body, headers)] * 30))
    return {"judged": statuses[401], "statuses": dict(statuses)}


async def _right_among_wrong(url: str, http) -> dict:
    phone, address = _phone(), _address()
    await _request_code(http, phone, address)
    code = await _code(phone)
    headers = {"X-Forwarded-For": address}
    bodies = [("/m/v1/auth/login", {"phone": phone, "code": _wrong(code, i)}, headers) for i in range(39)]
    bodies.insert(random.randrange(40), ("/m/v1/auth/login", {"phone": phone, "code": code}, headers))
    statuses = Counter(await _at_once(url, bodies))
    judged = statuses[401] + statuses[200]
    return {"judged": judged, "logged_in": statuses[200] > 0, "statuses": dict(statuses)}


async def _code_requests(url: str) -> dict:
    phone = _phone()
    bodies = [("/m/v1/auth/code", {"phone": phone}, {"X-Forwarded-For": _address()}) for _ in range(10)]
    statuses = Counter(await _at_once(url, bodies))
    return {"sms_sent": len(await _sms_rows(phone)), "statuses": dict(statuses)}


async def _refreshes(url: str, http) -> dict:
    phone, address = _phone(), _address()
    await _request_code(http, phone, address)
    login = await http.post(
        "/m/v1/auth/login",
        json={"phone": phone, "code": await _code(phone)},
        headers={"X-Forwarded-For": address},
    )
    token = login.json()["refresh_token"]
    statuses = Counter(await _at_once(url, [("/m/v1/auth/refresh", {"refresh_token": token}, {})] * 4))
    return {"ok": statuses[200], "statuses": dict(statuses)}


async def _officer_token(http, demo: dict) -> str:
    import pyotp

    from backend.accounts.tables import User

    officer = next(s for s in demo["staff"] if s["role"] == "officer")
    await User.update({User.totp_last_step: None}).where(User.username == officer["username"])
    login = await http.post(
        "/api/v1/auth/login",
        json={
            "username": officer["username"],
            "password": officer["password"],
            "totp": pyotp.TOTP(officer["totp_secret"]).now(),
        },
        headers={"X-Forwarded-For": _address()},
    )
    if login.status_code != 200:
        raise RuntimeError(f"officer login: {login.status_code} {login.text[:200]}")
    return login.json()["access_token"]


async def _idempotent_posts(url: str, token: str) -> dict:
    from backend.accounts.tables import User

    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}
    body = {"phone": _phone(), "display_name": "Race Person", "region_code": "330106"}
    statuses = Counter(await _at_once(url, [("/api/v1/supervisees", body, headers)] * 4))
    created = await User.count().where(User.phone == body["phone"])
    return {"created": created, "statuses": dict(statuses)}


async def _scenarios(url: str, demo: dict, trials: int) -> dict:
    import httpx

    from backend.db.engine import close_database, open_database

    await open_database()
    runs: dict[str, list[dict]] = {}
    try:
        async with httpx.AsyncClient(base_url=url, timeout=120) as http:
            token = await _officer_token(http, demo)
            for _ in range(trials):
                for name, run in (
                    ("wrong_codes", lambda: _wrong_codes(url, http)),
                    ("staff_passwords", lambda: _staff_passwords(url, demo)),
                    ("right_among_wrong", lambda: _right_among_wrong(url, http)),
                    ("code_requests", lambda: _code_requests(url)),
                    ("refreshes", lambda: _refreshes(url, http)),
                    ("idempotent_posts", lambda: _idempotent_posts(url, token)),
                ):
                    try:
                        runs.setdefault(name, []).append(await run())
                    except httpx.TransportError:  # the server stopped answering: say so, go on
                        runs.setdefault(name, []).append({"stalled": True, "statuses": {}})
    finally:
        await close_database()
    return runs


def _summary(runs: dict[str, list[dict]]) -> dict:
    def server_errors(name: str) -> int:
        return sum(n for r in runs[name] for s, n in r["statuses"].items() if int(s) >= 500 or int(s) == 0)

    stalled = {name: sum(r.get("stalled", False) for r in rs) for name, rs in runs.items()}
    runs = {name: [r for r in rs if not r.get("stalled")] for name, rs in runs.items()}
    return {
        "stalled_trials": {name: n for name, n in stalled.items() if n},
        "wrong_codes_judged": [r["judged"] for r in runs["wrong_codes"]],
        "wrong_codes_locked": [r["locked"] for r in runs["wrong_codes"]],
        "staff_passwords_judged": [r["judged"] for r in runs["staff_passwords"]],
        "right_among_wrong_judged": [r["judged"] for r in runs["right_among_wrong"]],
        "right_among_wrong_logged_in": sum(r["logged_in"] for r in runs["right_among_wrong"]),
        "code_requests_sms_sent": [r["sms_sent"] for r in runs["code_requests"]],
        "refreshes_ok": [r["ok"] for r in runs["refreshes"]],
        "idempotent_posts": [r["statuses"] for r in runs["idempotent_posts"]],
        "idempotent_posts_created": [r["created"] for r in runs["idempotent_posts"]],
        "server_errors": {name: server_errors(name) for name in runs},
    }


def _child(backend: str, trials: int) -> None:
    from benchmarks._db import scratch_database
    from tests.support.live_server import live_server

    with scratch_database(backend, PG_URL):
        from backend.demo import seed_demo
        from backend.domains import migrate

        asyncio.run(migrate())
        asyncio.run(seed_demo())
        demo = json.loads((Path(os.environ["REMOTECASE_VAR_DIR"]) / "demo-logins.json").read_text())
        with live_server({"TRUSTED_PROXIES": "1"}) as url:
            runs = asyncio.run(_scenarios(url, demo, trials))
    print(json.dumps(_summary(runs)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2, help="server processes (remotecase run --workers)")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.trials)
        return
    os.environ["WEB_WORKERS"] = str(args.workers)
    result = {"benchmark": "safeguard_races", "workers": args.workers, "trials": args.trials}
    result |= run_per_backend(__file__, args.backends, ["--trials", str(args.trials)])
    print(json.dumps(result))


if __name__ == "__main__":
    main()
