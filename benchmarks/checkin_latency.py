"""Check-in submission latency at 50 concurrent clients against a real `remotecase run` (target p95 < 50 ms).

The face model is excluded (no face verifier configured): this times the HTTP path, authentication,
judgement, receipt signing and the one transaction that records it. Each client is a supervised person
with an acknowledged notice and enough open windows; every submission answers one window.
Prints one JSON line.

    python benchmarks/checkin_latency.py [--clients 50] [--per-client 60] [--backends sqlite,postgresql]
        [--think-ms 0] [--workers N]

The server runs as deployed: one worker process per core (`remotecase run --workers N`, each worker with
its own SO_REUSEPORT socket so the kernel spreads the clients' connections over them); `--workers 1` gives
the single-process figure.

The load generator is benchmarks/_http.py (a lean keep-alive client; httpx would take a core of its own).
With --think-ms 0 (the default) every client sends its next check-in as soon as the last is answered: the
server is saturated and p95 measures its throughput (Little's law: p95 ~ clients / throughput). A think
time gives 50 clients at a sub-saturating load, as phones in a real window would be.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks._db import run_per_backend, supervised_person  # noqa: E402
from benchmarks._load import add_workers_option, nearest_rank  # noqa: E402

PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


async def _prepare(clients: int, per_client: int) -> list[str]:
    """Persons, measures and windows straight into the database; returns each person's access token."""
    from backend.accounts.sessions import SessionService
    from backend.accounts.tables import Agency
    from backend.core.clock import utcnow
    from backend.db.engine import close_database, open_database
    from backend.domains import migrate
    from backend.settings import get_settings
    from backend.supervision.checkins.tables import CheckinWindow

    await migrate()
    await open_database()
    settings = get_settings()
    sessions = SessionService(settings.auth, settings.secret_key)
    agency = Agency(kind="police", name="Bench PSB", region_code="330100")
    await agency.save()
    now = utcnow()
    tokens = []
    for i in range(clients):
        user, measure = await supervised_person(agency, i, "+86151", now)
        await CheckinWindow.insert(
            *[
                CheckinWindow(
                    measure=measure.id,
                    kind="random",
                    opens_at=now - timedelta(minutes=1),
                    closes_at=now + timedelta(hours=2),
                    grace_until=now + timedelta(hours=3),
                )
                for _ in range(per_client)
            ]
        )
        tokens.append((await sessions.open(user, "mobile", "127.0.0.1", "bench")).access_token)
    await close_database()
    return tokens


async def _load(
    url: str, tokens: list[str], per_client: int, think_ms: float = 0.0, fresh: bool = False
) -> list[float]:
    from backend.core.clock import utcnow
    from benchmarks._http import HttpConnection

    latencies: list[float] = []
    # ~30 KB, JPEG-sized: a PNG header (a selfie must be an image) and padding.
    selfie = "iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSnc" + "A" * 39956

    async def client(token: str) -> None:
        http = await HttpConnection.open(url)
        if think_ms:  # clients arrive spread out, as if each were already between two check-ins
            await asyncio.sleep(random.uniform(0, 2 * think_ms / 1000))
        try:
            for _ in range(per_client):
                now = utcnow().isoformat()
                body = {
                    "captured_at": now,
                    "selfie_jpeg_base64": selfie,
                    "location": {"lat": 30.27, "lon": 120.15, "accuracy_m": 10.0, "t": now},
                }
                t0 = time.perf_counter()
                if fresh:  # the phone's view: connect, submit, close (the connect is in the latency)
                    await http.close()
                    http = await HttpConnection.open(url)
                status, answer = await http.post_json(
                    "/m/v1/checkins", body, {"Authorization": f"Bearer {token}"}
                )
                latencies.append((time.perf_counter() - t0) * 1000)
                # Nobody has a face enrolled here: doubtful is the right answer.
                if status != 201 or answer["outcome"] not in ("accepted", "doubtful"):
                    raise RuntimeError(f"unexpected answer: {status} {str(answer)[:300]}")
                if think_ms:  # a person looking at the receipt before the next check-in
                    await asyncio.sleep(random.expovariate(1000 / think_ms))
        finally:
            await http.close()

    await asyncio.gather(*(client(t) for t in tokens))
    return latencies


def _child(backend: str, clients: int, per_client: int, think_ms: float, fresh: bool) -> None:
    from benchmarks._db import scratch_database
    from tests.support.live_server import live_server

    with scratch_database(backend, PG_URL):
        tokens = asyncio.run(_prepare(clients, per_client))
        with live_server({"LOG_LEVEL": "WARNING"}) as url:
            asyncio.run(_load(url, tokens[:1], 3))  # warm-up
            started = time.perf_counter()
            latencies = asyncio.run(
                _load(url, tokens, per_client - 3 if per_client > 3 else per_client, think_ms, fresh)
            )
            wall = time.perf_counter() - started
    latencies.sort()
    print(
        json.dumps(
            {
                "requests": len(latencies),
                "p50_ms": round(statistics.median(latencies), 1),
                "p95_ms": round(nearest_rank(latencies, 0.95), 1),
                "p99_ms": round(nearest_rank(latencies, 0.99), 1),
                "throughput_rps": round(len(latencies) / wall, 1),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    add_workers_option(parser)
    parser.add_argument("--per-client", type=int, default=60, help="check-ins per client (3 warm-up ones)")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--think-ms",
        type=float,
        default=0.0,
        help="mean pause between a client's check-ins (exponential); 0 = back to back, the saturating case",
    )
    parser.add_argument(
        "--fresh-connections",
        action="store_true",
        help="a new connection per check-in, as a phone makes it (lets several workers share the load)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.clients, args.per_client, args.think_ms, args.fresh_connections)
        return
    os.environ["WEB_WORKERS"] = str(args.workers)  # the server each child starts inherits it
    result = {
        "benchmark": "checkin_latency",
        "workers": args.workers,
        "clients": args.clients,
        "target_p95_ms": 50,
        "face_model": "excluded",
        "think_ms": args.think_ms,
        "fresh_connections": args.fresh_connections,
    }
    result |= run_per_backend(
        __file__,
        args.backends,
        [
            "--clients",
            str(args.clients),
            "--per-client",
            str(args.per_client),
            "--think-ms",
            str(args.think_ms),
            *(["--fresh-connections"] if args.fresh_connections else []),
        ],
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
