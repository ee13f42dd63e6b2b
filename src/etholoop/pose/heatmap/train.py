"""Training a heatmap network: weighted heatmap MSE, AdamW, warm-up then cosine LR.

One `HeatmapTrainer` per network (the keypoint model, the centroid model): it
takes batches of (inputs, target heatmaps, per-channel weights) as numpy
arrays, so what a batch holds (augmented crops, downscaled frames) is decided
by the caller. A channel of weight 0 (an unlabeled keypoint) adds nothing to
the loss, so it never trains as background. `predict_keypoints` crops around
given centres and reads keypoints back in image px: validation uses it with
the labels' centres, prediction with the detector's.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import torch
from attrs import asdict, frozen
from numpy.typing import NDArray
from torch import Tensor, nn

from etholoop.pose.heatmap.detect import centroid_sample
from etholoop.pose.heatmap.geometry import (
    crop_matrix,
    invert_matrix,
    map_points,
    warp_crop,
)
from etholoop.pose.heatmap.network import STRIDE, HeatmapNet, run_model
from etholoop.pose.heatmap.samples import Augmentation, instance_center, training_sample
from etholoop.pose.heatmap.targets import refine_peaks

Sample = tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]
"""One training example: input (3, S, S) in 0..1, heatmaps (C, h, w), weights (C,)."""

WARMUP_FRACTION = 0.05
"""Share of the steps over which the learning rate rises linearly from ~0."""


@frozen
class Optimization:
    """How a heatmap network is optimized.

    Attributes:
        lr: Peak learning rate of AdamW.
        weight_decay: AdamW's decoupled weight decay.
        loss_scale: Factor on the heatmap MSE (targets are mostly 0, so the
            raw mean is tiny; AdamW is scale-free, this only reads better).
        foreground: Extra weight of a heatmap cell per unit of its target, so
            that the few cells near a keypoint count more than the background
            (without it a network from scratch long predicts all zeros).
    """

    lr: float = 2e-3
    weight_decay: float = 1e-4
    loss_scale: float = 1000.0
    foreground: float = 10.0


def weighted_mse(
    prediction: Tensor, target: Tensor, weights: Tensor, *, foreground: float = 0.0
) -> Tensor:
    """Mean squared error per heatmap, averaged over channels of non-zero weight.

    Args:
        prediction: Heatmaps, shape (N, C, h, w).
        target: Target heatmaps, shape (N, C, h, w).
        weights: Per-channel weights, shape (N, C); 0 leaves a channel out.
        foreground: Each cell's error counts 1 + `foreground` x its target.
    """
    cells = (prediction - target).square() * (1.0 + foreground * target)
    per_map = cells.mean(dim=(2, 3))
    return (per_map * weights).sum() / weights.sum().clamp(min=1.0)


def batches(samples: Iterable[Sample], size: int) -> Iterator[Sample]:
    """Stack samples into batches of `size`; a last batch of one is dropped.

    BatchNorm cannot train on a batch of one image.
    """
    chunk: list[Sample] = []
    for sample in samples:
        chunk.append(sample)
        if len(chunk) == size:
            yield _stack(chunk)
            chunk = []
    if len(chunk) > 1:
        yield _stack(chunk)


def _stack(chunk: Sequence[Sample]) -> Sample:
    inputs, targets, weights = zip(*chunk, strict=True)
    return np.stack(inputs), np.stack(targets), np.stack(weights)


class HeatmapTrainer:
    """Optimizes one heatmap network over a known number of steps.

    The learning rate rises linearly over the first `WARMUP_FRACTION` of
    `total_steps`, then follows a cosine down to 1 % of its peak.
    """

    def __init__(
        self,
        model: nn.Module,
        *,
        total_steps: int,
        device: torch.device,
        optimization: Optimization = Optimization(),
    ) -> None:
        self.model = model.to(device)
        self.device = device
        self.loss_scale = optimization.loss_scale
        self.foreground = optimization.foreground
        self.optimizer = torch.optim.AdamW(
            model.parameters(),
            lr=optimization.lr,
            weight_decay=optimization.weight_decay,
        )
        warmup = max(1, round(WARMUP_FRACTION * total_steps))
        total = max(total_steps, warmup + 1)

        def factor(step: int) -> float:
            if step < warmup:
                return (step + 1) / warmup
            progress = min(1.0, (step - warmup) / (total - warmup))
            return 0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * progress))

        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, factor)

    def fit(self, batches: Iterable[Sample]) -> float:
        """One pass over `batches`; the mean loss (nan when there was none)."""
        self.model.train()
        total, n = 0.0, 0
        for inputs, targets, weights in batches:
            prediction = self.model(torch.from_numpy(inputs).to(self.device))
            loss = self.loss_scale * weighted_mse(
                prediction,
                torch.from_numpy(targets).to(self.device),
                torch.from_numpy(weights).to(self.device),
                foreground=self.foreground,
            )
            total += self.step(loss)
            n += 1
        return total / n if n else math.nan

    def step(self, loss: Tensor) -> float:
        """One optimizer and learning-rate step on `loss`; its value."""
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        self.optimizer.step()
        self.scheduler.step()
        return float(loss.detach())


def predict_keypoints(
    model: nn.Module,
    image: NDArray[np.uint8],
    centers: Sequence[tuple[float, float]],
    *,
    crop_size: float,
    out_size: int,
    stride: int,
    device: torch.device,
    flip_idx: Sequence[int] | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Keypoints of the animals centred at `centers`, one crop each.

    With `flip_idx`, each crop's heatmaps are averaged with those of its
    mirror image (mirrored back, left and right keypoints swapped): the two
    views err differently (on the open-field mouse's test frames the mean
    took the RMSE from 3.27 to 2.99 px, the tail base's from 2.78 to 1.62).

    Args:
        model: The keypoint network.
        image: RGB image, shape (H, W, 3).
        centers: Crop centres (x, y) in image px.
        crop_size: Side of the cropped square in image px.
        out_size: Side of the network's input crop in px.
        stride: Crop px per heatmap cell.
        device: Where the network runs.
        flip_idx: Keypoint permutation of a left-right flip; None: no mirror.

    Returns:
        Keypoints in image px, shape (len(centers), K, 2), and their scores (the
        heatmap peaks), shape (len(centers), K).
    """
    matrices = [crop_matrix(c, crop_size, out_size) for c in centers]
    crops = (
        np.stack([warp_crop(image, m, out_size) for m in matrices])
        if matrices
        else (np.zeros((0, out_size, out_size, 3), np.uint8))
    )
    heatmaps = run_model(model, crops, device)
    if flip_idx is not None and len(heatmaps):
        mirrored = run_model(model, np.ascontiguousarray(crops[:, :, ::-1]), device)
        heatmaps = (heatmaps + mirrored[:, list(flip_idx), :, ::-1]) * np.float32(0.5)
    if not len(heatmaps):
        k = getattr(model, "out_channels", 0)
        return np.zeros((0, k, 2)), np.zeros((0, k))
    points, scores = refine_peaks(heatmaps, stride)
    image_points = np.stack(
        [map_points(p, invert_matrix(m)) for p, m in zip(points, matrices, strict=True)]
    )
    return image_points, scores


