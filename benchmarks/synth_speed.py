"""Frames per second of `etholoop.synth`, by default at 640x480 with 3 mice.

Prints the speed of rendering alone and of the whole job: simulate, render and
encode H.264 (the video phase), then write the ground truth and the .slp. Other
work on the machine lowers frames/s, so the load average and the CPU time per
frame are printed too.

    .venv/bin/python benchmarks/synth_speed.py --frames 1800
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from etholoop.progress import Advance
from etholoop.synth import make_arena, write_arena


class Clock:
    """Wall and CPU time since the last lap."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def lap(self, what: str, n_frames: int) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        seconds, cpu_ms = wall - self.wall, 1e3 * (cpu - self.cpu) / n_frames
        self.wall, self.cpu = wall, cpu
        speed = f"{n_frames / seconds:6.0f} frames/s  {seconds:6.2f} s"
        print(f"{what:<44} {speed}  {cpu_ms:5.2f} ms CPU/frame")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=1800)
    parser.add_argument("--animals", type=int, default=3)
    parser.add_argument("--size", default="640x480")
    parser.add_argument("--gray", action="store_true")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    spec = {
        "n_animals": args.animals,
        "n_frames": args.frames,
        "width": width,
        "height": height,
        "gray": args.gray,
    }
    n = args.frames
    print(f"{n} frames {args.size}, {args.animals} animals, {os.cpu_count()} CPUs")
    print(f"load average before: {os.getloadavg()[0]:.2f}")

    clock = Clock()
    arena = make_arena(**spec)
    clock.lap("simulate + ground truth (make_arena)", n)
    for _ in arena.frames():
        pass
    clock.lap("render only (Arena.frames)", n)

    @contextmanager
    def video_phase(description: str, total: int | None) -> Iterator[Advance]:
        yield lambda k: None
        clock.lap("  of which simulate + render + encode", n)

    with tempfile.TemporaryDirectory() as out:
        start = Clock()
        clock = Clock()
        paths = write_arena(make_arena(**spec), Path(out), progress=video_phase)
        clock.lap("  of which truth, CSV and .slp files", n)
        start.lap("end to end (make_arena + write_arena)", n)
        size = paths["video"].stat().st_size
        print(f"video: {size / 1e6:.1f} MB, {size / n / 1e3:.1f} kB/frame")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
