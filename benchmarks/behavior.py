"""Behavior classification: the pose-feature model beside the proximity rule.

Scenes:
  (a) the real ethome session `e3v813a-20210610T122332-122642`
      (`../shared/data/ethome_two_mice_interaction/`): DLC poses of `adult` and
      `juvenile`, 5700 frames at 30 fps; BORIS labels of "interact" with subject
      `adult` (662 frames, `etholoop.io.boris`). Five contiguous time blocks
      (`block_folds`, `GAP` frames on each side of the test block left out of
      training): train on four, test on the fifth; predictions of the five test
      blocks pooled into one session, scored on the adult. Frame F1 and bout F1
      (IoU >= 0.2, one-to-one; `etholoop.evaluate.behavior`).
  (b) synthetic arenas (`etholoop.synth.make_arena`, ground-truth keypoints, 3
      mice, rest/walk/groom/rear/chase), leave-one-arena-out over `N_ARENAS`
      arenas; frame F1 per behavior (pooled over folds) beside the majority
      class of the training arenas.

Methods:
  pose       `PoseFeatureModel` (LightGBM seed = the run's seed). Its threshold
             (for frame F1), then minimum bout and gap fill (for bout F1 at that
             threshold) are tuned on 4 contiguous validation blocks inside the
             four training blocks (out-of-block predictions), and it predicts
             with the mean of those 4 block models; the test block is never
             seen.
  proximity  `ProximityRule`: closest keypoint distance <= a threshold picked
             for the best frame F1 on the four training blocks (deterministic,
             so one row).

Targets on (a): pose mean frame F1 >= 0.78 and mean bout F1 >= 0.67.
Run with ETHOLOOP_THREADS=1 to share a machine; `--quick` runs one seed and
shorter arenas.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from etholoop.behavior import (
    BehaviorModel,
    BoostParams,
    LabeledVideo,
    PoseFeatureModel,
    ProximityRule,
    block_folds,
    check_fold,
    video_folds,
)
from etholoop.behavior.model import PosePredictor
from etholoop.evaluate.behavior import Counts, bout_counts, frame_counts
from etholoop.io.boris import read_boris
from etholoop.io.tracks import read_tracks
from etholoop.synth import make_arena
from etholoop.synth.config import ArenaSpec
from etholoop.types import Ethogram, Tracks

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SESSION = DATA / "ethome_two_mice_interaction"
POSE = (
    SESSION / "pose" / "e3v813a-20210610T122332-122642DLC_dlcrnetms5_pilot_"
    "studySep24shuffle1_100000_el_filtered.csv"
)
BORIS = SESSION / "boris" / "e3v813a-20210610T122332-122642_reencode.csv"
FPS = 30.0
N_BLOCKS = 5
GAP = 23
"""Half the longest feature window (45 frames), rounded up."""
N_ARENAS = 3
TARGET_FRAME_F1, TARGET_BOUT_F1 = 0.78, 0.67


def ethome() -> tuple[Tracks, NDArray[np.bool_]]:
    """The session's tracks and the adult's "interact" labels, shape (frames,)."""
    tracks = read_tracks(POSE)
    labels = read_boris(BORIS, fps=FPS, n_frames=tracks.n_frames)
    return tracks, labels[("adult", "interact")]


def cross_validate(
    model: BehaviorModel, tracks: Tracks, truth: NDArray[np.bool_]
) -> tuple[NDArray[np.bool_], list[float]]:
    """Pooled test-block predictions of the adult and each fold's threshold."""
    adult = tracks.individuals.index("adult")
    values = np.zeros((tracks.n_frames, len(tracks.individuals), 1), bool)
    values[:, adult, 0] = truth
    labels = Ethogram(values, ("interact",), tracks.individuals)
    pooled = np.zeros(tracks.n_frames, bool)
    thresholds = []
    for fold in block_folds(tracks.n_frames, N_BLOCKS, gap=GAP):
        check_fold(fold, GAP)
        labeled = np.zeros(values.shape[:2], bool)
        labeled[:, adult] = fold.train[0]
        predictor = model.fit([LabeledVideo(tracks, labels, labeled)])
        pred = predictor.predict(tracks).values[:, adult, 0]
        pooled[fold.test[0]] = pred[fold.test[0]]
        thresholds.append(
            predictor.bout_params[0].threshold
            if isinstance(predictor, PosePredictor)
            else predictor.thresholds[0]  # type: ignore[attr-defined]
        )
    return pooled, thresholds


