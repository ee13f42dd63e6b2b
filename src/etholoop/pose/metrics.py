"""Pose accuracy: box and keypoint mAP (COCO), PCK, RMSE and instance counts.

Truth and predictions are given per frame as lists of `Instance`. Box mAP and
keypoint (OKS) mAP come from pycocotools' `COCOeval`, fed in-memory datasets.
PCK and RMSE need a one-to-one pairing of truth and predicted animals, which a
Hungarian assignment on mean keypoint distance provides per frame.

Choices where our labels differ from COCO's:

* A truth instance without a box (DeepLabCut and SLEAP labels have none) gets
  the box around its labeled keypoints, padded by `BOX_PAD_FRACTION` of its
  larger side (at least `BOX_PAD_MIN_PX`) and clipped to the image
  (`io._common.keypoints_box`): keypoints lie inside the animal, so their hull
  is smaller than the body, and a single keypoint would otherwise give an empty
  box. Training boxes are derived the same way (`pose.dataset`), so a model
  learns the boxes it is scored against. Predictions without a box get the
  same treatment from their predicted keypoints.
* OKS needs an object area; COCO takes the segmentation area, we have none and
  take the truth box area. The box is larger than the body outline, so OKS is a
  little more lenient than COCO's for the same pixel error.
* Instances with neither a box nor a keypoint carry nothing to compare and are
  left out everywhere, counts included.

A metric with nothing to measure is None, never 0: mAP without any truth
instance (COCOeval's -1), PCK without a labeled truth keypoint, RMSE without a
matched one. No predictions against existing truth score 0, which is defined.
"""

from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Iterator, Sequence
from typing import Any

import lap  # type: ignore[import-untyped]
import numpy as np
from attrs import frozen
from numpy.typing import NDArray
from pycocotools.coco import COCO  # type: ignore[import-untyped]
from pycocotools.cocoeval import COCOeval  # type: ignore[import-untyped]

from etholoop.io._common import keypoints_box
from etholoop.pose.backend import keep_best
from etholoop.types import Instance

PCK_THRESHOLDS: tuple[float, ...] = (0.05, 0.1)
"""PCK thresholds, as fractions of the larger side of the truth box."""

BOX_PAD_FRACTION = 0.1
"""Padding of a keypoint-derived box on each side, relative to its larger side."""

BOX_PAD_MIN_PX = 2.0
"""Least padding of a keypoint-derived box on each side, in px."""

_NO_PAIR = 1e12
"""Assignment cost of a truth/prediction pair that share no keypoint."""

_FAR_PX = 1e6
"""Where a missing predicted keypoint is put for COCO, so its OKS term is 0."""

_CATEGORY_ID = 1


