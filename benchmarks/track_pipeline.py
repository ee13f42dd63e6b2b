"""`etholoop track` end to end: what it costs beyond the model, and its memory.

Speed (`--frames` frames of a 2-mouse synthetic arena at `--size`, a project
trained on its ground truth with the default heatmap backend for `--epochs`
epochs; accuracy does not matter here): the tracker is given every box the
model finds (`min_score=0`, as `etholoop track --min-score 0`), so each frame
has detections to track. On the same video, in one process:

  decode          plain PyAV decode, `reader.iter_frames` over the file;
  model           the predictor's own batched inference (`predictor.predict`,
                  `FRAMES_PER_BATCH` frames a call) on those frames, already
                  decoded in memory;
  track           `track_videos` end to end: model loading, decode, inference,
                  tracker, the four track files and the quality json (no
                  overlay), and its overhead = track time / model time - 1;
  stages          the same steps one at a time: decode + `infer_detections`
                  (streamed), `track_identities`, each file written.

Memory (`--memory-minutes` videos at `--memory-fps`, 160x120, a YOLO model
trained one epoch at 64 px so that an hour of frames is affordable on a CPU):
each video is tracked by `etholoop track` in a fresh Python process, which
reports its own peak resident memory (`ru_maxrss` of RUSAGE_SELF, not
RUSAGE_CHILDREN: the latter is the largest of all children). A second fresh
process runs the stages one at a time and reports the peak after each, so a
stage that grows with the video's length shows.

Printed: one table; written to `--out` (default
benchmarks/output/track-pipeline): `track_pipeline.csv` and `track_pipeline.md`.
Projects and videos go to `--work` (default `--out`/work) and are reused when
present.

    ETHOLOOP_THREADS=1 .venv/bin/python benchmarks/track_pipeline.py
        [--frames 900] [--size 320x240] [--epochs 3] [--memory-minutes 1,60]
        [--memory-fps 30] [--skip-memory] [--skip-speed] [--out DIR] [--work DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

from attrs import asdict, frozen

from etholoop.io.tracks import TRACK_SUFFIXES, write_tracks
from etholoop.pose.backend import PosePredictor
from etholoop.pose.predict import load_predictor
from etholoop.pose.video_inference import FRAMES_PER_BATCH, infer_detections
from etholoop.project import Project
from etholoop.synth import make_arena, write_arena
from etholoop.track import track_identities
from etholoop.tracking import identity_names, track_videos, tracker_params
from etholoop.video.reader import Frame, open_video

P = ParamSpec("P")
T = TypeVar("T")

KEYPOINTS = "nose,earL,earR,tailB"
MIN_SCORE = 0.0
"""Every box the model finds goes to the tracker (`etholoop track --min-score 0`)."""
TRAIN_FRAMES = 60
"""Frames of the arena whose labels train the speed model (another arena is
tracked); its accuracy does not matter."""
MEMORY_SIZE = (160, 120)
MEMORY_TRAIN = ("--backend", "yolo", "--imgsz", "64", "--epochs", "1", "--batch", "8")
"""A model cheap enough for an hour of frames on a CPU."""
MEMORY_TRAIN_FRAMES = 100
PEAK_TAG = "PEAK_RSS_KB"

_TRACK_IN_FRESH_PROCESS = f"""
import resource, sys
from etholoop.cli import main
sys.argv = ["etholoop", *sys.argv[1:]]
try:
    main()
    code = 0
except SystemExit as exit:
    code = exit.code
