"""Behavior models: fit on labeled videos, predict per-frame probabilities.

`BehaviorModel.fit(videos)` returns a `BehaviorPredictor`, whose
`predict_proba(tracks)` gives probabilities of shape (frames, individuals,
behaviors), one independent (multi-label) column per behavior, and whose
`predict(tracks)` turns them into bouts with the per-behavior `BoutParams`
chosen during `fit`.

`PoseFeatureModel` is the first family: the pose features of `features.py` and
one LightGBM binary classifier per behavior. Its thresholds and bout
post-processing are tuned on validation blocks *inside* the training frames:
the labeled frames of each video are cut into `n_inner` contiguous blocks, a
model trained on the others (minus `gap` frames around the block) predicts each
block, and `tune_bouts` picks the parameters on those out-of-block
probabilities. The fitted predictor averages the `n_inner` block models (by
default) instead of retraining on every labeled frame: the parameters were tuned
on exactly those models' probabilities, whereas a refit on more frames is more
confident than they were, and its tuned threshold does not transfer. Nothing of
a test split is seen.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
from attrs import field, frozen
from numpy.typing import NDArray

from etholoop.behavior.features import FeatureParams, video_features
from etholoop.behavior.postprocess import BoutParams, apply_ethogram, tune_bouts
from etholoop.behavior.splits import time_blocks
from etholoop.pose.yolo_env import cpu_threads
from etholoop.types import Ethogram, Tracks, at_least


@frozen(eq=False)
class LabeledVideo:
    """One video's poses and the behavior labels to learn from.

    Attributes:
        tracks: Poses of every animal.
        labels: Booleans, shape (frames, individuals, behaviors).
        labeled: Which labels count, shape (frames, individuals): e.g. only the
            subject an observer scored, only the training blocks of a split.
        unknown: Where one behavior's label does not count although the frame
            is labeled, shape (frames, individuals, behaviors), e.g. inside a
            predicted range of that behavior nobody reviewed; None: nowhere.
    """

    tracks: Tracks
    labels: Ethogram
    labeled: NDArray[np.bool_]
    unknown: NDArray[np.bool_] | None = None

    def __attrs_post_init__(self) -> None:
        """Check that labels and masks fit the tracks."""
        shape = (self.tracks.n_frames, len(self.tracks.individuals))
        if self.labels.values.shape[:2] != shape or self.labeled.shape != shape:
            raise ValueError(
                f"LabeledVideo: labels {self.labels.values.shape} and mask "
                f"{self.labeled.shape} do not match tracks {shape}"
            )
        if self.unknown is not None and self.unknown.shape != self.labels.values.shape:
            raise ValueError(
                f"LabeledVideo: unknown {self.unknown.shape} does not match labels "
                f"{self.labels.values.shape}"
            )

    def known(self) -> NDArray[np.bool_]:
        """Where each behavior's label counts, shaped as `labels.values`."""
        known = np.broadcast_to(self.labeled[..., None], self.labels.values.shape)
        return known & ~self.unknown if self.unknown is not None else known.copy()


class BehaviorPredictor(Protocol):
    """A fitted behavior model."""

    @property
    def behaviors(self) -> tuple[str, ...]:
        """Names of the behaviors, the last axis of every output."""
        ...

    def predict_proba(self, tracks: Tracks) -> Ethogram:
        """Probabilities, shape (frames, individuals, behaviors)."""
        ...

    def predict(self, tracks: Tracks) -> Ethogram:
        """Booleans after thresholds and bout post-processing, same shape."""
        ...


class BehaviorModel(Protocol):
    """A family of behavior models with its settings."""

    def fit(self, videos: Sequence[LabeledVideo]) -> BehaviorPredictor:
        """Learn from the labeled frames of `videos`."""
        ...


