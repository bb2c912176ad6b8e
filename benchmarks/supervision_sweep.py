"""Missed-check-in sweep with 100,000 supervised persons in the database (target: under 2 s).

Every person has an active measure and a check-in window; a fraction of the windows is past its grace
period unanswered. Timed: one `sweep_missed()` call (claim the windows, write the ledger rows, update the
scores, one audit row). Median of several runs; the state is reset between runs. Prints one JSON line.

    python benchmarks/supervision_sweep.py [--persons 100000] [--missed 0.1] [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._db import bench_measure, run_per_backend  # noqa: E402

PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


async def _populate(persons: int, missed: float) -> None:
    from backend.accounts.tables import Agency, User
    from backend.core.clock import utcnow
    from backend.supervision.checkins.tables import CheckinWindow
    from backend.supervision.measures.tables import Measure

    agency = Agency(kind="police", name="Bench PSB", region_code="330100")
    await agency.save()
    now = utcnow()
    due = int(persons * missed)
    for start in range(0, persons, 1000):
        n = min(1000, persons - start)
        users = [
            User(
                role="supervisee",
                display_name=f"P{start + i}",
                phone=f"+86150{start + i:08d}",
                agency=agency.id,
                region_code="330106",
            )
            for i in range(n)
        ]
        await User.insert(*users)
        measures = [bench_measure(u.id, agency, now) for u in users]
        await Measure.insert(*measures)
        windows = []
        for i, m in enumerate(measures):
            past = start + i < due
            closes = now - timedelta(hours=3) if past else now + timedelta(hours=2)
            windows.append(
                CheckinWindow(
                    measure=m.id,
                    kind="scheduled",
                    opens_at=closes - timedelta(hours=1),
                    closes_at=closes,
                    grace_until=closes + timedelta(hours=2 if past else 1),
                )
            )
        await CheckinWindow.insert(*windows)


async def _reset() -> None:
    from backend.supervision.checkins.tables import CheckinWindow
    from backend.supervision.ledger.tables import LedgerEntry
    from backend.supervision.measures.tables import Measure

    await CheckinWindow.update({CheckinWindow.status: "open"}).where(CheckinWindow.status == "missed")
    await LedgerEntry.delete(force=True)
    await Measure.update({Measure.score: 100, Measure.code: "green"}, force=True)


async def _measure(persons: int, missed: float, repeats: int) -> dict:
    from backend.db.engine import close_database, open_database
    from backend.domains import migrate
    from backend.supervision.checkins.missed_sweep import sweep_missed

    await migrate()
    await open_database()
    try:
        started = time.perf_counter()
        await _populate(persons, missed)
        setup_s = time.perf_counter() - started
        times, swept = [], 0
        for _ in range(repeats):
            await _reset()
            t0 = time.perf_counter()
            swept = await sweep_missed()
            times.append(time.perf_counter() - t0)
        return {
            "sweep_s_median": round(statistics.median(times), 3),
            "sweep_s_all": [round(t, 3) for t in times],
            "windows_swept": swept,
            "setup_s": round(setup_s, 1),
        }
    finally:
        await close_database()


def _child(backend: str, persons: int, missed: float, repeats: int) -> None:
    from benchmarks._db import scratch_database

    with scratch_database(backend, PG_URL):
        print(json.dumps(asyncio.run(_measure(persons, missed, repeats))))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--missed", type=float, default=0.1, help="fraction of windows past grace")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.persons, args.missed, args.repeats)
        return
    result = {
        "benchmark": "supervision_sweep",
        "persons": args.persons,
        "missed_fraction": args.missed,
        "target_s": 2.0,
    }
    result |= run_per_backend(
        __file__,
        args.backends,
        ["--persons", str(args.persons), "--missed", str(args.missed), "--repeats", str(args.repeats)],
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
