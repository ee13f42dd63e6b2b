"""The top-down heatmap backend: a centroid detector, then keypoints on crops.

Training reads the YOLO-layout dataset `pose.dataset` writes (`io.load_labels`),
sizes the crops from the labels (`samples.crop_size_for`), and trains both
networks from scratch (or from `TrainParams.weights`, an earlier heatmap
run's file) in one call (`train.fit_models`). Prediction finds the animals'
centres on the letterboxed frame (`detect.detect_centers`), crops around
each and reads its keypoints (`train.predict_keypoints`), so any number of
animals per frame work.

The sizes are the backend's own (`HeatmapSettings`), not `TrainParams.model`
or `imgsz`; so is its augmentation (crops rotated by any angle, zoomed by
±25 %, shifted a little, plus photometric jitter), of which `TrainParams`
sets only `flip` and `augment`. The weights file is one torch `.pt` dict
(`WEIGHTS_FORMAT`) with both state dicts and all that prediction needs, read
back with `weights_only=True` (no pickled code runs).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from attrs import asdict
from numpy.typing import NDArray
from PIL import Image
from torch import nn

from etholoop.errors import ConfigError
from etholoop.io import load_labels
from etholoop.io._common import keypoints_box
from etholoop.pose.backend import (
    BACKENDS,
    MIN_BOX_SCORE,
    EpochCallback,
    PosePredictor,
    TrainParams,
    TrainResult,
    predicted_visibility,
)
from etholoop.pose.flip import flip_instances
from etholoop.pose.heatmap.detect import detect_centers
from etholoop.pose.heatmap.network import (
    STRIDE,
    HeatmapNet,
    count_parameters,
    pick_device,
)
from etholoop.pose.heatmap.samples import Augmentation, crop_size_for
from etholoop.pose.heatmap.train import (
    HeatmapSettings,
    LabeledFrame,
    Optimization,
    fit_models,
    predict_keypoints,
)
from etholoop.pose.metrics import BOX_PAD_FRACTION, BOX_PAD_MIN_PX
from etholoop.pose.yolo_env import cpu_threads
from etholoop.types import Instance, LabelSet

WEIGHTS_FORMAT = "etholoop-heatmap-1"
"""The `format` entry of a heatmap weights file."""
ENCODER_FORMAT = "etholoop-heatmap-encoder-1"
"""The `format` entry of a pretrained encoder file (`etholoop pretrain`)."""
MIN_MAX_PEAKS = 4
"""Least number of centres looked for per frame (twice the most animals seen)."""
RECENTER_PASSES = 1
"""Crops centred again on the mean of the keypoints found, after the detector's.

Training centres crops on that mean (within a small shift); the detector's
centre can be tens of px off, which a second crop undoes."""


def _split_folders(data_yaml: Path) -> dict[str, Path]:
    """The dataset's train and val image folders (relative to its `data.yaml`)."""
    data = yaml.safe_load(data_yaml.read_text(encoding="utf-8"))
    return {key: (data_yaml.parent / data[key]).resolve() for key in ("train", "val")}


def _animals(labels: LabelSet, frame_index: int) -> tuple[NDArray[Any], NDArray[Any]]:
    """Keypoints (animals, K, 2) and labeled (animals, K) of a frame's animals."""
    k = labels.skeleton.n_keypoints
    found = [i for i in labels.frames[frame_index].instances if i.labeled.any()]
    keypoints = np.array([i.keypoints for i in found], dtype=np.float64)
    labeled = np.array([i.labeled for i in found], dtype=bool)
    return keypoints.reshape(-1, k, 2), labeled.reshape(-1, k)


def _crop_size(labels: LabelSet) -> float:
    """The crop side for the dataset's animals (`samples.crop_size_for`)."""
    sides = [
        float(np.ptp(inst.keypoints[inst.labeled], axis=0).max())
        for frame in labels.frames
        for inst in frame.instances
        if inst.labeled.any()
    ]
    return crop_size_for(sides)


