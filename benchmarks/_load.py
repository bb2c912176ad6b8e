"""Shared by the benchmarks that load a live `remotecase run`: its worker count and the latency ranks."""

from __future__ import annotations

import argparse
import math
import os


def add_workers_option(parser: argparse.ArgumentParser) -> None:
    """--workers, by default one server process per core, as the service is deployed."""
    try:
        cores = len(os.sched_getaffinity(0))  # the cores this process may run on, not the host's count
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    parser.add_argument(
        "--workers",
        type=int,
        default=cores,
        help="server processes (remotecase run --workers); default one per core, as it is deployed",
    )


def nearest_rank(ranked: list[float], q: float) -> float:
    """The q-quantile (0 < q <= 1) of an ascending list by the nearest-rank method."""
    return ranked[max(0, math.ceil(q * len(ranked)) - 1)]
