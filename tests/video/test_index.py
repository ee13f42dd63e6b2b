from __future__ import annotations

from pathlib import Path

import pytest

from etholoop.video.index import build_frame_index
from tests.fixtures.videos import WriteVideo


def test_closed_gop_keyframes_are_safe(synthetic_mp4: Path) -> None:
    index = build_frame_index(synthetic_mp4)
    assert index.n_frames == 48
    assert index.pts is not None
    assert len(index.pts) == 48
    assert (index.pts[1:] > index.pts[:-1]).all()
    assert index.safe_inds.tolist() == [0, 8, 16, 24, 32, 40]
    assert index.x264_build is not None


def test_open_gop_keyframes_are_not_safe(make_video: WriteVideo) -> None:
    path = make_video("open_gop.mp4", options={"x264-params": "open-gop=1"})
    assert build_frame_index(path).safe_inds.tolist() == [0]


def test_stream_without_timestamps(make_video: WriteVideo) -> None:
    index = build_frame_index(make_video("no_pts.h264"))
    assert index.n_frames == 48
    assert index.pts is None


def test_dlc_video_index(shared_data: Path) -> None:
    # The 12 sync samples of the mp4 (frames 1, 183, 367, ... 1-based) are all IDR;
    # the stream was written by x264 build 148 (4:4:4, before FFmpeg's fix at 151).
    index = build_frame_index(shared_data / "dlc_openfield_mouse/videos/m3v1mp4.mp4")
    assert index.n_frames == 2330
    assert index.safe_inds.tolist() == [
        0, 182, 366, 548, 797, 985, 1173, 1383, 1588, 1794, 2016, 2219
    ]  # fmt: skip
    assert index.x264_build == 148


@pytest.mark.parametrize(
    ("relpath", "safe_inds"),
    [
        ("sleap_two_flies_tracks/clip.mp4", [0, 250, 500, 750, 1000, 1250]),
        ("eztrack_empty_chamber_video/Freezing_calibration.wmv", [0, 240]),
    ],
)
def test_real_video_indexes(
    relpath: str, safe_inds: list[int], shared_data: Path
) -> None:
    assert build_frame_index(shared_data / relpath).safe_inds.tolist() == safe_inds