@frozen
class BoostParams:
    """LightGBM settings of `PoseFeatureModel` (see LightGBM's parameter docs).

    Attributes:
        n_trees: Boosting rounds.
        learning_rate: Shrinkage per round.
        num_leaves: Leaves per tree.
        min_child_samples: Fewest frames in a leaf.
        feature_fraction: Share of features each tree sees. Low by default:
            the windowed pose features come in strongly correlated families
            (one per-frame feature at 3 windows, mean and deviation), and
            trees that see a tenth of them (about 17 of 168) ranked the
            held-out ethome blocks best (average precision 0.722 against
            0.702 at 0.5; benchmarks/README.md, behavior).
        bagging_fraction: Share of frames each tree sees.
        balance: Weigh positive frames up to the negatives' total, for rare
            behaviors.
        seed: Seed of the bagging and feature sampling.
    """

    n_trees: int = field(default=300, validator=at_least(1))
    learning_rate: float = 0.05
    num_leaves: int = 15
    min_child_samples: int = 20
    feature_fraction: float = 0.1
    bagging_fraction: float = 0.8
    balance: bool = False
    seed: int = 0

    def lightgbm_params(self) -> dict[str, Any]:
        """The parameter dict of `lightgbm.train`, one thread per process."""
        return {
            "objective": "binary",
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples,
            "feature_fraction": self.feature_fraction,
            "bagging_fraction": self.bagging_fraction,
            "bagging_freq": 1,
            "is_unbalance": self.balance,
            "seed": self.seed,
            "num_threads": cpu_threads(),
            "deterministic": True,
            "force_row_wise": True,
            "verbose": -1,
        }


@frozen
class PoseFeatureModel:
    """Pose features + LightGBM, thresholds and bouts tuned inside the training data.

    Attributes:
        features: What features to compute.
        boost: LightGBM settings.
        n_inner: Contiguous validation blocks the labeled frames are cut into.
        gap: Frames on each side of a validation block left out of its training
            (at least half the longest feature window, so windows do not reach
            across).
        ensemble: Predict with the mean of the `n_inner` block models, whose
            out-of-block probabilities the thresholds were tuned on; if False,
            with one model retrained on every labeled frame.
    """

    features: FeatureParams = FeatureParams()
    boost: BoostParams = BoostParams()
    n_inner: int = field(default=4, validator=at_least(2))
    gap: int = field(default=23, validator=at_least(0))
    ensemble: bool = True

    def fit(self, videos: Sequence[LabeledVideo]) -> PosePredictor:
        """Tune bouts on inner validation blocks; keep their models or refit."""
        behaviors = _behaviors(videos)
        data = [_video_rows(v, self.features) for v in videos]
        blocks = [
            _inner_blocks(np.asarray(v.labeled.any(axis=1)), self.n_inner)
            for v in videos
        ]
        out_of_block = [np.full(y.shape, np.nan) for _, y, _, _ in data]
        models: list[list[Any]] = []
        for k in range(self.n_inner):
            train, val = [], []
            for (x, y, frame, known), block, oob in zip(
                data, blocks, out_of_block, strict=True
            ):
                start, stop = block[k]
                held = (frame >= start) & (frame < stop)
                near = (frame >= start - self.gap) & (frame < stop + self.gap)
                train.append((x[~near], y[~near], known[~near]))
                val.append((x[held], held, oob))
            boosters = self._train(*(np.concatenate(a) for a in _columns(train)))
            for x, held, oob in val:
                oob[held] = _predict([boosters], x)
            models.append(boosters)
        bout_params = tuple(
            tune_bouts(_segments(data, videos, out_of_block, b))
            for b in range(len(behaviors))
        )
        if not self.ensemble:
            models = [self._train(*(np.concatenate(a) for a in _columns(data)))]
        return PosePredictor(behaviors, self.features, models, bout_params)

    def _train(
        self, x: NDArray[np.float32], y: NDArray[np.bool_], known: NDArray[np.bool_]
    ) -> list[Any]:
        """One booster per behavior, on the rows where its label is known."""
        import lightgbm  # 1 s to import: not for every command that reads the config

        boosters: list[Any] = []
        for b in range(y.shape[1]):
            rows = known[:, b]
            target = y[rows, b]
            if target.all() or not target.any():
                boosters.append(float(target.mean()) if target.size else 0.0)
                continue
            dataset = lightgbm.Dataset(x[rows], target.astype(np.float32))
            boosters.append(
                lightgbm.train(
                    self.boost.lightgbm_params(), dataset, self.boost.n_trees
                )
            )
        return boosters


