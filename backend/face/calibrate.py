"""Pick the operating thresholds from the dev split, by fixed rules (docs/face.md, "Thresholds").

    python -m backend.face.calibrate --faces DIR [--model-dir DIR]

It prints the chosen thresholds and the dev numbers behind them; the chosen values are then written
into backend/face/decision.py (Thresholds) by hand. It refuses any split but dev: thresholds tuned on the
photos they are then judged on would say nothing.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np
from scipy import stats

from backend.face import metrics
from backend.face.dataset import (
    Scored,
    default_model_dir,
    engine_for,
    load_split,
    score_photos,
    template_trials,
)
from backend.face.decision import Thresholds
from backend.face.models import ModelLoadError

# Room left between the operating thresholds and the dev scores they are set against: for impostors
# closer than any in dev (relatives: the model README's hardest pair, two sisters, scored 0.41 as single
# photos) and for phone captures, which are further from enrolment photos than LFW photos are from
# each other.
MARGIN = 0.10
# dev holds ~25,000 impostor trials: too few to see a 1e-4 tail, let alone the 1e-6 the accept line
# aims at, so the tail comes from a normal fitted to them (it lies below the empirical tail, hence the
# maximum of the two).
ACCEPT_FMR_MODEL = 1e-6
# At most this share of dev's real photos may fall below the liveness line (each one costs a video call).
LIVENESS_FLAG_SHARE = 0.05


def _floor2(x: float) -> float:
    return math.floor(x * 100) / 100


def _ceil2(x: float) -> float:
    return math.ceil(x * 100 - 1e-9) / 100


def choose_thresholds(
    genuine: np.ndarray, impostor: np.ndarray, liveness: np.ndarray
) -> tuple[Thresholds, dict]:
    """The rules. Scores are template-protocol scores (dataset.template_trials) on dev."""
    normal_tail = float(impostor.mean() + stats.norm.isf(ACCEPT_FMR_MODEL) * impostor.std())
    accept = _ceil2(max(float(impostor.max()), normal_tail) + MARGIN)
    # The reject line keeps the same margin below the weakest genuine score: rejection counts against the
    # person, so it must be rare for them; impostors between the lines get a video call.
    reject = min(_floor2(float(genuine.min()) - MARGIN), accept)
    live = _floor2(float(np.quantile(liveness, LIVENESS_FLAG_SHARE)))
    evidence = {
        "impostor_max": round(float(impostor.max()), 4),
        "impostor_normal_fit": {
            "mean": round(float(impostor.mean()), 4),
            "std": round(float(impostor.std()), 4),
        },
        f"impostor_normal_fmr_{ACCEPT_FMR_MODEL:g}_point": round(normal_tail, 4),
        "impostor_fmr_1e-3_point": round(metrics.threshold_at_fmr(impostor, 1e-3), 4),
        "genuine_min": round(float(genuine.min()), 4),
        "margin": MARGIN,
        "liveness_real_p5": round(float(np.quantile(liveness, LIVENESS_FLAG_SHARE)), 4),
    }
    return Thresholds(accept=accept, reject=reject, liveness=live), evidence


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="remotecase face calibrate", description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=Path, required=True, help="photo folder with SPLITS.csv")
    parser.add_argument("--split", default="dev", choices=["dev"], help="always dev")
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
    trials = template_trials(scored)
    genuine = np.array([t.score for t in trials if t.genuine])
    impostor = np.array([t.score for t in trials if not t.genuine])
    liveness = np.array([s.liveness for s in scored if s.liveness is not None])
    chosen, evidence = choose_thresholds(genuine, impostor, liveness)
    report = {
        "split": args.split,
        "photos": len(scored),
        "genuine_trials": len(genuine),
        "impostor_trials": len(impostor),
        "thresholds": asdict(chosen),
        "in_code": asdict(Thresholds()),
        "evidence": evidence,
        "dev_at_chosen": {
            "fmr_at_accept": metrics.fmr(impostor, chosen.accept),
            "fnmr_at_accept": round(metrics.fnmr(genuine, chosen.accept), 5),
            "impostors_not_rejected": round(metrics.fmr(impostor, chosen.reject), 5),
            "genuine_rejected": metrics.fnmr(genuine, chosen.reject),
            "real_photos_below_liveness": round(float(np.mean(liveness < chosen.liveness)), 4),
        },
        "quality_measures": _quality_percentiles(scored),
    }
    print(json.dumps(report, indent=2))
    return 0


def _quality_percentiles(scored: list[Scored]) -> dict:
    """The dev distribution the quality limits (QualityLimits) were read from."""
    reports = [s.quality for s in scored if s.quality is not None]
    fields = ("face_px", "sharpness", "yaw_deg", "pitch_deg", "brightness")
    return {f: metrics.percentiles(np.array([getattr(r, f) for r in reports])) for f in fields}


if __name__ == "__main__":
    raise SystemExit(main())
