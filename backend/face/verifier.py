"""The async face service the app holds: models loaded once, inference in a worker pool off the event loop.

At startup `open_face_service(settings.face_model_dir)` gives a FaceVerifier, or a FaceUnavailable that
says why; per check-in `await service.verify(jpeg_bytes, template)`; at shutdown `await service.aclose()`.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from backend.face.decision import Thresholds
from backend.face.engine import Capture, EnrolmentResult, FaceEngine, VerificationResult
from backend.face.models import MODEL_DIR_SETTING, ModelLoadError, load_fallback_pack, load_models
from backend.face.quality import QualityLimits
from backend.face.template import FaceTemplate


def available_cores() -> int:
    # The cores this process may run on (a container's CPU set), not the host's count.
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _timed(fn, *args):
    start = time.perf_counter()
    return fn(*args), (time.perf_counter() - start) * 1000


class FaceServiceUnavailable(RuntimeError):
    """Raised by FaceUnavailable's methods; the message names the setting that fixes it."""


class FaceVerifier:
    """One worker per core; each onnxruntime session runs single-threaded, so the pool never
    oversubscribes the cores, and onnxruntime releases the GIL while it computes."""

    available = True

    def __init__(self, engine: FaceEngine, workers: int | None = None) -> None:
        self.engine = engine
        self.workers = workers or available_cores()
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="face")

    async def _run(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def verify(self, image: bytes, template: FaceTemplate) -> VerificationResult:
        engine = self.engine
        located = await self._run(engine.locate, image)
        if isinstance(located, Capture) or located.reasons:
            capture = located if isinstance(located, Capture) else located.capture()
            return engine.judge(capture, template)
        # Embedding and liveness are independent: on an idle server they run on two cores at once, which
        # cuts a single check-in's latency; under load the queue keeps every core busy either way.
        (embedding, embed_ms), (liveness, liveness_ms) = await asyncio.gather(
            self._run(_timed, engine.embed, located.aligned),
            self._run(_timed, engine.liveness, located.img, located.face),
        )
        capture = located.capture(embedding, liveness, {"embed": embed_ms, "liveness": liveness_ms})
        return engine.judge(capture, template)

    async def enrol(self, images: Sequence[bytes]) -> EnrolmentResult:
        # Photos are analysed one after another in one worker; enrolment is rare and not latency-bound.
        return await self._run(self.engine.enrol, list(images))

    def health(self) -> dict:
        return {**self.engine.health(), "workers": self.workers}

    async def aclose(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self._pool.shutdown)


@dataclass(frozen=True)
class FaceUnavailable:
    """Stands in for FaceVerifier when the models cannot load, so the app starts and /health says why."""

    reason: str
    setting: str = MODEL_DIR_SETTING
    available = False

    def health(self) -> dict:
        return {"status": "unavailable", "reason": self.reason, "setting": self.setting}

    def _refuse(self) -> FaceServiceUnavailable:
        return FaceServiceUnavailable(f"face verification is unavailable: {self.reason} (set {self.setting})")

    async def verify(self, image: bytes, template: FaceTemplate) -> VerificationResult:
        raise self._refuse()

    async def enrol(self, images: Sequence[bytes]) -> EnrolmentResult:
        raise self._refuse()

    async def aclose(self) -> None:
        return None


def open_face_service(
    model_dir: Path | str | None,
    *,
    workers: int | None = None,
    thresholds: Thresholds | None = None,
    limits: QualityLimits | None = None,
    insightface_root: Path | None = None,
) -> FaceVerifier | FaceUnavailable:
    """Load the models once. Never raises for a missing or broken model folder: returns FaceUnavailable.

    model_dir is settings.face_model_dir (FACE_MODEL_DIR); None falls back to insightface's buffalo_l pack
    under insightface_root (default ~/.insightface), which insightface downloads where it can.
    Blocking (a fraction of a second, or a download): call it at startup, not per request.
    """
    try:
        models = load_fallback_pack(insightface_root) if model_dir is None else load_models(Path(model_dir))
    except ModelLoadError as exc:
        return FaceUnavailable(str(exc))
    return FaceVerifier(FaceEngine(models, limits=limits, thresholds=thresholds), workers)