def read_frames(
    data_yaml: Path,
) -> tuple[LabelSet, list[LabeledFrame], list[LabeledFrame]]:
    """The dataset's labels and its train and val frames, images loaded.

    A folder that is both train and val (no validation frames) gives both.
    """
    labels = load_labels(data_yaml, "yolo")
    folders = _split_folders(data_yaml)
    split: dict[str, list[LabeledFrame]] = {"train": [], "val": []}
    for index, frame in enumerate(labels.frames):
        video = labels.videos[frame.video]
        keypoints, labeled = _animals(labels, index)
        image = np.asarray(
            Image.open(video.image_files[frame.frame_idx]).convert("RGB")
        )
        loaded = LabeledFrame(image=image, keypoints=keypoints, labeled=labeled)
        for key, folder in folders.items():
            if Path(video.path).resolve() == folder:
                split[key].append(loaded)
    return labels, split["train"], split["val"]


def _augmentation(params: TrainParams) -> Augmentation:
    """The crop augmentation `params` asks for: `augment` and `flip` only."""
    if not params.augment:
        return Augmentation.none()
    return Augmentation(flip=params.flip)


def _settings(saved: dict[str, Any]) -> HeatmapSettings:
    """`HeatmapSettings` from their `to_dict` form."""
    optimization = Optimization(**saved["optimization"])
    return HeatmapSettings(**{**saved, "optimization": optimization})


def read_weights(
    path: Path, *, flip_idx: Sequence[int] | None = None
) -> dict[str, Any]:
    """A heatmap weights file's contents, checked against a skeleton's `flip_idx`.

    Raises:
        ConfigError: the file is missing, not heatmap weights, or made for
            another skeleton (keypoint count or left/right pairs differ).
    """
    try:
        content = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many kinds for a foreign file
        raise ConfigError(
            f"{path}: not heatmap pose weights ({type(exc).__name__})"
        ) from exc
    if not isinstance(content, dict) or content.get("format") != WEIGHTS_FORMAT:
        raise ConfigError(f"{path}: not heatmap pose weights (format {WEIGHTS_FORMAT})")
    if flip_idx is not None and list(content["flip_idx"]) != list(flip_idx):
        raise ConfigError(
            f"{path}: weights of another skeleton: {len(content['flip_idx'])} "
            f"keypoints {content['keypoints']} with flip_idx {content['flip_idx']}, "
            f"expected {len(flip_idx)} with flip_idx {list(flip_idx)}"
        )
    return {**content, "file": str(path)}


def read_encoder(path: Path, *, width: int) -> dict[str, torch.Tensor]:
    """The network state of a pretrained encoder file, for a network of `width`.

    Raises:
        ConfigError: the file is missing, no pretrained encoder, or made for
            a network of another width.
    """
    try:
        content = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many kinds for a foreign file
        raise ConfigError(
            f"{path}: not a pretrained encoder ({type(exc).__name__})"
        ) from exc
    if not isinstance(content, dict) or content.get("format") != ENCODER_FORMAT:
        raise ConfigError(f"{path}: not a pretrained encoder (format {ENCODER_FORMAT})")
    if content["width"] != width:
        raise ConfigError(
            f"{path}: encoder of width {content['width']}, the keypoint network "
            f"has width {width}"
        )
    return dict(content["state"])


def _networks(
    n_keypoints: int, settings: HeatmapSettings
) -> tuple[HeatmapNet, HeatmapNet]:
    """The keypoint and the centroid network, untrained."""
    return (
        HeatmapNet(n_keypoints, width=settings.width),
        HeatmapNet(1, width=settings.centroid_width),
    )


def _load_state(
    model: nn.Module,
    state: dict[str, torch.Tensor],
    where: Path | str,
    *,
    without_head: bool = False,
) -> None:
    """Load a state dict into `model` (all but its head with `without_head`).

    Raises:
        ConfigError: the state's layers or their shapes differ from the model's.
    """
    try:
        missing, unexpected = model.load_state_dict(state, strict=not without_head)
    except RuntimeError as exc:
        reason = str(exc).strip().splitlines()[-1].strip()
        raise ConfigError(
            f"{where}: its layers do not fit the network ({reason})"
        ) from exc
    if unexpected or any(not k.startswith("head.") for k in missing):
        raise ConfigError(f"{where}: its layers do not fit the network")


