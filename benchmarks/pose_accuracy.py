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

Generalization (`--generalization`): the model of the largest training set
(83 frames by default; not trained again) scores composed arenas of 1-4 mice
(`--synth-animals`), made as `etholoop synth --from-labeled` makes them
(`make_composed_arena`) from the very frames it was trained on: the train-fit
frames, so no test frame's mouse appears, mice at their source size, the
source's 640x480 background, a fixed seed. Every `--synth-step`-th simulated
frame is scored, `--synth-frames` per arena, through the backend's own
detector: predictions (box score >= 0.25, as many as it finds) are matched
to the true animals by `metrics.evaluate_pose` (Hungarian on mean keypoint
distance), which gives the RMSE over matched keypoints, the share of true
animals found, extra detections, PCK (here of the truth box's larger side,
etholoop's convention) and OKS mAP, per animal count.

Pretraining (`--pretrain`): one project holds every labeled frame and the
folder's unlabeled video of another session (`dlc_split.DLC_VIDEO`), and
`pretrain_encoder` pretrains the heatmap encoder once on `--pretrain-frames`
frames of that video (it reads video files only, not the labeled images);
each size of `--pretrain-sizes` trains the heatmap backend in a copy of that
project (which `train_pose` then starts from the pretrained encoder) and is
compared with the same training without pretraining (the heatmap row of this
run at that size, else trained for the comparison).

    .venv/bin/python benchmarks/pose_accuracy.py [--backends heatmap,yolo]
        [--sizes 83,40,20] [--heatmap-epochs 70] [--yolo-epochs 70] [--device cpu]
        [--no-generalization] [--synth-animals 1,2,3,4] [--synth-frames 30]
        [--no-pretrain] [--pretrain-sizes 40,20] [--pretrain-frames 1000]
        [--pretrain-epochs 10]

Results accumulate in `benchmarks/output/pose-accuracy/results.json`, one
record per kind ("accuracy", "generalization", "pretrained"), backend, size
and animal count; a rerun replaces its own records.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from dlc_split import (
    DLC_LABELS,
    DLC_VIDEO,
    FIXED_SPLIT,
    MOUSE,
    apply_fixed_split,
    new_project,
)
from numpy.typing import NDArray
from PIL import Image

from etholoop.frame_cache import frame_image_paths
from etholoop.ingest import add_videos
from etholoop.io import save_labels
from etholoop.label_files import project_label_set
from etholoop.pose.backend import MIN_BOX_SCORE, TrainParams
from etholoop.pose.dataset import MANUAL
from etholoop.pose.evaluate import MAP_MIN_SCORE, evaluate_run
from etholoop.pose.metrics import evaluate_pose
from etholoop.pose.predict import load_predictor, predict_images
from etholoop.pose.pretrain import PretrainParams, pretrain_encoder
from etholoop.pose.train import train_pose
from etholoop.progress import silent
from etholoop.project import Project
from etholoop.store import load_instances_by_frame
from etholoop.synth import (
    COMPOSABLE_BEHAVIORS,
    ArenaSpec,
    SourceMice,
    load_source_mice,
    make_composed_arena,
)
from etholoop.synth.compose import body_axis
from etholoop.types import Instance

OUTPUT = Path(__file__).parent / "output" / "pose-accuracy"
os.environ.setdefault("ETHOLOOP_CACHE", str(OUTPUT / "cache"))
PCK_THRESHOLDS = (0.05, 0.1)
FPS_PASSES = 2

Record = dict[str, Any]


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


def train_and_score(
    project: Project, backend: str, split: dict[str, list[int]], params: TrainParams
) -> Record:
    """Train `backend` on the split's fit frames; its scores on the test frames."""
    started = time.perf_counter()
    trained = train_pose(project, params, backend=backend)
    train_seconds = time.perf_counter() - started
    _, predictor = load_predictor(project, trained.run_id, min_score=0.0)
    found = predict_images(project, predictor, split["test"])
    with project.store.session() as session:
        truth = load_instances_by_frame(
            session, frame_ids=split["test"], sources=MANUAL
        )
    scores = score_frames(
        [truth[f][0] for f in split["test"]],
        [found[f] for f in split["test"]],
        MOUSE.keypoints,
    )
    metrics = evaluate_run(project, run_id=trained.run_id).metrics
    return {
        "kind": "accuracy",
        "backend": backend,
        "n_fit": len(split["fit"]),
        "run_id": trained.run_id,
        "epochs": params.epochs,
        "imgsz": params.imgsz,
        "train_seconds": train_seconds,
        "oks_map50_95": metrics.oks_map50_95,
        "fps": frames_per_second(project, trained.run_id, split["test"]),
        **scores,
    }


def source_mice(project: Project, frame_ids: list[int], path: Path) -> SourceMice:
    """The mice of `frame_ids`, written to `path` and read back as `synth` reads it."""
    labels = project_label_set(
        project, with_images=False, frame_ids=frame_ids, sources=MANUAL
    ).labels
    path.parent.mkdir(parents=True, exist_ok=True)
    save_labels(labels, path)
    return load_source_mice(path)


def composed_arena(
    source: SourceMice, n_animals: int, args: argparse.Namespace
) -> tuple[list[NDArray[np.uint8]], list[list[Instance]]]:
    """Frames and true animals of a composed arena, mice at their source size."""
    front, back = body_axis(source.keypoints, source.skeleton.keypoints)
    height, width = source.images.shape[1:3]
    spec = ArenaSpec(
        n_animals=n_animals,
        n_frames=args.synth_frames * args.synth_step,
        width=width,
        height=height,
        seed=args.synth_seed,
        behaviors=COMPOSABLE_BEHAVIORS,
        body_length=float(np.nanmedian(np.linalg.norm(front - back, axis=1))),
    )
    arena = make_composed_arena(spec, source)
    truth = arena.to_label_set("arena").frames
    scored = range(0, spec.n_frames, args.synth_step)
    return [arena.render(t) for t in scored], [list(truth[t].instances) for t in scored]


def generalization(
    project: Project, record: Record, fit: list[int], args: argparse.Namespace
) -> list[Record]:
    """Scores of the run of `record` on composed arenas of its `fit` frames' mice."""
    backend = record["backend"]
    path = args.out / "synth" / f"{backend}-{record['n_fit']}.slp"
    source = source_mice(project, fit, path)
    if tuple(source.skeleton.keypoints) != tuple(MOUSE.keypoints):
        sys.exit(f"{path}: keypoints {source.skeleton.keypoints} are not the project's")
    _, predictor = load_predictor(project, record["run_id"], min_score=MAP_MIN_SCORE)
    records = []
    for n_animals in (int(n) for n in args.synth_animals.split(",")):
        images, truth = composed_arena(source, n_animals, args)
        found = [predictor.predict([image])[0] for image in images]
        height, width = images[0].shape[:2]
        metrics = evaluate_pose(
            truth,
            found,
            keypoint_names=MOUSE.keypoints,
            sigmas=MOUSE.oks_sigmas(),
            expected_animals=n_animals,
            image_sizes=[(width, height)] * len(images),
            min_score=MIN_BOX_SCORE,
        )
        records.append(
            {
                "kind": "generalization",
                "backend": backend,
                "n_fit": record["n_fit"],
                "run_id": record["run_id"],
                "n_animals": n_animals,
                "synth": {"step": args.synth_step, "seed": args.synth_seed},
                **metrics.to_dict(),
            }
        )
    return records


def run_one(
    backend: str,
    n_fit: int,
    params: TrainParams,
    args: argparse.Namespace,
    *,
    generalize: bool = False,
) -> list[Record]:
    """Train `backend` on `n_fit` frames of the fixed split; its scores.

    With `generalize`, the run's scores on composed arenas follow its own.
    """
    root = args.out / "projects" / f"{backend}-{n_fit}"
    with new_project(root) as project:
        split = apply_fixed_split(project, n_fit)
        record = train_and_score(project, backend, split, params)
        if not generalize:
            return [record]
        return [record, *generalization(project, record, split["fit"], args)]


def pretrained_base(args: argparse.Namespace) -> tuple[Path, Record]:
    """A project with every labeled frame, `DLC_VIDEO` and a pretrain run; its facts."""
    root = args.out / "projects" / "pretrain"
    with new_project(root) as project:
        added = add_videos(project, [DLC_VIDEO])
        if added.failed:
            sys.exit(f"{DLC_VIDEO}: {added.failed[0].message}")
        params = PretrainParams(
            frames=args.pretrain_frames, epochs=args.pretrain_epochs, device=args.device
        )
        started = time.perf_counter()
        pretrained = pretrain_encoder(project, params, report=silent)
        seconds = time.perf_counter() - started
    return root, {
        "frames": args.pretrain_frames,
        "epochs": args.pretrain_epochs,
        "seconds": seconds,
        "video": DLC_VIDEO.name,
        "n_crops": pretrained.n_frames,
        "crop_size": pretrained.crop_size,
        "last_epoch": pretrained.epochs[-1],
    }


def run_pretrained(
    base: Path, n_fit: int, params: TrainParams, args: argparse.Namespace
) -> Record:
    """The heatmap backend trained on `n_fit` frames in a copy of `base`."""
    root = args.out / "projects" / f"heatmap-{n_fit}-pretrained"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(base, root)
    with Project.open(root) as project:
        split = apply_fixed_split(project, n_fit)
        return {
            **train_and_score(project, "heatmap", split, params),
            "kind": "pretrained",
        }


def pretrain_rows(
    results: Results, params: TrainParams, args: argparse.Namespace
) -> list[Record]:
    """Pretrained heatmap runs of each pretrain size, each beside its plain run."""
    base, pretrain = pretrained_base(args)
    records = []
    for n_fit in _ints(args.pretrain_sizes):
        without = results.fresh.get(("accuracy", "heatmap", n_fit, None))
        if without is None:
            without = run_one("heatmap", n_fit, params, args)[0]
            results.add([without])
        pretrained = run_pretrained(base, n_fit, params, args)
        rmse, plain = pretrained["rmse"], without["rmse"]
        records.append(
            {
                **pretrained,
                "pretrain": pretrain,
                "without": {k: without[k] for k in ("run_id", "rmse", "pck")},
                "helped": None if None in (rmse, plain) else rmse < plain,
            }
        )
    return records


class Results:
    """The records of `results.json`, replaced by key and saved as they come."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.records: list[Record] = (
            json.loads(path.read_text()) if path.is_file() else []
        )
        self.fresh: dict[tuple[Any, ...], Record] = {}  # this run's, by key

    @staticmethod
    def key(record: Record) -> tuple[Any, ...]:
        """Kind, backend, training frames and mice per arena of a record.

        Records written before the generalization and pretrain rows have no
        kind: they are accuracy records.
        """
        return (
            record.get("kind", "accuracy"),
            record["backend"],
            record["n_fit"],
            record.get("n_animals"),
        )

    def add(self, records: Sequence[Record]) -> None:
        """Replace the records with these keys by these, and save."""
        self.fresh.update((self.key(r), r) for r in records)
        keys = {self.key(r) for r in records}
        self.records = [r for r in self.records if self.key(r) not in keys]
        self.records += records
        self.path.write_text(json.dumps(self.records, indent=2) + "\n")

    def of_kind(self, kind: str) -> list[Record]:
        """The records of one kind."""
        return [r for r in self.records if self.key(r)[0] == kind]


def _ints(text: str) -> list[int]:
    return [int(n) for n in text.split(",")]


def _cell(value: float | None, spec: str) -> str:
    width = int(spec.split(".")[0])
    return "n/a".rjust(width) if value is None else format(value, spec)


def print_table(results: list[Record]) -> None:
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


def print_generalization(results: list[Record]) -> None:
    """Per backend and training set, a composed-arena row per number of mice."""
    for backend, n_fit in sorted({(r["backend"], r["n_fit"]) for r in results}):
        rows = sorted(
            (r for r in results if (r["backend"], r["n_fit"]) == (backend, n_fit)),
            key=lambda r: r["n_animals"],
        )
        print(
            f"{backend}, trained on {n_fit} frames, on composed arenas of its "
            f"training mice (seed {rows[0]['synth']['seed']}):"
        )
        print(
            f"{'mice':>4} {'frames':>6} {'animals':>7} {'found':>6} {'extra':>5} "
            f"{'RMSE':>6} {'PCK.05':>6} {'PCK.1':>6} {'OKS mAP':>7}"
        )
        for r in rows:
            found = r["n_matched"] / r["n_truth"] if r["n_truth"] else None
            print(
                f"{r['n_animals']:>4} {r['n_frames']:>6} {r['n_truth']:>7} "
                f"{_cell(found, '6.0%')} {r['n_extra']:>5} {_cell(r['rmse'], '6.2f')} "
                f"{_cell(r['pck']['0.05'], '6.2f')} {_cell(r['pck']['0.1'], '6.2f')} "
                f"{_cell(r['oks_map50_95'], '7.3f')}"
            )


def print_pretrain(results: list[Record]) -> None:
    """Heatmap test RMSE with and without pretraining, per training-set size."""
    if not results:
        return
    print(f"heatmap with and without pretraining on {DLC_VIDEO.name}:")
    print(
        f"{'frames':>6} {'pretrain':>8} {'epochs':>6} {'s':>5} {'RMSE w/o':>8} "
        f"{'RMSE with':>9} {'PCK.05 w/o':>10} {'PCK.05 with':>11} {'helped':>6}"
    )
    for r in sorted(results, key=lambda r: -r["n_fit"]):
        pretrain, without = r["pretrain"], r["without"]
        helped = {None: "n/a", True: "yes", False: "no"}[r["helped"]]
        print(
            f"{r['n_fit']:>6} {pretrain['frames']:>8} {pretrain['epochs']:>6} "
            f"{pretrain['seconds']:>5.0f} {_cell(without['rmse'], '8.2f')} "
            f"{_cell(r['rmse'], '9.2f')} {without['pck']['0.05']:>10.2f} "
            f"{r['pck']['0.05']:>11.2f} {helped:>6}"
        )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    on_off = argparse.BooleanOptionalAction
    parser.add_argument("--backends", default="heatmap,yolo")
    parser.add_argument("--sizes", default="83,40,20", help="train-fit frames")
    parser.add_argument(
        "--heatmap-epochs",
        type=int,
        default=70,
        help="heatmap epochs (70: 2.41 px on 83 frames, where 35 gave 3.19)",
    )
    parser.add_argument("--heatmap-imgsz", type=int, default=160)
    parser.add_argument(
        "--yolo-sizes", default=None, help="train-fit frames for yolo [--sizes]"
    )
    parser.add_argument("--yolo-epochs", type=int, default=70)
    parser.add_argument("--yolo-imgsz", type=int, default=320)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--device", default=None, help="cpu, a GPU index, or auto")
    parser.add_argument("--out", type=Path, default=OUTPUT, help="results folder")
    parser.add_argument(
        "--generalization", action=on_off, default=True, help="composed arenas"
    )
    parser.add_argument("--synth-animals", default="1,2,3,4", help="mice per arena")
    parser.add_argument("--synth-frames", type=int, default=30, help="per arena")
    parser.add_argument(
        "--synth-step", type=int, default=15, help="simulated frames per scored one"
    )
    parser.add_argument("--synth-seed", type=int, default=0)
    parser.add_argument(
        "--pretrain", action=on_off, default=True, help="heatmap with pretraining"
    )
    parser.add_argument("--pretrain-sizes", default="40,20", help="train-fit frames")
    parser.add_argument("--pretrain-frames", type=int, default=1000)
    parser.add_argument("--pretrain-epochs", type=int, default=10)
    return parser.parse_args()


def backend_params(args: argparse.Namespace, backend: str) -> TrainParams:
    """The training settings of `backend` from the command line."""
    heatmap = backend == "heatmap"
    return TrainParams(
        epochs=args.heatmap_epochs if heatmap else args.yolo_epochs,
        imgsz=args.heatmap_imgsz if heatmap else args.yolo_imgsz,
        batch=args.batch,
        workers=0,
        device=args.device,
    )


def main() -> None:
    args = parse_args()
    if not (DLC_LABELS.is_file() and FIXED_SPLIT.is_file()):
        sys.exit(f"needs {DLC_LABELS} and {FIXED_SPLIT} (../shared)")
    if args.pretrain and not DLC_VIDEO.is_file():
        sys.exit(f"--pretrain needs {DLC_VIDEO} (../shared)")
    args.out.mkdir(parents=True, exist_ok=True)
    results = Results(args.out / "results.json")
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for backend in args.backends.split(","):
        params = backend_params(args, backend)
        asked = args.yolo_sizes if backend == "yolo" and args.yolo_sizes else args.sizes
        sizes = _ints(asked)
        for n_fit in sizes:
            generalize = args.generalization and n_fit == max(sizes)
            records = run_one(backend, n_fit, params, args, generalize=generalize)
            results.add(records)
            print_table(records[:1])
            print_generalization(records[1:])
        if backend == "heatmap" and args.pretrain:  # before a slow yolo
            records = pretrain_rows(results, params, args)
            results.add(records)
            print_pretrain(records)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    print_table(results.of_kind("accuracy"))
    print_generalization(results.of_kind("generalization"))
    print_pretrain(results.of_kind("pretrained"))


if __name__ == "__main__":
    main()
