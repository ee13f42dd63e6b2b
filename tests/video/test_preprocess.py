from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest
from numpy.typing import NDArray

from etholoop.errors import VideoError
from etholoop.video import (
    PreprocessParams,
    PyAVReader,
    plan_output_size,
    preprocess_video,
)
from etholoop.video.preprocess import plan_source_frames

FrameNumber = Callable[[NDArray[np.uint8]], int]


@pytest.fixture(scope="module")
def video_30fps(make_video: Callable[..., Path]) -> Path:
    """48 synthetic frames (1.6 s) at 30 fps."""
    return make_video("synthetic30.mp4", fps=30)


def frame_numbers(path: Path, frame_number: FrameNumber) -> list[int]:
    with PyAVReader(path) as reader:
        return [frame_number(frame) for _, frame in reader.iter_frames()]


@pytest.mark.parametrize(
    ("width", "height", "size", "expected"),
    [
        (640, 480, None, (640, 480)),
        (640, 480, 320, (320, 240)),
        (480, 640, 320, (240, 320)),
        (1350, 360, 640, (640, 170)),
        (321, 241, None, (320, 240)),
        (64, 48, 33, (32, 24)),
        (64, 48, 128, (128, 96)),
    ],
)
def test_plan_output_size(
    width: int, height: int, size: int | None, expected: tuple[int, int]
) -> None:
    assert plan_output_size(width, height, size) == expected


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (PreprocessParams(), list(range(10))),
        (PreprocessParams(fps=15), [0, 2, 4, 6, 8]),
        (PreprocessParams(fps=20), [0, 1, 3, 4, 6, 7, 9]),
        (PreprocessParams(fps=60), [i // 2 for i in range(20)]),
        (PreprocessParams(start_s=0.1), list(range(3, 10))),
        (PreprocessParams(start_s=0.1, duration_s=0.1), [3, 4, 5]),
        (PreprocessParams(fps=15, start_s=0.1, duration_s=1.0), [3, 5, 7, 9]),
        (PreprocessParams(start_s=0.4), []),
    ],
)
def test_plan_source_frames(params: PreprocessParams, expected: list[int]) -> None:
    # 10 frames at 30 fps: 0.333 s
    assert plan_source_frames(10, 30.0, params).tolist() == expected


def test_params_are_validated() -> None:
    for bad in [{"fps": 0}, {"size": 1}, {"start_s": -1}, {"crf": 52}]:
        with pytest.raises(ValueError):
            PreprocessParams(**bad)  # type: ignore[arg-type]


def test_halving_the_frame_rate(
    video_30fps: Path, tmp_path: Path, frame_number: FrameNumber
) -> None:
    dst = tmp_path / "out" / "half.mp4"
    written: list[int] = []
    info = preprocess_video(
        video_30fps, dst, PreprocessParams(fps=15), progress=written.append
    )
    assert (info.n_frames, info.fps, info.width, info.height) == (24, 15, 64, 48)
    assert (info.codec, info.pix_fmt, info.path) == ("h264", "yuv420p", str(dst))
    assert sum(written) == 24
    assert frame_numbers(dst, frame_number) == list(range(0, 48, 2))
    assert sorted(p.name for p in dst.parent.iterdir()) == ["half.mp4"]


def test_keyframe_interval(synthetic_mp4: Path, tmp_path: Path) -> None:
    dst = tmp_path / "gop.mp4"
    preprocess_video(synthetic_mp4, dst, PreprocessParams(keyframe_interval=10))
    with av.open(str(dst)) as container:
        stream = container.streams.video[0]
        packets = [p for p in container.demux(stream) if p.size]
    frame_inds = [round(p.pts * stream.time_base * 25) for p in packets]
    assert frame_inds == list(range(48))  # decode order is display order: no B-frames
    keyframes = [i for i, p in zip(frame_inds, packets, strict=True) if p.is_keyframe]
    assert keyframes == [0, 10, 20, 30, 40]


def test_size_gray_and_trim(
    synthetic_mp4: Path, tmp_path: Path, frame_number: FrameNumber
) -> None:
    dst = tmp_path / "small.mp4"
    params = PreprocessParams(size=32, gray=True, start_s=0.4, duration_s=0.8)
    info = preprocess_video(synthetic_mp4, dst, params)
    assert (info.width, info.height, info.n_frames, info.fps) == (32, 24, 20, 25)
    with PyAVReader(dst) as reader:
        for _, frame in reader.iter_frames():
            np.testing.assert_array_equal(frame[..., 0], frame[..., 1])
            np.testing.assert_array_equal(frame[..., 0], frame[..., 2])
    assert frame_numbers(dst, frame_number) == list(range(10, 30))


def test_interrupted_run_leaves_no_file(synthetic_mp4: Path, tmp_path: Path) -> None:
    def interrupt(n: int) -> None:
        raise KeyboardInterrupt

    dst = tmp_path / "out.mp4"
    with pytest.raises(KeyboardInterrupt):
        preprocess_video(synthetic_mp4, dst, PreprocessParams(), progress=interrupt)
    assert list(tmp_path.iterdir()) == []


def test_preprocess_errors(synthetic_mp4: Path, tmp_path: Path) -> None:
    with pytest.raises(
        VideoError, match="no frames from 2.0 s on; the video lasts 1.920 s"
    ):
        preprocess_video(synthetic_mp4, tmp_path / "a.mp4", PreprocessParams(start_s=2))
    with pytest.raises(VideoError, match="a.mkv: output must be an .mp4 file"):
        preprocess_video(synthetic_mp4, tmp_path / "a.mkv", PreprocessParams())
    with pytest.raises(VideoError, match="would overwrite the source"):
        preprocess_video(synthetic_mp4, synthetic_mp4, PreprocessParams())
    with pytest.raises(VideoError, match="missing.mp4: no such file"):
        preprocess_video(
            tmp_path / "missing.mp4", tmp_path / "b.mp4", PreprocessParams()
        )
    assert list(tmp_path.iterdir()) == []
