"""Training samples of the top-down heatmap backend: one animal's crop and targets.

A sample is the square of `crop_size` image px around the instance's centre
(the mean of its labeled keypoints), warped to `out_size` px (`geometry`), with
keypoint heatmaps and weights at `stride` (`targets`). Augmentation draws a
`Jitter` per sample: a small shift of the centre, a rotation (mice have no up),
a zoom, a left-right mirror that swaps left and right keypoints by the
skeleton's `flip_idx` (as `pose.flip.flip_instances` does), and photometric
changes (contrast, brightness, blur, noise). A `Jitter` fixes a sample
completely, so `render_sample` is deterministic and `training_sample` only adds
the draw.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np
from attrs import evolve, field, frozen
from attrs.validators import ge, gt, le, lt
from numpy.typing import NDArray

from etholoop.pose.flip import flip_instances
from etholoop.pose.heatmap.geometry import crop_matrix, map_points, warp_crop
from etholoop.pose.heatmap.targets import keypoint_heatmaps
from etholoop.types import NOT_LABELED, VISIBLE, Instance

CROP_MARGIN = 1.6  # crop side over the typical animal's keypoint-box side
CROP_PERCENTILE = 90  # which animal is "typical": most animals fit with margin
MIN_CROP_SIZE = 32.0  # px; smaller crops leave the network nothing to see
BLUR_SIGMA = (0.5, 1.5)  # crop px, range of a drawn blur


@frozen
class Jitter:
    """The random draws that make one training sample, all neutral by default.

    Attributes:
        shift: Offset (dx, dy) of the crop centre from the instance's centre,
            in image px.
        angle: Rotation in degrees (counter-clockwise as displayed).
        scale: Zoom, > 1 makes the animal look bigger.
        flip: Mirror the crop left-right, swapping left and right keypoints.
        contrast: Factor on the crop's deviation from its mean intensity.
        brightness: Offset added to intensities in 0..1.
        blur: Gaussian blur sigma in crop px; 0 = none.
        noise: Standard deviation of Gaussian noise on intensities in 0..1.
        seed: Seed of the noise.
    """

    shift: tuple[float, float] = (0.0, 0.0)
    angle: float = 0.0
    scale: float = field(default=1.0, validator=gt(0.0))
    flip: bool = False
    contrast: float = field(default=1.0, validator=ge(0.0))
    brightness: float = 0.0
    blur: float = field(default=0.0, validator=ge(0.0))
    noise: float = field(default=0.0, validator=ge(0.0))
    seed: int = 0


@frozen
class Augmentation:
    """Ranges of the random changes made to each training sample.

    Attributes:
        rotate: Largest rotation in degrees, drawn uniformly in ±rotate.
        scale: Zoom drawn uniformly in [1 - scale, 1 + scale]; below 1.
        translate: Largest shift of the crop centre per axis, as a fraction of
            the crop size.
        flip: Mirror half of the samples left-right.
        brightness: Largest intensity offset (intensities in 0..1).
        contrast: Contrast factor drawn in [1 - contrast, 1 + contrast]; below 1.
        noise: Largest standard deviation of Gaussian noise (0..1 intensities).
        blur: Probability of a Gaussian blur (sigma 0.5 to 1.5 crop px).
    """

    rotate: float = field(default=180.0, validator=ge(0.0))
    scale: float = field(default=0.25, validator=[ge(0.0), lt(1.0)])
    translate: float = field(default=0.05, validator=ge(0.0))
    flip: bool = True
    brightness: float = field(default=0.2, validator=ge(0.0))
    contrast: float = field(default=0.2, validator=[ge(0.0), lt(1.0)])
    noise: float = field(default=0.02, validator=ge(0.0))
    blur: float = field(default=0.1, validator=[ge(0.0), le(1.0)])

    @classmethod
    def none(cls) -> Augmentation:
        """No augmentation at all: every sample is the plain crop."""
        return cls(
            rotate=0.0,
            scale=0.0,
            translate=0.0,
            flip=False,
            brightness=0.0,
            contrast=0.0,
            noise=0.0,
            blur=0.0,
        )

    def draw(self, rng: np.random.Generator, *, crop_size: float) -> Jitter:
        """One sample's random changes, for a crop of `crop_size` image px."""
        shift = rng.uniform(-self.translate, self.translate, 2) * crop_size
        return Jitter(
            shift=(float(shift[0]), float(shift[1])),
            angle=float(rng.uniform(-self.rotate, self.rotate)),
            scale=float(rng.uniform(1.0 - self.scale, 1.0 + self.scale)),
            flip=self.flip and bool(rng.random() < 0.5),
            **self._draw_photometric(rng),
        )

    def _draw_photometric(self, rng: np.random.Generator) -> dict[str, Any]:
        """The photometric fields of a `Jitter`, drawn."""
        noise = float(rng.uniform(0.0, self.noise))
        return {
            "contrast": float(rng.uniform(1.0 - self.contrast, 1.0 + self.contrast)),
            "brightness": float(rng.uniform(-self.brightness, self.brightness)),
            "blur": float(rng.uniform(*BLUR_SIGMA))
            if rng.random() < self.blur
            else 0.0,
            "noise": noise,
            "seed": int(rng.integers(2**31)) if noise > 0 else 0,
        }


