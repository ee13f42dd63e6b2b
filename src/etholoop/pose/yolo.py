"""The Ultralytics YOLO-pose backend: one network finds boxes and keypoints.

Models are built from their architecture yaml (nothing is downloaded) or loaded
from a weights file; `yolo_env.load_ultralytics` keeps Ultralytics offline.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from etholoop.pose.backend import (
    BACKENDS,
    MIN_BOX_SCORE,
    EpochCallback,
    PosePredictor,
    TrainParams,
    TrainResult,
    predicted_visibility,
    training_device,
)
from etholoop.pose.flip import flip_instances
from etholoop.pose.yolo_env import load_ultralytics
from etholoop.types import Instance

PREDICT_BATCH = 8
FLIP_PROBABILITY = 0.5
"""Share of training images mirrored when `TrainParams.flip` is on."""
NO_AUGMENTATION = {
    "fliplr": 0.0,
    "degrees": 0.0,
    "scale": 0.0,
    "translate": 0.0,
    "mosaic": 0.0,
    "hsv_h": 0.0,
    "hsv_s": 0.0,
    "hsv_v": 0.0,
}
"""Ultralytics' augmentations that are on by default (or set by us), all off."""


def _epoch_rows(results_csv: Path) -> list[dict[str, float]]:
    """Ultralytics' per-epoch results as records with plain names."""
    if not results_csv.is_file():
        return []
    table = pd.read_csv(results_csv)
    table.columns = [c.strip() for c in table.columns]
    return [{k: float(v) for k, v in row.items()} for row in table.to_dict("records")]


def train_arguments(
    params: TrainParams, *, data_yaml: Path, run_dir: Path, device: str
) -> dict[str, Any]:
    """The keyword arguments of Ultralytics' `YOLO.train` for `params`."""
    arguments: dict[str, Any] = {
        "data": str(data_yaml),
        "epochs": params.epochs,
        "imgsz": params.imgsz,
        "batch": params.batch,
        "nbs": params.batch,  # one optimizer step per batch: few labels, many steps
        "device": device,
        "project": str(run_dir.resolve()),
        "name": "train",
        "exist_ok": True,
        "workers": params.workers,
        "seed": params.seed,
        "deterministic": True,
        "patience": params.patience,
        "amp": False,
        "plots": False,
        "verbose": False,
        "fliplr": FLIP_PROBABILITY if params.flip else 0.0,
        "degrees": params.rotate,
        "scale": params.scale,
        "translate": params.translate,
    }
    if not params.augment:
        arguments.update(NO_AUGMENTATION)
    return arguments


class YoloBackend:
    """Trains Ultralytics YOLO-pose models and loads them for prediction."""

    pretrainable = False

    def train(
        self,
        data_yaml: Path,
        run_dir: Path,
        params: TrainParams,
        on_epoch: EpochCallback,
    ) -> TrainResult:
        """Train on `data_yaml`; Ultralytics writes under `run_dir/train`."""
        ultralytics = load_ultralytics()
        source = str(params.weights) if params.weights else f"{params.model}.yaml"
        model = ultralytics.YOLO(source, task="pose")

        def epoch_done(trainer: Any) -> None:
            on_epoch(int(trainer.epoch) + 1)

        model.add_callback("on_fit_epoch_end", epoch_done)
        model.train(**self.arguments(data_yaml, run_dir, params))
        save_dir = Path(model.trainer.save_dir)
        best = save_dir / "weights" / "best.pt"
        weights = best if best.is_file() else save_dir / "weights" / "last.pt"
        return TrainResult(weights, _epoch_rows(save_dir / "results.csv"))

    def arguments(
        self, data_yaml: Path, run_dir: Path, params: TrainParams
    ) -> dict[str, Any]:
        """Ultralytics' `YOLO.train` arguments for `params`, the device resolved."""
        return train_arguments(
            params,
            data_yaml=data_yaml,
            run_dir=run_dir,
            device=training_device(params.device),
        )

    def load(
        self,
        weights: Path,
        *,
        imgsz: int,
        flip_idx: Sequence[int],
        min_score: float = MIN_BOX_SCORE,
    ) -> PosePredictor:
        """A predictor for the weights, at the image size it was trained at."""
        return YoloPredictor(
            weights, imgsz=imgsz, flip_idx=flip_idx, min_score=min_score
        )


class YoloPredictor:
    """Runs a YOLO-pose model on RGB images and returns `Instance`s."""

    def __init__(
        self,
        weights: Path,
        *,
        imgsz: int,
        flip_idx: Sequence[int],
        min_score: float = MIN_BOX_SCORE,
    ) -> None:
        ultralytics = load_ultralytics()
        self.model = ultralytics.YOLO(str(weights), task="pose")
        self.imgsz = imgsz
        self.flip_idx = list(flip_idx)
        self.min_score = min_score

    def predict(
        self, images: Sequence[NDArray[np.uint8]], *, flip: bool = False
    ) -> list[list[Instance]]:
        """Predicted instances per RGB image.

        With `flip`, each image is mirrored left-right before prediction and the
        results are mapped back (`flip.flip_instances`: x to width - x, keypoints
        swapped by `flip_idx`), for test-time augmentation.
        """
        bgr = [
            np.ascontiguousarray((img[:, ::-1] if flip else img)[..., ::-1])
            for img in images
        ]
        found = []
        for start in range(0, len(bgr), PREDICT_BATCH):
            results = self.model.predict(
                bgr[start : start + PREDICT_BATCH],
                imgsz=self.imgsz,
                conf=self.min_score,
                verbose=False,
            )
            for image, result in zip(
                images[start : start + PREDICT_BATCH], results, strict=True
            ):
                found.append(self._instances(result, image.shape[1], flip))
        return found

    def _instances(self, result: Any, width: int, flip: bool) -> list[Instance]:
        boxes = result.boxes.xyxy.cpu().numpy().astype(np.float64)
        scores = result.boxes.conf.cpu().numpy().astype(np.float64)
        xy = result.keypoints.xy.cpu().numpy().astype(np.float64)
        conf = result.keypoints.conf
        kscores = (
            np.ones(xy.shape[:2]) if conf is None else conf.cpu().numpy().astype(float)
        )
        found = [
            Instance(
                keypoints=xy[i],
                visibility=predicted_visibility(kscores[i]),
                box=boxes[i],
                box_score=float(scores[i]),
                keypoint_scores=kscores[i],
                source="predicted",
            )
            for i in range(len(boxes))
        ]
        return flip_instances(found, width, self.flip_idx) if flip else found


BACKENDS["yolo"] = YoloBackend
