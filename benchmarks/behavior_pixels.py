"""Behavior from pixels: the 3D-CNN clip model beside the pose-feature model.

Does a model that sees the video catch the "flinch" (a 5-10 frame paw flick,
about 2 % of the frames, drawn in the pixels and absent from the keypoints)
that the pose-feature model cannot? Issue 18.

Scene: synthetic arenas (`etholoop.synth.make_arena`), gray, `--size` px
(160x120), ONE mouse each, behaviors rest, walk, groom, rear and flinch; the
clip model names whole frames (exclusive classes), so with one animal a frame's
class is that mouse's behavior. No chase: it needs two mice. The mouse is
`--body` px long (30: a quarter of the frame's height, a close-up camera, so
that the paw still spans a few pixels once a frame is shrunk to `--imsize`).
Labels are the arenas' ethograms.

- `--train` training arenas of `--frames` frames (seeds 1, 2, ...): the
  labeled videos every model learns from;
- one validation arena (seed 100), for the clip model's early stopping only;
- one held-out test arena (seed 200), scored once, never used to choose
  anything.

Models:
  clip3d light, clip3d standard
             `train_clip3d` on clips of `--clip` frames at `--imsize` px around
             every `--item-stride`-th training frame plus every flinch frame
             (inverse-frequency class weights), at most `--epochs` epochs, one
             cosine decay of the learning rate, early stopping on the validation
             arena's macro F1 over every `--val-stride`-th frame (patience
             `--patience`); the clips are decoded once into an on-disk cache
             (`ClipDataset.cache_on_disk`); the best epoch predicts
             every frame of the test video (`predict_video`, stride 1), and a
             frame's class is the most probable one.
  pose       `PoseFeatureModel` with its defaults on the ground-truth keypoints
             of the training and validation arenas (its thresholds and bouts are
             tuned on validation blocks inside them).
  sequence   not built yet.
  majority   the most frequent class of the training labels, on every frame.

Printed: frame F1 per behavior and the macro F1 (mean over the five), the
flinch's frame precision, recall and F1 and its bouts found (IoU >= 0.2,
`etholoop.evaluate.behavior`), training seconds, inference frames/s (clip
models: decoding included; pose: from keypoints already in memory, pose
estimation not included) beside `PyAVReader`'s sequential gray decode of the
test video, and the load average at start and end. Targets: a pixel model's
flinch F1 >= 0.8 where the pose model's is below 0.5, and every family above
the majority class in macro F1.

    ETHOLOOP_THREADS=1 .venv/bin/python benchmarks/behavior_pixels.py
        [--train 3] [--frames 3000] [--imsize 32] [--epochs 7] [--quick]

`--quick` is a smoke run (~1 min): short arenas, 16 px, clips of 8, 2 epochs.
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from etholoop.behavior import LabeledVideo, PoseFeatureModel
from etholoop.behavior.clip3d import Clip3dParams, Variant
from etholoop.behavior.clip3d_train import (
    Clip3dTrainParams,
    predict_video,
    train_clip3d,
)
from etholoop.behavior.clips import ClipItem, crop_boxes, video_mean_std
from etholoop.evaluate.behavior import Counts, bout_counts, frame_counts
from etholoop.pose.yolo_env import cpu_threads
from etholoop.synth import Arena, make_arena, write_arena
from etholoop.synth.config import ArenaSpec

BEHAVIORS = ("rest", "walk", "groom", "rear", "flinch")
FLINCH = BEHAVIORS.index("flinch")
VAL_SEED, TEST_SEED = 100, 200
TARGET_FLINCH_PIXELS, TARGET_FLINCH_POSE = 0.8, 0.5


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", type=int, default=3, help="training arenas")
    parser.add_argument("--frames", type=int, default=3000, help="frames per arena")
    parser.add_argument("--size", default="160x120", help="arena WxH in px")
    parser.add_argument("--body", type=float, default=30.0, help="body length, px")
    parser.add_argument("--imsize", type=int, default=32, help="clip side in px")
    parser.add_argument("--clip", type=int, default=16, help="frames per clip")
    parser.add_argument("--epochs", type=int, default=7, help="most epochs")
    parser.add_argument("--patience", type=int, default=3, help="early stopping")
    parser.add_argument("--batch", type=int, default=16, help="clips per step")
    parser.add_argument(
        "--item-stride", type=int, default=16, help="every n-th frame a training clip"
    )
    parser.add_argument(
        "--val-stride",
        type=int,
        default=2,
        help="every n-th validation frame a clip (no flinch oversampling)",
    )
    parser.add_argument(
        "--variants", default="light,standard", help="clip3d variants to train"
    )
    parser.add_argument(
        "--crop",
        type=float,
        default=2.0,
        help="window around the mouse in body lengths (0: the whole frame)",
    )
    parser.add_argument("--seed", type=int, default=0, help="training seed")
    parser.add_argument("--out", type=Path, help="keep videos and checkpoints here")
    parser.add_argument("--quick", action="store_true", help="~1 min smoke run")
    args = parser.parse_args()
    if args.quick:
        args.train, args.frames, args.imsize, args.clip = 2, 500, 16, 8
        args.epochs, args.patience, args.item_stride = 2, 2, 6
        args.val_stride = 4
    return args


def classes_of(arena: Arena) -> NDArray[np.int64]:
    """The one mouse's class in each frame, shape (frames,)."""
    return np.asarray(arena.ethogram.values[:, 0, :].argmax(axis=1), np.int64)