@frozen
class PoseMetrics:
    """Pose accuracy of predictions against truth over a set of frames.

    Undefined metrics are None: every mAP without truth instances, PCK where no
    truth keypoint is labeled, RMSE where none is matched.

    Attributes:
        box_map50: Box mAP at IoU 0.5 (COCO).
        box_map50_95: Box mAP averaged over IoU 0.5:0.95 (COCO).
        oks_map50: Keypoint mAP at OKS 0.5 (COCO).
        oks_map50_95: Keypoint mAP averaged over OKS 0.5:0.95 (COCO).
        pck: Fraction of labeled truth keypoints within threshold x the larger
            side of the truth box, by threshold; unmatched keypoints are wrong.
        pck_per_keypoint: The same per keypoint name, by threshold.
        rmse: Root mean square px error over matched labeled keypoints.
        rmse_per_keypoint: The same per keypoint name.
        n_frames: Frames evaluated.
        n_truth: Truth instances.
        n_predicted: Predicted instances.
        n_matched: Truth instances paired with a prediction.
        n_missed: Truth instances without a prediction.
        n_extra: Predictions without a truth instance.
        n_frames_wrong_count: Frames whose number of predictions differs from
            the expected number of animals.
    """

    box_map50: float | None
    box_map50_95: float | None
    oks_map50: float | None
    oks_map50_95: float | None
    pck: dict[float, float | None]
    pck_per_keypoint: dict[float, dict[str, float | None]]
    rmse: float | None
    rmse_per_keypoint: dict[str, float | None]
    n_frames: int
    n_truth: int
    n_predicted: int
    n_matched: int
    n_missed: int
    n_extra: int
    n_frames_wrong_count: int

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able values, thresholds as strings (e.g. "0.05")."""
        return {
            "box_map50": self.box_map50,
            "box_map50_95": self.box_map50_95,
            "oks_map50": self.oks_map50,
            "oks_map50_95": self.oks_map50_95,
            "pck": {_threshold_key(t): v for t, v in self.pck.items()},
            "pck_per_keypoint": {
                _threshold_key(t): dict(per_kp)
                for t, per_kp in self.pck_per_keypoint.items()
            },
            "rmse": self.rmse,
            "rmse_per_keypoint": dict(self.rmse_per_keypoint),
            "n_frames": self.n_frames,
            "n_truth": self.n_truth,
            "n_predicted": self.n_predicted,
            "n_matched": self.n_matched,
            "n_missed": self.n_missed,
            "n_extra": self.n_extra,
            "n_frames_wrong_count": self.n_frames_wrong_count,
        }

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> PoseMetrics:
        """The metrics `to_dict` gave (a `metrics.json`), thresholds as numbers."""
        return cls(
            **{
                **values,
                "pck": {float(t): v for t, v in values["pck"].items()},
                "pck_per_keypoint": {
                    float(t): dict(per_kp)
                    for t, per_kp in values["pck_per_keypoint"].items()
                },
            }
        )


@frozen(eq=False)
class KeypointErrors:
    """Distances from truth keypoints to their matched predictions.

    Attributes:
        distances: Px distance per truth instance and keypoint, shape
            (instances, keypoints); NaN where the truth keypoint is unlabeled,
            inf where it is labeled but has no matched predicted keypoint.
        scales: The larger side of each truth instance's box, shape (instances,).
        matched: Whether each truth instance was paired with a prediction.
    """

    distances: NDArray[np.float64]
    scales: NDArray[np.float64]
    matched: NDArray[np.bool_]

    def pck_per_keypoint(self, threshold: float) -> NDArray[np.float64]:
        """Per keypoint, the fraction of labeled truth within threshold x scale."""
        labeled = ~np.isnan(self.distances)
        correct = labeled & (self.distances <= threshold * self.scales[:, None])
        n_labeled = labeled.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(n_labeled > 0, correct.sum(axis=0) / n_labeled, np.nan)

    def pck(self, threshold: float) -> float | None:
        """Fraction of labeled truth keypoints within threshold x scale (None: none)."""
        labeled = ~np.isnan(self.distances)
        if not labeled.any():
            return None
        correct = self.distances <= threshold * self.scales[:, None]
        return float(correct[labeled].mean())

    def rmse_per_keypoint(self) -> NDArray[np.float64]:
        """Per keypoint, the RMS px error over matched labeled keypoints, or NaN."""
        finite = np.isfinite(self.distances)
        squared = np.where(finite, self.distances, 0.0) ** 2
        n = finite.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(n > 0, np.sqrt(squared.sum(axis=0) / n), np.nan)

    def rmse(self) -> float | None:
        """The RMS px error over all matched labeled keypoints (None if none)."""
        finite = self.distances[np.isfinite(self.distances)]
        return float(np.sqrt(np.mean(finite**2))) if finite.size else None


def evaluate_pose(
    truth: Sequence[Sequence[Instance]],
    predictions: Sequence[Sequence[Instance]],
    *,
    keypoint_names: Sequence[str],
    sigmas: Sequence[float],
    expected_animals: int,
    image_sizes: Sequence[tuple[int, int]] | None = None,
    pck_thresholds: Sequence[float] = PCK_THRESHOLDS,
    min_score: float = 0.0,
    max_animals: int | None = None,
) -> PoseMetrics:
    """Score per-frame predicted instances against per-frame truth instances.

    mAP ranks every prediction by its score, as COCO does, so predictions should
    be kept down to a low score; PCK, RMSE and the counts describe the animals a
    user is shown, those scored `min_score` or more, at most the `max_animals`
    best per frame.

    Args:
        truth: Truth instances of each frame.
        predictions: Predicted instances of the same frames, in the same order.
        keypoint_names: Name of each keypoint, for the per-keypoint results.
        sigmas: OKS sigma of each keypoint (`SkeletonConfig.oks_sigmas()`).
        expected_animals: How many animals each frame shows.
        image_sizes: (width, height) of each frame; keypoint-derived boxes are
            clipped to it when given.
        pck_thresholds: PCK thresholds, as fractions of the larger truth box side.
        min_score: Predictions scored lower count for mAP only.
        max_animals: Predictions beyond this many per frame, by box score,
            count for mAP only (None: no limit).

    Raises:
        ValueError: if frame counts, keypoint counts, names or sigmas disagree.
    """
    _check_inputs(truth, predictions, keypoint_names, sigmas, image_sizes)
    truth, predictions = _comparable(truth, predictions)
    sizes = _sizes(image_sizes, len(truth))
    box_map50, box_map50_95 = _coco_map(truth, predictions, sizes, sigmas, "bbox")
    oks_map50, oks_map50_95 = _coco_map(truth, predictions, sizes, sigmas, "keypoints")
    predictions = [
        [p for p in frame if _prediction_score(p) >= min_score] for frame in predictions
    ]
    if max_animals is not None:
        predictions = [keep_best(frame, max_animals) for frame in predictions]
    errors = keypoint_errors(
        truth, predictions, n_keypoints=len(sigmas), image_sizes=image_sizes
    )
    n_truth = sum(len(frame) for frame in truth)
    n_predicted = sum(len(frame) for frame in predictions)
    n_matched = int(errors.matched.sum())
    names = list(keypoint_names)
    return PoseMetrics(
        box_map50=box_map50,
        box_map50_95=box_map50_95,
        oks_map50=oks_map50,
        oks_map50_95=oks_map50_95,
        pck={float(t): errors.pck(t) for t in pck_thresholds},
        pck_per_keypoint={
            float(t): _by_name(names, errors.pck_per_keypoint(t))
            for t in pck_thresholds
        },
        rmse=errors.rmse(),
        rmse_per_keypoint=_by_name(names, errors.rmse_per_keypoint()),
        n_frames=len(truth),
        n_truth=n_truth,
        n_predicted=n_predicted,
        n_matched=n_matched,
        n_missed=n_truth - n_matched,
        n_extra=n_predicted - n_matched,
        n_frames_wrong_count=sum(
            len(frame) != expected_animals for frame in predictions
        ),
    )


def keypoint_errors(
    truth: Sequence[Sequence[Instance]],
    predictions: Sequence[Sequence[Instance]],
    *,
    n_keypoints: int,
    image_sizes: Sequence[tuple[int, int]] | None = None,
) -> KeypointErrors:
    """Pair truth and predictions per frame and measure each truth keypoint's error.

    Instances with neither a box nor a keypoint are left out; a truth instance
    with a box but no labeled keypoint is never matched.
    """
    truth, predictions = _comparable(truth, predictions)
    distances: list[NDArray[np.float64]] = []
    scales: list[float] = []
    matched: list[bool] = []
    for frame_truth, frame_predictions, size in zip(
        truth, predictions, _sizes(image_sizes, len(truth)), strict=True
    ):
        partner = dict(match_frame(frame_truth, frame_predictions))
        for t, inst in enumerate(frame_truth):
            prediction = frame_predictions[partner[t]] if t in partner else None
            distances.append(_truth_distances(inst, prediction))
            box = _box(inst, _truth_points(inst), size)
            scales.append(float(max(box[2] - box[0], box[3] - box[1])))
            matched.append(prediction is not None)
    return KeypointErrors(
        distances=np.array(distances, dtype=np.float64).reshape(-1, n_keypoints),
        scales=np.array(scales, dtype=np.float64),
        matched=np.array(matched, dtype=np.bool_),
    )


def match_frame(
    truth: Sequence[Instance], predictions: Sequence[Instance]
) -> list[tuple[int, int]]:
    """Pair truth and predicted instances of one frame, as (truth, prediction) indices.

    A Hungarian assignment minimises the summed mean keypoint distance while
    pairing as many instances as possible; pairs that share no labeled truth
    keypoint with a predicted keypoint are never made.
    """
    if not truth or not predictions:
        return []
    cost = np.array(
        [[_mean_distance(t, p) for p in predictions] for t in truth], dtype=np.float64
    )
    cost = np.where(np.isnan(cost), _NO_PAIR, cost)
    _, columns, _ = lap.lapjv(cost, extend_cost=True)
    return [
        (t, int(p)) for t, p in enumerate(columns) if p >= 0 and cost[t, p] < _NO_PAIR
    ]


def _check_inputs(
    truth: Sequence[Sequence[Instance]],
    predictions: Sequence[Sequence[Instance]],
    keypoint_names: Sequence[str],
    sigmas: Sequence[float],
    image_sizes: Sequence[tuple[int, int]] | None,
) -> None:
    """Refuse inputs whose frame or keypoint counts disagree."""
    if len(truth) != len(predictions):
        raise ValueError(
            f"{len(truth)} truth frames but {len(predictions)} prediction frames"
        )
    if image_sizes is not None and len(image_sizes) != len(truth):
        raise ValueError(f"{len(truth)} frames but {len(image_sizes)} image sizes")
    k = len(keypoint_names)
    if len(sigmas) != k:
        raise ValueError(f"{k} keypoint names but {len(sigmas)} sigmas")
    for frame in (*truth, *predictions):
        for inst in frame:
            if inst.n_keypoints != k:
                raise ValueError(
                    f"an instance has {inst.n_keypoints} keypoints, expected {k}"
                )


def _comparable(
    truth: Sequence[Sequence[Instance]], predictions: Sequence[Sequence[Instance]]
) -> tuple[list[list[Instance]], list[list[Instance]]]:
    """The frames without instances that have neither a box nor a keypoint."""
    return (
        [[i for i in frame if _has_content(i, _truth_points(i))] for frame in truth],
        [
            [i for i in frame if _has_content(i, _predicted_points(i))]
            for frame in predictions
        ],
    )


def _sizes(
    image_sizes: Sequence[tuple[int, int]] | None, n_frames: int
) -> list[tuple[int, int] | None]:
    """The (width, height) of each frame, None each when unknown."""
    return list(image_sizes) if image_sizes is not None else [None] * n_frames


def _truth_points(inst: Instance) -> NDArray[np.bool_]:
    """Truth keypoints that count: labeled (visibility 1 or 2) with coordinates."""
    return inst.labeled & _predicted_points(inst)


def _predicted_points(inst: Instance) -> NDArray[np.bool_]:
    """Predicted keypoints that count: those with finite coordinates."""
    x, y = inst.keypoints[:, 0], inst.keypoints[:, 1]
    return np.isfinite(x) & np.isfinite(y)


def _has_content(inst: Instance, points: NDArray[np.bool_]) -> bool:
    """Whether the instance has a box or a keypoint to compare."""
    return inst.box is not None or bool(points.any())


def _box(
    inst: Instance, points: NDArray[np.bool_], image_size: tuple[int, int] | None
) -> NDArray[np.float64]:
    """The instance's box, else the padded box of `points`, clipped to the image."""
    if inst.box is not None:
        return inst.box
    return keypoints_box(
        inst.keypoints[points],
        BOX_PAD_MIN_PX,
        pad_fraction=BOX_PAD_FRACTION,
        image_size=image_size,
    )


