"""Which predicted animals of a frame are stored: the project's count, best first."""

from __future__ import annotations

import numpy as np

from etholoop.pose.backend import keep_best
from etholoop.types import Instance


def _scored(score: float | None) -> Instance:
    return Instance(keypoints=np.zeros((2, 2)), box_score=score, source="predicted")


def test_keep_best_keeps_the_highest_box_scores_best_first() -> None:
    found = [_scored(s) for s in (0.3, 0.9, None, 0.6, 0.8)]
    assert [i.box_score for i in keep_best(found, 1)] == [0.9]
    assert [i.box_score for i in keep_best(found, 3)] == [0.9, 0.8, 0.6]
    assert [i.box_score for i in keep_best(found, 9)] == [0.9, 0.8, 0.6, 0.3, None]
    assert keep_best([], 2) == []
