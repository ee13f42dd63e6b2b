"""Projects with registered videos for the sampling tests.

`arena_project`: two synthetic arenas (160x120, 240 and 360 frames, 2 mice),
registered with conditions "saline" and "drug". `static_video`: 120 frames of a
flat gray picture, then 120 frames of a square moving 1 px per frame.
`still_video`: 48 frames of one flat gray picture (a single distinct frame).
`decoded_frames`: records every frame the PyAV decoder decodes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from etholoop.config import ProjectConfig, SkeletonConfig
from etholoop.ingest import add_videos
from etholoop.project import Project
from etholoop.synth import make_arena, write_arena
from etholoop.video.decoder import FrameDecoder

MakeProject = Callable[..., Project]


@pytest.fixture(scope="session")
def arena_videos(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Two synthetic arena videos: arena-saline.mp4 (240 frames), arena-drug.mp4."""
    folder = tmp_path_factory.mktemp("arenas")
    paths = []
    for name, n_frames, seed in (("saline", 240, 1), ("drug", 360, 2)):
        arena = make_arena(
            n_animals=2, n_frames=n_frames, width=160, height=120, seed=seed
        )
        video = write_arena(arena, folder / name)["video"]
        paths.append(video.rename(folder / f"arena-{name}.mp4"))
    return paths


def _write_gray_video(path: Path, n_frames: int, n_still: int) -> Path:
    """`n_still` flat gray frames, then a 16 px square moving 1 px per frame."""
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.codec_context.gop_size = 30
        for k in range(n_frames):
            image = np.full((48, 64, 3), 128, np.uint8)
            if k >= n_still:
                x = (k - n_still) % 48
                image[16:32, x : x + 16] = 0
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = k, Fraction(1, 30)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


@pytest.fixture(scope="session")
def static_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """120 identical flat frames, then a 16 px square moving 1 px per frame."""
    return _write_gray_video(tmp_path_factory.mktemp("static") / "static.mp4", 240, 120)


@pytest.fixture(scope="session")
def still_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """48 identical flat frames: one distinct frame in four time bins."""
    return _write_gray_video(tmp_path_factory.mktemp("still") / "still.mp4", 48, 48)


@pytest.fixture
def make_project(tmp_path: Path) -> Iterator[MakeProject]:
    """`make_project(*videos, name="proj")`: a new project with the videos added."""
    opened: list[Project] = []

    def make(*videos: Path, name: str = "proj") -> Project:
        config = ProjectConfig(
            name=name, animals=2, skeleton=SkeletonConfig(keypoints=["nose", "tail"])
        )
        project = Project.create(tmp_path / name, config)
        opened.append(project)
        report = add_videos(project, list(videos))
        assert not report.failed
        return project

    yield make
    for project in opened:
        project.close()


@pytest.fixture
def decoded_frames(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Path, int]]:
    """(video file, frame index) of every frame decoded from now on, in order.

    Recorded where `FrameDecoder` numbers what FFmpeg hands out, which every
    decode passes through: seeks, forward reads and `iter_frames` alike.
    """
    decoded: list[tuple[Path, int]] = []
    real_indexed = FrameDecoder._indexed

    def recording_indexed(
        self: FrameDecoder, frames: Iterator[av.VideoFrame]
    ) -> Iterator[tuple[int, av.VideoFrame]]:
        for frame_idx, frame in real_indexed(self, frames):
            decoded.append((self.path, frame_idx))
            yield frame_idx, frame

    monkeypatch.setattr(FrameDecoder, "_indexed", recording_indexed)
    return decoded