def photometric_jitter(
    pixels: NDArray[np.uint8], augmentation: Augmentation, rng: np.random.Generator
) -> NDArray[np.uint8]:
    """An image with random contrast, brightness, blur and noise, as in training.

    Args:
        pixels: Image, shape (H, W, 3) or (H, W).
        augmentation: Ranges of the changes (its geometric ones are not used).
        rng: Source of the random draws.

    Returns:
        The changed image, same shape.
    """
    jitter = Jitter(**augmentation._draw_photometric(rng))
    scaled = np.rint(_photometric(pixels, jitter) * np.float32(255.0))
    return np.asarray(scaled, dtype=np.uint8)


def instance_center(
    keypoints: NDArray[np.floating], labeled: NDArray[np.bool_]
) -> tuple[float, float]:
    """The mean (x, y) in px of an instance's labeled keypoints (K, 2).

    Raises:
        ValueError: No keypoint is labeled.
    """
    xy = np.asarray(keypoints, dtype=np.float64)
    usable = np.asarray(labeled, dtype=bool) & np.isfinite(xy).all(axis=1)
    if not usable.any():
        raise ValueError("instance has no labeled keypoint to centre a crop on")
    x, y = xy[usable].mean(axis=0)
    return float(x), float(y)


def crop_size_for(boxes_max_side: Sequence[float]) -> float:
    """The crop side in px for a project's animals.

    1.6 times the 90th percentile of the instances' keypoint-box larger sides,
    and at least 32 px. The crop is centred on the keypoints' mean and rotated
    freely, so it must hold a circle around that mean, not just the box: on a
    mouse the mean lies near the head and the tail base up to 0.9 box sides from
    it. On DeepLabCut's open-field labels this gives 198 px, whose inscribed
    circle holds every keypoint of every instance.

    Args:
        boxes_max_side: The larger side of each labeled instance's keypoint box
            in px; NaN entries are skipped.

    Raises:
        ValueError: No finite side is given.
    """
    sides = np.asarray(boxes_max_side, dtype=np.float64)
    sides = sides[np.isfinite(sides)]
    if not len(sides):
        raise ValueError("no animal with labeled keypoints to size the crop from")
    typical = float(np.percentile(sides, CROP_PERCENTILE))
    return max(CROP_MARGIN * typical, MIN_CROP_SIZE)


def _photometric(crop: NDArray[np.uint8], jitter: Jitter) -> NDArray[np.float32]:
    """The crop as float32 intensities in 0..1 with the jitter's changes."""
    if jitter.blur > 0:
        crop = np.asarray(cv2.GaussianBlur(crop, (0, 0), jitter.blur), np.uint8)
    values = crop.astype(np.float32) / 255.0
    if jitter.contrast != 1.0 or jitter.brightness:
        mean = values.mean()
        values = (values - mean) * jitter.contrast + mean + jitter.brightness
    if jitter.noise > 0:
        noise = np.random.default_rng(jitter.seed).normal(0.0, jitter.noise, crop.shape)
        values = values + noise.astype(np.float32)
    return np.asarray(np.clip(values, 0.0, 1.0), dtype=np.float32)


def jitter_matrix(
    center: tuple[float, float], crop_size: float, out_size: int, jitter: Jitter
) -> NDArray[np.float64]:
    """`geometry.crop_matrix` with a jitter's shift, turn, zoom and mirror."""
    return crop_matrix(
        (center[0] + jitter.shift[0], center[1] + jitter.shift[1]),
        crop_size,
        out_size,
        angle=jitter.angle,
        scale=jitter.scale,
        flip=jitter.flip,
    )


