"""Accuracy report: `remotecase face evaluate --faces DIR --split eval [--model-dir DIR]` prints JSON.

Protocols, both on one split only:
- "checkin": templates of 3 to 5 photos probed by single photos, scored as a check-in is (cosine with the
  template's mean embedding). The operating thresholds apply to this protocol.
- "pairs": every pair of single photos, as in the model README, for comparison.
Every photo a face is found in is scored, whether or not the quality gate would pass it, so the numbers
are conservative; the gate's verdicts are reported beside them.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from dataclasses import asdict
from pathlib import Path

import cv2
import numpy as np

from backend.face import metrics
from backend.face.dataset import (
    Scored,
    Trial,
    default_model_dir,
    engine_for,
    load_split,
    pair_trials,
    score_photos,
    template_trials,
)
from backend.face.decision import Outcome, Thresholds, decide
from backend.face.engine import FaceEngine
from backend.face.models import ModelLoadError
from backend.face.recapture import print_attack, screen_replay

TARGET_FMR = 1e-4
TARGET_FNMR = 0.05
ROC_THRESHOLDS = [round(0.1 + 0.05 * i, 2) for i in range(13)]


def _scores(trials: list[Trial]) -> tuple[np.ndarray, np.ndarray]:
    return (
        np.array([t.score for t in trials if t.genuine]),
        np.array([t.score for t in trials if not t.genuine]),
    )


def protocol_report(trials: list[Trial], thresholds: Thresholds) -> dict:
    genuine, impostor = _scores(trials)
    false_matches = int(np.sum(impostor >= thresholds.accept))
    return {
        "genuine_trials": len(genuine),
        "impostor_trials": len(impostor),
        "at_accept": {
            "threshold": thresholds.accept,
            "fmr": metrics.fmr(impostor, thresholds.accept),
            "false_matches": false_matches,
            "fmr_upper_95": round(metrics.fmr_upper_95(false_matches, len(impostor)), 6),
            "fnmr": round(metrics.fnmr(genuine, thresholds.accept), 5),
        },
        "at_reject": {
            "threshold": thresholds.reject,
            "impostors_not_rejected": round(metrics.fmr(impostor, thresholds.reject), 5),
            "genuine_rejected": round(metrics.fnmr(genuine, thresholds.reject), 5),
        },
        "tar_at_far": {
            "1e-3": metrics.tar_at_far(genuine, impostor, 1e-3),
            "1e-4": metrics.tar_at_far(genuine, impostor, 1e-4),
        },
        "genuine_scores": metrics.percentiles(genuine),
        "impostor_scores": metrics.percentiles(impostor, (50, 99, 99.9, 99.99, 100)),
        "roc": metrics.roc_points(genuine, impostor, ROC_THRESHOLDS),
    }


def outcome_shares(trials: list[Trial], thresholds: Thresholds) -> dict:
    """What a check-in would conclude, liveness included (the probe's own p(real))."""
    shares: dict[str, dict[str, float]] = {}
    for kind, genuine in (("genuine", True), ("impostor", False)):
        chosen = [t for t in trials if t.genuine == genuine]
        counts = Counter(decide(t.score, t.probe_liveness, thresholds)[0].value for t in chosen)
        shares[kind] = {
            o.value: round(counts[o.value] / len(chosen), 5) for o in Outcome if o != Outcome.REFUSED
        }
    return shares


def worst_cases(trials: list[Trial]) -> list[dict]:
    """Per enrolled identity: its weakest genuine trial and its strongest impostor trial."""
    by_identity: dict[str, list[Trial]] = defaultdict(list)
    for t in trials:
        by_identity[t.enrolled].append(t)
    rows = []
    for identity, own in by_identity.items():
        low = min((t for t in own if t.genuine), key=lambda t: t.score)
        high = max((t for t in own if not t.genuine), key=lambda t: t.score)
        rows.append(
            {
                "identity": identity,
                "lowest_genuine": {
                    "score": round(low.score, 4),
                    "probe": low.probe.name,
                    "template": list(low.enrolled_photos),
                },
                "highest_impostor": {
                    "score": round(high.score, 4),
                    "probe": high.probe.name,
                    "template": list(high.enrolled_photos),
                },
            }
        )
    return sorted(rows, key=lambda r: r["lowest_genuine"]["score"])


def liveness_report(engine: FaceEngine, scored: list[Scored], thresholds: Thresholds) -> dict:
    """Real photos against synthetic re-captures of the same photos (backend.face.recapture)."""
    rng = np.random.default_rng(0)
    real = np.array([s.liveness for s in scored if s.liveness is not None])
    report = {
        "real_photos": len(real),
        "real_below_threshold": round(float(np.mean(real < thresholds.liveness)), 4),
        "real_scores": metrics.percentiles(real, (5, 25, 50)),
    }
    for name, attack in (("screen_replay", screen_replay), ("print", print_attack)):
        scores, lower = [], []
        for s in scored:
            if s.liveness is None:
                continue
            capture = engine.analyse(attack(cv2.imread(str(s.photo.path)), rng), embed_anyway=True)
            if capture.liveness is not None:
                scores.append(capture.liveness.score)
                lower.append(capture.liveness.score < s.liveness)
        scores_arr = np.array(scores)
        report[name] = {
            "attacks": len(scores),
            "caught_below_threshold": round(float(np.mean(scores_arr < thresholds.liveness)), 4),
            "lower_than_original": round(float(np.mean(lower)), 4),
            "scores": metrics.percentiles(scores_arr, (50, 75, 95)),
        }
    return report


def evaluation_report(engine: FaceEngine, scored: list[Scored], split: str) -> dict:
    thresholds = engine.thresholds
    checkin = template_trials(scored)
    gate = Counter(code for s in scored if s.embedding is not None for code in s.reasons)
    report = {
        "split": split,
        "photos": len(scored),
        "identities": len({s.photo.identity for s in scored}),
        "no_face_found": [s.photo.name for s in scored if s.embedding is None],
        "quality_gate": {
            "passed": sum(1 for s in scored if s.embedding is not None and not s.reasons),
            "refusals_by_reason": dict(gate.most_common()),
        },
        "thresholds": asdict(thresholds),
        "models": engine.health()["models"],
        "checkin": {
            **protocol_report(checkin, thresholds),
            "outcomes_with_liveness": outcome_shares(checkin, thresholds),
            "worst_cases": worst_cases(checkin),
        },
        "pairs": protocol_report(pair_trials(scored), thresholds),
        "liveness": liveness_report(engine, scored, thresholds),
    }
    at_accept = report["checkin"]["at_accept"]
    report["targets"] = {
        "fmr_at_accept_max": TARGET_FMR,
        "fnmr_at_accept_max": TARGET_FNMR,
        "met": at_accept["fmr"] <= TARGET_FMR and at_accept["fnmr"] <= TARGET_FNMR,
    }
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="remotecase face evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=Path, required=True, help="photo folder with SPLITS.csv")
    parser.add_argument("--split", default="eval", choices=["dev", "eval"])
    parser.add_argument(
        "--model-dir", type=Path, default=default_model_dir(), help="default: $FACE_MODEL_DIR"
    )
    args = parser.parse_args(argv)
    try:
        engine = engine_for(args.model_dir)
    except ModelLoadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    scored = score_photos(engine, load_split(args.faces, args.split))
    print(json.dumps(evaluation_report(engine, scored, args.split), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
