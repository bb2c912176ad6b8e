"""Benchmark (b) of the geofence issue: the fix stream through the batch upload endpoint into the database.

Same generator as benchmarks/geofence.py (county polygons of 600 vertices, a curfewed home circle and a
forbidden place per person, realistic tracks), times moved to the last hours so no fix is stale. Each person
uploads its fixes over HTTP to a real `remotecase run`; judged, stored, events to the ledger. Target:
>= 20,000 fixes/s end to end on SQLite; PostgreSQL reported too. Prints one JSON line.

    python benchmarks/location_upload.py [--persons 2000] [--fixes-per-person 100] [--clients 16] [--warm]
        [--workers N]

The server runs as deployed, one worker process per core (`--workers 1` gives the single-process figure).

fixes_per_s is the target figure: every upload is a person's first, so it pays for compiling that person's
fences. --warm adds warm_fixes_per_s, the same stream after each person has uploaded once already. Each
upload's time (connect to answer) is reported as p50 and p95.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks._db import run_per_backend, supervised_person  # noqa: E402
from benchmarks._load import add_workers_option, nearest_rank  # noqa: E402

PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _stream(persons: int, per_person: int) -> tuple[list[dict], list[list[dict]]]:
    """Per person: its zones as a FeatureCollection and its fixes, shifted to end a minute ago."""
    import numpy as np

    import geofence
    from benchmarks.geofence import build_scenario

    sc = build_scenario(persons, per_person, 10, 20260101)
    f = sc.fixes
    shift = time.time() - 60 - float(np.max(f.t))
    zones, fixes = [], []
    for pid in range(persons):
        idx = np.flatnonzero(f.person == pid)
        collection = geofence.zones_to_geojson(sc.fences[pid].zones)
        zones.append(collection)
        fixes.append(
            [
                {
                    "t": datetime.fromtimestamp(float(f.t[i]) + shift, UTC).isoformat(),
                    "lat": float(f.lat[i]),
                    "lon": float(f.lon[i]),
                    "accuracy_m": float(f.accuracy[i]) if np.isfinite(f.accuracy[i]) else 0.0,
                    "mock": bool(f.mock[i]),
                }
                for i in idx
                if np.isfinite(f.lat[i]) and np.isfinite(f.lon[i])
            ]
        )
    return zones, fixes


async def _prepare(zones: list[dict]) -> list[str]:
    from backend.accounts.sessions import SessionService
    from backend.accounts.tables import Agency
    from backend.core.clock import utcnow
    from backend.db.engine import close_database, open_database
    from backend.domains import migrate
    from backend.settings import get_settings
    from backend.supervision.fences.tables import FenceZone
    from backend.supervision.fences.zones import zone_row

    await migrate()
    await open_database()
    settings = get_settings()
    sessions = SessionService(settings.auth, settings.secret_key)
    agency = Agency(kind="police", name="Bench PSB", region_code="330100")
    await agency.save()
    now, tokens = utcnow(), []
    for i, collection in enumerate(zones):
        user, measure = await supervised_person(agency, i, "+86152", now)
        await FenceZone.insert(*[zone_row(measure.id, f, "bench") for f in collection["features"]])
        tokens.append((await sessions.open(user, "mobile", "127.0.0.1", "bench")).access_token)
    await close_database()
    return tokens


async def _upload(
    url: str, tokens: list[str], fixes: list[list[dict]], clients: int, seq: int = 1
) -> tuple[int, float, list[float]]:
    from benchmarks._http import HttpConnection

    queue: asyncio.Queue = asyncio.Queue()
    for item in zip(tokens, fixes, strict=True):
        queue.put_nowait(item)
    sent, latencies = 0, []

    async def worker() -> None:
        nonlocal sent
        while not queue.empty():
            token, batch = queue.get_nowait()
            began = time.perf_counter()
            # A phone uploads every few minutes, so each upload comes on a connection of its own (and with
            # several server workers, lands on whichever is free to accept it).
            http = await HttpConnection.open(url)
            try:
                status, answer = await http.post_json(
                    "/m/v1/locations",
                    {"device_seq": seq, "fixes": batch},
                    {"Authorization": f"Bearer {token}"},
                )
            finally:
                await http.close()
            if status != 201:
                raise RuntimeError(f"{status} {str(answer)[:300]}")
            sent += len(batch)
            latencies.append(time.perf_counter() - began)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return sent, time.perf_counter() - started, latencies


def _child(backend: str, persons: int, per_person: int, clients: int, warm: bool) -> None:
    from benchmarks._db import scratch_database
    from tests.support.live_server import live_server

    zones, fixes = _stream(persons, per_person)
    rounds = [fixes]
    if warm:
        # The same walks 100 minutes earlier first (cold: each person's fences compiled on first use),
        # then the stream itself (warm: the steady state of phones that upload every few minutes).
        earlier = [[f | {"t": _shifted(f["t"], -6000)} for f in batch] for batch in fixes]
        rounds = [earlier, fixes]
    results = []
    with scratch_database(backend, PG_URL):
        tokens = asyncio.run(_prepare(zones))
        with live_server({"LOG_LEVEL": "WARNING"}) as url:
            for seq, stream in enumerate(rounds, start=1):
                results.append(asyncio.run(_upload(url, tokens, stream, clients, seq)))
    sent, seconds, latencies = results[0]
    out = {"fixes": sent, "uploads": persons, "seconds": round(seconds, 2)}
    out |= {"fixes_per_s": round(sent / seconds)} | _percentiles("upload", latencies)
    if warm:
        sent, seconds, latencies = results[1]
        out |= {"warm_seconds": round(seconds, 2), "warm_fixes_per_s": round(sent / seconds)}
        out |= _percentiles("warm_upload", latencies)
    print(json.dumps(out))


def _percentiles(prefix: str, seconds: list[float]) -> dict:
    """Each upload's time from connecting to the answer."""
    ranked = sorted(seconds)
    return {
        f"{prefix}_p50_ms": round(nearest_rank(ranked, 0.5) * 1000, 1),
        f"{prefix}_p95_ms": round(nearest_rank(ranked, 0.95) * 1000, 1),
    }


def _shifted(iso: str, seconds: float) -> str:
    return (datetime.fromisoformat(iso) + timedelta(seconds=seconds)).isoformat()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=2000)
    parser.add_argument("--fixes-per-person", type=int, default=100)
    # Phones upload on their own schedules, so uploads overlap: 16 in flight keep both workers busy while
    # one of them holds SQLite's write lock (with 8, a fifth of the CPU sat idle waiting for it).
    parser.add_argument("--clients", type=int, default=16)
    add_workers_option(parser)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--warm",
        action="store_true",
        help="upload the same walks earlier first, then time the stream with every person's fences compiled",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.persons, args.fixes_per_person, args.clients, args.warm)
        return
    os.environ["WEB_WORKERS"] = str(args.workers)  # the server each child starts inherits it
    result = {
        "benchmark": "location_upload",
        "workers": args.workers,
        "persons": args.persons,
        "fixes_per_person": args.fixes_per_person,
        "clients": args.clients,
        "target_fixes_per_s": 20000,
    }
    result |= run_per_backend(
        __file__,
        args.backends,
        [
            "--persons",
            str(args.persons),
            "--fixes-per-person",
            str(args.fixes_per_person),
            "--clients",
            str(args.clients),
            *(["--warm"] if args.warm else []),
        ],
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
