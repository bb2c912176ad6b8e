"""Load the face models once, through insightface's own loaders, with onnxruntime tuned for serving.

Each verification runs on one worker thread and every session runs single-threaded and sequential, so N
workers use N cores and never oversubscribe them (onnxruntime releases the GIL while it runs).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import onnx.numpy_helper
import onnxruntime as ort
from insightface.app import FaceAnalysis
from insightface.model_zoo import model_zoo
from insightface.model_zoo.arcface_onnx import ArcFaceONNX
from insightface.model_zoo.scrfd import SCRFD

MODEL_DIR_SETTING = "FACE_MODEL_DIR"
DETECTOR_FILE = "det_500m.onnx"
RECOGNISER_FILE = "w600k_mbf_int8.onnx"
# Silent-Face-Anti-Spoofing: each model sees a crop of the face box scaled by its own factor.
LIVENESS_FILES: dict[str, float] = {
    "2.7_80x80_MiniFASNetV2.onnx": 2.7,
    "4_0_0_80x80_MiniFASNetV1SE.onnx": 4.0,
}
# The files the thresholds in decision.py were calibrated with (SOURCES.md); another file still loads,
# but health info then says the thresholds are not calibrated for it.
CALIBRATED_SHA256: dict[str, str] = {
    DETECTOR_FILE: "5e4447f50245bbd7966bd6c0fa52938c61474a04ec7def48753668a9d8b4ea3a",
    RECOGNISER_FILE: "7caa7fb0ad6c37b33e6c59f6411084b487aaabd596bba645d2cce391a5871120",
    "2.7_80x80_MiniFASNetV2.onnx": "f0616a1c7123d4978623910241b812943d2d5bba032eac26cc0416764517ef4a",
    "4_0_0_80x80_MiniFASNetV1SE.onnx": "993e41cad1ca54f02ae4a67bb3f6f41e8091ebc5310f295fa823c51747649384",
}
FALLBACK_PACK = "buffalo_l"
# Square detector input sizes: the smallest that holds the image is used, so a face is hardly ever
# upscaled (det_500m at 640 misses faces that fill a small frame); 256 suits 250 px LFW photos.
DETECTOR_SIZES: tuple[int, ...] = (256, 384, 640)


class ModelLoadError(RuntimeError):
    """The models could not be loaded; the message says why, for health info and logs."""


@dataclass(frozen=True)
class ModelInfo:
    file: str
    role: str
    sha256: str

    @property
    def calibrated(self) -> bool:
        return CALIBRATED_SHA256.get(self.file) == self.sha256


@dataclass(frozen=True)
class LivenessModel:
    name: str
    scale: float
    session: ort.InferenceSession
    input_name: str


@dataclass(frozen=True)
class FaceModels:
    detector: SCRFD
    recogniser: ArcFaceONNX
    liveness: tuple[LivenessModel, ...]
    info: tuple[ModelInfo, ...]
    source: str
    detector_sizes: tuple[int, ...] = DETECTOR_SIZES  # the input sizes whose sessions are built

    @property
    def recogniser_id(self) -> str:
        """Names the embedding space; stored in templates so a model swap is caught, not mis-scored."""
        rec = next(m for m in self.info if m.role == "recogniser")
        return f"{rec.file}:{rec.sha256[:16]}"


def session_options(threads: int = 1) -> ort.SessionOptions:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Spinning threads would burn the core another worker needs.
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # det_500m and the int8 model declare static output shapes that ORT warns about on every load.
    opts.log_severity_level = 3
    return opts


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


_CPU = ["CPUExecutionProvider"]


def fast_prelu_graph(model_path: Path) -> bytes:
    """The model with each PRelu written in elementwise ops that onnxruntime runs fast.

    onnxruntime's PRelu takes a slow broadcasting path for per-channel (C,1,1) slopes: a third of
    MobileFaceNet's time. Both rewrites are exact in IEEE arithmetic, so outputs are bit-identical
    (tests/unit/face checks it): Max(x, slope*x) when the slope is a constant <= 1 (x > 0: slope*x <= x;
    x < 0: slope*x >= x), else Relu(x) - slope*Relu(-x).
    """
    model = onnx.load(str(model_path))
    constants = {init.name: init for init in model.graph.initializer}
    nodes = []
    for node in model.graph.node:
        if node.op_type != "PRelu":
            nodes.append(node)
            continue
        (x, slope), (y,) = node.input, node.output
        make = onnx.helper.make_node
        if slope in constants and np.all(onnx.numpy_helper.to_array(constants[slope]) <= 1):
            nodes += [make("Mul", [x, slope], [f"{y}/scaled"]), make("Max", [x, f"{y}/scaled"], [y])]
        else:
            nodes += [
                make("Relu", [x], [f"{y}/pos"]),
                make("Neg", [x], [f"{y}/neg_x"]),
                make("Relu", [f"{y}/neg_x"], [f"{y}/neg"]),
                make("Mul", [f"{y}/neg", slope], [f"{y}/scaled"]),
                make("Sub", [f"{y}/pos", f"{y}/scaled"], [y]),
            ]
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    return model.SerializeToString()


def _prepare_detector(detector: SCRFD, sizes: tuple[int, ...]) -> None:
    detector.prepare(0, input_size=(sizes[0], sizes[0]), det_thresh=0.5)
    # Build every size's session now (insightface makes one per input shape), not on a live request.
    blank = np.zeros((sizes[0], sizes[0], 3), dtype=np.uint8)
    for size in sizes:
        detector.detect(blank, input_size=(size, size))


def load_models(model_dir: Path, *, detector_sizes: tuple[int, ...] = DETECTOR_SIZES) -> FaceModels:
    """Load detector, recogniser and both liveness models from one folder, or raise ModelLoadError."""
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise ModelLoadError(f"{MODEL_DIR_SETTING}={model_dir} is not a folder")
    needed = [DETECTOR_FILE, RECOGNISER_FILE, *LIVENESS_FILES]
    missing = [name for name in needed if not (model_dir / name).is_file()]
    if missing:
        raise ModelLoadError(f"{MODEL_DIR_SETTING}={model_dir} lacks {', '.join(missing)}")
    opts = session_options()
    try:
        detector = model_zoo.get_model(str(model_dir / DETECTOR_FILE), providers=_CPU, sess_options=opts)
        recogniser = model_zoo.get_model(str(model_dir / RECOGNISER_FILE), providers=_CPU, sess_options=opts)
        if not isinstance(detector, SCRFD) or not isinstance(recogniser, ArcFaceONNX):
            raise ModelLoadError(f"{MODEL_DIR_SETTING}={model_dir}: insightface did not recognise the models")
        # insightface keeps its preprocessing and routing; only the session is swapped for the same graph
        # with fast PRelus.
        recogniser.session = ort.InferenceSession(
            fast_prelu_graph(model_dir / RECOGNISER_FILE), sess_options=opts, providers=_CPU
        )
        _prepare_detector(detector, detector_sizes)
        liveness = []
        for name, scale in LIVENESS_FILES.items():
            graph = fast_prelu_graph(model_dir / name)
            session = ort.InferenceSession(graph, sess_options=opts, providers=_CPU)
            liveness.append(LivenessModel(name, scale, session, session.get_inputs()[0].name))
    except ModelLoadError:
        raise
    except Exception as exc:  # a corrupt or foreign file: report it rather than crash the app
        raise ModelLoadError(f"{MODEL_DIR_SETTING}={model_dir}: cannot load models: {exc}") from exc
    roles = {DETECTOR_FILE: "detector", RECOGNISER_FILE: "recogniser"}
    info = tuple(
        ModelInfo(name, roles.get(name, "liveness"), sha256_file(model_dir / name)) for name in needed
    )
    return FaceModels(detector, recogniser, tuple(liveness), info, str(model_dir), detector_sizes)


def load_fallback_pack(
    root: Path | None = None, *, detector_sizes: tuple[int, ...] = DETECTOR_SIZES
) -> FaceModels:
    """No folder configured: insightface's buffalo_l pack, if it is already on disk under `root`.

    Never downloads (insightface would fetch it from GitHub at start-up): models are installed, not pulled
    by a running service. The pack has no liveness model, so every verification made with it stays at
    most doubtful.
    """
    root = Path(root) if root else Path(os.path.expanduser("~/.insightface"))
    pack = root / "models" / FALLBACK_PACK
    if not pack.is_dir() or not any(pack.glob("*.onnx")):
        raise ModelLoadError(
            f"{MODEL_DIR_SETTING} is not set, and there is no insightface {FALLBACK_PACK} pack under {pack}"
        )
    try:
        app = FaceAnalysis(
            name=FALLBACK_PACK,
            root=str(root),
            allowed_modules=["detection", "recognition"],
            providers=_CPU,
            sess_options=session_options(),
        )
        detector, recogniser = app.models["detection"], app.models["recognition"]
        _prepare_detector(detector, detector_sizes)
    except Exception as exc:  # no network, a half-extracted pack, ...: the caller reports it
        raise ModelLoadError(
            f"{MODEL_DIR_SETTING} is not set and insightface's {FALLBACK_PACK} pack could not be loaded "
            f"from {root}: {exc}"
        ) from exc
    info = tuple(
        ModelInfo(Path(model.model_file).name, role, sha256_file(Path(model.model_file)))
        for role, model in (("detector", detector), ("recogniser", recogniser))
    )
    return FaceModels(detector, recogniser, (), info, f"insightface:{FALLBACK_PACK}", detector_sizes)
