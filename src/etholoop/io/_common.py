"""Helpers shared by the format modules: visibility, image lookup and naming."""

from __future__ import annotations

import os
import shutil
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import NDArray

from etholoop.errors import FormatError
from etholoop.types import (
    NOT_LABELED,
    Instance,
    LabelSet,
)

FrameKey: TypeAlias = tuple[int, int]
"""A labeled frame as (index into `LabelSet.videos`, frame_idx)."""

ImageMap: TypeAlias = Mapping[FrameKey, "str | os.PathLike[str]"]
"""The image file of each labeled frame, keyed by (video index, frame_idx)."""

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def visible_keypoints(
    instance: Instance,
) -> tuple[NDArray[np.float64], NDArray[np.uint8]]:
    """Keypoints and visibility with "not labeled" made consistent.

    A keypoint counts as labeled only if its visibility is 1 or 2 *and* both
    coordinates are finite; every other keypoint gets NaN coordinates and
    visibility 0. Writers use this so that no format sees half a label.

    Returns:
        Keypoints in px, shape (keypoints, 2), and visibility, shape (keypoints,).
    """
    labeled = (instance.visibility > NOT_LABELED) & np.isfinite(instance.keypoints).all(
        axis=1
    )
    xy = np.where(labeled[:, None], instance.keypoints, np.nan)
    vis = np.where(labeled, instance.visibility, NOT_LABELED).astype(np.uint8)
    return xy, vis


def keypoints_box(
    xy: NDArray[np.float64],
    margin: float = 0.0,
    *,
    pad_fraction: float = 0.0,
    image_size: tuple[int, int] | None = None,
) -> NDArray[np.float64]:
    """The box around keypoints, padded on each side and clipped to the image.

    Args:
        xy: Keypoints in px with finite coordinates, shape (points >= 1, 2).
        margin: Least px added on each side.
        pad_fraction: Share of the box's larger side added on each side, when
            that is more than `margin`.
        image_size: (width, height) to clip the box to, if given.

    Returns:
        Box corners x1, y1, x2, y2 in px, shape (4,).
    """
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    pad = max(margin, pad_fraction * float((hi - lo).max()))
    box = np.concatenate([lo - pad, hi + pad]).astype(np.float64)
    if image_size is not None:
        width, height = image_size
        box = np.clip(box, 0.0, [width, height, width, height])
    return box


def instance_box(
    instance: Instance,
    margin: float = 0.0,
    *,
    pad_fraction: float = 0.0,
    image_size: tuple[int, int] | None = None,
) -> NDArray[np.float64] | None:
    """The instance's box, else the box around its labeled keypoints, else None.

    Like `Instance.bounding_box`, but a box with NaN counts as no box and only
    keypoints with finite coordinates and visibility 1 or 2 count as labeled.
    A box derived from the keypoints is padded and clipped by `keypoints_box`
    (`margin`, `pad_fraction`, `image_size`); a given box is returned as is.

    Returns:
        Box corners x1, y1, x2, y2 in px, shape (4,), or None if the instance has
        neither a box nor a labeled keypoint.
    """
    if instance.box is not None and np.isfinite(instance.box).all():
        return instance.box
    xy, vis = visible_keypoints(instance)
    labeled = xy[vis > NOT_LABELED]
    if len(labeled) == 0:
        return None
    return keypoints_box(
        labeled, margin, pad_fraction=pad_fraction, image_size=image_size
    )


def _image_source(
    labels: LabelSet, key: FrameKey, images: ImageMap | None
) -> Path | None:
    """The image given for a frame, else the image-sequence file, else None."""
    if images is not None and key in images:
        return Path(images[key])
    video = labels.videos[key[0]]
    if video.is_image_sequence and 0 <= key[1] < len(video.image_files):
        return Path(video.image_files[key[1]])
    return None


