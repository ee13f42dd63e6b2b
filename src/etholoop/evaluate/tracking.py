"""Identity-tracking metrics: IDF1, MOTA, switches, precision/recall and HOTA.

Each animal in each frame is reduced to one point, the centroid of the keypoints
the two track sets share by name (those finite in that instance), and points are
matched by Euclidean distance up to a gate in px. IDF1, MOTA, identity switches,
precision and recall follow motmetrics' conventions (squared distances, CLEAR MOT
matching); HOTA is trackeval's, averaged over its localization thresholds, with
the similarity of a pair at distance d being max(0, 1 - d / gate).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from attrs import asdict, frozen
from numpy.typing import NDArray

from etholoop.errors import SkeletonMismatchError
from etholoop.types import Tracks

DEFAULT_GATE_PX = 50.0
"""Largest centroid distance, in px, at which a prediction matches a true animal."""


@frozen
class TrackScores:
    """How well predicted identities follow the true ones.

    Attributes:
        idf1: Identity F1: the share of detections matched to the right identity
            under the best one-to-one mapping of predicted to true identities.
        mota: Multiple-object tracking accuracy, 1 - (misses + false positives +
            identity switches) / true instances; may be negative, NaN
            without any true instance.
        id_switches: Times a true animal's matched predicted identity changed.
        precision: Matched predictions / all predictions; NaN without any.
        recall: Matched true instances / all true instances; NaN without any.
        hota: Higher-order tracking accuracy, the mean over trackeval's
            localization thresholds 0.05..0.95.
        n_predicted_ids: Predicted identities seen in the scored frames.
        n_true_ids: True identities seen in the scored frames.
        n_frames: Frames scored: the first min(predicted, truth) frames.
        keypoints: The shared keypoints whose centroid places each animal.
        gate_px: The matching gate in px.
    """

    idf1: float
    mota: float
    id_switches: int
    precision: float
    recall: float
    hota: float
    n_predicted_ids: int
    n_true_ids: int
    n_frames: int
    keypoints: tuple[str, ...]
    gate_px: float

    def to_dict(self) -> dict[str, Any]:
        """The scores as a JSON-ready dict.

        Keypoints come as a list, and None stands for a score with nothing to
        measure (e.g. precision without any prediction).
        """
        out: dict[str, Any] = {
            k: None if isinstance(v, float) and not np.isfinite(v) else v
            for k, v in asdict(self).items()
        }
        return {**out, "keypoints": list(self.keypoints)}


def score_tracks(
    predicted: Tracks,
    truth: Tracks,
    *,
    gate_px: float = DEFAULT_GATE_PX,
    predicted_name: str = "predicted tracks",
    truth_name: str = "ground truth",
) -> TrackScores:
    """Score predicted identity tracks against true ones.

    Frames are aligned by index and only the first min(predicted, truth) frames
    are scored. Each instance is placed at the centroid of the keypoints both
    skeletons name (in the truth's order) that are finite in that instance; an
    instance with none of them finite is absent in that frame.

    Args:
        predicted: Tracks to score, xy shape (frames, individuals, keypoints, 2).
        truth: Ground-truth tracks, with their own individuals and skeleton.
        gate_px: Largest centroid distance in px at which two instances match.
        predicted_name: How error messages name `predicted` (e.g. its file).
        truth_name: How error messages name `truth` (e.g. its file).

    Raises:
        SkeletonMismatchError: the two skeletons share no keypoint name.
        ValueError: `gate_px` is not positive.
    """
    pred_names = predicted.skeleton.keypoints
    shared = tuple(k for k in truth.skeleton.keypoints if k in pred_names)
    if not shared:
        raise SkeletonMismatchError(
            f"{truth_name}: keypoints {list(truth.skeleton.keypoints)} share no name "
            f"with {predicted_name}'s {list(pred_names)}"
        )
    n_frames = min(predicted.n_frames, truth.n_frames)
    pred_xy = keypoint_centroids(predicted, shared, n_frames)
    true_xy = keypoint_centroids(truth, shared, n_frames)
    return score_centroids(pred_xy, true_xy, gate_px=gate_px, keypoints=shared)


def score_centroids(
    predicted: NDArray[np.floating[Any]],
    truth: NDArray[np.floating[Any]],
    *,
    gate_px: float = DEFAULT_GATE_PX,
    keypoints: tuple[str, ...] = (),
) -> TrackScores:
    """Score identity tracks given one point per animal per frame.

    Args:
        predicted: Predicted positions in px, shape (frames, predicted ids, 2);
            NaN where that identity is absent.
        truth: True positions in px, shape (frames, true ids, 2); NaN = absent.
        gate_px: Largest distance in px at which two points match.
        keypoints: The keypoints the points were taken from, for the record.

    Raises:
        ValueError: `gate_px` is not positive or the frame counts differ.
    """
    if not gate_px > 0:
        raise ValueError(f"gate_px must be positive, got {gate_px}")
    if predicted.shape[0] != truth.shape[0]:
        raise ValueError(
            f"frame counts differ: predicted {predicted.shape[0]}, "
            f"truth {truth.shape[0]}"
        )
    frames = _frame_matches(predicted, truth, gate_px)
    mot = _motmetrics_scores(frames, gate_px)
    return TrackScores(
        idf1=mot["idf1"],
        mota=mot["mota"],
        id_switches=int(mot["num_switches"]),
        precision=mot["precision"],
        recall=mot["recall"],
        hota=_hota(frames, gate_px),
        n_predicted_ids=len({i for f in frames for i in f.pred_ids.tolist()}),
        n_true_ids=len({i for f in frames for i in f.true_ids.tolist()}),
        n_frames=int(predicted.shape[0]),
        keypoints=keypoints,
        gate_px=float(gate_px),
    )


@frozen(eq=False)
class _Frame:
    """The animals present in one frame and their pairwise distances."""

    true_ids: NDArray[np.intp]
    pred_ids: NDArray[np.intp]
    dist: NDArray[np.float64]  # (true, predicted) Euclidean distances in px


def keypoint_centroids(
    tracks: Tracks, names: tuple[str, ...], n_frames: int
) -> NDArray[np.float64]:
    """Centroids of the finite keypoints among `names`, (n_frames, individuals, 2).

    NaN where none of them is finite: that animal is absent in that frame.
    """
    index = [tracks.skeleton.keypoints.index(k) for k in names]
    xy = tracks.xy[:n_frames][:, :, index].astype(np.float64)
    finite = np.isfinite(xy).all(axis=-1, keepdims=True)
    total = np.where(finite, xy, 0.0).sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):  # 0 / 0: absent
        centroids: NDArray[np.float64] = total / finite.sum(axis=2)
    return centroids


def _frame_matches(
    predicted: NDArray[Any], truth: NDArray[Any], gate_px: float
) -> list[_Frame]:
    present_pred = np.isfinite(predicted).all(axis=-1)
    present_true = np.isfinite(truth).all(axis=-1)
    frames = []
    for t in range(predicted.shape[0]):
        true_ids = np.flatnonzero(present_true[t])
        pred_ids = np.flatnonzero(present_pred[t])
        delta = truth[t, true_ids][:, None] - predicted[t, pred_ids][None]
        frames.append(_Frame(true_ids, pred_ids, np.sqrt((delta**2).sum(axis=-1))))
    return frames


def _motmetrics_scores(frames: list[_Frame], gate_px: float) -> dict[str, float]:
    import motmetrics as mm

    acc = mm.MOTAccumulator(auto_id=True)
    for f in frames:
        d2 = f.dist**2
        d2[d2 > gate_px**2] = np.nan  # as distances.norm2squared_matrix(max_d2=...)
        acc.update(f.true_ids, f.pred_ids, d2)
    names = ["idf1", "mota", "num_switches", "precision", "recall"]
    summary = mm.metrics.create().compute(acc, metrics=names)
    return {k: float(summary[k].iloc[0]) for k in names}


def _hota(frames: list[_Frame], gate_px: float) -> float:
    from trackeval.metrics import HOTA

    # trackeval wants ids numbered 0..n-1: the rank among the ids seen
    none = np.zeros(0, np.intp)
    true_map = np.unique(np.concatenate([none, *(f.true_ids for f in frames)]))
    pred_map = np.unique(np.concatenate([none, *(f.pred_ids for f in frames)]))
    data = {
        "num_gt_ids": len(true_map),
        "num_tracker_ids": len(pred_map),
        "num_gt_dets": sum(len(f.true_ids) for f in frames),
        "num_tracker_dets": sum(len(f.pred_ids) for f in frames),
        "gt_ids": [np.searchsorted(true_map, f.true_ids) for f in frames],
        "tracker_ids": [np.searchsorted(pred_map, f.pred_ids) for f in frames],
        "similarity_scores": [np.maximum(0.0, 1.0 - f.dist / gate_px) for f in frames],
    }
    result = HOTA().eval_sequence(data)
    return float(np.mean(result["HOTA"]))