def clip_items(video: Path, classes: NDArray[np.int64], stride: int) -> list[ClipItem]:
    """Every `stride`-th frame and every flinch frame, with its class."""
    frames = np.flatnonzero(
        (np.arange(len(classes)) % stride == 0) | (classes == FLINCH)
    )
    return [ClipItem(video, int(f), int(classes[f])) for f in frames]


def decode_fps(video: Path) -> float:
    """Frames/s of one sequential gray decode with `PyAVReader` (median of 3)."""
    from etholoop.video.reader import PyAVReader

    rates = []
    for _ in range(3):
        with PyAVReader(video) as reader:
            start = time.perf_counter()
            n = sum(1 for _ in reader.iter_frames(gray=True))
            rates.append(n / (time.perf_counter() - start))
    return float(np.median(rates))


class Result:
    """Scores and timings of one model on the test arena."""

    def __init__(
        self,
        name: str,
        pred: NDArray[np.bool_] | None,
        truth: NDArray[np.bool_],
        train_s: float = math.nan,
        infer_fps: float = math.nan,
        note: str = "",
    ) -> None:
        self.name, self.train_s, self.infer_fps, self.note = (
            name,
            train_s,
            infer_fps,
            note,
        )
        self.built = pred is not None
        self.frames: list[Counts] = []
        self.flinch_bouts = Counts()
        if pred is not None:
            self.frames = [
                frame_counts(truth[:, k], pred[:, k]) for k in range(len(BEHAVIORS))
            ]
            self.flinch_bouts = bout_counts(truth[:, FLINCH], pred[:, FLINCH])

    @property
    def macro(self) -> float:
        """Mean frame F1 over the behaviors where it is defined."""
        f1s = [c.f1 for c in self.frames if not math.isnan(c.f1)]
        return float(np.mean(f1s)) if f1s else math.nan