def frame_images(
    labels: LabelSet, images: ImageMap | None, dest: Path
) -> dict[FrameKey, Path]:
    """The existing image file of every labeled frame.

    Args:
        labels: The labels about to be written.
        images: Image file per (video index, frame_idx); frames of image-sequence
            videos that it omits use the video's own image files.
        dest: The file being written, for error messages.

    Raises:
        FormatError: if a frame has no image or its image file does not exist.
    """
    out: dict[FrameKey, Path] = {}
    for frame in labels.frames:
        key = (frame.video, frame.frame_idx)
        src = _image_source(labels, key, images)
        if src is None:
            video = labels.videos[frame.video]
            raise FormatError(
                f"{dest}: no image for frame {frame.frame_idx} of video "
                f"{frame.video} ({video.path}); pass images={{(video, frame): path}}"
            )
        if not src.is_file():
            raise FormatError(f"{dest}: image {src} does not exist")
        out[key] = src
    return out


def export_image_names(
    labels: LabelSet, images: ImageMap | None = None
) -> dict[FrameKey, str]:
    """The file name each labeled frame's image gets in a COCO or YOLO dataset.

    Names keep the source image's name where its stem is unique in the data set
    (ignoring case); where images share a stem, they are prefixed with the
    source folder (or video file stem), then also with the video index if that
    is still not enough. Callers use this to match written frames to the
    originals.

    Args:
        labels: The labels to be written.
        images: Image file per (video index, frame_idx), as the writers take it;
            image sequences default to their own files.

    Returns:
        File name (no folder) per (video index, frame_idx).
    """
    sources: dict[FrameKey, str] = {}
    groups: dict[FrameKey, str] = {}
    for frame in labels.frames:
        key = (frame.video, frame.frame_idx)
        video = labels.videos[frame.video]
        src = _image_source(labels, key, images)
        stem = Path(video.path).stem or "video"
        sources[key] = src.name if src else f"{stem}_{frame.frame_idx:06d}.png"
        groups[key] = Path(video.path).name if video.is_image_sequence else stem

    candidates: list[Callable[[FrameKey], str]] = [
        lambda k: sources[k],
        lambda k: f"{groups[k]}_{sources[k]}",
        lambda k: f"v{k[0]}_{groups[k]}_{sources[k]}",
        lambda k: f"v{k[0]}_f{k[1]}_{sources[k]}",
    ]

    def folded(name: str) -> str:  # YOLO label files share the image's stem
        return Path(name).stem.casefold()

    names: dict[FrameKey, str] = {}
    pending = list(sources)
    for make in candidates:
        taken = {folded(n) for n in names.values()}
        proposed = {k: make(k) for k in pending}
        counts = Counter(folded(n) for n in proposed.values())
        for k, name in proposed.items():
            if counts[folded(name)] == 1 and folded(name) not in taken:
                names[k] = name
        pending = [k for k in pending if k not in names]
    for i, k in enumerate(pending):  # a name clashed at every step: number it
        names[k] = f"v{k[0]}_f{k[1]}_{i}_{sources[k]}"
    return names


def copy_image(src: Path, dst: Path) -> None:
    """Copy an image file unless `dst` already is that file."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.exists() and os.path.samefile(src, dst):
        return
    shutil.copyfile(src, dst)


def image_size(path: Path, source: Path) -> tuple[int, int]:
    """Width and height in px of an image file, read from its header.

    Raises:
        FormatError: naming `source` if the image is missing or unreadable.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            width, height = im.size
    except (OSError, UnidentifiedImageError) as exc:
        raise FormatError(f"{source}: cannot read image {path}: {exc}") from exc
    return int(width), int(height)


def one_line(exc: BaseException) -> str:
    """An exception's message on one line."""
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def as_float(value: Any, source: Path, what: str) -> float:
    """`float(value)`, or FormatError naming `source` and `what`."""
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise FormatError(f"{source}: {what} is not a number: {value!r}") from exc
