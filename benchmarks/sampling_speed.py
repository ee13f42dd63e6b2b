"""Speed and spread of `etholoop sample`.

1. Time to sample 1,000 frames (stratified and uniform) from an hour of 30 fps
   video: a synthetic 640x480 H.264 file (libx264 ultrafast, a keyframe every 30
   frames) made once and cached in benchmarks/output/. Target: under 2 minutes.
2. Mean nearest-neighbour distance (thumbnail RMS, see `sampling.embed`) of the
   frames `diverse` and `uniform` pick from the DLC open-field video in
   `../shared/data`: larger is more spread.

    .venv/bin/python benchmarks/sampling_speed.py [--n 1000] [--minutes 60]
        [--spread-n 50] [--diverse]
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image
from sqlalchemy import select

from etholoop.config import ProjectConfig, SkeletonConfig
from etholoop.ingest import add_videos
from etholoop.project import Project
from etholoop.sampling import sample_frames
from etholoop.sampling.embed import embed_frame, mean_nearest_neighbour_distance
from etholoop.store.models import Frame

OUTPUT = Path(__file__).parent / "output"
DLC_VIDEO = (
    Path(__file__).resolve().parents[2]
    / "shared/data/dlc_openfield_mouse/videos/m3v1mp4.mp4"
)


def make_long_video(path: Path, n_frames: int) -> Path:
    """A 640x480 30 fps video of a dark blob wandering over a textured floor."""
    if path.exists():
        return path
    rng = np.random.default_rng(0)
    floor = (160 + 40 * rng.random((48, 64))).astype(np.uint8)
    floor = np.asarray(Image.fromarray(floor).resize((640, 480), Image.BILINEAR))
    t = np.arange(n_frames) / 30
    xs = (320 + 250 * np.sin(t / 7) * np.cos(t / 23)).astype(int)
    ys = (240 + 180 * np.sin(t / 11 + 1)).astype(int)
    partial = path.with_suffix(".partial.mp4")
    started = time.perf_counter()
    with av.open(str(partial), mode="w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 640, 480, "yuv420p"
        stream.codec_context.gop_size = 30
        stream.codec_context.options = {"preset": "ultrafast", "sc_threshold": "0"}
        for k in range(n_frames):
            image = floor.copy()
            image[ys[k] - 20 : ys[k] + 20, xs[k] - 35 : xs[k] + 35] = 30
            frame = av.VideoFrame.from_ndarray(image, format="gray")
            frame.pts, frame.time_base = k, Fraction(1, 30)
            container.mux(stream.encode(frame))
            if k % 18000 == 0:
                print(f"  writing test video: frame {k} of {n_frames}", flush=True)
        container.mux(stream.encode(None))
    partial.rename(path)
    print(f"  wrote {path} in {time.perf_counter() - started:.0f} s")
    return path


def new_project(root: Path, video: Path) -> Project:
    """A fresh project in `root` with `video` registered."""
    shutil.rmtree(root, ignore_errors=True)
    config = ProjectConfig(
        name=root.name, animals=1, skeleton=SkeletonConfig(keypoints=["nose", "tail"])
    )
    project = Project.create(root, config)
    add_videos(project, [video])
    return project


def time_sampling(video: Path, n: int, strategy: str) -> None:
    """Print how long sampling `n` frames of `video` takes (video registered first)."""
    with new_project(OUTPUT / f"project-{strategy}", video) as project:
        started = time.perf_counter()
        result = sample_frames(project, n=n, strategy=strategy)
        seconds = time.perf_counter() - started
    print(
        f"{strategy:<10} {result.n_chosen} frames in {seconds:6.1f} s "
        f"({result.n_duplicates} near-duplicates replaced)"
    )


def spread(video: Path, n: int, strategy: str) -> float:
    """Mean nearest-neighbour distance of the frames `strategy` picks."""
    with new_project(OUTPUT / f"spread-{strategy}", video) as project:
        sample_frames(project, n=n, strategy=strategy, strata=["video"])
        with project.store.session() as session:
            paths = list(session.scalars(select(Frame.image_path)))
        embeddings = [
            embed_frame(np.asarray(Image.open(project.resolve(p)).convert("L")))
            for p in paths
        ]
    return mean_nearest_neighbour_distance(np.stack(embeddings))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--spread-n", type=int, default=50)
    parser.add_argument(
        "--diverse", action="store_true", help="also time `diverse` on the long video"
    )
    args = parser.parse_args()
    OUTPUT.mkdir(exist_ok=True)
    n_frames = round(args.minutes * 60 * 30)
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    video = make_long_video(OUTPUT / f"long-{n_frames}.mp4", n_frames)
    print(f"sampling {args.n} of {n_frames} frames ({args.minutes:g} min at 30 fps)")
    for strategy in ("stratified", "uniform", *(("diverse",) if args.diverse else ())):
        time_sampling(video, args.n, strategy)
    if DLC_VIDEO.exists():
        print(f"spread of {args.spread_n} frames of {DLC_VIDEO.name}:")
        for strategy in ("uniform", "stratified", "diverse"):
            value = spread(DLC_VIDEO, args.spread_n, strategy)
            print(f"  {strategy:<10} mean nearest-neighbour distance {value:.4f}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
