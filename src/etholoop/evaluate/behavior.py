"""Frame and bout scores of predicted behavior labels against true ones.

Frame scores count frames. Bout scores count bouts (runs of True): a predicted
bout matches a true bout of the same behavior when their intersection over union
is at least `min_iou` (0.2 by default); matching is one-to-one, pairs taken in
order of decreasing IoU, so one long predicted bout over three true ones matches
one of them. Both kinds come as `Counts`, which add up, so scores pool over
folds, animals or separate stretches of a video before F1 is taken.

F1 is NaN where it is undefined (nothing true and nothing predicted).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from attrs import frozen
from numpy.typing import NDArray

from etholoop.behavior_ranges import runs_of_true

DEFAULT_MIN_IOU = 0.2


@frozen
class Counts:
    """Matches between predicted and true frames or bouts.

    Attributes:
        tp: Predicted frames (bouts) that match a true one.
        n_pred: Predicted frames (bouts).
        n_true: True frames (bouts).
    """

    tp: int = 0
    n_pred: int = 0
    n_true: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.tp + other.tp, self.n_pred + other.n_pred, self.n_true + other.n_true
        )

    @property
    def precision(self) -> float:
        """Matched share of the predicted; NaN if nothing was predicted."""
        return self.tp / self.n_pred if self.n_pred else float("nan")

    @property
    def recall(self) -> float:
        """Matched share of the true; NaN if nothing is true."""
        return self.tp / self.n_true if self.n_true else float("nan")

    @property
    def f1(self) -> float:
        """2 tp / (predicted + true); NaN if both are empty."""
        total = self.n_pred + self.n_true
        return 2 * self.tp / total if total else float("nan")


def frame_counts(true: NDArray[np.bool_], pred: NDArray[np.bool_]) -> Counts:
    """Frame matches of one behavior; `true` and `pred` have shape (frames,)."""
    true, pred = _pair(true, pred)
    return Counts(int(np.sum(true & pred)), int(pred.sum()), int(true.sum()))


def bout_counts(
    true: NDArray[np.bool_],
    pred: NDArray[np.bool_],
    min_iou: float = DEFAULT_MIN_IOU,
) -> Counts:
    """Bout matches of one behavior; `true` and `pred` have shape (frames,)."""
    true, pred = _pair(true, pred)
    true_bouts = np.array(runs_of_true(true), np.int64).reshape(-1, 2)
    pred_bouts = np.array(runs_of_true(pred), np.int64).reshape(-1, 2)
    a, b = true_bouts[:, None, 0], true_bouts[:, None, 1]
    c, d = pred_bouts[None, :, 0], pred_bouts[None, :, 1]
    iou = (np.minimum(b, d) - np.maximum(a, c)) / (np.maximum(b, d) - np.minimum(a, c))
    rows, cols = np.nonzero((iou > 0) & (iou >= min_iou))
    used_true: set[int] = set()
    used_pred: set[int] = set()
    for k in np.argsort(-iou[rows, cols], kind="stable"):
        i, j = int(rows[k]), int(cols[k])
        if i not in used_true and j not in used_pred:
            used_true.add(i)
            used_pred.add(j)
    return Counts(len(used_true), len(pred_bouts), len(true_bouts))


@frozen
class BehaviorScores:
    """Frame and bout scores of one behavior."""

    behavior: str
    frames: Counts
    bouts: Counts


def score_behaviors(
    true: NDArray[np.bool_],
    pred: NDArray[np.bool_],
    behaviors: Sequence[str],
    min_iou: float = DEFAULT_MIN_IOU,
) -> list[BehaviorScores]:
    """Frame and bout scores of each behavior.

    Args:
        true: True labels, shape (frames, behaviors).
        pred: Predicted labels, shape (frames, behaviors).
        behaviors: Name of each column.
        min_iou: Least IoU of a matching pair of bouts.
    """
    if true.shape != pred.shape or true.shape[1:] != (len(behaviors),):
        raise ValueError(
            f"labels {true.shape} and predictions {pred.shape} do not match "
            f"{len(behaviors)} behaviors"
        )
    return [
        BehaviorScores(
            name,
            frame_counts(true[:, k], pred[:, k]),
            bout_counts(true[:, k], pred[:, k], min_iou),
        )
        for k, name in enumerate(behaviors)
    ]


def label_macro_f1(true: NDArray[np.bool_], pred: NDArray[np.bool_]) -> float:
    """Mean frame F1 over the columns (behaviors) where it is defined, else NaN.

    Args:
        true: True labels, shape (frames, behaviors).
        pred: Predicted labels, the same shape.
    """
    f1s = [frame_counts(true[:, k], pred[:, k]).f1 for k in range(true.shape[1])]
    defined = [f for f in f1s if not np.isnan(f)]
    return float(np.mean(defined)) if defined else float("nan")


def macro_f1(scores: Sequence[BehaviorScores], kind: str = "frames") -> float:
    """Mean F1 over behaviors where it is defined; `kind` "frames" or "bouts"."""
    values = [getattr(s, kind).f1 for s in scores]
    defined = [v for v in values if not np.isnan(v)]
    return float(np.mean(defined)) if defined else float("nan")


def _pair(
    true: NDArray[np.bool_], pred: NDArray[np.bool_]
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    true, pred = np.asarray(true, bool), np.asarray(pred, bool)
    if true.ndim != 1 or true.shape != pred.shape:
        raise ValueError(
            f"expected two (frames,) arrays, got {true.shape} and {pred.shape}"
        )
    return true, pred
