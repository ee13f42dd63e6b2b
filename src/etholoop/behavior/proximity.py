"""The one-feature proximity rule: a behavior is on while the animals are close.

The baseline a learned model must beat. The feature is the closest distance
between any keypoint of the subject and any keypoint of its nearest neighbour
(`closest_distance` of `features.frame_features`, in body lengths, windows and
normalization off); `fit` picks, per behavior, the distance at or below which
the behavior is on that gives the best frame F1 on the labeled frames.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from attrs import frozen
from numpy.typing import NDArray

from etholoop.behavior.features import FeatureParams, video_features
from etholoop.behavior.model import LabeledVideo
from etholoop.evaluate.behavior import frame_counts
from etholoop.types import Ethogram, Tracks

FEATURE = "closest_distance"
_FEATURES = FeatureParams(windows=(), normalize=False)


@frozen
class ProximityRule:
    """Fits `ProximityPredictor`: one distance threshold per behavior."""

    def fit(self, videos: Sequence[LabeledVideo]) -> ProximityPredictor:
        """The distance threshold of each behavior with the best frame F1."""
        distances, labels = [], []
        for video in videos:
            frame, individual = np.nonzero(video.labeled)
            distances.append(_distance(video.tracks)[frame, individual])
            labels.append(video.labels.values[frame, individual].astype(bool))
        distance, y = np.concatenate(distances), np.concatenate(labels)
        candidates = np.unique(np.nanpercentile(distance, np.arange(1, 100)))
        thresholds = tuple(
            _best_threshold(distance, y[:, b], candidates) for b in range(y.shape[1])
        )
        return ProximityPredictor(videos[0].labels.behaviors, thresholds)


@frozen
class ProximityPredictor:
    """On while the closest keypoint distance is at most `thresholds[b]`."""

    behaviors: tuple[str, ...]
    thresholds: tuple[float, ...]

    def predict_proba(self, tracks: Tracks) -> Ethogram:
        """1.0 where the rule is on, else 0.0 (it has no graded confidence)."""
        return Ethogram(
            self.predict(tracks).values.astype(np.float32),
            self.behaviors,
            tracks.individuals,
        )

    def predict(self, tracks: Tracks) -> Ethogram:
        """Booleans, shape (frames, individuals, behaviors)."""
        distance = _distance(tracks)[..., None]
        return Ethogram(
            distance <= np.asarray(self.thresholds), self.behaviors, tracks.individuals
        )


def _best_threshold(
    distance: NDArray[np.float32],
    truth: NDArray[np.bool_],
    candidates: NDArray[np.floating],
) -> float:
    """The candidate distance whose rule has the best frame F1 (the first if tied)."""
    f1 = [np.nan_to_num(frame_counts(truth, distance <= t).f1) for t in candidates]
    return float(candidates[int(np.argmax(f1))])


def _distance(tracks: Tracks) -> NDArray[np.float32]:
    features, names = video_features(tracks, _FEATURES)
    return features[..., names.index(FEATURE)]