class HeatmapBackend:
    """Trains the centroid and keypoint networks and loads them for prediction.

    Args:
        settings: Sizes and schedule; the defaults are the product's.
    """

    pretrainable = True

    def __init__(self, settings: HeatmapSettings | None = None) -> None:
        self.settings = settings or HeatmapSettings()

    def _resolved(self, params: TrainParams) -> HeatmapSettings:
        """The settings of a run: those of the starting weights when given."""
        if params.weights is None:
            return self.settings
        return _settings(read_weights(params.weights)["settings"])

    def train(
        self,
        data_yaml: Path,
        run_dir: Path,
        params: TrainParams,
        on_epoch: EpochCallback,
    ) -> TrainResult:
        """Train on `data_yaml`; weights go to `run_dir/train/weights/`."""
        labels, train, val = read_frames(data_yaml)
        flip_idx = labels.skeleton.flip_idx
        settings = self._resolved(params)
        torch.manual_seed(params.seed)
        torch.set_num_threads(cpu_threads())
        keypoint_model, centroid_model = _networks(len(flip_idx), settings)
        if params.weights is not None:
            start = read_weights(params.weights, flip_idx=flip_idx)
            _load_state(keypoint_model, start["keypoint_model"], params.weights)
            _load_state(centroid_model, start["centroid_model"], params.weights)
        if params.encoder is not None:
            state = read_encoder(params.encoder, width=settings.width)
            _load_state(keypoint_model, state, params.encoder, without_head=True)
        out = run_dir / "train"
        (out / "weights").mkdir(parents=True, exist_ok=True)
        log = out / "results.csv"
        log.unlink(missing_ok=True)

        def epoch_done(record: dict[str, float]) -> None:
            with log.open("a", newline="") as f:
                writer = csv.DictWriter(f, fieldnames=list(record))
                if f.tell() == 0:
                    writer.writeheader()
                writer.writerow(record)
            on_epoch(int(record["epoch"]))

        crop_size = _crop_size(labels)
        fitted = fit_models(
            train,
            val or train,
            flip_idx,
            keypoint_model=keypoint_model,
            centroid_model=centroid_model,
            crop_size=crop_size,
            settings=settings,
            augmentation=_augmentation(params),
            epochs=params.epochs,
            batch=params.batch,
            patience=params.patience,
            device=pick_device(params.device),
            seed=params.seed,
            on_epoch=epoch_done,
        )
        header = {
            "format": WEIGHTS_FORMAT,
            "keypoints": list(labels.skeleton.keypoints),
            "flip_idx": flip_idx,
            "crop_size": crop_size,
            "stride": STRIDE,
            "settings": settings.to_dict(),
            "max_animals": max(len(f.keypoints) for f in train),
        }
        best = out / "weights" / "best.pt"
        torch.save(
            {
                **header,
                "epoch": fitted.best_epoch,
                "keypoint_model": fitted.keypoint_state,
                "centroid_model": fitted.centroid_state,
            },
            best,
        )
        torch.save(
            {
                **header,
                "epoch": len(fitted.epochs),
                "keypoint_model": keypoint_model.cpu().state_dict(),
                "centroid_model": centroid_model.cpu().state_dict(),
            },
            out / "weights" / "last.pt",
        )
        return TrainResult(best, fitted.epochs)

    def arguments(
        self, data_yaml: Path, run_dir: Path, params: TrainParams
    ) -> dict[str, Any]:
        """Everything the training uses: sizes, crop, augmentation, schedule, device."""
        labels = load_labels(data_yaml, "yolo")
        settings = self._resolved(params)
        keypoint_model, centroid_model = _networks(
            labels.skeleton.n_keypoints, settings
        )
        return {
            "settings": settings.to_dict(),
            "crop_size": _crop_size(labels),
            "stride": STRIDE,
            "augmentation": asdict(_augmentation(params)),
            "epochs": params.epochs,
            "batch": params.batch,
            "patience": params.patience,
            "seed": params.seed,
            "device": str(pick_device(params.device)),
            "threads": cpu_threads(),
            "weights": None if params.weights is None else str(params.weights),
            "encoder": None if params.encoder is None else str(params.encoder),
            "parameters": {
                "keypoint_model": count_parameters(keypoint_model),
                "centroid_model": count_parameters(centroid_model),
            },
            "output": str(run_dir / "train"),
        }

    def load(
        self,
        weights: Path,
        *,
        imgsz: int,
        flip_idx: Sequence[int],
        min_score: float = MIN_BOX_SCORE,
    ) -> PosePredictor:
        """A predictor for the weights (`imgsz` is not used: the file has the sizes).

        Raises:
            ConfigError: not heatmap weights, or weights of another skeleton.
        """
        return HeatmapPredictor(
            read_weights(weights, flip_idx=flip_idx), min_score=min_score
        )


