"""Keypoint accuracy of each pose backend on the fixed DeepLabCut open-field split.

Each backend is trained through etholoop's own API (`train_pose`) on the frames
of `../shared/splits/dlc_openfield_seed0.json` (83 train-fit frames, or a
subset of 40 or 20; the 10 val frames pick the epoch) and scored on its 23
test frames by the split README's conventions, through the backend's own
detector (no ground-truth crops): RMSE in px over every labeled test keypoint
(overall and per keypoint), PCK@0.05 and @0.1 of each frame's ground-truth
keypoint-box diagonal (a frame without a prediction misses all its keypoints),
the top-scoring instance per frame scored. OKS mAP comes from `evaluate_run`.
Training wall time and inference frames/s on the 640x480 test frames (one
image per call) are printed beside them.

    .venv/bin/python benchmarks/pose_accuracy.py [--backends heatmap,yolo]
        [--sizes 83,40,20] [--heatmap-epochs N] [--yolo-epochs 70] [--device cpu]

Results accumulate in `benchmarks/output/pose-accuracy/results.json` (one
record per backend and size; a rerun replaces its own records).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from dlc_split import DLC_LABELS, FIXED_SPLIT, MOUSE, apply_fixed_split, new_project
from PIL import Image

from etholoop.frame_cache import frame_image_paths
from etholoop.pose.backend import TrainParams
from etholoop.pose.evaluate import evaluate_run
from etholoop.pose.predict import load_predictor, predict_images
from etholoop.pose.train import train_pose
from etholoop.project import Project
from etholoop.store import load_instances_by_frame
from etholoop.types import Instance

OUTPUT = Path(__file__).parent / "output" / "pose-accuracy"
os.environ.setdefault("ETHOLOOP_CACHE", str(OUTPUT / "cache"))
PCK_THRESHOLDS = (0.05, 0.1)
FPS_PASSES = 2


def score_frames(
    truth: list[Instance], found: list[list[Instance]], names: list[str]
) -> dict[str, Any]:
    """RMSE (overall, per keypoint) and PCK by the fixed split's conventions."""
    squared: list[list[float]] = [[] for _ in names]
    hits = dict.fromkeys(PCK_THRESHOLDS, 0)
    n_points = 0
    for true, predictions in zip(truth, found, strict=True):
        labeled = true.visibility > 0
        points = true.keypoints[labeled]
        n_points += int(labeled.sum())
        if not predictions:
            continue
        best = max(
            predictions, key=lambda i: -np.inf if i.box_score is None else i.box_score
        )
        size = points.max(axis=0) - points.min(axis=0)
        diagonal = float(np.hypot(*size))
        errors = np.linalg.norm(best.keypoints - true.keypoints, axis=1)
        for k in np.flatnonzero(labeled):
            if np.isnan(errors[k]):
                continue
            squared[k].append(float(errors[k]) ** 2)
            for threshold in PCK_THRESHOLDS:
                hits[threshold] += bool(errors[k] <= threshold * diagonal)
    every = [e for per_keypoint in squared for e in per_keypoint]
    return {
        "rmse": float(np.sqrt(np.mean(every))) if every else None,
        "rmse_per_keypoint": {
            name: float(np.sqrt(np.mean(e))) if e else None
            for name, e in zip(names, squared, strict=True)
        },
        "pck": {str(t): hits[t] / n_points for t in PCK_THRESHOLDS},
        "n_frames": len(truth),
        "n_without_prediction": sum(not f for f in found),
    }


def frames_per_second(project: Project, run_id: int, frame_ids: list[int]) -> float:
    """Inference speed on the test frames, one image per call, model loaded."""
    _, predictor = load_predictor(project, run_id)
    paths = frame_image_paths(project, frame_ids)
    images = [np.asarray(Image.open(paths[f]).convert("RGB")) for f in frame_ids]
    predictor.predict(images[:1])  # warm-up
    started = time.perf_counter()
    for _ in range(FPS_PASSES):
        for image in images:
            predictor.predict([image])
    return FPS_PASSES * len(images) / (time.perf_counter() - started)


