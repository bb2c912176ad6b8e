"""Geofence judgement throughput (target: at least 1,000,000 fixes/s). Prints ONE JSON line of figures.

    .venv/bin/python benchmarks/geofence.py                 # part a, defaults below
    .venv/bin/python benchmarks/geofence.py --persons 1000  # smaller run

Part a: pure judgement (geofence.judge_batch) of 1,000,000 fixes for 10,000 persons with 3 zones each
(their county, a curfew circle at home, a forbidden place), in one process pinned to one core, compared
with a bare shapely.contains_xy pass of the same points against their county polygon. Medians of repeats,
wall-clock and CPU. Also: the same fixes as 10 successive uploads with state carried, and shuffled.

More parts register in PARTS: a function taking (scenario, args) and returning a dict of figures that is
merged into the JSON line under its name; `--parts a,b` picks them. The scenario (fences and a
time-ordered FixBatch of concatenated per-person uploads) is built once and shared by all parts.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Polygon

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geofence import (  # noqa: E402
    Area,
    Circle,
    FenceBook,
    FixBatch,
    PersonFences,
    Role,
    Schedule,
    Settings,
    Severity,
    State,
    Zone,
    judge_batch,
)

LON0, LAT0 = 120.15, 30.27  # Hangzhou
T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z
CURFEW = Schedule.from_json({"windows": [{"start": "22:00", "end": "06:00"}]})


@dataclass
class Scenario:
    counties: list[Polygon]
    county_of: np.ndarray  # per person
    fences: dict[int, PersonFences]
    fixes: FixBatch  # one time-ordered block per person (concatenated uploads)
    per_person: int


def county_polygon(
    lon0: float, lat0: float, radius_m: float, vertices: int, rng: np.random.Generator
) -> Polygon:
    """A wiggly county-like outline: a few lobes, smaller bays, and survey noise."""
    ang = np.linspace(0, 2 * np.pi, vertices, endpoint=False)
    ph = rng.uniform(0, 2 * np.pi, 3)
    r = radius_m * (
        1
        + 0.18 * np.sin(3 * ang + ph[0])
        + 0.08 * np.sin(11 * ang + ph[1])
        + 0.03 * np.sin(37 * ang + ph[2])
        + 0.01 * rng.standard_normal(vertices)
    )
    kx = 111_320 * math.cos(math.radians(lat0))
    return Polygon(np.c_[lon0 + r * np.cos(ang) / kx, lat0 + r * np.sin(ang) / 110_574])


def _offset(
    lon: np.ndarray, lat: np.ndarray, east_m: np.ndarray, north_m: np.ndarray
) -> tuple[np.ndarray, ...]:
    return lon + east_m / (111_320 * np.cos(np.radians(lat))), lat + north_m / 110_574


def build_scenario(persons: int, per_person: int, n_counties: int, seed: int) -> Scenario:
    rng = np.random.default_rng(seed)
    counties = []
    for c in range(n_counties):
        gx, gy = c % 5 - 2, c // 5 - 1
        lon_c, lat_c = _offset(
            np.array(LON0), np.array(LAT0), np.array(gx * 70_000.0), np.array(gy * 70_000.0)
        )
        counties.append(county_polygon(float(lon_c), float(lat_c), rng.uniform(20_000, 28_000), 600, rng))
    county_of = np.arange(persons) % n_counties
    # Homes uniformly inside each county (rejection sampling).
    home_lon, home_lat = np.empty(persons), np.empty(persons)
    for c, poly in enumerate(counties):
        idx = np.flatnonzero(county_of == c)
        x0, y0, x1, y1 = poly.bounds
        got: list[np.ndarray] = []
        while sum(len(g) for g in got) < len(idx):
            cand = np.c_[rng.uniform(x0, x1, 4 * len(idx)), rng.uniform(y0, y1, 4 * len(idx))]
            got.append(cand[shapely.contains_xy(poly, cand[:, 0], cand[:, 1])])
        pts = np.concatenate(got)[: len(idx)]
        home_lon[idx], home_lat[idx] = pts[:, 0], pts[:, 1]
    # A forbidden place 0.5-5 km from home: half circles, half small octagon-ish polygons.
    d, a = rng.uniform(500, 5000, persons), rng.uniform(0, 2 * np.pi, persons)
    vic_lon, vic_lat = _offset(home_lon, home_lat, d * np.cos(a), d * np.sin(a))
    fences = {}
    for i in range(persons):
        county = Zone("county", Role.ALLOWED, Area(counties[county_of[i]]))
        home = Zone(
            "home",
            Role.ALLOWED,
            Circle(float(home_lon[i]), float(home_lat[i]), float(rng.uniform(100, 200))),
            schedule=CURFEW,
        )
        if i % 2:
            place: Circle | Area = Circle(float(vic_lon[i]), float(vic_lat[i]), float(rng.uniform(30, 80)))
        else:
            ang = np.linspace(0, 2 * np.pi, 8, endpoint=False) + rng.uniform(0, 1)
            rad = rng.uniform(40, 90) * rng.uniform(0.7, 1.0, 8)
            plon, plat = _offset(
                np.full(8, vic_lon[i]), np.full(8, vic_lat[i]), rad * np.cos(ang), rad * np.sin(ang)
            )
            place = Area(Polygon(np.c_[plon, plat]))
        victim = Zone("victim", Role.FORBIDDEN, place, Severity.HIGH, margin_m=150.0)
        fences[i] = PersonFences((county, home, victim), tz="Asia/Shanghai")
    fixes = _tracks(rng, home_lon, home_lat, vic_lon, vic_lat, per_person)
    return Scenario(counties, county_of, fences, fixes, per_person)


def _tracks(
    rng: np.random.Generator, hlon: np.ndarray, hlat: np.ndarray, vlon: np.ndarray, vlat: np.ndarray, k: int
) -> FixBatch:
    """Per person k fixes about a minute apart from a random time of day. Most persons roam around home by
    day (a mean-reverting walk, a few hundred metres) and settle at home at night; 5 % drive away (some leave
    the county), 3 % walk to the forbidden place. Reported accuracies are log-normal with an indoor tail, and
    the measured position scatters around the true one accordingly (68 % within the reported radius)."""
    n = len(hlon)
    t = T0 + rng.uniform(0, 86_400, n)[:, None] + 60.0 * np.arange(k)[None, :] + rng.uniform(-5, 5, (n, k))
    t = np.sort(t, axis=1)
    hour = ((t + 8 * 3600) % 86_400) / 3600  # Asia/Shanghai
    night = (hour >= 21.5) | (hour < 6)  # most head home before the 22:00 curfew
    east, north = np.zeros((n, k)), np.zeros((n, k))
    spread = np.where(night[:, 0], 20.0, 200.0)  # those starting at night start at home
    x, y = rng.normal(0, 1, n) * spread, rng.normal(0, 1, n) * spread
    for j in range(k):
        rho = np.where(night[:, j], 0.85, 0.98)
        step = np.where(night[:, j], 0.5, 40.0)
        x, y = x * rho + rng.normal(0, 1, n) * step, y * rho + rng.normal(0, 1, n) * step
        east[:, j], north[:, j] = x, y
    mode = rng.uniform(0, 1, n)
    travel = mode < 0.05
    head = rng.uniform(0, 2 * np.pi, n)
    dist = rng.uniform(5, 20, n)[:, None] * (t - t[:, :1])
    east[travel] += (dist * np.cos(head)[:, None])[travel]
    north[travel] += (dist * np.sin(head)[:, None])[travel]
    lon, lat = _offset(hlon[:, None], hlat[:, None], east, north)
    visit = (mode >= 0.05) & (mode < 0.08)
    frac = np.clip(np.arange(k) / (k / 2), 0, 1)[None, :]
    lon[visit] = (hlon[:, None] + (vlon - hlon)[:, None] * frac)[visit]
    lat[visit] = (hlat[:, None] + (vlat - hlat)[:, None] * frac)[visit]
    acc = np.exp(rng.normal(np.log(12), 0.6, (n, k)))
    indoor = rng.uniform(0, 1, (n, k)) < 0.05
    acc[indoor] *= rng.uniform(5, 50, indoor.sum())
    sigma = acc / 1.51  # a 2-D normal puts 68 % within 1.51 sigma
    lon, lat = _offset(lon, lat, rng.normal(0, 1, (n, k)) * sigma, rng.normal(0, 1, (n, k)) * sigma)
    mock = rng.uniform(0, 1, (n, k)) < 0.001
    order = rng.permutation(n)  # uploads of different persons interleave in any order
    pid = np.repeat(np.arange(n), k).reshape(n, k)

    def rows(a: np.ndarray) -> np.ndarray:
        return a[order].ravel()

    tt = rows(t)
    return FixBatch.from_arrays(
        rows(pid),
        tt,
        rows(lat),
        rows(lon),
        rows(acc),
        mock=rows(mock),
        received_at=tt + 30.0,
        fix_id=np.arange(n * k),
    )


def _median_time(fn: Callable[[], Any], repeats: int) -> tuple[float, float, Any]:
    """Median wall-clock and CPU seconds of `repeats` calls (CPU time is steadier on a shared machine)."""
    walls, cpus, out = [], [], None
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus), out


def part_a(sc: Scenario, args: argparse.Namespace) -> dict[str, Any]:
    """Pure judgement vs a bare contains_xy pass over the same points."""
    t = time.perf_counter()
    book = FenceBook(sc.fences)
    build_s = time.perf_counter() - t
    settings = Settings()
    fixes = sc.fixes
    n = len(fixes)
    judge_s, judge_cpu, res = _median_time(
        lambda: judge_batch(book, State.empty(), fixes, settings), args.repeats
    )
    # The same fixes as successive uploads (k fixes per person per batch), state carried between them.
    chunks = max(1, sc.per_person // args.stream_fixes)
    pos = np.arange(n) % sc.per_person
    batches = [fixes.take(np.flatnonzero(pos // args.stream_fixes == c)) for c in range(chunks)]

    def stream() -> int:
        state, count = State.empty(), 0
        for b in batches:
            r = judge_batch(book, state, b, settings)
            state, count = r.state, count + len(r.events)
        return count

    stream_s, stream_cpu, stream_events = _median_time(stream, args.repeats)
    # Shuffled rows (not grouped by person, not in time order) force the sort.
    shuffled = fixes.take(np.random.default_rng(1).permutation(n))
    shuffled_s, _, _ = _median_time(
        lambda: judge_batch(book, State.empty(), shuffled, settings), args.repeats
    )
    # Bare contains_xy: each fix against its person's county polygon (lon/lat, prepared), grouped beforehand.
    groups = []
    for c, poly in enumerate(sc.counties):
        shapely.prepare(poly)
        sel = np.flatnonzero(sc.county_of[fixes.person] == c)
        groups.append((poly, fixes.lon[sel].copy(), fixes.lat[sel].copy()))
    bare_s, bare_cpu, _ = _median_time(
        lambda: [shapely.contains_xy(p, x, y) for p, x, y in groups], args.repeats
    )
    kinds: dict[str, int] = {}
    for e in res.events:
        kinds[e.kind.value] = kinds.get(e.kind.value, 0) + 1
    county_shapes = [s for s in book.shapes.shapes if s.grid is not None]
    return {
        "fixes": n,
        "persons": len(sc.fences),
        "zones_per_person": 3,
        "book_build_s": round(build_s, 3),
        "judge_s_median": round(judge_s, 4),
        "judge_cpu_s_median": round(judge_cpu, 4),
        "fixes_per_s": round(n / judge_s),
        "fixes_per_cpu_s": round(n / judge_cpu),
        "bare_contains_xy_s_median": round(bare_s, 4),
        "bare_contains_xy_cpu_s_median": round(bare_cpu, 4),
        "ratio_judge_to_bare": round(judge_s / bare_s, 2),
        "ratio_judge_to_bare_cpu": round(judge_cpu / bare_cpu, 2),
        "streamed_batches": chunks,
        "streamed_s_median": round(stream_s, 4),
        "streamed_fixes_per_s": round(n / stream_s),
        "streamed_fixes_per_cpu_s": round(n / stream_cpu),
        "shuffled_input_s_median": round(shuffled_s, 4),
        "shuffled_fixes_per_s": round(n / shuffled_s),
        "flagged_fixes": int((res.flags != 0).sum()),
        "events": kinds,
        "streamed_events": stream_events,
        "county_raster_cells": int(np.mean([s.grid.nx * s.grid.ny for s in county_shapes])),
        "county_raster_cell_m": round(float(np.mean([s.grid.cell_m for s in county_shapes])), 1),
        "plane_eps_max": float(f"{max(s.eps for s in book.shapes.shapes):.2e}"),
    }


PARTS: dict[str, Callable[[Scenario, argparse.Namespace], dict[str, Any]]] = {"a": part_a}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=10_000)
    ap.add_argument("--fixes-per-person", type=int, default=100)
    ap.add_argument("--counties", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument(
        "--stream-fixes", type=int, default=10, help="fixes per person per upload in the streamed run"
    )
    ap.add_argument("--seed", type=int, default=20260101)
    ap.add_argument("--parts", default="a")
    ap.add_argument("--cpu", type=int, default=None, help="pin to this core (default: the first allowed one)")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):  # one process, one core
        allowed = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {args.cpu if args.cpu is not None else allowed[0]})
    t = time.perf_counter()
    sc = build_scenario(args.persons, args.fixes_per_person, args.counties, args.seed)
    out: dict[str, Any] = {
        "benchmark": "geofence",
        "scenario_build_s": round(time.perf_counter() - t, 2),
        "repeats": args.repeats,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "shapely": shapely.__version__,
        "cpu_count": os.cpu_count(),
    }
    for name in args.parts.split(","):
        out[name] = PARTS[name](sc, args)
    print(json.dumps(out, separators=(",", ":")))


if __name__ == "__main__":
    main()