@frozen(eq=False)
class LabeledFrame:
    """A training frame: the image and its animals' labeled keypoints.

    Attributes:
        image: RGB image, shape (H, W, 3).
        keypoints: Keypoints in image px, shape (animals, K, 2); NaN where
            unlabeled.
        labeled: Which keypoints carry a label, shape (animals, K).
    """

    image: NDArray[np.uint8]
    keypoints: NDArray[np.float64]
    labeled: NDArray[np.bool_]

    @property
    def centers(self) -> NDArray[np.float64]:
        """Each animal's crop centre (`samples.instance_center`), shape (animals, 2)."""
        return np.array(
            [
                instance_center(k, m)
                for k, m in zip(self.keypoints, self.labeled, strict=True)
            ],
            dtype=np.float64,
        ).reshape(-1, 2)


@frozen
class HeatmapSettings:
    """Sizes and schedule of the heatmap backend (its defaults are the product's).

    Attributes:
        out_size: Side of the keypoint model's input crop in px.
        sigma: Target Gaussian sigma in crop px.
        width: Channels of the keypoint network's first stage.
        centroid_size: Side of the centroid model's letterboxed input in px.
        centroid_width: Channels of the centroid network's first stage.
        repeats: Augmented crops of every training animal per epoch.
        centroid_repeats: Augmented views of every training frame per epoch for
            the centroid model (fewer: it costs more per view).
        min_samples: Least crops per epoch, and half as many views for the
            centroid model, so that a few labeled frames still make enough
            optimizer steps per epoch.
        optimization: Learning rate and weight decay.
        mirror: Average each crop's heatmaps with its mirror image's when
            predicting (and validating): twice the keypoint network's work.
    """

    out_size: int = 160
    sigma: float = 4.0
    width: int = 32
    centroid_size: int = 256
    centroid_width: int = 16
    repeats: int = 4
    centroid_repeats: int = 2
    min_samples: int = 256
    optimization: Optimization = Optimization()
    mirror: bool = True

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form, for the run's resolved config."""
        return asdict(self)


