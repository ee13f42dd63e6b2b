"""Metrics that score a stage's output against ground truth.

`tracking`: identity-tracking scores (IDF1, MOTA, switches, HOTA) of one set of
tracks against another, matched by keypoint centroids.
"""

from etholoop.evaluate.tracking import (
    DEFAULT_GATE_PX,
    TrackScores,
    score_centroids,
    score_tracks,
)

__all__ = ["DEFAULT_GATE_PX", "TrackScores", "score_centroids", "score_tracks"]
