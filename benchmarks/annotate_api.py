"""Time to list a page of frames in a large project, through the real server.

Builds a project whose store holds `--frames` frames (default 100,000) of one
registered video, two instances on every other frame and predictions on some,
split into test/trainval/predict/reserve, then times GET /api/frames pages on a
uvicorn server on 127.0.0.1 (first, middle and last pages; filtered by split
and status; sorted by status). Target: under 200 ms per page.

    .venv/bin/python benchmarks/annotate_api.py [--frames 100000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import time
from pathlib import Path

import httpx
from sqlalchemy import insert

from etholoop.annotate import serve_in_background
from etholoop.config import ProjectConfig, SkeletonConfig
from etholoop.project import Project
from etholoop.store import add_video, get_or_add_cycle
from etholoop.store.models import Frame, InstanceRow, SplitMember
from etholoop.types import VideoInfo

OUTPUT = Path(__file__).parent / "output"


def build_project(root: Path, n_frames: int) -> Project:
    """A project with `n_frames` frame rows, labels and splits, inserted in bulk."""
    shutil.rmtree(root, ignore_errors=True)
    config = ProjectConfig(
        name="big",
        animals=2,
        skeleton=SkeletonConfig(keypoints=["nose", "earL", "earR", "tailB"]),
    )
    project = Project.create(root, config)
    with project.store.session() as session:
        info = VideoInfo(
            path="videos/long.mp4",
            sha256="0" * 64,
            fps=30.0,
            n_frames=n_frames,
            width=640,
            height=480,
            codec="h264",
            pix_fmt="yuv420p",
            duration_s=n_frames / 30,
        )
        video = add_video(session, info, path=info.path)
        cycle = get_or_add_cycle(session)
        session.execute(
            insert(Frame),
            [
                {
                    "id": i + 1,
                    "video_id": video.id,
                    "frame_idx": i,
                    "n_instances": 2 * (i % 2 == 0),
                    "n_predicted": 2 * (i % 20 == 0),
                    "n_complete": 2 * (i % 2 == 0 and i % 20 != 0),
                }
                for i in range(n_frames)
            ],
        )
        splits = ("test", "trainval", "predict", "reserve")
        session.execute(
            insert(SplitMember),
            [
                {"cycle_id": cycle.id, "frame_id": i + 1, "split": splits[i % 4]}
                for i in range(n_frames)
            ],
        )
        instance = {
            "keypoints": [[1.0, 2.0]] * 4,
            "visibility": [2, 2, 2, 2],
            "complete": True,
            "x1": 0.0,
            "y1": 0.0,
            "x2": 10.0,
            "y2": 10.0,
        }
        session.execute(
            insert(InstanceRow),
            [
                {
                    **instance,
                    "frame_id": i + 1,
                    "source": "predicted" if i % 10 == 0 else "manual",
                    "version": 1,
                }
                for i in range(0, n_frames, 2)
                for _ in range(2)
            ],
        )
    return project


def main() -> None:
    """Build the project, serve it, time the pages, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    started = time.perf_counter()
    project = build_project(OUTPUT / "big-project", args.frames)
    elapsed = time.perf_counter() - started
    print(f"built a store of {args.frames} frames in {elapsed:.1f} s")
    middle = args.frames // 2
    queries = {
        "first page (50, by id)": {},
        "middle page": {"offset": middle},
        "last page": {"offset": args.frames - 50},
        "split=trainval": {"split": "trainval"},
        "split=predict, middle": {"split": "predict", "offset": args.frames // 8},
        "status=blue": {"status": "blue"},
        "sorted by status": {"sort": "status"},
        "progress per split": None,
    }
    with serve_in_background(project) as url, httpx.Client(base_url=url) as client:
        for name, params in queries.items():
            path = "/api/progress" if params is None else "/api/frames"
            times = []
            for _ in range(args.repeats):
                t = time.perf_counter()
                response = client.get(path, params=params or {})
                times.append((time.perf_counter() - t) * 1000)
                response.raise_for_status()
            total = response.json().get("total", "")
            print(
                f"{name:<24} median {statistics.median(times):7.1f} ms  "
                f"max {max(times):7.1f} ms  {total}"
            )
    project.close()
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