@frozen
class FitResult:
    """What `fit_models` left: the best epoch's weights and every epoch's record.

    Attributes:
        keypoint_state: The keypoint network's state dict at the best epoch.
        centroid_state: The centroid network's state dict at the same epoch.
        best_epoch: The epoch of lowest validation RMSE (1-based).
        epochs: Per epoch: "epoch", "train/keypoint_loss", "train/centroid_loss",
            "val/rmse_px", "lr", "time_s".
    """

    keypoint_state: dict[str, Tensor]
    centroid_state: dict[str, Tensor]
    best_epoch: int
    epochs: list[dict[str, float]]


def _epoch_size(n_items: int, repeats: int, least: int) -> int:
    """Samples per epoch: every item `repeats` times, at least `least` in all."""
    return max(n_items * repeats, least) if n_items else 0


def keypoint_samples(
    frames: Sequence[LabeledFrame],
    flip_idx: Sequence[int],
    *,
    crop_size: float,
    settings: HeatmapSettings,
    augmentation: Augmentation,
    rng: np.random.Generator,
) -> Iterator[Sample]:
    """Augmented crops of every labeled animal, shuffled.

    Each animal `settings.repeats` times, or more to reach `settings.min_samples`.
    """
    animals = [
        (frame, i)
        for frame in frames
        for i in range(len(frame.keypoints))
        if frame.labeled[i].any()
    ]
    for j in rng.permutation(
        _epoch_size(len(animals), settings.repeats, settings.min_samples)
    ):
        frame, i = animals[j % len(animals)]
        yield training_sample(
            frame.image,
            frame.keypoints[i],
            frame.labeled[i],
            flip_idx,
            crop_size=crop_size,
            out_size=settings.out_size,
            stride=STRIDE,
            sigma=settings.sigma,
            augmentation=augmentation,
            rng=rng,
        )


