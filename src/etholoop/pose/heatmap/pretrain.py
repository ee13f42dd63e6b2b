"""Self-supervised pretraining of the heatmap network on unlabeled frames.

Masked-image modelling: crops around the animals of a project's own videos
are shown with most of their 16 px patches blanked out, and the network (the
keypoint network's encoder and decoder, with a 3-channel head) learns to
paint the blanked pixels back at its output stride. To fill in a mouse's
hidden ear from what is left, it has to learn what mice look like; no label
is needed, and nothing is downloaded.

The animals are found without labels: the per-pixel median of frames spread
over the video is the empty arena (`arena_background`), and a frame's
difference from it is where the animals are (`foreground`). Crop centres are
drawn from that difference (`pick_center`), and the crop size comes from the
size of its blobs (`animal_side`). Each crop is cut once, with room to rotate
(`REGION_MARGIN`), and jittered afresh every epoch as in keypoint training.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import cv2
import numpy as np
import torch
from attrs import frozen
from numpy.typing import NDArray
from torch import Tensor
from torch.nn import functional

from etholoop.pose.heatmap.geometry import crop_matrix, warp_crop
from etholoop.pose.heatmap.network import PIXEL_MEAN, PIXEL_STD, STRIDE, HeatmapNet
from etholoop.pose.heatmap.samples import Augmentation, augmented_crop
from etholoop.pose.heatmap.train import HeatmapTrainer, Optimization

MASK_PATCH = 16
"""Side in crop px of the square patches that are blanked together."""
MASK_RATIO = 0.6
"""Share of a crop's patches blanked out."""
REGION_MARGIN = 1.5
"""Side of the stored region over the crop's: a crop rotated by any angle fits."""
BACKGROUND_FRAMES = 64
"""Most frames the median background is taken over."""
FOREGROUND_DRAWS = 0.8
"""Share of crop centres drawn where frames differ from the background; the
rest anywhere in the frame, so the arena's walls and corners are seen too."""
ANALYSIS_SIDE = 160
"""Longer side in px of the downscaled frames the animals are found on."""
MIN_BLOB_PX = 4
"""Least side, in downscaled px, of a blob counted as an animal."""
PRETRAIN_OPTIMIZATION = Optimization(weight_decay=0.05)
"""Stronger weight decay than keypoint training's, as masked modelling uses."""


def analysis_scale(width: int, height: int) -> float:
    """Factor from image px to the downscaled analysis frame (at most 1)."""
    return min(1.0, ANALYSIS_SIDE / max(width, height))


def downscaled_gray(image: NDArray[np.uint8], scale: float) -> NDArray[np.float32]:
    """The image as float32 luma, downscaled by `scale` (area averaging)."""
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    if scale < 1.0:
        size = (
            max(1, round(gray.shape[1] * scale)),
            max(1, round(gray.shape[0] * scale)),
        )
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    return gray.astype(np.float32)


def arena_background(frames: Sequence[NDArray[np.float32]]) -> NDArray[np.float32]:
    """The per-pixel median of downscaled gray frames: the arena without animals.

    An animal that moves sits on any one pixel in less than half the frames,
    so the median keeps the floor beneath it.

    Raises:
        ValueError: No frames.
    """
    if not len(frames):
        raise ValueError("no frames to estimate the arena background from")
    return np.median(np.stack(frames), axis=0).astype(np.float32)


def foreground(
    frame: NDArray[np.float32], background: NDArray[np.float32]
) -> NDArray[np.float32]:
    """How much each pixel differs from the background, lightly blurred."""
    difference = np.abs(frame - background)
    return np.asarray(cv2.GaussianBlur(difference, (0, 0), 1.5), np.float32)


def blob_sides(differences: Sequence[NDArray[np.float32]]) -> list[float]:
    """The larger side, in the frames' px, of each frame's largest blob.

    A frame's blobs are its pixels above an Otsu threshold of its difference
    from the background; frames whose largest blob is under `MIN_BLOB_PX`
    (an empty arena, an animal that did not move) give none.
    """
    sides = []
    for difference in differences:
        peak = max(float(difference.max()), 1e-6)
        scaled = np.clip(difference * (255.0 / peak), 0, 255).astype(np.uint8)
        _, mask = cv2.threshold(scaled, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        n, _, stats, _ = cv2.connectedComponentsWithStats(mask)
        if n < 2:
            continue
        largest = stats[1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))]
        side = max(largest[cv2.CC_STAT_WIDTH], largest[cv2.CC_STAT_HEIGHT])
        if side >= MIN_BLOB_PX:
            sides.append(float(side))
    return sides


def pick_center(
    difference: NDArray[np.float32], scale: float, rng: np.random.Generator
) -> tuple[float, float]:
    """A crop centre in image px: mostly where the frame differs from the arena.

    With probability `FOREGROUND_DRAWS` a pixel of the downscaled `difference`
    is drawn with probability proportional to its squared value, else any
    pixel uniformly; the centre is a uniform point inside that pixel.
    """
    weights = difference.astype(np.float64).ravel() ** 2
    total = weights.sum()
    if rng.random() < FOREGROUND_DRAWS and total > 0:
        index = int(rng.choice(weights.size, p=weights / total))
    else:
        index = int(rng.integers(weights.size))
    row, col = divmod(index, difference.shape[1])
    x, y = (col + rng.random()) / scale, (row + rng.random()) / scale
    return float(x), float(y)


