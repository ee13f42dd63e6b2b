"""Metrics that score a stage's output against ground truth.

`tracking`: identity-tracking scores (IDF1, MOTA, switches, HOTA) of one set of
tracks against another, matched by keypoint centroids.
`behavior`: frame and bout precision, recall and F1 of per-frame behavior labels,
as counts that pool over folds and animals.
"""

from etholoop.evaluate.behavior import (
    DEFAULT_MIN_IOU,
    BehaviorScores,
    Counts,
    bout_counts,
    frame_counts,
    label_macro_f1,
    macro_f1,
    score_behaviors,
)
from etholoop.evaluate.tracking import (
    DEFAULT_GATE_PX,
    TrackScores,
    score_centroids,
    score_tracks,
)

__all__ = [
    "DEFAULT_GATE_PX",
    "DEFAULT_MIN_IOU",
    "BehaviorScores",
    "Counts",
    "TrackScores",
    "bout_counts",
    "frame_counts",
    "label_macro_f1",
    "macro_f1",
    "score_behaviors",
    "score_centroids",
    "score_tracks",
]
