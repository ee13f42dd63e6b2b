"""Identity tracking: etholoop's tracker beside Ultralytics' ByteTrack and BoT-SORT.

What it measures: the same detections go to every tracker, and each tracker's
identities are scored against the ground truth by `etholoop.evaluate.score_tracks`
(IDF1, MOTA, identity switches, ids emitted, HOTA; 50 px gate on the centroid of
the shared keypoints), with the frames/s of the tracker alone (detections already
in memory; no decoding, no scoring).

Scenes:
  (a) synthetic arenas of 5 look-alike mice (`etholoop.synth.make_arena`, no
      rendering: the ground-truth tracks and boxes), with at least `--contacts`
      close contacts in `--frames` frames, one per seed in `--seeds`;
  (b) the real two-fly clip `../shared/data/sleap_two_flies_tracks/clip.slp`
      (SLEAP's ground truth poses, boxes around their keypoints), if present.

Detections are the ground truth with Gaussian jitter on every keypoint and box
corner (sd `jitter` px) and each animal dropped in a frame with probability
`drop`, rows shuffled within each frame, box scores drawn from U(0.5, 1),
keypoint scores 1; identities removed. Noise settings: 5 px / 5 % and 10 px /
10 %, each drawn `--draws` times (default 3) per seed: one draw moves the mice's
IDF1 by up to 0.2, since a single wrong exit from a huddle swaps two identities
for hundreds of frames, so targets are judged on each seed's mean over draws
(the range of single draws is printed beside it).

Trackers:
  etholoop         `track_identities`: online pass, offline swap repair, gap
                   filling up to `max_gap` frames; its tracks are scored.
  etholoop-online  `track_online` alone; the detections' keypoints at its ids.
  bytetrack        Ultralytics `BYTETracker`, `bytetrack.yaml` defaults.
  botsort          Ultralytics `BOTSORT`, `botsort.yaml` defaults except
                   `gmc_method: none` (the camera is still; no frames are
                   decoded), `with_reid: False` as in the yaml.
Ultralytics' trackers get each frame's detections as `model.track()` passes
them: an `ultralytics.engine.results.Boxes` of (x1, y1, x2, y2, conf, cls) rows.
Each box they return carries its detection index (last column), so the scored
positions are the detections' keypoints, the same for every tracker.

The tracker parameters are `TrackerParams` defaults (max_ids = the number of
animals) unless `--tune` searches a small grid (`TUNING_GRID`) for the best mean
IDF1 over both noise settings and every draw of the tuning seed, the first of
`--seeds`; the
summary of targets uses the other seeds only.

Printed: one table of every (scene, seed, draw, noise, tracker) and a list of the
issue's targets, met or not. Written to `--out` (default
benchmarks/output/tracking): `tracking.csv` and `tracking.md`.

    .venv/bin/python benchmarks/tracking.py [--seeds 0,1,2] [--frames 3000]
        [--contacts 80] [--animals 5] [--draws 3] [--tune] [--out DIR] [--quick]

`--quick` is a smoke run: 600 frames, 12 contacts, one seed, one draw.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import os
import subprocess
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from attrs import evolve, frozen
from numpy.typing import NDArray

from etholoop.evaluate import score_tracks
from etholoop.io.tracks import read_tracks
from etholoop.synth import make_arena
from etholoop.synth.config import ArenaSpec
from etholoop.track import (
    TrackerParams,
    assemble_tracks,
    track_identities,
    track_online,
)
from etholoop.types import Detections, Skeleton, Tracks

FLIES = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "data"
    / "sleap_two_flies_tracks"
    / "clip.slp"
)
NOISE = ((5.0, 0.05), (10.0, 0.10))
"""(jitter sd in px, share of detections dropped)."""
GATE_PX = 50.0
REPEATS = 5
"""Timed runs of etholoop's tracker, the fastest counting: one takes ~0.1 s, so a
busy core can stall it."""
TRACKERS = ("etholoop", "etholoop-online", "bytetrack", "botsort")
TUNING_GRID = {"alpha": (0.3, 0.5, 0.7, 0.9), "cost_threshold": (0.8, 1.2, 1.6)}
F64 = NDArray[np.float64]


@frozen(eq=False)
class Scene:
    """Ground truth to draw detections from.

    Attributes:
        name: "arena" or "flies".
        seed: The arena's seed (and the noise's); 0 for the flies.
        truth: True tracks, (frames, animals, keypoints, 2).
        boxes: True boxes x1, y1, x2, y2, (frames, animals, 4); NaN = absent.
        image_hw: Frame height and width in px.
        contacts: Close contacts in the arena; None for the flies.
    """

    name: str
    seed: int
    truth: Tracks
    boxes: F64
    image_hw: tuple[int, int]
    contacts: int | None


@frozen
class Row:
    """One tracker's scores on one set of detections."""

    scene: str
    seed: int
    draw: int
    tuning: bool
    jitter_px: float
    drop: float
    tracker: str
    idf1: float
    mota: float
    id_switches: int
    n_ids: int
    hota: float
    precision: float
    recall: float
    frames_per_s: float
    contacts: int | None