def cut_region(
    image: NDArray[np.uint8],
    center: tuple[float, float],
    crop_size: float,
    out_size: int,
) -> NDArray[np.uint8]:
    """The square around `center` that any rotated crop of it fits in.

    `REGION_MARGIN` x `crop_size` image px, at the crop's resolution
    (`REGION_MARGIN` x `out_size` px a side, rounded up to even), RGB.
    """
    side = 2 * math.ceil(REGION_MARGIN * out_size / 2)
    region = warp_crop(
        image, crop_matrix(center, crop_size * side / out_size, side), side
    )
    return region if region.ndim == 3 else np.repeat(region[:, :, None], 3, axis=2)


def mask_patches(
    images: Tensor, *, ratio: float = MASK_RATIO, patch: int = MASK_PATCH
) -> tuple[Tensor, Tensor]:
    """Blank a random `ratio` of each image's `patch` px squares.

    Blanked pixels take `PIXEL_MEAN`, which the network normalizes to 0.

    Args:
        images: (N, 3, S, S) in 0..1, S a multiple of `patch`.
        ratio: Share of the patches blanked in each image.
        patch: Side of a patch in px.

    Returns:
        The masked images, and the mask (N, 1, S, S), 1 where blanked.
    """
    n, _, height, width = images.shape
    rows, cols = height // patch, width // patch
    scores = torch.rand(n, rows * cols, device=images.device)
    hidden = scores.argsort(dim=1) < round(ratio * rows * cols)
    mask = hidden.float().reshape(n, 1, rows, cols)
    mask = mask.repeat_interleave(patch, dim=2).repeat_interleave(patch, dim=3)
    return images * (1 - mask) + PIXEL_MEAN * mask, mask


def reconstruction_loss(prediction: Tensor, images: Tensor, mask: Tensor) -> Tensor:
    """MSE of the painted-in pixels at the network's stride, blanked ones only.

    The target is the image averaged over `STRIDE` px cells, normalized as the
    network normalizes its input.
    """
    target = (functional.avg_pool2d(images, STRIDE) - PIXEL_MEAN) / PIXEL_STD
    weight = functional.avg_pool2d(mask, STRIDE)
    cells = (prediction - target).square() * weight
    return cells.sum() / (weight.sum() * prediction.shape[1]).clamp(min=1.0)


@frozen
class PretrainResult:
    """The pretrained network's weights (its head left out) and each epoch's record.

    Attributes:
        state: State dict of everything but the head, to load into a
            keypoint network of the same width.
        epochs: Per epoch: "epoch", "train/reconstruction_loss", "lr", "time_s".
    """

    state: dict[str, Tensor]
    epochs: list[dict[str, float]]


def pretrain_network(
    regions: NDArray[np.uint8],
    *,
    width: int,
    out_size: int,
    epochs: int,
    batch: int,
    device: torch.device,
    seed: int,
    on_epoch: Callable[[dict[str, float]], None],
    optimization: Optimization = PRETRAIN_OPTIMIZATION,
) -> PretrainResult:
    """Train a `HeatmapNet` to paint in blanked patches of jittered crops.

    Each epoch shows every region once, as a crop of `out_size` px from its
    centre, rotated, zoomed, mirrored and jittered in brightness as keypoint
    training does (`Augmentation`'s defaults), with `MASK_RATIO` of it
    blanked.

    Args:
        regions: Cut regions (`cut_region`), shape (N, R, R, 3).
        width: Channels of the network's first stage (the keypoint network's).
        out_size: Side of the crops in px (the keypoint network's input).
        epochs: Passes over the regions.
        batch: Crops per optimizer step.
        device: Where to train.
        seed: Seed of the crops and masks (torch is seeded too).
        on_epoch: Called with each epoch's record as it ends.
        optimization: Learning rate and weight decay.
    """
    if len(regions) < 2:
        raise ValueError(f"pretraining needs at least 2 frames, got {len(regions)}")
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    model = HeatmapNet(3, width=width)
    steps = math.ceil(len(regions) / batch)
    trainer = HeatmapTrainer(
        model, total_steps=epochs * steps, device=device, optimization=optimization
    )
    augmentation = Augmentation()
    side = regions.shape[1]
    records = []
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        lr = float(trainer.optimizer.param_groups[0]["lr"])
        model.train()
        total = 0.0
        order = rng.permutation(len(regions))
        for first in range(0, len(order), batch):
            chosen = order[first : first + batch]
            if len(chosen) < 2:  # BatchNorm cannot train on a batch of one
                continue
            crops = np.stack(
                [
                    augmented_crop(
                        regions[i],
                        (side / 2, side / 2),
                        crop_size=float(out_size),
                        out_size=out_size,
                        jitter=augmentation.draw(rng, crop_size=float(out_size)),
                    )
                    for i in chosen
                ]
            )
            images = torch.from_numpy(crops).to(device)
            masked, mask = mask_patches(images)
            loss = reconstruction_loss(model(masked), images, mask)
            total += trainer.step(loss) * len(chosen)
        record = {
            "epoch": float(epoch),
            "train/reconstruction_loss": total / len(regions),
            "lr": lr,
            "time_s": time.perf_counter() - start,
        }
        records.append(record)
        on_epoch(record)
    state = {
        k: v.detach().cpu().clone()
        for k, v in model.state_dict().items()
        if not k.startswith("head.")
    }
    return PretrainResult(state, records)
