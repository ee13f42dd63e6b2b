"""Train/test splits of behavior frames: contiguous time blocks or whole videos.

Neighbouring frames of one bout look almost alike, so a split that scatters
frames at random puts the same bout on both sides and inflates F1 (on the ethome
session from about 0.5 to 0.98). Only two kinds are offered: contiguous time
blocks of each video (`block_folds`), with `gap` frames on each side of a test
block left out of training, and leave-one-video-out (`video_folds`).
`check_fold` refuses any other fold, such as a random-frame split, that puts a
training frame within `gap` frames of a test frame of the same video.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from attrs import frozen
from numpy.typing import NDArray

from etholoop.errors import SamplingError

BoolArray = NDArray[np.bool_]
DEFAULT_GAP = 1
"""Frames left out between a test block and training, on each side."""


@frozen(eq=False)
class Fold:
    """One train/test split of frames of several videos.

    Attributes:
        train: Per video, the frames to train on, boolean of shape (frames,).
        test: Per video, the frames to test on, boolean of shape (frames,).
    """

    train: tuple[BoolArray, ...]
    test: tuple[BoolArray, ...]


def time_blocks(n_frames: int, n_blocks: int) -> list[tuple[int, int]]:
    """[start, stop) of `n_blocks` contiguous blocks of near-equal length."""
    if not 1 <= n_blocks <= n_frames:
        raise SamplingError(f"cannot cut {n_frames} frames into {n_blocks} time blocks")
    edges = np.linspace(0, n_frames, n_blocks + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True)]


def block_folds(n_frames: int, n_blocks: int, gap: int = DEFAULT_GAP) -> list[Fold]:
    """One fold per time block of one video: test on it, train on the rest.

    Args:
        n_frames: Frames of the video.
        n_blocks: Number of contiguous blocks (and folds).
        gap: Frames on each side of the test block used for neither side.
    """
    folds = []
    for start, stop in time_blocks(n_frames, n_blocks):
        test = np.zeros(n_frames, bool)
        test[start:stop] = True
        train = ~test
        train[max(start - gap, 0) : stop + gap] = False
        folds.append(Fold((train,), (test,)))
    return folds


def blocks_of_videos(
    n_frames: Sequence[int], n_blocks: int, gap: int = DEFAULT_GAP
) -> list[Fold]:
    """Time-block folds of several videos: fold k tests block k of every video."""
    per_video = [block_folds(n, n_blocks, gap) for n in n_frames]
    return [
        Fold(
            tuple(folds[k].train[0] for folds in per_video),
            tuple(folds[k].test[0] for folds in per_video),
        )
        for k in range(n_blocks)
    ]


def video_folds(n_frames: Sequence[int]) -> list[Fold]:
    """Leave-one-video-out: fold k tests on every frame of video k, trains on the rest.

    Args:
        n_frames: Frames of each video.
    """
    if len(n_frames) < 2:
        raise SamplingError("leave-one-video-out needs at least 2 videos")
    return [
        Fold(
            tuple(np.full(n, v != k) for v, n in enumerate(n_frames)),
            tuple(np.full(n, v == k) for v, n in enumerate(n_frames)),
        )
        for k in range(len(n_frames))
    ]


def check_fold(fold: Fold, gap: int = DEFAULT_GAP) -> None:
    """Refuse a fold with a training frame within `gap` frames of a test frame.

    A random-frame split fails this for any `gap` >= 1; `block_folds(..., gap)`
    and `video_folds` pass it.

    Raises:
        SamplingError: the fold mixes neighbouring frames, or a frame is on both
            sides.
    """
    for video, (train, test) in enumerate(zip(fold.train, fold.test, strict=True)):
        test_frames = np.flatnonzero(test)
        train_frames = np.flatnonzero(train)
        if not test_frames.size or not train_frames.size:
            continue
        near = np.searchsorted(test_frames, train_frames)
        after = test_frames[np.minimum(near, test_frames.size - 1)]
        before = test_frames[np.maximum(near - 1, 0)]
        distance = np.minimum(
            np.abs(after - train_frames), np.abs(train_frames - before)
        )
        if distance.min() <= gap:
            frame = int(train_frames[np.argmin(distance)])
            raise SamplingError(
                f"video {video}: training frame {frame} is {int(distance.min())} "
                f"frames from a test frame (at most {gap}); split by contiguous "
                "time blocks or leave one video out, never by random frames"
            )