def one_hot(classes: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Booleans (frames, behaviors) of one class per frame."""
    return np.eye(len(BEHAVIORS), dtype=bool)[classes]


def run_clip3d(
    variant: Variant,
    args: argparse.Namespace,
    train: list[ClipItem],
    val: list[ClipItem],
    test_video: Path,
    truth: NDArray[np.bool_],
    stats: dict[Path, tuple[float, float]],
    out_dir: Path,
    crops: dict[tuple[Path, int], NDArray[np.int64]],
) -> Result:
    """Train one clip network, predict every test frame, score it."""
    params = Clip3dParams(
        n_classes=len(BEHAVIORS),
        variant=variant,
        clip_length=args.clip,
        imsize=args.imsize,
    )
    train_params = Clip3dTrainParams(
        epochs=args.epochs,
        batch_size=args.batch,
        restart_epochs=args.epochs,
        patience=args.patience,
        seed=args.seed,
        device="cpu",
    )
    start = time.perf_counter()
    result = train_clip3d(
        train,
        val,
        params,
        train_params,
        out_dir / f"clip3d-{variant}",
        class_names=BEHAVIORS,
        stats=stats,
        crops=crops,
    )
    train_s = time.perf_counter() - start
    start = time.perf_counter()
    probs = predict_video(
        result.best_checkpoint,
        test_video,
        stride=1,
        stats=stats[test_video],
        boxes=crops.get((test_video, 0)),
    )
    infer_fps = len(probs) / (time.perf_counter() - start)
    per_epoch = np.mean([r["seconds"] for r in result.epochs])
    note = (
        f"{len(result.epochs)} epochs ({per_epoch:.0f} s each), best epoch "
        f"{result.best_epoch} (val macro F1 {result.best_val_f1:.3f})"
    )
    print(f"clip3d {variant}: {note}, {train_s:.0f} s", flush=True)
    return Result(
        f"clip3d {variant}",
        one_hot(probs.argmax(axis=1)),
        truth,
        train_s,
        infer_fps,
        note,
    )


def run_pose(fit_on: Sequence[Arena], test: Arena, truth: NDArray[np.bool_]) -> Result:
    """Fit `PoseFeatureModel` on ground-truth keypoints, predict the test arena."""
    videos = [
        LabeledVideo(a.tracks, a.ethogram, np.ones(a.ethogram.values.shape[:2], bool))
        for a in fit_on
    ]
    start = time.perf_counter()
    predictor = PoseFeatureModel().fit(videos)
    train_s = time.perf_counter() - start
    start = time.perf_counter()
    pred = predictor.predict(test.tracks).values[:, 0, :].astype(bool)
    infer_fps = test.n_frames / (time.perf_counter() - start)
    print(f"pose: {train_s:.0f} s", flush=True)
    return Result("pose", pred, truth, train_s, infer_fps)


def fmt(value: float, digits: int = 3) -> str:
    """A figure, or "–" where undefined."""
    return "–" if math.isnan(value) else f"{value:.{digits}f}"


def table(results: Sequence[Result], decode: float) -> list[str]:
    """The markdown table, one column per model."""
    built = [r for r in results if r.built]
    head = "| | " + " | ".join(r.name for r in results) + " |"
    lines = [head, "|---" * (len(results) + 1) + "|"]

    def row(label: str, values: Sequence[str]) -> None:
        cells = iter(values)
        shown = [next(cells) if r.built else "not built" for r in results]
        lines.append(f"| {label} | " + " | ".join(shown) + " |")

    row("**macro F1**", [f"**{fmt(r.macro)}**" for r in built])
    for k, name in enumerate(BEHAVIORS):
        row(f"F1 {name}", [fmt(r.frames[k].f1) for r in built])
    row("flinch precision", [fmt(r.frames[FLINCH].precision) for r in built])
    row("flinch recall", [fmt(r.frames[FLINCH].recall) for r in built])
    row(
        "flinch bouts found (IoU ≥ 0.2)",
        [f"{r.flinch_bouts.tp} / {r.flinch_bouts.n_true}" for r in built],
    )
    row("training s", [fmt(r.train_s, 0) for r in built])
    row("inference frames/s", [fmt(r.infer_fps, 0) for r in built])
    lines.append(f"| PyAV decode frames/s (test video) | {decode:.0f} |")
    return lines


def targets(results: Sequence[Result]) -> list[str]:
    """Whether the issue's targets held."""
    by_name = {r.name: r for r in results}
    pose, majority = by_name["pose"], by_name["majority"]
    pixels = [r for r in results if r.name.startswith("clip3d")]
    best = max(pixels, key=lambda r: r.frames[FLINCH].f1)
    flinch = best.frames[FLINCH].f1
    pose_flinch = pose.frames[FLINCH].f1
    held = flinch >= TARGET_FLINCH_PIXELS and not pose_flinch >= TARGET_FLINCH_POSE
    lines = [
        f"- target: a pixel model's flinch F1 >= {TARGET_FLINCH_PIXELS} where the "
        f"pose model's < {TARGET_FLINCH_POSE}: {best.name} {fmt(flinch)}, pose "
        f"{fmt(pose_flinch)} [{'met' if held else 'NOT met'}]"
    ]
    for r in results:
        if r.built and r is not majority:
            beats = r.macro > majority.macro
            lines.append(
                f"- {r.name} macro F1 {fmt(r.macro)} > majority {fmt(majority.macro)}: "
                f"[{'met' if beats else 'NOT met'}]"
            )
    lines.append("- sequence: not built, so not judged")
    return lines


def main() -> None:
    """Make the arenas, train every model, print the table and the targets."""
    args = parse_args()
    started = time.perf_counter()
    width, height = (int(v) for v in args.size.lower().split("x"))
    print(
        f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores, "
        f"{cpu_threads()} thread(s)",
        flush=True,
    )

    def arena(seed: int) -> Arena:
        spec = ArenaSpec(
            n_animals=1,
            n_frames=args.frames,
            width=width,
            height=height,
            seed=seed,
            gray=True,
            behaviors=BEHAVIORS,
            body_length=args.body,
        )
        return make_arena(spec)

    with tempfile.TemporaryDirectory(prefix="behavior-pixels-") as scratch:
        out_dir = args.out or Path(scratch)
        seeds = [*range(1, args.train + 1), VAL_SEED, TEST_SEED]
        arenas = {s: arena(s) for s in seeds}
        videos = {
            s: write_arena(a, out_dir / f"arena{s}")["video"] for s, a in arenas.items()
        }
        classes = {s: classes_of(a) for s, a in arenas.items()}
        stats = {videos[s]: video_mean_std(videos[s]) for s in seeds}
        side = round(args.crop * args.body)
        crops = (
            {
                (videos[s], 0): crop_boxes(
                    np.nanmean(a.tracks.xy[:, 0], axis=1), side, width, height
                )
                for s, a in arenas.items()
            }
            if args.crop > 0
            else {}
        )
        train_seeds = seeds[: args.train]
        train = [
            item
            for s in train_seeds
            for item in clip_items(videos[s], classes[s], args.item_stride)
        ]
        val = [
            ClipItem(videos[VAL_SEED], f, int(c))
            for f, c in enumerate(classes[VAL_SEED])
            if f % args.val_stride == 0
        ]
        truth_classes = classes[TEST_SEED]
        truth = one_hot(truth_classes)
        counts = np.bincount(
            np.concatenate([classes[s] for s in train_seeds]), minlength=len(BEHAVIORS)
        )
        share = ", ".join(
            f"{b} {c / counts.sum():.1%}"
            for b, c in zip(BEHAVIORS, counts, strict=True)
        )
        test_flinch = int((truth_classes == FLINCH).sum())
        print(
            f"arenas: {args.train} training + 1 validation + 1 test, {args.frames} "
            f"frames each, {width}x{height} gray, 1 mouse, body {args.body:g} px; "
            f"training frames {share}; test flinch {test_flinch} frames in "
            f"{bout_counts(truth[:, FLINCH], truth[:, FLINCH]).n_true} bouts\n"
            f"clip3d: {args.imsize} px "
            + (f"of a {side} px window on the mouse" if crops else "of the frame")
            + f", clips of {args.clip}, {len(train)} training "
            f"clips (every {args.item_stride}th frame + every flinch frame), "
            f"{len(val)} validation clips (every {args.val_stride}th frame), "
            f"batch {args.batch}, at most {args.epochs} "
            f"epochs, patience {args.patience}",
            flush=True,
        )
        decode = decode_fps(videos[TEST_SEED])
        results = [
            run_clip3d(
                variant,
                args,
                train,
                val,
                videos[TEST_SEED],
                truth,
                stats,
                out_dir,
                crops,
            )
            for variant in args.variants.split(",")
        ]
        results.append(Result("sequence", None, truth))
        fit_on = [arenas[s] for s in (*train_seeds, VAL_SEED)]
        results.append(run_pose(fit_on, arenas[TEST_SEED], truth))
        frequent = int(np.argmax(counts))
        majority = one_hot(np.full(len(truth_classes), frequent))
        results.append(Result("majority", majority, truth, note=BEHAVIORS[frequent]))
        print(f"majority class of the training labels: {BEHAVIORS[frequent]}")
    lines = ["", *table(results, decode), "", *targets(results)]
    lines += [
        "",
        f"load average at end: {os.getloadavg()[0]:.2f}",
        f"run time {time.perf_counter() - started:.0f} s",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