class HeatmapPredictor:
    """Finds animals and their keypoints in RGB images; the GPU when present.

    Args:
        content: A weights file's contents (`read_weights`).
        min_score: Least centre score of an animal kept.
        device: "cpu" or a GPU index; None: the GPU when present.
    """

    def __init__(
        self,
        content: dict[str, Any],
        *,
        min_score: float = MIN_BOX_SCORE,
        device: str | None = None,
    ) -> None:
        self.settings = _settings(content["settings"])
        self.flip_idx = list(content["flip_idx"])
        self.crop_size = float(content["crop_size"])
        self.max_peaks = max(MIN_MAX_PEAKS, 2 * int(content["max_animals"]))
        self.min_score = min_score
        self.device = pick_device(device)
        self.keypoint_model, self.centroid_model = _networks(
            len(self.flip_idx), self.settings
        )
        where = content.get("file", "heatmap weights")
        _load_state(self.keypoint_model, content["keypoint_model"], where)
        _load_state(self.centroid_model, content["centroid_model"], where)
        self.keypoint_model.to(self.device)
        self.centroid_model.to(self.device)
        if self.device.type == "cpu":
            torch.set_num_threads(cpu_threads())

    def predict(
        self, images: Sequence[NDArray[np.uint8]], *, flip: bool = False
    ) -> list[list[Instance]]:
        """Predicted instances per RGB image, best centre score first.

        With `flip`, each image is mirrored left-right before prediction and the
        results are mapped back (`flip.flip_instances`), as the YOLO backend does.
        """
        shown = [np.ascontiguousarray(img[:, ::-1] if flip else img) for img in images]
        if not shown:
            return []
        detections = detect_centers(
            self.centroid_model,
            shown,
            input_size=self.settings.centroid_size,
            crop_size=self.crop_size,
            threshold=self.min_score,
            max_peaks=self.max_peaks,
            device=self.device,
        )
        found = []
        for image, centers in zip(shown, detections, strict=True):
            instances = self._instances(image, centers)
            width = image.shape[1]
            found.append(
                flip_instances(instances, width, self.flip_idx) if flip else instances
            )
        return found

    def _keypoints(
        self, image: NDArray[np.uint8], centers: Sequence[tuple[float, float]]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Keypoints (animals, K, 2) and scores (animals, K) on crops at `centers`."""
        return predict_keypoints(
            self.keypoint_model,
            image,
            centers,
            crop_size=self.crop_size,
            out_size=self.settings.out_size,
            stride=STRIDE,
            device=self.device,
            flip_idx=self.flip_idx if self.settings.mirror else None,
        )

    def _instances(
        self, image: NDArray[np.uint8], centers: Sequence[tuple[float, float, float]]
    ) -> list[Instance]:
        keypoints, scores = self._keypoints(image, [(x, y) for x, y, _ in centers])
        for _ in range(RECENTER_PASSES):
            means = [(float(x), float(y)) for x, y in keypoints.mean(axis=1)]
            keypoints, scores = self._keypoints(image, means)
        height, width = image.shape[:2]
        scores = np.clip(scores, 0.0, 1.0)
        return [
            Instance(
                keypoints=xy,
                visibility=predicted_visibility(score),
                box=keypoints_box(
                    xy,
                    BOX_PAD_MIN_PX,
                    pad_fraction=BOX_PAD_FRACTION,
                    image_size=(width, height),
                ),
                box_score=min(max(center[2], 0.0), 1.0),
                keypoint_scores=score,
                source="predicted",
            )
            for xy, score, center in zip(keypoints, scores, centers, strict=True)
        ]


BACKENDS["heatmap"] = HeatmapBackend
