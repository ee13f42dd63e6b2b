from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from etholoop.behavior.splits import Fold, block_folds, check_fold, video_folds
from etholoop.errors import SamplingError


def test_random_frame_split_is_refused(rng: np.random.Generator) -> None:
    test = rng.random(1000) < 0.2
    fold = Fold((~test,), (test,))
    with pytest.raises(SamplingError, match="never by random frames"):
        check_fold(fold)


@given(
    n_frames=st.integers(50, 3000),
    n_blocks=st.integers(2, 8),
    gap=st.integers(0, 30),
    bout=st.tuples(st.integers(0, 2999), st.integers(1, 200)),
)
def test_blocks_never_put_neighbouring_frames_of_a_bout_on_both_sides(
    n_frames: int, n_blocks: int, gap: int, bout: tuple[int, int]
) -> None:
    start, length = bout
    start = start % n_frames
    bout_frames = np.arange(start, min(start + length, n_frames))
    folds = block_folds(n_frames, n_blocks, gap)
    assert len(folds) == n_blocks
    tested = np.zeros(n_frames, int)
    for fold in folds:
        check_fold(fold, gap)
        (train,), (test,) = fold.train, fold.test
        tested += test
        assert not (train & test).any()
        # No two frames of one bout less than gap + 1 apart are split across.
        for t in bout_frames[test[bout_frames]]:
            near = bout_frames[np.abs(bout_frames - t) <= gap]
            assert not train[near].any()
        # The test side is one contiguous block.
        assert np.ptp(np.flatnonzero(test)) + 1 == test.sum()
    assert (tested == 1).all()


def test_leave_one_video_out() -> None:
    folds = video_folds([10, 20, 30])
    for k, fold in enumerate(folds):
        check_fold(fold)
        assert [t.all() for t in fold.test] == [v == k for v in range(3)]
        assert [t.any() for t in fold.train] == [v != k for v in range(3)]
    with pytest.raises(SamplingError):
        video_folds([10])
    with pytest.raises(SamplingError):
        block_folds(3, 5)