def _mean_distance(truth: Instance, prediction: Instance) -> float:
    """Mean px distance over keypoints labeled in truth and predicted; NaN if none."""
    both = _truth_points(truth) & _predicted_points(prediction)
    if not both.any():
        return math.nan
    offsets = truth.keypoints[both] - prediction.keypoints[both]
    return float(np.linalg.norm(offsets, axis=1).mean())


def _truth_distances(
    truth: Instance, prediction: Instance | None
) -> NDArray[np.float64]:
    """Per keypoint px error: NaN if unlabeled, inf if labeled but not predicted."""
    labeled = _truth_points(truth)
    distances = np.where(labeled, np.inf, np.nan)
    if prediction is not None:
        both = labeled & _predicted_points(prediction)
        offsets = truth.keypoints[both] - prediction.keypoints[both]
        distances[both] = np.linalg.norm(offsets, axis=1)
    return distances


def _prediction_score(inst: Instance) -> float:
    """The box score, else the mean keypoint score, else 1."""
    if inst.box_score is not None:
        return float(inst.box_score)
    if inst.keypoint_scores is not None and np.isfinite(inst.keypoint_scores).any():
        return float(np.nanmean(inst.keypoint_scores))
    return 1.0


def _coco_map(
    truth: Sequence[Sequence[Instance]],
    predictions: Sequence[Sequence[Instance]],
    image_sizes: Sequence[tuple[int, int] | None],
    sigmas: Sequence[float],
    iou_type: str,
) -> tuple[float | None, float | None]:
    """COCOeval's (mAP50, mAP50-95) for "bbox" or "keypoints"; None without truth."""
    n_keypoints = len(sigmas)
    images = [
        {"id": f + 1, "width": size[0], "height": size[1]} if size else {"id": f + 1}
        for f, size in enumerate(image_sizes)
    ]
    category = {
        "id": _CATEGORY_ID,
        "name": "animal",
        "keypoints": [str(k) for k in range(n_keypoints)],
    }
    truth_anns = list(_truth_annotations(truth, image_sizes))
    predicted_anns = list(_predicted_annotations(predictions, image_sizes))
    with contextlib.redirect_stdout(io.StringIO()):
        ground = _in_memory_coco(images, category, truth_anns)
        detected = _in_memory_coco(images, category, predicted_anns)
        evaluation = COCOeval(ground, detected, iouType=iou_type)
        evaluation.params.kpt_oks_sigmas = np.array(sigmas, dtype=np.float64)
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    map50_95, map50 = evaluation.stats[0], evaluation.stats[1]
    return _defined(map50), _defined(map50_95)