def arena_scene(seed: int, args: argparse.Namespace) -> Scene:
    """A synthetic arena of look-alike mice with many close contacts."""
    arena = make_arena(
        ArenaSpec(
            n_animals=args.animals,
            n_frames=args.frames,
            min_contacts=args.contacts,
            seed=seed,
        )
    )
    return Scene(
        name="arena",
        seed=seed,
        truth=arena.tracks,
        boxes=arena.boxes.astype(np.float64),
        image_hw=(arena.spec.height, arena.spec.width),
        contacts=len(arena.contacts),
    )


def flies_scene(path: Path) -> Scene:
    """SLEAP's two-fly clip; boxes are the extent of each fly's keypoints."""
    truth = read_tracks(path)
    xy = truth.xy.astype(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN: fly absent
        boxes = np.concatenate([np.nanmin(xy, axis=2), np.nanmax(xy, axis=2)], -1)
    return Scene("flies", 0, truth, boxes, (1024, 1024), None)


def noisy_detections(
    scene: Scene, jitter: float, drop: float, rng: np.random.Generator
) -> Detections:
    """The scene's ground truth as detections: jittered, dropped, shuffled."""
    xy = scene.truth.xy.astype(np.float64)
    n_frames, n_animals, n_keypoints, _ = xy.shape
    present = np.isfinite(xy).all(axis=-1).any(axis=-1) & np.isfinite(scene.boxes).all(
        axis=-1
    )
    kept = present & (rng.random((n_frames, n_animals)) >= drop)
    frames = []
    for t in range(n_frames):
        rows = rng.permutation(np.flatnonzero(kept[t]))
        kp = xy[t, rows] + rng.normal(0, jitter, (len(rows), n_keypoints, 2))
        box = scene.boxes[t, rows] + rng.normal(0, jitter, (len(rows), 4))
        box = np.concatenate(
            [np.minimum(box[:, :2], box[:, 2:]), np.maximum(box[:, :2], box[:, 2:])],
            axis=1,
        )
        kp_scores = np.isfinite(kp).all(axis=-1).astype(np.float64)
        frames.append((box, rng.uniform(0.5, 1.0, len(rows)), kp, kp_scores))
    return Detections.from_frames(frames, n_keypoints)


def run_etholoop(
    det: Detections, params: TrackerParams, skeleton: Skeleton
) -> tuple[Tracks, float]:
    """etholoop's full tracker: its tracks and the best of `REPEATS` timings in s."""
    names = [f"id{i}" for i in range(params.max_ids)]
    seconds = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        result = track_identities(det, params, names, skeleton)
        seconds.append(time.perf_counter() - start)
    return result.tracks, min(seconds)


def run_etholoop_online(
    det: Detections, params: TrackerParams, skeleton: Skeleton
) -> tuple[Tracks, float]:
    """etholoop's online pass alone, scored at the detections' keypoints."""
    seconds = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        ids = track_online(det, params)
        seconds.append(time.perf_counter() - start)
    return tracks_at_ids(det, ids, skeleton), min(seconds)


def ultralytics_runner(
    kind: str, image_hw: tuple[int, int]
) -> Callable[[Detections, TrackerParams, Skeleton], tuple[Tracks, float]]:
    """Run Ultralytics' `kind` tracker with its yaml defaults over detections."""
    from ultralytics.engine.results import Boxes
    from ultralytics.trackers import BOTSORT, BYTETracker
    from ultralytics.utils import YAML, IterableSimpleNamespace
    from ultralytics.utils.checks import check_yaml

    cfg = IterableSimpleNamespace(**YAML.load(check_yaml(f"{kind}.yaml")))
    if kind == "botsort":
        cfg.gmc_method = "none"
    tracker_class = BOTSORT if kind == "botsort" else BYTETracker

    def run(
        det: Detections, params: TrackerParams, skeleton: Skeleton
    ) -> tuple[Tracks, float]:
        per_frame = []
        for t in range(det.n_frames):
            rows = det.rows(t)
            data = np.column_stack(
                [
                    det.boxes[rows],
                    det.box_scores[rows],
                    np.zeros(rows.stop - rows.start),
                ]
            ).astype(np.float32)
            per_frame.append(Boxes(data, image_hw))
        tracker = tracker_class(args=cfg)
        ids = np.full(len(det.boxes), -1, np.int64)
        start = time.perf_counter()
        outputs = [tracker.update(boxes, None) for boxes in per_frame]
        seconds = time.perf_counter() - start
        for t, out in enumerate(outputs):
            if len(out):
                # rows: x1, y1, x2, y2, track_id, score, cls, detection index
                ids[det.offsets[t] + out[:, 7].astype(np.int64)] = out[:, 4]
        return tracks_at_ids(det, ids, skeleton), seconds

    return run


def tracks_at_ids(
    det: Detections, ids: NDArray[np.int64], skeleton: Skeleton
) -> Tracks:
    """The detections' keypoints placed at their identities (any ids, -1 = none)."""
    used, compact = np.unique(ids[ids >= 0], return_inverse=True)
    dense = np.full_like(ids, -1)
    dense[ids >= 0] = compact
    names = [f"track{int(i)}" for i in used] or ["none"]
    return assemble_tracks(det, dense, names, skeleton)


def scene_detections(
    scene: Scene, jitter: float, drop: float, draw: int = 0
) -> Detections:
    """The detections of one scene, noise setting and draw, the same on every call."""
    rng = np.random.default_rng([scene.seed, int(jitter), int(100 * drop), draw])
    return noisy_detections(scene, jitter, drop, rng)


def tune(scene: Scene, base: TrackerParams, draws: int) -> TrackerParams:
    """The parameters with the best mean IDF1 over the noise settings of `scene`.

    `base` is tried first and kept on a tie; then every point of `TUNING_GRID`.
    """
    dets = [
        scene_detections(scene, jitter, drop, draw)
        for jitter, drop in NOISE
        for draw in range(draws)
    ]
    grid: list[dict[str, Any]] = [{}] + [
        dict(zip(TUNING_GRID, values, strict=True))
        for values in itertools.product(*TUNING_GRID.values())
    ]
    best, best_idf1 = base, -1.0
    for change in grid:
        params = evolve(base, **change)
        tracked = [run_etholoop(det, params, scene.truth.skeleton)[0] for det in dets]
        idf1 = float(
            np.mean(
                [score_tracks(t, scene.truth, gate_px=GATE_PX).idf1 for t in tracked]
            )
        )
        print(f"  tune {change or 'defaults'}: mean IDF1 {idf1:.3f}", flush=True)
        if idf1 > best_idf1:
            best, best_idf1 = params, idf1
    return best


def evaluate_scene(
    scene: Scene, params: TrackerParams, tuning: bool, draws: int
) -> Iterator[Row]:
    """Every tracker on every noise setting and noise draw of one scene."""
    runners = {
        "etholoop": run_etholoop,
        "etholoop-online": run_etholoop_online,
        "bytetrack": ultralytics_runner("bytetrack", scene.image_hw),
        "botsort": ultralytics_runner("botsort", scene.image_hw),
    }
    for (jitter, drop), draw in itertools.product(NOISE, range(draws)):
        det = scene_detections(scene, jitter, drop, draw)
        for name in TRACKERS:
            tracks, seconds = runners[name](det, params, scene.truth.skeleton)
            s = score_tracks(tracks, scene.truth, gate_px=GATE_PX)
            row = Row(
                scene=scene.name,
                seed=scene.seed,
                draw=draw,
                tuning=tuning,
                jitter_px=jitter,
                drop=drop,
                tracker=name,
                idf1=s.idf1,
                mota=s.mota,
                id_switches=s.id_switches,
                n_ids=s.n_predicted_ids,
                hota=s.hota,
                precision=s.precision,
                recall=s.recall,
                frames_per_s=det.n_frames / seconds,
                contacts=scene.contacts,
            )
            print(_format_row(row), flush=True)
            yield row


HEADER = (
    "| scene | seed | draw | noise | tracker | IDF1 | MOTA | switches | ids | HOTA "
    "| frames/s |"
)


def _format_row(r: Row) -> str:
    seed = f"{r.seed}{' (tuning)' if r.tuning else ''}" if r.scene == "arena" else "-"
    return (
        f"| {r.scene} | {seed} | {r.draw} | {r.jitter_px:g} px / {100 * r.drop:g} % "
        f"| {r.tracker} | {r.idf1:.3f} | {r.mota:.3f} | {r.id_switches} "
        f"| {r.n_ids} | {r.hota:.3f} | {r.frames_per_s:,.0f} |"
    )


def targets(rows: list[Row], n_animals: int) -> list[str]:
    """The issue's targets, each with the figures measured and whether met."""

    def got(
        scene: str, noise: tuple[float, float], tracker: str, what: str
    ) -> list[Any]:
        """Per held-out seed, the mean over its noise draws."""
        by_seed: dict[int, list[Any]] = {}
        for r in rows:
            if (r.scene, (r.jitter_px, r.drop), r.tracker) == (
                scene,
                noise,
                tracker,
            ) and not r.tuning:
                by_seed.setdefault(r.seed, []).append(getattr(r, what))
        return [float(np.mean(v)) for _, v in sorted(by_seed.items())]

    def every(
        scene: str, noise: tuple[float, float], tracker: str, what: str
    ) -> list[Any]:
        """Every held-out seed's and draw's value."""
        return [
            getattr(r, what)
            for r in rows
            if (r.scene, (r.jitter_px, r.drop), r.tracker) == (scene, noise, tracker)
            and not r.tuning
        ]

    lines = []

    def check(text: str, measured: str, ok: bool) -> None:
        lines.append(f"[{'met' if ok else 'NOT met'}] {text} (got {measured})")

    low, high = NOISE
    idf1 = got("arena", low, "etholoop", "idf1")
    if not idf1:
        lines.append("arena: no held-out seed was run (only the tuning seed)")
    else:
        ids = every("arena", low, "etholoop", "n_ids")
        switches = got("arena", low, "etholoop", "id_switches")
        idf1_high = got("arena", high, "etholoop", "idf1")
        fast = every("arena", low, "etholoop", "frames_per_s")
        byte = every("arena", low, "bytetrack", "frames_per_s")
        ratio = [a / b for a, b in zip(fast, byte, strict=True)]
        check(
            "arena 5 px / 5 %: IDF1 >= 0.85 (mean of each seed's draws)",
            f"{_span(idf1)}; single draws "
            f"{_span(every('arena', low, 'etholoop', 'idf1'))}",
            min(idf1) >= 0.85,
        )
        check(
            f"arena 5 px / 5 %: exactly {n_animals} ids",
            str(ids),
            set(ids) == {n_animals},
        )
        check(
            "arena 5 px / 5 %: <= 10 switches (mean of each seed's draws)",
            _span(switches, ".1f"),
            max(switches) <= 10,
        )
        check(
            "arena 10 px / 10 %: IDF1 >= 0.70 (mean of each seed's draws)",
            f"{_span(idf1_high)}; single draws "
            f"{_span(every('arena', high, 'etholoop', 'idf1'))}",
            min(idf1_high) >= 0.70,
        )
        check(
            f"tracker alone >= 20,000 frames/s, {n_animals} animals",
            _span(fast, ",.0f"),
            min(fast) >= 20_000,
        )
        check(
            "tracker alone >= 5x ByteTrack's frames/s",
            f"{_span(ratio, '.1f')}x",
            min(ratio) >= 5,
        )
    flies_idf1 = every("flies", high, "etholoop", "idf1")
    flies_ids = every("flies", high, "etholoop", "n_ids")
    if flies_idf1:
        check(
            "flies 10 px / 10 %: IDF1 >= 0.995 with 2 ids, every draw",
            f"{_span(flies_idf1)}, {sorted(set(flies_ids))} ids",
            min(flies_idf1) >= 0.995 and set(flies_ids) == {2},
        )
    return lines


def _span(values: list[float], spec: str = ".3f") -> str:
    lo, hi = min(values), max(values)
    return format(lo, spec) if lo == hi else f"{format(lo, spec)}..{format(hi, spec)}"


def load_average() -> str:
    """The machine's load average, as `uptime` prints it."""
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())