def augmented_crop(
    image: NDArray[np.uint8],
    center: tuple[float, float],
    *,
    crop_size: float,
    out_size: int,
    jitter: Jitter,
) -> NDArray[np.float32]:
    """The crop around `center` that `jitter` makes, as network input.

    Args:
        image: The frame, shape (H, W, 3) or (H, W) (then repeated to 3 channels).
        center: Crop centre (x, y) in image px, before the jitter's shift.
        crop_size: Side of the cropped square in image px.
        out_size: Side of the crop in px.
        jitter: The changes to make.

    Returns:
        The crop, shape (3, out_size, out_size), intensities in 0..1.
    """
    crop = warp_crop(
        image, jitter_matrix(center, crop_size, out_size, jitter), out_size
    )
    if crop.ndim == 2:
        crop = np.repeat(crop[:, :, None], 3, axis=2)
    return _photometric(crop, jitter).transpose(2, 0, 1)


def render_sample(
    image: NDArray[np.uint8],
    keypoints: NDArray[np.floating],
    labeled: NDArray[np.bool_],
    flip_idx: Sequence[int],
    *,
    crop_size: float,
    out_size: int,
    stride: int,
    sigma: float,
    jitter: Jitter,
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
    """The training sample of one instance that `jitter` fixes.

    Args:
        image: The frame, shape (H, W, 3) or (H, W) (then repeated to 3 channels).
        keypoints: The instance's keypoints in image px, shape (K, 2); NaN where
            unlabeled.
        labeled: Which keypoints carry a label, shape (K,).
        flip_idx: Keypoint permutation of a left-right flip (`Skeleton.flip_idx`).
        crop_size: Side of the cropped square in image px.
        out_size: Side of the crop in px, a multiple of `stride`.
        stride: Crop px per heatmap cell.
        sigma: Gaussian standard deviation of the targets in crop px.
        jitter: The changes to make.

    Returns:
        The crop, shape (3, out_size, out_size), intensities in 0..1; heatmaps,
        shape (K, out_size // stride, out_size // stride); weights, shape (K,)
        (0 for unlabeled keypoints). With `jitter.flip`, channel k holds keypoint
        `flip_idx[k]`.

    Raises:
        ValueError: No keypoint is labeled, or `flip_idx` is no permutation of
            the keypoints (when flipping).
    """
    is_labeled = np.asarray(labeled, dtype=bool) & np.isfinite(keypoints).all(axis=1)
    center = instance_center(keypoints, is_labeled)
    unmirrored = evolve(jitter, flip=False)
    points = map_points(
        keypoints, jitter_matrix(center, crop_size, out_size, unmirrored)
    )
    if jitter.flip:
        visibility = np.where(is_labeled, VISIBLE, NOT_LABELED)
        (mirrored,) = flip_instances(
            [Instance(keypoints=points, visibility=visibility)], out_size, flip_idx
        )
        points, is_labeled = mirrored.keypoints, mirrored.labeled
    crop = augmented_crop(
        image, center, crop_size=crop_size, out_size=out_size, jitter=jitter
    )
    maps, weights = keypoint_heatmaps(points, is_labeled, out_size, stride, sigma)
    return crop, maps, weights


def training_sample(
    image: NDArray[np.uint8],
    keypoints: NDArray[np.floating],
    labeled: NDArray[np.bool_],
    flip_idx: Sequence[int],
    *,
    crop_size: float,
    out_size: int,
    stride: int,
    sigma: float,
    augmentation: Augmentation,
    rng: np.random.Generator,
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
    """A randomly augmented training sample of one instance (see `render_sample`).

    Args:
        image: The frame, shape (H, W, 3) or (H, W).
        keypoints: The instance's keypoints in image px, shape (K, 2); NaN where
            unlabeled.
        labeled: Which keypoints carry a label, shape (K,).
        flip_idx: Keypoint permutation of a left-right flip (`Skeleton.flip_idx`).
        crop_size: Side of the cropped square in image px.
        out_size: Side of the crop in px, a multiple of `stride`.
        stride: Crop px per heatmap cell.
        sigma: Gaussian standard deviation of the targets in crop px.
        augmentation: Ranges of the random changes.
        rng: Source of the random draws.

    Returns:
        The crop (3, out_size, out_size) in 0..1, heatmaps (K, h, w), weights (K,).
    """
    return render_sample(
        image,
        keypoints,
        labeled,
        flip_idx,
        crop_size=crop_size,
        out_size=out_size,
        stride=stride,
        sigma=sigma,
        jitter=augmentation.draw(rng, crop_size=crop_size),
    )