def real_table(seeds: Sequence[int]) -> list[str]:
    """Rows of the ethome table, its summary and the targets."""
    tracks, truth = ethome()
    lines = [
        f"ethome session: {tracks.n_frames} frames, {int(truth.sum())} interact "
        f"frames ({truth.mean():.1%}), {N_BLOCKS} time blocks, gap {GAP}",
        "",
        "| method | seed | frame F1 | bout F1 | threshold per fold |",
        "|---|---|---|---|---|",
    ]
    results: dict[str, list[tuple[float, float]]] = {"pose": [], "proximity": []}
    runs: list[tuple[str, int | None, BehaviorModel]] = [
        ("proximity", None, ProximityRule())
    ] + [
        ("pose", seed, PoseFeatureModel(boost=BoostParams(seed=seed))) for seed in seeds
    ]
    for name, seed, model in runs:
        pred, thresholds = cross_validate(model, tracks, truth)
        frame_f1 = frame_counts(truth, pred).f1
        bout_f1 = bout_counts(truth, pred).f1
        results[name].append((frame_f1, bout_f1))
        shown = ", ".join(f"{t:.2f}" for t in thresholds)
        lines.append(
            f"| {name} | {'–' if seed is None else seed} | {frame_f1:.3f} | "
            f"{bout_f1:.3f} | {shown} |"
        )
    lines.append("")
    for name, scores in results.items():
        f, b = np.array(scores).T
        lines.append(
            f"- {name}: frame F1 {f.mean():.3f} ± {f.std():.3f} "
            f"(range {f.min():.3f}–{f.max():.3f}), bout F1 {b.mean():.3f} ± "
            f"{b.std():.3f} (range {b.min():.3f}–{b.max():.3f}), n = {len(scores)}"
        )
    f, b = np.array(results["pose"]).T
    for label, value, target in [
        ("frame F1", f.mean(), TARGET_FRAME_F1),
        ("bout F1", b.mean(), TARGET_BOUT_F1),
    ]:
        met = "met" if value >= target else "NOT met"
        lines.append(f"- target pose {label} >= {target}: {value:.3f} [{met}]")
    return lines


def synthetic_table(seed: int, n_frames: int) -> list[str]:
    """Frame F1 per behavior on held-out synthetic arenas, model vs majority."""
    arenas = [
        make_arena(ArenaSpec(n_animals=3, n_frames=n_frames, seed=s))
        for s in range(N_ARENAS)
    ]
    behaviors = arenas[0].ethogram.behaviors
    videos = [
        LabeledVideo(a.tracks, a.ethogram, np.ones(a.ethogram.values.shape[:2], bool))
        for a in arenas
    ]
    model = PoseFeatureModel(boost=BoostParams(seed=seed))
    pose = {b: Counts() for b in behaviors}
    majority = dict(pose)
    for fold in video_folds([a.n_frames for a in arenas]):
        test = int(np.flatnonzero([t.all() for t in fold.test])[0])
        train = [v for k, v in enumerate(videos) if k != test]
        predictor = model.fit(train)
        pred = predictor.predict(arenas[test].tracks).values
        truth = arenas[test].ethogram.values
        frequent = int(np.argmax(sum(v.labels.values.sum(axis=(0, 1)) for v in train)))
        for k, name in enumerate(behaviors):
            pose[name] += frame_counts(truth[..., k].ravel(), pred[..., k].ravel())
            guess = np.full(truth[..., k].size, k == frequent)
            majority[name] += frame_counts(truth[..., k].ravel(), guess)
    lines = [
        f"synthetic arenas: {N_ARENAS} x {n_frames} frames, 3 mice, "
        "leave-one-arena-out, frame F1",
        "",
        "| behavior | pose | majority |",
        "|---|---|---|",
    ]
    for name in behaviors:
        lines.append(f"| {name} | {pose[name].f1:.3f} | {majority[name].f1:.3f} |")
    macro_pose = np.nanmean([pose[b].f1 for b in behaviors])
    macro_major = np.nanmean([majority[b].f1 for b in behaviors])
    lines.append(f"| **macro** | {macro_pose:.3f} | {macro_major:.3f} |")
    return lines


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3, help="LightGBM seeds")
    parser.add_argument("--quick", action="store_true", help="1 seed, short arenas")
    return parser.parse_args()


def main() -> None:
    """Run both scenes and print their markdown tables."""
    args = parse_args()
    seeds = list(range(1 if args.quick else args.seeds))
    started = time.perf_counter()
    lines = real_table(seeds) if POSE.is_file() else [f"skipped: {POSE} not found"]
    lines += ["", *synthetic_table(seeds[0], 900 if args.quick else 3000)]
    lines += ["", f"run time {time.perf_counter() - started:.0f} s"]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