print("{PEAK_TAG}", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, flush=True)
sys.exit(code)
"""


@frozen
class Row:
    """One measured figure.

    Attributes:
        part: "speed" or "memory <video>".
        what: The step measured.
        frames: Frames it processed.
        seconds: Wall time.
        peak_rss_mb: Peak resident memory of the process after the step, MiB
            (memory rows only).
        note: What the figure is compared with.
    """

    part: str
    what: str
    frames: int
    seconds: float
    peak_rss_mb: float | None = None
    note: str = ""

    @property
    def fps(self) -> float:
        """Frames per second."""
        return self.frames / self.seconds if self.seconds > 0 else float("nan")


def cli(*args: str) -> str:
    """Run `etholoop ARGS` in a fresh process; its stdout.

    Raises:
        RuntimeError: the command failed (its output attached).
    """
    proc = subprocess.run(
        [sys.executable, "-m", "etholoop.cli", *args], capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise RuntimeError(f"etholoop {' '.join(args)}:\n{proc.stdout}{proc.stderr}")
    return proc.stdout


def write_video(
    out_dir: Path,
    n_frames: int,
    size: tuple[int, int],
    fps: float,
    *,
    seed: int,
    name: str = "arena",
) -> Path:
    """A 2-mouse arena video `name`.mp4 in `out_dir`; reused if there.

    The ground truth beside it (`arena.slp`) refers to `arena.mp4`: a video
    given another name is for tracking, not for importing its labels.
    """
    video = out_dir / f"{name}.mp4"
    if not video.is_file():
        width, height = size
        arena = make_arena(
            n_animals=2,
            n_frames=n_frames,
            width=width,
            height=height,
            fps=fps,
            seed=seed,
            keypoints=tuple(KEYPOINTS.split(",")),
        )
        write_arena(arena, out_dir)["video"].rename(video)
    return video


def trained_project(root: Path, labels: Path, train_args: tuple[str, ...]) -> Path:
    """A project holding `labels`, trained once with `train_args`; reused if there.

    The CLI flow of a user: init, import the arena's labels, split (every
    labeled frame but the test split's trains), train.
    """
    if (root / "done").is_file():
        return root
    shutil.rmtree(root, ignore_errors=True)
    cli("init", "--animals", "2", "--keypoints", KEYPOINTS, str(root))
    cli("import", str(root), str(labels))
    cli(
        "split",
        str(root),
        "--test",
        "0.05",
        "--train-val",
        "0",  # every labeled frame outside the test split still trains
        "--predict",
        "0",
    )
    cli("train", str(root), *train_args, "--device", "cpu")
    (root / "done").write_text("trained\n")
    return root


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, MiB (Linux: ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(
    action: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
) -> tuple[T, float]:
    """`action(*args, **kwargs)` and its wall time in s."""
    start = time.perf_counter()
    value = action(*args, **kwargs)
    return value, time.perf_counter() - start


def predict_in_batches(predictor: PosePredictor, frames: list[Frame]) -> int:
    """Animals `predictor` finds in `frames`, `FRAMES_PER_BATCH` frames a call."""
    found = 0
    for start in range(0, len(frames), FRAMES_PER_BATCH):
        batch = frames[start : start + FRAMES_PER_BATCH]
        found += sum(len(instances) for instances in predictor.predict(batch))
    return found


def run_stages(project_root: Path, video: Path, out_dir: Path) -> list[Row]:
    """The steps of `etholoop track` one at a time, with time and peak RSS after each.

    The same calls `tracking._track_one` makes, in its order, outside the store
    bookkeeping; files go to `out_dir`.
    """
    rows = []
    part = f"memory {video.stem}"
    with Project.open(project_root) as project:
        (_, predictor), seconds = timed(
            load_predictor, project, None, min_score=MIN_SCORE
        )
        rows.append(Row(part, "load model", 0, seconds, peak_rss_mb()))
        params = tracker_params(project.config)
        skeleton = project.skeleton
        with open_video(video) as reader:
            n_frames, fps = reader.n_frames, reader.fps
            detections, seconds = timed(
                infer_detections,
                predictor,
                (frame for _, frame in reader.iter_frames()),
                n_frames=n_frames,
                n_keypoints=skeleton.n_keypoints,
                max_animals=params.max_ids,
            )
        rows.append(
            Row(part, "decode + infer_detections", n_frames, seconds, peak_rss_mb())
        )
        names = identity_names(params.max_ids)
        result, seconds = timed(track_identities, detections, params, names, skeleton)
        rows.append(Row(part, "track_identities", n_frames, seconds, peak_rss_mb()))
        for fmt, suffix in TRACK_SUFFIXES.items():
            _, seconds = timed(
                write_tracks,
                result.tracks,
                out_dir / f"stages{suffix}",
                fmt,
                video_path=str(video),
                fps=fps,
            )
            rows.append(Row(part, f"write {fmt}", n_frames, seconds, peak_rss_mb()))
    return rows


def measure_speed(args: argparse.Namespace, work: Path) -> list[Row]:
    """Decode, the model alone, and `track_videos` on one video, one process."""
    width, height = args.size
    size = (width, height)
    labeled = write_video(work / "speed-train", TRAIN_FRAMES, size, 30.0, seed=0)
    root = trained_project(
        work / "speed-project",
        labeled.with_name("arena.slp"),
        ("--epochs", str(args.epochs)),
    )
    video = write_video(
        work / "speed-video", args.frames, size, 30.0, seed=1, name="speed"
    )
    cli("add-videos", str(root), str(video))  # a duplicate is only reported
    shutil.rmtree(root / "tracks", ignore_errors=True)
    with open_video(video) as reader:
        frames, decode_s = timed(list, (frame for _, frame in reader.iter_frames()))
    n = len(frames)
    rows = [Row("speed", "PyAV decode (iter_frames)", n, decode_s)]
    with Project.open(root) as project:
        _, predictor = load_predictor(project, None, min_score=MIN_SCORE)
        predictor.predict(frames[:FRAMES_PER_BATCH])  # warm-up, not timed
        start = time.perf_counter()
        n_found = predict_in_batches(predictor, frames)
        model_s = time.perf_counter() - start
        rows.append(
            Row(
                "speed",
                "model alone (predictor.predict)",
                n,
                model_s,
                note=f"{n_found / n:.2f} animals found per frame",
            )
        )
        del frames
        report, track_s = timed(track_videos, project, [video], min_score=MIN_SCORE)
    (video_report,) = report.videos
    if video_report.status != "done":
        raise RuntimeError(f"track_videos failed: {video_report.error}")
    overhead = track_s / model_s - 1
    rows.append(
        Row(
            "speed",
            "track_videos end to end",
            n,
            track_s,
            note=f"overhead {overhead:+.1%} over the model alone (target <= 15 %)",
        )
    )
    stage_dir = work / "speed-stages"
    stage_dir.mkdir(exist_ok=True)
    stages = run_stages(root, video, stage_dir)
    rows += [Row("speed", row.what, row.frames, row.seconds) for row in stages]
    return rows


def overhead_of_parts(rows: list[Row]) -> str:
    """Decode, loading, tracker and files beside the model, from the timed parts.

    Steadier than the end-to-end ratio when the model is slow: two long runs of
    the model differ more, on a shared machine, than these parts take.
    """
    seconds = {row.what: row.seconds for row in rows if row.part == "speed"}
    model = seconds["model alone (predictor.predict)"]
    rest = seconds["PyAV decode (iter_frames)"] + sum(
        s
        for what, s in seconds.items()
        if what.startswith(("write", "track_id", "load"))
    )
    return (
        f"everything but the model, from its parts (decode, loading, tracker, "
        f"files): {rest:.2f} s = {rest / model:.1%} of the model's {model:.1f} s"
    )


def peak_of_track(root: Path, video: Path) -> tuple[float, float]:
    """(peak RSS MiB, wall s) of `etholoop track` on one video in a fresh process."""
    start = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            _TRACK_IN_FRESH_PROCESS,
            "track",
            "--min-score",
            str(MIN_SCORE),
            str(root),
            str(video),
        ],
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    lines = [line for line in proc.stdout.splitlines() if line.startswith(PEAK_TAG)]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"etholoop track {video}:\n{proc.stdout}{proc.stderr}")
    return int(lines[-1].split()[1]) / 1024, seconds


def stages_in_fresh_process(root: Path, video: Path, out_dir: Path) -> list[Row]:
    """`run_stages` in a fresh process, so each peak is of those steps alone."""
    proc = subprocess.run(
        [
            sys.executable,
            __file__,
            "--stages-of",
            str(video),
            "--project",
            str(root),
            "--out",
            str(out_dir),
        ],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"stages of {video}:\n{proc.stdout}{proc.stderr}")
    return [Row(**record) for record in json.loads(proc.stdout.splitlines()[-1])]


def measure_memory(args: argparse.Namespace, work: Path) -> list[Row]:
    """Peak RSS of `etholoop track` on each of `--memory-minutes` videos."""
    fps = args.memory_fps
    labeled = write_video(
        work / "memory-train", MEMORY_TRAIN_FRAMES, MEMORY_SIZE, fps, seed=0
    )
    root = trained_project(
        work / "memory-project", labeled.with_name("arena.slp"), MEMORY_TRAIN
    )
    shutil.rmtree(root / "tracks", ignore_errors=True)
    rows = []
    for minutes in args.memory_minutes:
        n_frames = round(minutes * 60 * fps)
        name = f"memory-{minutes:g}min"
        video, synth_s = timed(
            write_video, work / name, n_frames, MEMORY_SIZE, fps, seed=1, name=name
        )
        print(f"{name}: {n_frames} frames ready in {synth_s:.0f} s", flush=True)
        cli("add-videos", str(root), str(video))  # a duplicate is only reported
        peak, seconds = peak_of_track(root, video)
        rows.append(
            Row(
                f"memory {name}",
                "etholoop track (fresh process)",
                n_frames,
                seconds,
                peak,
            )
        )
        print(
            f"{name}: etholoop track peak {peak:.0f} MiB in {seconds:.0f} s", flush=True
        )
        stage_dir = work / f"{name}-stages"
        stage_dir.mkdir(exist_ok=True)
        rows += stages_in_fresh_process(root, video, stage_dir)
    return rows


def memory_verdict(rows: list[Row]) -> str:
    """The longest video's peak beside the shortest's (target: within 10 %)."""
    runs = sorted(
        (r for r in rows if r.what.startswith("etholoop track")), key=lambda r: r.frames
    )
    if len(runs) < 2:
        return ""
    short, long = runs[0], runs[-1]
    growth = long.peak_rss_mb / short.peak_rss_mb - 1  # type: ignore[operator]
    return (
        f"peak RSS {long.frames} frames {long.peak_rss_mb:.0f} MiB vs {short.frames} "
        f"frames {short.peak_rss_mb:.0f} MiB: {growth:+.1%} (target within 10 %)"
    )


def write_outputs(rows: list[Row], summary: list[str], out: Path, header: str) -> None:
    """Print the table and write it as CSV and markdown under `out`."""
    out.mkdir(parents=True, exist_ok=True)
    fields = ["part", "what", "frames", "seconds", "fps", "peak_rss_mb", "note"]
    table = [
        "| part | what | frames | s | frames/s | peak RSS MiB | note |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    with (out / "track_pipeline.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        for row in rows:
            record = asdict(row) | {"fps": round(row.fps, 1) if row.frames else ""}
            writer.writerow(record)
            rss = f"{row.peak_rss_mb:.0f}" if row.peak_rss_mb is not None else ""
            fps = f"{row.fps:.0f}" if row.frames else ""
            table.append(
                f"| {row.part} | {row.what} | {row.frames} | {row.seconds:.2f} | "
                f"{fps} | {rss} | {row.note} |"
            )
    text = "\n".join([header, "", *table, "", *(f"- {s}" for s in summary if s)])
    (out / "track_pipeline.md").write_text(text + "\n")
    print(text)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=900)
    parser.add_argument(
        "--size", type=lambda s: tuple(map(int, s.split("x"))), default=(320, 240)
    )
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument(
        "--memory-minutes",
        type=lambda s: [float(v) for v in s.split(",")],
        default=[1.0, 60.0],
    )
    parser.add_argument("--memory-fps", type=float, default=30.0)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument(
        "--out", type=Path, default=Path("benchmarks/output/track-pipeline")
    )
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--stages-of", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--project", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main() -> None:
    """Run the measurements asked for and report them."""
    args = parse_args()
    if args.stages_of is not None:
        stages = run_stages(args.project, args.stages_of, args.out)
        print(json.dumps([asdict(row) for row in stages]))
        return
    work = (args.work or args.out / "work").resolve()
    work.mkdir(parents=True, exist_ok=True)
    threads = os.environ.get("ETHOLOOP_THREADS", "all")
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    print(
        f"{os.cpu_count()} CPUs, ETHOLOOP_THREADS={threads}, load average {load}",
        flush=True,
    )
    rows: list[Row] = []
    summary = []
    if not args.skip_speed:
        rows += measure_speed(args, work)
        summary.append(next(r.note for r in rows if r.what.startswith("track_videos")))
        summary.append(overhead_of_parts(rows))
    if not args.skip_memory:
        rows += measure_memory(args, work)
        summary.append(memory_verdict(rows))
    load_end = " ".join(f"{v:.2f}" for v in os.getloadavg())
    header = (
        f"{os.cpu_count()} CPUs, ETHOLOOP_THREADS={threads}, load average at start "
        f"{load}, at end {load_end}; min_score {MIN_SCORE} (every box found is tracked)"
    )
    write_outputs(rows, summary, args.out, header)


if __name__ == "__main__":
    main()