@frozen(eq=False)
class PosePredictor:
    """A fitted `PoseFeatureModel`.

    Attributes:
        behaviors: Names of the behaviors.
        features: The features it was trained on.
        boosters: Per model of the ensemble, per behavior, a LightGBM booster
            or the constant probability of a behavior that was always or never
            on in that model's training frames; the probabilities are averaged
            over the models.
        bout_params: Per behavior, the tuned threshold and bout rules.
    """

    behaviors: tuple[str, ...]
    features: FeatureParams
    boosters: list[list[Any]]
    bout_params: tuple[BoutParams, ...]

    def predict_proba(self, tracks: Tracks) -> Ethogram:
        """Probabilities, shape (frames, individuals, behaviors)."""
        x, _ = video_features(tracks, self.features)
        n_frames, n_individuals, n_features = x.shape
        p = _predict(self.boosters, x.reshape(-1, n_features))
        values = p.reshape(n_frames, n_individuals, -1).astype(np.float32)
        return Ethogram(values, self.behaviors, tracks.individuals)

    def predict(self, tracks: Tracks) -> Ethogram:
        """Booleans after each behavior's threshold and bout rules."""
        return apply_ethogram(self.predict_proba(tracks), self.bout_params)


def _behaviors(videos: Sequence[LabeledVideo]) -> tuple[str, ...]:
    if not videos:
        raise ValueError("fit needs at least one labeled video")
    behaviors = videos[0].labels.behaviors
    if any(v.labels.behaviors != behaviors for v in videos):
        raise ValueError("fit: every video must label the same behaviors")
    return behaviors


Rows = tuple[
    NDArray[np.float32], NDArray[np.bool_], NDArray[np.int64], NDArray[np.bool_]
]
"""Features, labels, frame index and known labels of each labeled (frame, animal)."""


def _video_rows(video: LabeledVideo, params: FeatureParams) -> Rows:
    """Features, labels, frame and known labels of each labeled (frame, animal)."""
    x, _ = video_features(video.tracks, params)
    frame, individual = np.nonzero(video.labeled)
    y = video.labels.values[frame, individual].astype(bool)
    known = video.known()[frame, individual]
    return x[frame, individual], y, frame.astype(np.int64), known


def _columns(rows: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Features, labels, ... of every video: (x of each), (y of each), ..."""
    return list(zip(*[(r[0], r[1], r[-1]) for r in rows], strict=True))


def _inner_blocks(labeled: NDArray[np.bool_], n_blocks: int) -> list[tuple[int, int]]:
    """Frame ranges holding near-equal shares of a video's labeled frames."""
    frames = np.flatnonzero(labeled)
    ranks = time_blocks(frames.size, n_blocks)
    return [(int(frames[a]), int(frames[b - 1]) + 1) for a, b in ranks]


def _predict(
    models: Sequence[Sequence[Any]], x: NDArray[np.float32]
) -> NDArray[np.float64]:
    """Mean over `models` of each behavior's probability, shape (rows, behaviors)."""
    total = np.zeros((len(x), len(models[0])))
    for boosters in models:
        for b, booster in enumerate(boosters):
            total[:, b] += booster if isinstance(booster, float) else booster.predict(x)
    return total / len(models)


def _segments(
    data: Sequence[Rows],
    videos: Sequence[LabeledVideo],
    probabilities: Sequence[NDArray[np.float64]],
    behavior: int,
) -> list[tuple[NDArray[np.float64], NDArray[np.bool_]]]:
    """(probabilities, labels) of each run of consecutive frames the label counts."""
    segments = []
    for (_, y, frame, known), video, p in zip(data, videos, probabilities, strict=True):
        _, individual = np.nonzero(video.labeled)
        for i in np.unique(individual):
            rows = np.flatnonzero((individual == i) & known[:, behavior])
            breaks = np.flatnonzero(np.diff(frame[rows]) != 1) + 1
            for part in np.split(rows, breaks):
                segments.append((p[part, behavior], y[part, behavior]))
    return segments
