"""Face verification speed: one check-in's latency, throughput over all cores, overhead over bare onnxruntime.

    FACE_MODEL_DIR=../shared/models/face .venv/bin/python benchmarks/face.py [--faces DIR] [--rounds N]

Prints one JSON line. Times are medians in milliseconds. "bare" runs plain onnxruntime sessions, with the
same session options, on exactly the tensors the pipeline fed its models for the same photos: the
shipped files as they are ("bare_files") and the graphs the service actually runs, whose PRelus are
rewritten ("bare_graphs", see backend/face/models.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.face.detect import decode_image, detector_input_size  # noqa: E402
from backend.face.engine import FaceEngine  # noqa: E402
from backend.face.liveness import liveness_input  # noqa: E402
from backend.face.models import (  # noqa: E402
    DETECTOR_FILE,
    RECOGNISER_FILE,
    fast_prelu_graph,
    load_models,
    session_options,
)
from backend.face.verifier import FaceVerifier, available_cores  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def _bare_sessions(model_dir: Path, rewritten: bool) -> dict[str, ort.InferenceSession]:
    opts = session_options(1)
    cpu = ["CPUExecutionProvider"]
    names = [DETECTOR_FILE, RECOGNISER_FILE, *(m for m in os.listdir(model_dir) if "MiniFASNet" in m)]
    sessions = {}
    for name in names:
        path = model_dir / name
        graph = fast_prelu_graph(path) if rewritten and name != DETECTOR_FILE else str(path)
        sessions[name] = ort.InferenceSession(graph, sess_options=opts, providers=cpu)
    return sessions


def _model_inputs(engine: FaceEngine, data: bytes) -> dict[str, np.ndarray] | None:
    """The tensors the pipeline hands each model for this photo."""
    from insightface.utils import face_align

    img = decode_image(data)
    capture = engine.analyse(img)
    if not capture.usable:  # refused captures stop early: keep the like-for-like set
        return None
    det = engine.models.detector
    size = detector_input_size(img, engine.models.detector_sizes)
    scale = min(size[0] / img.shape[1], size[1] / img.shape[0])
    canvas = np.zeros((size[1], size[0], 3), dtype=np.uint8)
    resized = cv2.resize(img, (int(img.shape[1] * scale), int(img.shape[0] * scale)))
    canvas[: resized.shape[0], : resized.shape[1]] = resized
    aligned = face_align.norm_crop(img, landmark=capture.face.kps)
    rec = engine.models.recogniser
    inputs = {
        DETECTOR_FILE: det._prepare_input_blob(canvas, size),
        RECOGNISER_FILE: cv2.dnn.blobFromImages(
            [aligned], 1.0 / rec.input_std, rec.input_size, (rec.input_mean,) * 3, swapRB=True
        ),
    }
    for model in engine.models.liveness:
        inputs[model.name] = liveness_input(img, capture.face.bbox, model.scale)
    return inputs


def _bare_time(
    sessions: dict[str, ort.InferenceSession],
    inputs: dict[str, np.ndarray],
    per_model: dict[str, list[float]],
) -> float:
    total = 0.0
    for name, tensor in inputs.items():
        session = sessions[name]
        start = time.perf_counter()
        session.run(None, {session.get_inputs()[0].name: tensor})
        per_model.setdefault(name, []).append(_ms(start))
        total += per_model[name][-1]
    return total


async def _throughput(verifier: FaceVerifier, probes: list[bytes], template, total: int) -> float:
    # Keep every worker busy with a short queue, as a server under load would.
    queue = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(probes[i % len(probes)])

    async def client() -> None:
        while not queue.empty():
            await verifier.verify(queue.get_nowait(), template)

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(verifier.workers * 2)))
    return total / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_models = os.environ.get("FACE_MODEL_DIR", str(REPO.parent / "shared" / "models" / "face"))
    parser.add_argument("--model-dir", type=Path, default=Path(default_models))
    parser.add_argument("--faces", type=Path, default=REPO.parent / "shared" / "faces")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the probe photos")
    parser.add_argument("--probes", type=int, default=100)
    parser.add_argument("--throughput-n", type=int, default=400)
    args = parser.parse_args(argv)

    cores = available_cores()
    load_before = os.getloadavg()[0]
    models = load_models(args.model_dir)
    engine = FaceEngine(models)
    photos = sorted(args.faces.glob("*/*.jpg"))
    first = [p.read_bytes() for p in photos if p.parent.name == photos[0].parent.name]
    template = engine.enrol([d for d in first if engine.analyse(d).usable][:3]).template
    if template is None:
        raise SystemExit(f"could not enrol {photos[0].parent.name} for the benchmark")
    probes = [p.read_bytes() for p in photos[:: max(1, len(photos) // args.probes)]][: args.probes]
    tensors = [_model_inputs(engine, data) for data in probes]
    probes = [p for p, t in zip(probes, tensors, strict=True) if t is not None]
    tensors = [t for t in tensors if t is not None]
    bare_files, bare_graphs = _bare_sessions(args.model_dir, False), _bare_sessions(args.model_dir, True)

    verifier = FaceVerifier(FaceEngine(models), workers=cores)
    loop = asyncio.new_event_loop()
    for data, inputs in zip(probes[:10], tensors[:10], strict=True):  # warm caches, allocators, threads
        engine.verify(data, template)
        loop.run_until_complete(verifier.verify(data, template))
        _bare_time(bare_files, inputs, {})
        _bare_time(bare_graphs, inputs, {})

    pipeline: list[float] = []
    pipeline_cpu: list[float] = []
    service: list[float] = []
    stages: dict[str, list[float]] = {}
    files_t: list[float] = []
    graphs_t: list[float] = []
    outcomes: dict[str, int] = {}
    files_models: dict[str, list[float]] = {}
    graphs_models: dict[str, list[float]] = {}
    for _ in range(args.rounds):
        # Interleaved photo by photo, so that drift in the shared CPU hits all four alike.
        for data, inputs in zip(probes, tensors, strict=True):
            start, cpu_start = time.perf_counter(), time.thread_time()
            result = engine.verify(data, template)
            pipeline.append(_ms(start))
            # Single-threaded sessions run in this thread, so its CPU time is the work itself: unlike wall
            # time, it barely moves when other processes compete for the shared cores.
            pipeline_cpu.append((time.thread_time() - cpu_start) * 1000)
            start = time.perf_counter()
            loop.run_until_complete(verifier.verify(data, template))
            service.append(_ms(start))
            files_t.append(_bare_time(bare_files, inputs, files_models))
            graphs_t.append(_bare_time(bare_graphs, inputs, graphs_models))
            outcomes[result.outcome.value] = outcomes.get(result.outcome.value, 0) + 1
            for stage, ms in result.capture.timings_ms.items():
                stages.setdefault(stage, []).append(ms)

    loop.close()
    single = FaceVerifier(FaceEngine(models), workers=1)
    throughput_1 = asyncio.run(_throughput(single, probes, template, args.throughput_n // 2))
    throughput = asyncio.run(_throughput(verifier, probes, template, args.throughput_n))

    med = statistics.median
    pipe_p50 = med(pipeline)
    report = {
        "benchmark": "face",
        "cpu_cores": cores,
        "workers": verifier.workers,
        "ort_threads_per_session": 1,
        "probes": len(probes),
        "verifications_timed": len(pipeline),
        "outcomes": outcomes,
        "verify_p50_ms": round(pipe_p50, 2),
        "verify_p90_ms": round(float(np.percentile(pipeline, 90)), 2),
        "verify_cpu_p50_ms": round(med(pipeline_cpu), 2),
        "verify_async_p50_ms": round(med(service), 2),
        "stage_p50_ms": {k: round(med(v), 2) for k, v in stages.items()},
        "bare_files_p50_ms": round(med(files_t), 2),
        "bare_graphs_p50_ms": round(med(graphs_t), 2),
        "bare_files_model_p50_ms": {k: round(med(v), 2) for k, v in files_models.items()},
        "bare_graphs_model_p50_ms": {k: round(med(v), 2) for k, v in graphs_models.items()},
        "overhead_ratio_vs_bare_graphs": round(pipe_p50 / med(graphs_t), 3),
        "overhead_ratio_vs_bare_files": round(pipe_p50 / med(files_t), 3),
        "throughput_per_s_1_worker": round(throughput_1, 1),
        "throughput_per_s": round(throughput, 1),
        # Other work on a shared machine skews everything: a 1-minute load near 0 means a quiet run.
        "loadavg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "targets": {"verify_p50_ms": 40, "throughput_per_s": 40, "overhead_ratio": 1.2},
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
