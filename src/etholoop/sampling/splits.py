"""Assigning frames to the test, train+val, predict and reserve splits.

The test split is a fixed fraction of every stratum, drawn once; train+val and
predict are drawn from the rest with an equal share per stratum (as sampling
does), a fraction of train+val in each stratum is marked for validation, and
whatever is left is the reserve that later cycles draw from.
"""

from __future__ import annotations

import numpy as np
from attrs import frozen
from numpy.typing import NDArray

from etholoop.sampling.strategies import allocate_equal, allocate_proportional
from etholoop.types import Split


@frozen(eq=False)
class SplitAssignment:
    """The split of each frame.

    Attributes:
        split: Split name of each frame, shape (frames,), dtype object.
        val: Whether a train+val frame is held out for validation, shape (frames,).
    """

    split: NDArray[np.object_]
    val: NDArray[np.bool_]

    def members(self, name: Split) -> NDArray[np.int64]:
        """Positions of the frames in split `name`."""
        return np.flatnonzero(self.split == name)


def _draw(
    strata: NDArray[np.int64],
    pool: NDArray[np.bool_],
    counts_of: str,
    n: int,
    rng: np.random.Generator,
) -> NDArray[np.bool_]:
    """A random subset of `pool` of size `n`, shared among strata."""
    positions = np.flatnonzero(pool)
    values, inverse = np.unique(strata[positions], return_inverse=True)
    sizes = np.bincount(inverse, minlength=len(values)).astype(np.int64)
    allocate = allocate_equal if counts_of == "equal" else allocate_proportional
    counts = allocate(sizes, n, rng)
    drawn = np.zeros(len(strata), np.bool_)
    for group, k in enumerate(counts):
        members = positions[inverse == group]
        drawn[rng.choice(members, size=int(k), replace=False)] = True
    return drawn


def draw_test(
    strata: NDArray[np.int64], fraction: float, rng: np.random.Generator
) -> NDArray[np.bool_]:
    """The test split: `fraction` of all frames, the same fraction of each stratum.

    Args:
        strata: Stratum index of each frame, shape (frames,).
        fraction: Share of frames for testing, in [0, 1).
        rng: Draws the frames.

    Returns:
        Whether each frame is a test frame, shape (frames,).
    """
    n_test = round(fraction * len(strata))
    return _draw(strata, np.ones(len(strata), np.bool_), "proportional", n_test, rng)


def assign_splits(
    strata: NDArray[np.int64],
    test: NDArray[np.bool_],
    *,
    n_trainval: int,
    val_fraction: float,
    n_predict: int,
    rng: np.random.Generator,
) -> SplitAssignment:
    """Split the frames outside `test` into train+val, predict and reserve.

    Args:
        strata: Stratum index of each frame, shape (frames,).
        test: Whether each frame is in the (fixed) test split, shape (frames,).
        n_trainval: Frames for train+val; with `n_predict` at most the non-test
            frames.
        val_fraction: Share of train+val marked for validation, in [0, 1).
        n_predict: Frames to predict on and correct.
        rng: Draws the frames.

    Returns:
        The split of every frame.
    """
    trainval = _draw(strata, ~test, "equal", n_trainval, rng)
    predict = _draw(strata, ~test & ~trainval, "equal", n_predict, rng)
    val = _draw(strata, trainval, "proportional", round(val_fraction * n_trainval), rng)
    split = np.full(len(strata), "reserve", dtype=object)
    split[test] = "test"
    split[trainval] = "trainval"
    split[predict] = "predict"
    return SplitAssignment(split, val)
