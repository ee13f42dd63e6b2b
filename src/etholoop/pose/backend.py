"""What a pose backend provides: training on a dataset, and a predictor from weights.

Two are built in: Ultralytics YOLO-pose (`pose.yolo`, "yolo") and the top-down
heatmap backend (`pose.heatmap.backend`, "heatmap"); others (e.g. sleap-nn)
plug in by registering a `PoseBackend` under a name.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from attrs import frozen
from numpy.typing import NDArray

from etholoop.errors import ConfigError
from etholoop.types import VISIBLE, Instance


@frozen
class TrainParams:
    """How to train a pose model.

    Attributes:
        model: Architecture name (the backend's config, e.g. "yolo11n-pose").
        epochs: Passes over the training frames.
        imgsz: Input size in px (images are letterboxed to it).
        batch: Images per step.
        weights: Start from these weights instead of from scratch.
        seed: Random seed of the backend's training.
        device: "cpu", a GPU index such as "0", or None for the GPU when present.
        patience: Stop after this many epochs without improvement.
        workers: Processes loading training images.
        flip: Mirror half the training images left-right (keypoints swapped by
            the skeleton's symmetry pairs).
        rotate: Rotate training images at random by up to +/- this many degrees.
        scale: Zoom training images at random by up to this fraction either way.
        translate: Shift training images at random by up to this fraction of
            their size.
        augment: False trains on the images as they are: no flip, rotation,
            zoom, shift, mosaic or color change, whatever the fields above say.
        encoder: Start from this self-supervised pretrained network
            (`etholoop pretrain`) instead of from scratch; backends that
            declare `pretrainable` only, and not together with `weights`.
    """

    model: str = "yolo11n-pose"
    epochs: int = 50
    imgsz: int = 640
    batch: int = 16
    weights: Path | None = None
    seed: int = 0
    device: str | None = None
    patience: int = 50
    workers: int = 2
    flip: bool = True
    rotate: float = 0.0
    scale: float = 0.5
    translate: float = 0.1
    augment: bool = True
    encoder: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form, for the model run's record."""
        return {
            "model": self.model,
            "epochs": self.epochs,
            "imgsz": self.imgsz,
            "batch": self.batch,
            "weights": None if self.weights is None else str(self.weights),
            "seed": self.seed,
            "device": self.device,
            "patience": self.patience,
            "workers": self.workers,
            "flip": self.flip,
            "rotate": self.rotate,
            "scale": self.scale,
            "translate": self.translate,
            "augment": self.augment,
            "encoder": None if self.encoder is None else str(self.encoder),
        }

    def requested(self) -> dict[str, Any]:
        """The settings that differ from the defaults: what the caller asked for.

        A run folder keeps them as `config.requested.yaml`, beside every
        setting resolved (`config.resolved.yaml`).
        """
        defaults = TrainParams().to_dict()
        return {k: v for k, v in self.to_dict().items() if v != defaults[k]}


@frozen
class TrainResult:
    """What training left: the weights to use and the metrics of every epoch."""

    weights: Path
    epochs: list[dict[str, float]]


MIN_BOX_SCORE = 0.25
"""Box confidence below which a predicted animal is dropped."""
CONFIDENT_KEYPOINT = 0.5
"""Keypoint score from which a predicted keypoint is marked visible (2), else 1."""


def predicted_visibility(scores: NDArray[np.floating]) -> NDArray[np.uint8]:
    """Visibility of predicted keypoints from their scores: 2 if confident, else 1."""
    return np.where(scores >= CONFIDENT_KEYPOINT, VISIBLE, 1).astype(np.uint8)


def training_device(requested: str | None) -> str:
    """The device asked for, else the first GPU ("0") when present, else "cpu"."""
    import torch

    if requested is not None:
        return requested
    return "0" if torch.cuda.is_available() else "cpu"


def keep_best(instances: Sequence[Instance], n: int) -> list[Instance]:
    """The `n` instances with the highest box scores, best first.

    A frame shows at most the project's number of animals, so `predict` stores
    (and evaluation counts) only that many; unscored instances rank last.
    """
    ranked = sorted(
        instances,
        key=lambda inst: np.inf if inst.box_score is None else -inst.box_score,
    )
    return ranked[:n]


EpochCallback = Callable[[int], None]
"""Called with the number of the epoch just finished (1-based)."""


class PosePredictor(Protocol):
    """A trained model that finds animals and their keypoints in images."""

    def predict(
        self, images: Sequence[NDArray[np.uint8]], *, flip: bool = False
    ) -> list[list[Instance]]:
        """Predicted instances per RGB image; `flip` predicts on mirrored images."""
        ...


class PoseBackend(Protocol):
    """Trains pose models and loads predictors.

    Attributes:
        pretrainable: Whether training can start from a pretrained encoder
            (`TrainParams.encoder`, made by `etholoop pretrain`).
    """

    pretrainable: bool

    def train(
        self,
        data_yaml: Path,
        run_dir: Path,
        params: TrainParams,
        on_epoch: EpochCallback,
    ) -> TrainResult:
        """Train on a YOLO-layout dataset; files go under `run_dir`."""
        ...

    def arguments(
        self, data_yaml: Path, run_dir: Path, params: TrainParams
    ) -> dict[str, Any]:
        """The backend's own training arguments for `params`, defaults resolved.

        Recorded in the run folder (`config.resolved.yaml`) to replay the run.
        """
        ...

    def load(
        self,
        weights: Path,
        *,
        imgsz: int,
        flip_idx: Sequence[int],
        min_score: float = MIN_BOX_SCORE,
    ) -> PosePredictor:
        """A predictor from weights, keeping boxes scored `min_score` or more."""
        ...


BACKENDS: dict[str, Callable[[], PoseBackend]] = {}
"""Registered backends by name; a module registers its own when imported."""
BUILTIN_BACKENDS = {
    "heatmap": "etholoop.pose.heatmap.backend",
    "yolo": "etholoop.pose.yolo",
}
"""The built-in backends and the module that registers each, imported on first use
(so listing the names, as `--help` does, imports neither torch nor Ultralytics)."""


def backend_names() -> list[str]:
    """The names of every backend, built-in or registered, sorted."""
    return sorted({*BUILTIN_BACKENDS, *BACKENDS})


def get_backend(name: str) -> PoseBackend:
    """The backend registered as `name`.

    Raises:
        ConfigError: no backend has that name.
    """
    if name not in BACKENDS and name in BUILTIN_BACKENDS:
        importlib.import_module(BUILTIN_BACKENDS[name])
    if name not in BACKENDS:
        raise ConfigError(
            f"unknown pose backend {name!r}; choose from {backend_names()}"
        )
    return BACKENDS[name]()
