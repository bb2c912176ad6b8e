"""Real models and real photos, loaded once per session.

FACE_MODEL_DIR and FACE_PHOTOS_DIR point at them; for local runs they default to the shared folders beside
the repository. Tests that need them are skipped, with the reason, where they are absent.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:  # pytest's rootdir is not on sys.path unless the project is installed
    sys.path.insert(0, str(REPO))

from backend.face.engine import FaceEngine  # noqa: E402
from backend.face.models import FaceModels, load_models  # noqa: E402

MODEL_DIR = Path(os.environ.get("FACE_MODEL_DIR") or REPO.parent / "shared" / "models" / "face")
PHOTOS_DIR = Path(os.environ.get("FACE_PHOTOS_DIR") or REPO.parent / "shared" / "faces")


def pytest_configure(config: pytest.Config) -> None:
    # backend.face.engine silences this at import, but pytest rolls back filters set while collecting.
    config.addinivalue_line("filterwarnings", "ignore:`estimate` is deprecated:FutureWarning")


@pytest.fixture(scope="session")
def model_dir() -> Path:
    if not (MODEL_DIR / "w600k_mbf_int8.onnx").is_file():
        pytest.skip(f"face models not found in {MODEL_DIR}: set FACE_MODEL_DIR")
    return MODEL_DIR


@pytest.fixture(scope="session")
def models(model_dir: Path) -> FaceModels:
    return load_models(model_dir)


@pytest.fixture(scope="session")
def engine(models: FaceModels) -> FaceEngine:
    return FaceEngine(models)


@pytest.fixture(scope="session")
def photos() -> Path:
    if not (PHOTOS_DIR / "SPLITS.csv").is_file():
        pytest.skip(f"face photos not found in {PHOTOS_DIR}: set FACE_PHOTOS_DIR")
    return PHOTOS_DIR


@pytest.fixture(scope="session")
def photo_path(photos: Path):
    """photo_path("Venus_Williams", 3) -> the path of Venus_Williams_0003.jpg."""
    return lambda identity, number: photos / identity / f"{identity}_{number:04d}.jpg"


@pytest.fixture(scope="session")
def photo_bytes(photo_path):
    return lambda identity, number: photo_path(identity, number).read_bytes()


@pytest.fixture(scope="session")
def photo_image(photo_path):
    return lambda identity, number: cv2.imread(str(photo_path(identity, number)))


@pytest.fixture(scope="session")
def jpeg():
    def encode(img: np.ndarray) -> bytes:
        ok, data = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 95])
        assert ok
        return data.tobytes()

    return encode