def run_one(backend: str, n_fit: int, params: TrainParams, out: Path) -> dict[str, Any]:
    """Train `backend` on `n_fit` frames of the fixed split; its scores."""
    root = out / "projects" / f"{backend}-{n_fit}"
    with new_project(root) as project:
        split = apply_fixed_split(project, n_fit)
        started = time.perf_counter()
        trained = train_pose(project, params, backend=backend)
        train_seconds = time.perf_counter() - started
        _, predictor = load_predictor(project, trained.run_id, min_score=0.0)
        found = predict_images(project, predictor, split["test"])
        with project.store.session() as session:
            truth = load_instances_by_frame(
                session, frame_ids=split["test"], sources=("manual",)
            )
        scores = score_frames(
            [truth[f][0] for f in split["test"]],
            [found[f] for f in split["test"]],
            MOUSE.keypoints,
        )
        metrics = evaluate_run(project, run_id=trained.run_id).metrics
        fps = frames_per_second(project, trained.run_id, split["test"])
    return {
        "backend": backend,
        "n_fit": len(split["fit"]),
        "epochs": params.epochs,
        "imgsz": params.imgsz,
        "train_seconds": train_seconds,
        "oks_map50_95": metrics.oks_map50_95,
        "fps": fps,
        **scores,
    }


def _cell(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def print_table(results: list[dict[str, Any]]) -> None:
    """The results side by side, one row per backend and training-set size."""
    names = MOUSE.keypoints
    header = (
        f"{'backend':<8} {'frames':>6} {'train s':>8} {'RMSE':>6} "
        + " ".join(f"{n:>6}" for n in names)
        + f" {'PCK.05':>6} {'PCK.1':>6} {'OKS mAP':>7} {'fps':>6} {'missed':>6}"
    )
    print(header)
    for r in sorted(results, key=lambda r: (r["backend"], -r["n_fit"])):
        per = " ".join(_cell(r["rmse_per_keypoint"][n], "6.2f") for n in names)
        print(
            f"{r['backend']:<8} {r['n_fit']:>6} {r['train_seconds']:>8.0f} "
            f"{_cell(r['rmse'], '6.2f')} {per} {r['pck']['0.05']:>6.2f} "
            f"{r['pck']['0.1']:>6.2f} {_cell(r['oks_map50_95'], '7.3f')} "
            f"{r['fps']:>6.1f} {r['n_without_prediction']:>6}"
        )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default="heatmap,yolo")
    parser.add_argument("--sizes", default="83,40,20", help="train-fit frames")
    parser.add_argument("--heatmap-epochs", type=int, default=35)
    parser.add_argument("--heatmap-imgsz", type=int, default=160)
    parser.add_argument("--yolo-epochs", type=int, default=70)
    parser.add_argument("--yolo-imgsz", type=int, default=320)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--device", default=None, help="cpu, a GPU index, or auto")
    parser.add_argument("--out", type=Path, default=OUTPUT, help="results folder")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if not (DLC_LABELS.is_file() and FIXED_SPLIT.is_file()):
        sys.exit(f"needs {DLC_LABELS} and {FIXED_SPLIT} (../shared)")
    args.out.mkdir(parents=True, exist_ok=True)
    results_json = args.out / "results.json"
    results: list[dict[str, Any]] = (
        json.loads(results_json.read_text()) if results_json.is_file() else []
    )
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for backend in args.backends.split(","):
        epochs = args.heatmap_epochs if backend == "heatmap" else args.yolo_epochs
        imgsz = args.heatmap_imgsz if backend == "heatmap" else args.yolo_imgsz
        params = TrainParams(
            epochs=epochs, imgsz=imgsz, batch=args.batch, workers=0, device=args.device
        )
        for n_fit in (int(n) for n in args.sizes.split(",")):
            result = run_one(backend, n_fit, params, args.out)
            results = [
                r
                for r in results
                if (r["backend"], r["n_fit"]) != (backend, result["n_fit"])
            ] + [result]
            results_json.write_text(json.dumps(results, indent=2) + "\n")
            print_table([result])
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    print_table(results)


if __name__ == "__main__":
    main()
