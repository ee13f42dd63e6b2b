"""Videos for the sampling tests (`arena_videos` and `make_project` are shared:
`tests.fixtures.projects`).

`static_video`: 120 frames of a flat gray picture, then 120 frames of a square
moving 1 px per frame.
`still_video`: 48 frames of one flat gray picture (a single distinct frame).
`decoded_frames`: records every frame the PyAV decoder decodes.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from etholoop.video.decoder import FrameDecoder


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
