"""Assigning frames to the test, train+val, predict and reserve splits.

Frames that already hold manual labels come first: only labeled test frames can
be scored and only labeled train+val frames trained on. The test split is a
fixed fraction of every stratum's labeled frames (of all its frames when no
frame is labeled), drawn once; train+val takes every other labeled frame and
is filled up with unlabeled ones; predict is drawn from the rest. Unlabeled
frames are drawn with an equal share per stratum (as sampling does), a
fraction of train+val in each stratum is marked for validation, and whatever
is left is the reserve that later cycles draw from.
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
    strata: NDArray[np.int64],
    fraction: float,
    rng: np.random.Generator,
    *,
    labeled: NDArray[np.bool_],
) -> NDArray[np.bool_]:
    """The test split: `fraction` of the labeled frames, the same in each stratum.

    Only labeled test frames can be scored, so unlabeled frames are drawn only
    when no frame is labeled (the user labels them later).

    Args:
        strata: Stratum index of each frame, shape (frames,).
        fraction: Share of the labeled frames (of all frames if none is
            labeled) for testing, in [0, 1).
        rng: Draws the frames.
        labeled: Whether each frame holds manual labels, shape (frames,).

    Returns:
        Whether each frame is a test frame, shape (frames,).
    """
    pool = labeled if labeled.any() else np.ones(len(strata), np.bool_)
    n_test = round(fraction * int(pool.sum()))
    return _draw(strata, pool, "proportional", n_test, rng)


def assign_splits(
    strata: NDArray[np.int64],
    test: NDArray[np.bool_],
    *,
    labeled: NDArray[np.bool_],
    n_trainval: int,
    val_fraction: float,
    n_predict: int,
    rng: np.random.Generator,
) -> SplitAssignment:
    """Split the frames outside `test` into train+val, predict and reserve.

    Every labeled frame outside `test` goes to train+val, even beyond
    `n_trainval` (a label in predict or reserve would be wasted); unlabeled
    frames fill train+val up to `n_trainval`, then predict takes up to
    `n_predict` of those left. Validation takes `val_fraction` of the labeled
    and of the unlabeled train+val frames, so the frames trained on now get
    their share.

    Args:
        strata: Stratum index of each frame, shape (frames,).
        test: Whether each frame is in the (fixed) test split, shape (frames,).
        labeled: Whether each frame holds manual labels, shape (frames,).
        n_trainval: Frames for train+val (more when more labeled frames are
            outside `test`).
        val_fraction: Share of train+val marked for validation, in [0, 1).
        n_predict: Frames to predict on and correct (fewer when labeled
            frames left too few).
        rng: Draws the frames.

    Returns:
        The split of every frame.
    """
    labeled_trainval = labeled & ~test
    unlabeled = ~labeled & ~test
    n_fill = min(max(n_trainval - int(labeled_trainval.sum()), 0), int(unlabeled.sum()))
    trainval = labeled_trainval | _draw(strata, unlabeled, "equal", n_fill, rng)
    rest = unlabeled & ~trainval
    predict = _draw(strata, rest, "equal", min(n_predict, int(rest.sum())), rng)
    val = np.zeros(len(strata), np.bool_)
    for part in (labeled_trainval, trainval & ~labeled):
        n_val = round(val_fraction * int(part.sum()))
        val |= _draw(strata, part, "proportional", n_val, rng)
    split = np.full(len(strata), "reserve", dtype=object)
    split[test] = "test"
    split[trainval] = "trainval"
    split[predict] = "predict"
    return SplitAssignment(split, val)
