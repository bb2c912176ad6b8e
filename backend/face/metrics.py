"""Biometric error rates over genuine and impostor scores (a trial matches when score >= threshold)."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats


def fmr(impostor: np.ndarray, threshold: float) -> float:
    return float(np.mean(impostor >= threshold))


def fnmr(genuine: np.ndarray, threshold: float) -> float:
    return float(np.mean(genuine < threshold))


def fmr_upper_95(false_matches: int, trials: int) -> float:
    """One-sided 95 % Clopper-Pearson bound: with 0 of n observed it is about 3/n (the rule of three)."""
    return float(stats.beta.ppf(0.95, false_matches + 1, trials - false_matches))


def threshold_at_fmr(impostor: np.ndarray, target: float) -> float:
    """The lowest threshold at which at most target * n impostor trials match."""
    allowed = math.floor(target * len(impostor))
    ordered = np.sort(impostor)[::-1]
    if allowed >= len(ordered):
        return float("-inf")
    return float(np.nextafter(ordered[allowed], np.inf))


def tar_at_far(genuine: np.ndarray, impostor: np.ndarray, far: float) -> dict:
    threshold = threshold_at_fmr(impostor, far)
    return {
        "tar": round(1.0 - fnmr(genuine, threshold), 5),
        "threshold": round(threshold, 4),
        "false_matches_allowed": math.floor(far * len(impostor)),
    }


def roc_points(genuine: np.ndarray, impostor: np.ndarray, thresholds: list[float]) -> list[dict]:
    return [
        {"threshold": round(t, 3), "fmr": round(fmr(impostor, t), 6), "tar": round(1.0 - fnmr(genuine, t), 5)}
        for t in sorted(thresholds)
    ]


def percentiles(values: np.ndarray, points: tuple[float, ...] = (0, 1, 5, 50, 95, 99, 100)) -> dict:
    return {f"p{p:g}": round(float(np.percentile(values, p)), 4) for p in points}
