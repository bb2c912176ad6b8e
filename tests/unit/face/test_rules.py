"""Pure pieces: pose from landmarks, the decision table, error-rate arithmetic, the calibration rules."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest

from backend.face import metrics
from backend.face.calibrate import choose_thresholds
from backend.face.decision import Outcome, Thresholds, decide
from backend.face.evaluate import main as evaluate_main
from backend.face.quality import head_pose

# insightface's ArcFace template: the landmarks of a frontal face.
FRONTAL = np.array([[38.29, 51.70], [73.53, 51.50], [56.03, 71.74], [41.55, 92.37], [70.73, 92.20]])


def test_frontal_face_has_no_pose():
    yaw, pitch, roll = head_pose(FRONTAL)
    assert abs(yaw) < 2 and abs(pitch) < 2 and abs(roll) < 1


def test_pose_signs_and_roll_independence():
    turned = FRONTAL.copy()
    turned[2, 0] += 12  # nose towards the image's right
    assert head_pose(turned)[0] > 20
    chin_up = FRONTAL.copy()
    chin_up[2, 1] -= 10  # nose closer to the eyes
    assert head_pose(chin_up)[1] > 20
    centre = FRONTAL.mean(axis=0)
    angle = np.radians(30)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    rolled = (turned - centre) @ rot.T + centre
    assert head_pose(rolled)[0] == pytest.approx(head_pose(turned)[0], abs=0.5)
    assert head_pose(rolled)[2] == pytest.approx(30, abs=0.5)


@pytest.mark.parametrize(
    ("similarity", "liveness", "outcome", "codes"),
    [
        (0.80, 0.90, Outcome.ACCEPTED, []),
        (0.80, 0.10, Outcome.DOUBTFUL, ["liveness_low"]),
        (0.40, 0.90, Outcome.DOUBTFUL, ["weak_match"]),
        (0.40, 0.10, Outcome.DOUBTFUL, ["weak_match", "liveness_low"]),
        (0.80, None, Outcome.DOUBTFUL, ["liveness_unavailable"]),
        (0.10, 0.90, Outcome.REJECTED, ["no_match"]),
        (0.10, 0.10, Outcome.REJECTED, ["no_match"]),
    ],
)
def test_decision_table(similarity, liveness, outcome, codes):
    got, reasons = decide(similarity, liveness, Thresholds(accept=0.46, reject=0.31, liveness=0.32))
    assert got is outcome
    assert [r.code for r in reasons] == codes


def test_thresholds_are_inclusive_at_the_accept_line():
    t = Thresholds()
    assert decide(t.accept, t.liveness, t)[0] is Outcome.ACCEPTED
    assert decide(t.reject, 1.0, t)[0] is Outcome.DOUBTFUL


def test_threshold_at_fmr_allows_at_most_the_target_share():
    impostor = np.arange(10_000) / 10_000  # 0.0000 .. 0.9999
    t = metrics.threshold_at_fmr(impostor, 1e-3)
    assert metrics.fmr(impostor, t) == 10 / 10_000
    assert metrics.fmr(impostor, np.nextafter(t, -1)) > 1e-3 or t <= impostor[-11]
    genuine = np.array([0.5, 0.9995, 1.0])
    assert metrics.tar_at_far(genuine, impostor, 1e-3)["tar"] == pytest.approx(2 / 3, abs=1e-4)


def test_rule_of_three_upper_bound():
    assert metrics.fmr_upper_95(0, 30_000) == pytest.approx(3 / 30_000, rel=0.01)


def test_calibration_rules_on_synthetic_scores():
    rng = np.random.default_rng(0)
    impostor = rng.normal(0.02, 0.07, 25_000)
    genuine = np.clip(rng.normal(0.72, 0.08, 900), 0.45, None)
    liveness = np.linspace(0, 1, 101)
    chosen, evidence = choose_thresholds(genuine, impostor, liveness)
    tail = evidence["impostor_normal_fmr_1e-06_point"]
    assert chosen.accept == pytest.approx(np.ceil((max(impostor.max(), tail) + 0.10) * 100) / 100)
    assert chosen.reject == pytest.approx(np.floor((genuine.min() - 0.10) * 100) / 100)
    assert chosen.liveness == 0.05


def test_evaluate_cli_prints_the_report(tmp_path, photos, model_dir, capsys):
    # A small split: two 10-photo people (enough for templates of 3-5 plus probes) and a distractor.
    people = {"Gerhard_Schroeder": "eval", "Ariel_Sharon": "eval", "Jiang_Zemin": "dev"}
    with (tmp_path / "SPLITS.csv").open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["identity", "images", "split"])
        for identity, split in people.items():
            shutil.copytree(photos / identity, tmp_path / identity)
            writer.writerow([identity, 10, split])
    assert evaluate_main(["--faces", str(tmp_path), "--split", "eval", "--model-dir", str(model_dir)]) == 0
    report = json.loads(capsys.readouterr().out)
    checkin = report["checkin"]
    assert report["photos"] == 20 and report["identities"] == 2
    assert checkin["genuine_trials"] > 0 and checkin["impostor_trials"] > 0
    assert {"fmr", "fnmr", "fmr_upper_95"} <= set(checkin["at_accept"])
    assert set(checkin["tar_at_far"]) == {"1e-3", "1e-4"}
    assert len(checkin["roc"]) >= 10
    assert {w["identity"] for w in checkin["worst_cases"]} == {"Gerhard_Schroeder", "Ariel_Sharon"}
    assert "screen_replay" in report["liveness"]