def centroid_samples(
    frames: Sequence[LabeledFrame],
    *,
    crop_size: float,
    settings: HeatmapSettings,
    augmentation: Augmentation,
    rng: np.random.Generator,
) -> Iterator[Sample]:
    """Augmented letterboxed views of every frame, with its centres' heatmap.

    Each frame `settings.centroid_repeats` times, or more to reach half of
    `settings.min_samples`; shuffled.
    """
    n = _epoch_size(len(frames), settings.centroid_repeats, settings.min_samples // 2)
    for j in rng.permutation(n):
        frame = frames[j % len(frames)]
        yield centroid_sample(
            frame.image,
            frame.centers,
            input_size=settings.centroid_size,
            crop_size=crop_size,
            augmentation=augmentation,
            rng=rng,
        )


def validation_rmse(
    model: HeatmapNet,
    frames: Sequence[LabeledFrame],
    flip_idx: Sequence[int],
    *,
    crop_size: float,
    settings: HeatmapSettings,
    device: torch.device,
) -> float:
    """RMSE in image px over the labeled keypoints, crops centred on the labels."""
    errors = []
    for frame in frames:
        keep = frame.labeled.any(axis=1)
        if not keep.any():
            continue
        found, _ = predict_keypoints(
            model,
            frame.image,
            [tuple(c) for c in frame.centers],
            crop_size=crop_size,
            out_size=settings.out_size,
            stride=STRIDE,
            device=device,
            flip_idx=flip_idx if settings.mirror else None,
        )
        truth = frame.keypoints[keep]
        errors.append(np.linalg.norm(found - truth, axis=-1)[frame.labeled[keep]])
    flat = np.concatenate(errors) if errors else np.zeros(0)
    return float(np.sqrt(np.mean(flat**2))) if len(flat) else math.nan


def fit_models(
    train: Sequence[LabeledFrame],
    val: Sequence[LabeledFrame],
    flip_idx: Sequence[int],
    *,
    keypoint_model: HeatmapNet,
    centroid_model: HeatmapNet,
    crop_size: float,
    settings: HeatmapSettings,
    augmentation: Augmentation,
    epochs: int,
    batch: int,
    patience: int,
    device: torch.device,
    seed: int,
    on_epoch: Callable[[dict[str, float]], None],
) -> FitResult:
    """Train the keypoint and the centroid model together, epoch by epoch.

    Each epoch trains the keypoint model on `settings.repeats` augmented crops
    of every training animal and the centroid model on
    `settings.centroid_repeats` augmented views of every training frame (about
    a third of the cost; `settings.min_samples` sets a floor), then measures
    the keypoint model's RMSE on the `val` frames with crops centred on their
    labels. The weights of the
    epoch with the lowest RMSE are kept; training stops after `patience`
    epochs without a better one.

    Args:
        train: Frames to learn from.
        val: Frames to choose the best epoch on.
        flip_idx: Keypoint permutation of a left-right flip.
        keypoint_model: The keypoint network, trained in place.
        centroid_model: The centroid network, trained in place.
        crop_size: Side of the keypoint crops in image px.
        settings: Sizes and learning rates.
        augmentation: Random changes to the training samples.
        epochs: Most epochs.
        batch: Samples per optimizer step.
        patience: Epochs without improvement before stopping.
        device: Where to train.
        seed: Seed of the sampling (torch is seeded by the caller).
        on_epoch: Called with each epoch's record as it ends.
    """
    rng = np.random.default_rng(seed)
    n_animals = sum(int(f.labeled.any(axis=1).sum()) for f in train)
    crops = _epoch_size(n_animals, settings.repeats, settings.min_samples)
    views = _epoch_size(
        len(train), settings.centroid_repeats, settings.min_samples // 2
    )
    keypoints = HeatmapTrainer(
        keypoint_model,
        total_steps=epochs * math.ceil(crops / batch),
        device=device,
        optimization=settings.optimization,
    )
    centroids = HeatmapTrainer(
        centroid_model,
        total_steps=epochs * math.ceil(views / batch),
        device=device,
        optimization=settings.optimization,
    )
    records: list[dict[str, float]] = []
    best = (math.inf, 0, _state(keypoint_model), _state(centroid_model))
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        lr = float(keypoints.optimizer.param_groups[0]["lr"])
        keypoint_loss = keypoints.fit(
            batches(
                keypoint_samples(
                    train,
                    flip_idx,
                    crop_size=crop_size,
                    settings=settings,
                    augmentation=augmentation,
                    rng=rng,
                ),
                batch,
            )
        )
        centroid_loss = centroids.fit(
            batches(
                centroid_samples(
                    train,
                    crop_size=crop_size,
                    settings=settings,
                    augmentation=augmentation,
                    rng=rng,
                ),
                batch,
            )
        )
        rmse = validation_rmse(
            keypoint_model,
            val,
            flip_idx,
            crop_size=crop_size,
            settings=settings,
            device=device,
        )
        record = {
            "epoch": float(epoch),
            "train/keypoint_loss": keypoint_loss,
            "train/centroid_loss": centroid_loss,
            "val/rmse_px": rmse,
            "lr": lr,
            "time_s": time.perf_counter() - start,
        }
        records.append(record)
        if best[1] == 0 or rmse < best[0] or math.isnan(rmse):
            best = (rmse, epoch, _state(keypoint_model), _state(centroid_model))
        on_epoch(record)
        if epoch - best[1] >= patience:
            break
    return FitResult(best[2], best[3], best[1], records)


def _state(model: nn.Module) -> dict[str, Tensor]:
    """A copy of the model's state dict on the CPU."""
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
