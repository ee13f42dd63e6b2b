"""Decoding speed of etholoop's video reader against a plain PyAV decode loop.

Prints, for one video:
- sequential decode to RGB arrays: `PyAVReader.iter_frames` against PyAV's plain
  `container.decode` loop (same threading, same RGB conversion), and their ratio;
- random access: `read_frame` latency p50/p95 over random indices in random order;
- sorted access: the same indices in ascending order (as `extract_frames` reads).

Usage: python benchmarks/video_decode.py [VIDEO] [--n-random 100] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import av
import numpy as np

from etholoop.video import PyAVReader

DLC_VIDEO = (
    Path(__file__).resolve().parents[2]
    / "shared/data/dlc_openfield_mouse/videos/m3v1mp4.mp4"
)


def plain_decode(path: Path) -> tuple[float, float, int]:
    """Fps, CPU ms per frame (all threads) and frames of a plain PyAV decode loop."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        wall, cpu = time.perf_counter(), time.process_time()
        n = 0
        for frame in container.decode(stream):
            frame.to_ndarray(format="rgb24")
            n += 1
        return _rates(n, wall, cpu)


def reader_decode(path: Path) -> tuple[float, float, int]:
    """Wall-clock fps, CPU ms per frame and frame count of `PyAVReader.iter_frames`."""
    with PyAVReader(path) as reader:
        wall, cpu = time.perf_counter(), time.process_time()
        n = sum(1 for _ in reader.iter_frames())
        return _rates(n, wall, cpu)


def _rates(n: int, wall: float, cpu: float) -> tuple[float, float, int]:
    fps = n / (time.perf_counter() - wall)
    return fps, (time.process_time() - cpu) / n * 1e3, n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", type=Path, nargs="?", default=DLC_VIDEO)
    parser.add_argument("--n-random", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    start = time.perf_counter()
    reader = PyAVReader(args.video)
    open_s = time.perf_counter() - start
    print(f"{args.video}: {len(reader)} frames, {reader.width}x{reader.height},")
    print(
        f"  {reader.codec} {reader.pix_fmt}; open + packet index {open_s * 1e3:.0f} ms"
    )

    plain_runs, ours_runs = [], []
    for _ in range(args.repeats):  # interleaved, as timings drift on shared machines
        *plain_run, n_plain = plain_decode(args.video)
        *ours_run, n_ours = reader_decode(args.video)
        assert n_plain == n_ours == len(reader), (n_plain, n_ours, len(reader))
        plain_runs.append(plain_run)
        ours_runs.append(ours_run)
    plain_fps, plain_cpu = np.median(plain_runs, axis=0)
    ours_fps, ours_cpu = np.median(ours_runs, axis=0)
    print(f"sequential decode to RGB, median of {args.repeats} interleaved runs:")
    print(
        f"  PyAV container.decode   {plain_fps:5.0f} fps  {plain_cpu:5.2f} CPU ms/frame"
    )
    print(
        f"  PyAVReader.iter_frames  {ours_fps:5.0f} fps  {ours_cpu:5.2f} CPU ms/frame"
    )
    fps_ratio, cpu_ratio = ours_fps / plain_fps, ours_cpu / plain_cpu
    print(f"  ratio                   {fps_ratio:5.2f}      {cpu_ratio:5.2f}")

    rng = np.random.default_rng(args.seed)
    inds = rng.integers(0, len(reader), args.n_random)
    with reader:
        latencies = []
        for i in inds:
            start = time.perf_counter()
            reader.read_frame(int(i))
            latencies.append(time.perf_counter() - start)
        ms = np.array(latencies) * 1e3
        start = time.perf_counter()
        for i in np.sort(inds):
            reader.read_frame(int(i))
        sorted_s = time.perf_counter() - start
    frame_ms = 1e3 / plain_fps
    print(f"random access, read_frame over {args.n_random} random indices:")
    print(
        f"  p50 {np.percentile(ms, 50):6.1f} ms  p95 {np.percentile(ms, 95):6.1f} ms"
        f"  max {ms.max():6.1f} ms  (one plain sequential frame: {frame_ms:.1f} ms)"
    )
    print(
        f"  same indices sorted: {sorted_s:.2f} s, "
        f"{sorted_s / args.n_random * 1e3:.1f} ms per frame"
    )


if __name__ == "__main__":
    main()
