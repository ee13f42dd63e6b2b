"""The overlay video: every frame comes back, with the tracks drawn on it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from etholoop.errors import VideoError
from etholoop.synth import Arena, ArenaSpec, make_arena
from etholoop.types import Tracks
from etholoop.video import PyAVReader
from etholoop.video.overlay import PALETTE, write_overlay


@pytest.fixture(scope="module")
def arena() -> Arena:
    """Two mice, 20 frames of 160x120."""
    return make_arena(ArenaSpec(n_animals=2, n_frames=20, width=160, height=120))


def _window_difference(a: np.ndarray, b: np.ndarray, x: float, y: float) -> float:
    """Mean absolute difference of two frames in the 3x3 px around (x, y)."""
    col, row = round(x), round(y)
    window = (slice(row - 1, row + 2), slice(col - 1, col + 2))
    return float(np.abs(a[window].astype(int) - b[window].astype(int)).mean())


def test_overlay_draws_every_frame(arena: Arena, tmp_path: Path) -> None:
    path = write_overlay(arena.frames(), arena.tracks, tmp_path / "o.mp4", fps=30.0)
    assert path == tmp_path / "o.mp4"
    assert [p.name for p in tmp_path.iterdir()] == ["o.mp4"]
    plain = list(arena.frames())
    with PyAVReader(path) as reader:
        assert len(reader) == 20
        assert (reader.width, reader.height) == (160, 120)
        assert reader.fps == pytest.approx(30.0)
        for t in (0, 10, 19):
            drawn = reader.read_frame(t)
            for i in range(2):
                x, y = arena.tracks.xy[t, i, 0]  # the nose
                assert _window_difference(drawn, plain[t], x, y) > 30
    # far from every animal the frame is the plain one, up to compression
    corner = (slice(100, 118), slice(2, 20))
    diff = np.abs(drawn[corner].astype(int) - plain[19][corner].astype(int))
    assert diff.mean() < 6


def test_overlay_colours_by_identity(arena: Arena, tmp_path: Path) -> None:
    path = write_overlay(arena.frames(), arena.tracks, tmp_path / "o.mp4", fps=30.0)
    with PyAVReader(path) as reader:
        drawn = reader.read_frame(5)
    for i in range(2):
        x, y = np.round(arena.tracks.xy[5, i, 0]).astype(int)
        distance = [np.abs(drawn[y, x] - np.array(c)).sum() for c in PALETTE[:2]]
        assert distance[i] < distance[1 - i]


def test_overlay_draws_given_boxes(arena: Arena, tmp_path: Path) -> None:
    boxes = np.full((20, 2, 4), np.nan)
    boxes[:, 0] = [10, 10, 60, 50]  # an empty patch of floor
    path = write_overlay(
        arena.frames(), arena.tracks, tmp_path / "o.mp4", fps=30.0, boxes=boxes
    )
    plain = next(arena.frames())
    with PyAVReader(path) as reader:
        drawn = reader.read_frame(0)
    assert _window_difference(drawn, plain, 35, 10) > 30  # the top edge
    assert _window_difference(drawn, plain, 35, 30) < 10  # inside, untouched


def test_overlay_of_odd_sized_gray_frames(tmp_path: Path) -> None:
    skeleton = make_arena(ArenaSpec(n_animals=1, n_frames=2)).tracks.skeleton
    k = skeleton.n_keypoints
    xy = np.full((3, 1, k, 2), np.nan, np.float32)
    xy[1, 0] = [[20.0 + 5 * j, 30.0] for j in range(k)]
    tracks = Tracks(xy, np.ones((3, 1, k), np.float32), ("solo",), skeleton)
    frames = (np.full((41, 61), 128, np.uint8) for _ in range(4))  # one extra frame
    path = write_overlay(frames, tracks, tmp_path / "o.mp4", fps=10.0, trail=0)
    with PyAVReader(path) as reader:
        assert len(reader) == 4
        assert (reader.width, reader.height) == (62, 42)
        drawn = reader.read_frame(1)
        assert np.abs(reader.read_frame(0).astype(int) - 128).max() < 6  # no one
    assert np.abs(drawn[30, 20].astype(int) - 128).max() > 30


def test_overlay_errors(arena: Arena, tmp_path: Path) -> None:
    with pytest.raises(VideoError, match=r"o\.mp4: no frames to write"):
        write_overlay(iter([]), arena.tracks, tmp_path / "o.mp4", fps=30.0)
    with pytest.raises(VideoError, match=r"o\.mp4: boxes have shape \(20, 2\)"):
        write_overlay(
            arena.frames(),
            arena.tracks,
            tmp_path / "o.mp4",
            fps=30.0,
            boxes=np.zeros((20, 2)),
        )
    sizes = [np.zeros((120, 160, 3), np.uint8), np.zeros((100, 160, 3), np.uint8)]
    with pytest.raises(VideoError, match="frame 1 is 160x100, the first was 160x120"):
        write_overlay(iter(sizes), arena.tracks, tmp_path / "o.mp4", fps=30.0)
    assert not list(tmp_path.iterdir())
