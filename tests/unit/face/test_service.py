"""The async service, model loading, health info and the unavailable path."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort
import pytest
from insightface.utils import face_align

from backend.face.decision import Outcome
from backend.face.detect import decode_image, detect_faces
from backend.face.engine import FaceEngine
from backend.face.models import CALIBRATED_SHA256, MODEL_DIR_SETTING, fast_prelu_graph, session_options
from backend.face.verifier import FaceServiceUnavailable, FaceUnavailable, FaceVerifier, open_face_service

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def verifier(models):
    service = FaceVerifier(FaceEngine(models), workers=2)
    yield service
    asyncio.run(service.aclose())


def test_async_enrol_and_verify_match_the_sync_engine(verifier, engine, photo_bytes):
    async def scenario():
        enrolled = await verifier.enrol([photo_bytes("Gerhard_Schroeder", n) for n in (1, 2, 3)])
        probes = [photo_bytes("Gerhard_Schroeder", 5), photo_bytes("Jiang_Zemin", 1), b"junk"]
        return enrolled, await asyncio.gather(*(verifier.verify(p, enrolled.template) for p in probes))

    enrolled, (same, other, junk) = asyncio.run(scenario())
    assert enrolled.ok
    assert (same.outcome, other.outcome, junk.outcome) == (
        Outcome.ACCEPTED,
        Outcome.REJECTED,
        Outcome.REFUSED,
    )
    # The async path runs embedding and liveness side by side; the scores are exactly the sync ones.
    sync = engine.verify(photo_bytes("Gerhard_Schroeder", 5), enrolled.template)
    assert same.similarity == sync.similarity
    assert same.liveness == sync.liveness
    assert set(same.capture.timings_ms) == set(sync.capture.timings_ms)


def test_verification_runs_off_the_event_loop(verifier, engine, photo_bytes):
    template = engine.enrol([photo_bytes("Gerhard_Schroeder", n) for n in (1, 2, 3)]).template
    ticks = 0

    async def ticker(stop: asyncio.Event) -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0.002)

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(ticker(stop))
        probe = photo_bytes("Gerhard_Schroeder", 5)
        await asyncio.gather(*(verifier.verify(probe, template) for _ in range(6)))
        stop.set()
        await task

    asyncio.run(scenario())
    assert ticks > 5  # the loop kept turning while the workers computed


def test_health_lists_models_with_checksums(verifier):
    health = verifier.health()
    assert health["status"] == "ok"
    assert health["workers"] == 2
    assert health["liveness"] is True
    files = {m["file"]: m for m in health["models"]}
    assert set(files) == set(CALIBRATED_SHA256)
    for name, model in files.items():
        assert model["sha256"] == CALIBRATED_SHA256[name]
        assert model["calibrated"] is True


def test_missing_model_folder_gives_unavailable_not_a_crash(tmp_path):
    service = open_face_service(tmp_path / "nowhere")
    assert isinstance(service, FaceUnavailable)
    assert service.available is False
    assert service.setting == MODEL_DIR_SETTING == "FACE_MODEL_DIR"
    assert service.health() == {
        "status": "unavailable",
        "reason": service.reason,
        "setting": MODEL_DIR_SETTING,
    }
    assert "not a folder" in service.reason
    with pytest.raises(FaceServiceUnavailable, match="FACE_MODEL_DIR"):
        asyncio.run(service.verify(b"", None))


def test_incomplete_model_folder_names_what_is_missing(tmp_path, model_dir):
    shutil.copy(model_dir / "det_500m.onnx", tmp_path)
    service = open_face_service(tmp_path)
    assert isinstance(service, FaceUnavailable)
    assert "w600k_mbf_int8.onnx" in service.reason and "MiniFASNetV2" in service.reason


def test_corrupt_model_file_gives_unavailable(tmp_path, model_dir):
    for path in model_dir.glob("*.onnx"):
        shutil.copy(path, tmp_path)
    (tmp_path / "w600k_mbf_int8.onnx").write_bytes(b"\0" * 1000)
    service = open_face_service(tmp_path)
    assert isinstance(service, FaceUnavailable)
    assert "cannot load" in service.reason


def test_rewritten_prelu_graph_gives_bit_identical_outputs(model_dir, photo_bytes, models):
    img = decode_image(photo_bytes("Gerhard_Schroeder", 5))
    face = detect_faces(models.detector, img, (256,))[0]
    aligned = face_align.norm_crop(img, landmark=face.kps)
    rec = models.recogniser
    blob = rec.session.get_inputs()[0].name
    # insightface's own preprocessing (get_feat); the int8 model amplifies even float rounding differences.
    tensor = cv2.dnn.blobFromImages([aligned], 1.0 / 127.5, (112, 112), (127.5,) * 3, swapRB=True)
    shipped = ort.InferenceSession(str(model_dir / "w600k_mbf_int8.onnx"), session_options(1))
    rewritten = ort.InferenceSession(fast_prelu_graph(model_dir / "w600k_mbf_int8.onnx"), session_options(1))
    expected = shipped.run(None, {blob: tensor})[0]
    assert np.array_equal(rewritten.run(None, {blob: tensor})[0], expected)
    assert np.array_equal(rec.get_feat(aligned), expected)  # the service's own preprocessing agrees too
    for model in models.liveness:
        crop = np.random.default_rng(0).uniform(0, 255, (1, 3, 80, 80)).astype(np.float32)
        plain = ort.InferenceSession(str(model_dir / model.name), session_options(1))
        feed = {model.input_name: crop}
        assert np.array_equal(model.session.run(None, feed)[0], plain.run(None, feed)[0])


def test_sessions_are_single_threaded_and_sequential():
    opts = session_options()
    assert opts.intra_op_num_threads == 1 and opts.inter_op_num_threads == 1
    assert opts.execution_mode == ort.ExecutionMode.ORT_SEQUENTIAL


def test_fallback_pack_serves_without_liveness(tmp_path, model_dir, photo_bytes):
    # A pack already in insightface's root loads without any download; it has no liveness model, so the
    # best a check-in can get is doubtful.
    pack = tmp_path / "models" / "buffalo_l"
    pack.mkdir(parents=True)
    for name in ("det_500m.onnx", "w600k_mbf_int8.onnx"):
        shutil.copy(model_dir / name, pack)
    service = open_face_service(None, insightface_root=tmp_path, workers=1)
    assert isinstance(service, FaceVerifier)

    async def scenario():
        enrolled = await service.enrol([photo_bytes("Gerhard_Schroeder", n) for n in (1, 2, 3)])
        result = await service.verify(photo_bytes("Gerhard_Schroeder", 5), enrolled.template)
        await service.aclose()
        return result

    result = asyncio.run(scenario())
    assert service.health()["source"] == "insightface:buffalo_l"
    assert service.health()["liveness"] is False
    assert result.outcome is Outcome.DOUBTFUL
    assert [r.code for r in result.reasons] == ["liveness_unavailable"]


def test_no_folder_and_no_pack_on_disk_is_reported_without_downloading(tmp_path, monkeypatch):
    import socket

    attempts = []

    def no_network(*args, **kwargs):
        attempts.append(args)
        raise OSError("no network in this test")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    service = open_face_service(None, insightface_root=tmp_path, workers=1)
    assert attempts == []
    assert not isinstance(service, FaceVerifier)
    assert "FACE_MODEL_DIR is not set" in service.reason and "buffalo_l" in service.reason
    assert service.setting == "FACE_MODEL_DIR"


def test_face_package_imports_no_web_framework_or_database():
    code = "import json, sys, backend.face; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    loaded = json.loads(out.stdout)
    forbidden = ("litestar", "piccolo", "asyncpg", "aiosqlite", "backend.db", "backend.web")
    assert not [m for m in loaded if m.startswith(forbidden)]