def _defined(stat: float) -> float | None:
    """A COCOeval statistic, or None for its -1 (nothing to evaluate)."""
    return None if stat < 0 else float(stat)


def _in_memory_coco(
    images: list[dict[str, Any]],
    category: dict[str, Any],
    annotations: list[dict[str, Any]],
) -> COCO:
    """A pycocotools `COCO` built from dicts instead of a JSON file."""
    coco = COCO()
    coco.dataset = {
        "images": images,
        "categories": [category],
        "annotations": annotations,
    }
    coco.createIndex()
    return coco


def _truth_annotations(
    truth: Sequence[Sequence[Instance]],
    image_sizes: Sequence[tuple[int, int] | None],
) -> Iterator[dict[str, Any]]:
    """COCO ground-truth annotations; ids start at 1 as COCOeval reads 0 as none."""
    ann_id = 0
    for f, (frame, size) in enumerate(zip(truth, image_sizes, strict=True)):
        for inst in frame:
            ann_id += 1
            points = _truth_points(inst)
            box = _box(inst, points, size)
            keypoints = np.column_stack(
                [
                    np.where(points[:, None], inst.keypoints, 0.0),
                    np.where(points, inst.visibility, 0),
                ]
            )
            yield {
                **_box_fields(box),
                "id": ann_id,
                "image_id": f + 1,
                "category_id": _CATEGORY_ID,
                "iscrowd": 0,
                "keypoints": keypoints.ravel().tolist(),
                "num_keypoints": int(points.sum()),
            }