def write_outputs(rows: list[Row], lines: list[str], out: Path, header: str) -> None:
    """`tracking.csv` (one row per result) and `tracking.md` (table + targets)."""
    out.mkdir(parents=True, exist_ok=True)
    fields = [a.name for a in Row.__attrs_attrs__]
    with open(out / "tracking.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(fields)
        for r in rows:
            writer.writerow([getattr(r, name) for name in fields])
    table = [HEADER, "|" + "---|" * 11, *(_format_row(r) for r in rows)]
    text = "\n".join([header, "", *table, "", *(f"- {line}" for line in lines), ""])
    (out / "tracking.md").write_text(text)


def parse_args() -> argparse.Namespace:
    """The command line; `--quick` shrinks the run to a smoke test."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="0,1,2", help="arena seeds; the first tunes")
    parser.add_argument("--frames", type=int, default=3000)
    parser.add_argument("--contacts", type=int, default=80, help="min close contacts")
    parser.add_argument("--animals", type=int, default=5)
    parser.add_argument(
        "--tune", action="store_true", help="grid-search on the first seed"
    )
    parser.add_argument("--out", type=Path, default=Path("benchmarks/output/tracking"))
    parser.add_argument(
        "--draws", type=int, default=3, help="noise draws per seed and setting"
    )
    parser.add_argument("--quick", action="store_true", help="600 frames, one seed")
    args = parser.parse_args()
    args.seeds = [int(s) for s in str(args.seeds).split(",") if s.strip()]
    if args.quick:
        args.frames, args.contacts, args.seeds = 600, 12, args.seeds[:1]
        args.draws = 1
    return args


def main() -> None:
    """Run every scene and tracker, print and write the table and the targets."""
    args = parse_args()
    header = (
        f"tracking benchmark: {args.animals} mice, {args.frames} frames, seeds "
        f"{args.seeds} (tuning seed {args.seeds[0]}), gate {GATE_PX:g} px; "
        f"load: {load_average()}"
    )
    print(header)
    params = TrackerParams(max_ids=args.animals)
    rows: list[Row] = []
    print(HEADER)
    for i, seed in enumerate(args.seeds):
        scene = arena_scene(seed, args)
        print(f"arena seed {seed}: {scene.contacts} close contacts")
        if i == 0:
            warm = scene_detections(scene, *NOISE[0])
            run_etholoop(warm, params, scene.truth.skeleton)  # compile numba once
            if args.tune:
                params = tune(scene, params, args.draws)
                print(f"tuned on seed {seed}: {params}")
        rows += evaluate_scene(scene, params, tuning=i == 0, draws=args.draws)
    if FLIES.is_file():
        flies = flies_scene(FLIES)
        rows += evaluate_scene(
            flies, evolve(params, max_ids=2), tuning=False, draws=args.draws
        )
    else:
        print(f"flies skipped: {FLIES} not found")
    lines = targets(rows, args.animals)
    print(f"parameters: {params}")
    print("targets (held-out seeds only):")
    for line in lines:
        print(f"  {line}")
    print(f"after: {load_average()}")
    write_outputs(rows, lines, args.out, header)
    print(f"written: {args.out / 'tracking.csv'}, {args.out / 'tracking.md'}")


if __name__ == "__main__":
    main()