def _predicted_annotations(
    predictions: Sequence[Sequence[Instance]],
    image_sizes: Sequence[tuple[int, int] | None],
) -> Iterator[dict[str, Any]]:
    """COCO detection results; missing keypoints are placed far off (OKS term 0)."""
    ann_id = 0
    for f, (frame, size) in enumerate(zip(predictions, image_sizes, strict=True)):
        for inst in frame:
            ann_id += 1
            points = _predicted_points(inst)
            keypoints = np.column_stack(
                [
                    np.where(points[:, None], inst.keypoints, -_FAR_PX),
                    np.ones(inst.n_keypoints),
                ]
            )
            yield {
                **_box_fields(_box(inst, points, size)),
                "id": ann_id,
                "image_id": f + 1,
                "category_id": _CATEGORY_ID,
                "score": _prediction_score(inst),
                "keypoints": keypoints.ravel().tolist(),
            }


def _box_fields(box: NDArray[np.float64]) -> dict[str, Any]:
    """COCO's "bbox" (x, y, width, height) and "area" of corners x1, y1, x2, y2."""
    width, height = float(box[2] - box[0]), float(box[3] - box[1])
    return {
        "bbox": [float(box[0]), float(box[1]), width, height],
        "area": width * height,
    }


def _by_name(
    names: Sequence[str], values: NDArray[np.float64]
) -> dict[str, float | None]:
    """Per-keypoint values keyed by keypoint name; NaN (undefined) as None."""
    return {
        name: None if math.isnan(v) else float(v)
        for name, v in zip(names, values, strict=True)
    }


def _threshold_key(threshold: float) -> str:
    """A PCK threshold as a JSON key, e.g. "0.05"."""
    return f"{threshold:g}"
