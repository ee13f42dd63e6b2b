"""Multi-mouse arenas composed from real single-mouse labeled frames.

Each labeled source frame gives a cutout: the mouse's pixels (those that differ from
the background, estimated as the per-pixel median of the source frames, near its
keypoints) under a soft mask, with its keypoints. The motion model of
`etholoop.synth.motion` moves the animals; every output frame pastes one cutout
per animal, turned and moved to the animal's position and heading, onto the
background, so real mouse appearance meets multi-animal scenes with known truth.

Only the behaviors a moving still can show are simulated: rest, walk and chase
(grooming, rearing and a flinch's paw change the body's outline, which a static
cutout cannot).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import attrs
import cv2
import numpy as np
from attrs import frozen
from numpy.typing import NDArray

from etholoop.errors import FormatError
from etholoop.synth.arena import (
    Arena,
    assemble_arena,
    make_skeleton,
    simulate_with_contacts,
)
from etholoop.synth.config import KEYPOINTS, ArenaSpec
from etholoop.synth.motion import Motion
from etholoop.types import NOT_LABELED, NOT_VISIBLE, Skeleton

U8 = NDArray[np.uint8]
F64 = NDArray[np.float64]

COMPOSABLE_BEHAVIORS: tuple[str, ...] = ("rest", "walk", "chase")
"""Behaviors a composed arena can show."""

KEYPOINT_MAP = {
    "snout": "nose",
    "nose": "nose",
    "leftear": "earL",
    "earl": "earL",
    "rightear": "earR",
    "earr": "earR",
    "tailbase": "tailB",
    "tailb": "tailB",
}
"""Source keypoint names (case-insensitive) renamed to the arena's; the DeepLabCut
open-field names snout, leftear, rightear, tailbase become nose, earL, earR, tailB.
Other names are kept as they are."""

MEDIAN_FRAMES = 31
"""Most source frames the background median is taken over."""
THRESHOLD = 40
"""Gray levels a pixel must differ from the background by to belong to a mouse."""
MARGIN = 0.45
"""How far around its keypoints a mouse is looked for, in its body lengths."""
STRIDE = 0.5
"""Body lengths an animal moves before it takes the next cutout."""
OPAQUE = 128
"""Mask level (of 255) from which a cutout hides what lies below."""


@frozen(eq=False)
class SourceMice:
    """Single-mouse labeled frames to cut mice from.

    Attributes:
        images: The frames, shape (frames, H, W, 3), RGB uint8.
        keypoints: Keypoints in px, shape (frames, keypoints, 2); NaN = not labeled.
        visibility: Their visibility 0/1/2, shape (frames, keypoints).
        skeleton: The keypoints' names (renamed by `KEYPOINT_MAP`) and edges.
    """

    images: U8
    keypoints: F64
    visibility: U8
    skeleton: Skeleton


@frozen(eq=False)
class Cutouts:
    """Mice cut out of source frames, each placed around its own body axis.

    Attributes:
        background: The empty arena, shape (H, W, C), C = 1 (gray) or 3 (RGB).
        pixels: Each cutout's image, padded to one size, shape (N, h, w, C).
        alpha: Each cutout's mask 0..255, shape (N, h, w).
        keypoints: Keypoints in cutout px, shape (N, keypoints, 2), NaN = none.
        visibility: Their source visibility, shape (N, keypoints).
        hull: Convex hull of each mask in cutout px, padded by repeating a
            point, shape (N, M, 2).
        center: Middle of each body axis in cutout px, shape (N, 2).
        angle: Direction of each body axis (tail to nose) in rad, shape (N,).
        body_length: Median length of the body axes in source px.
    """

    background: U8
    pixels: U8
    alpha: U8
    keypoints: F64
    visibility: U8
    hull: F64
    center: F64
    angle: F64
    body_length: float


@frozen(eq=False)
class ComposedMice:
    """Paints cutouts of real mice onto a real background.

    Attributes:
        cutouts: What is pasted.
        choice: Cutout of each animal in each frame, shape (frames, animals).
        warp: Affine map from cutout px to frame px of each animal in each frame,
            shape (frames, animals, 2, 3).
        blur: Gaussian blur sigma in px, 0 = none.
    """

    cutouts: Cutouts
    choice: NDArray[np.int64]
    warp: F64
    blur: float

    def paint(self, motion: Motion, start: int, stop: int) -> Iterator[U8]:
        """Draw frames `start` to `stop` - 1, animals pasted by increasing depth."""
        cut = self.cutouts
        height, width, channels = cut.background.shape
        order = np.argsort(motion.posture.depth[start:stop], axis=1, kind="stable")
        corners = np.array([(0, 0), (1, 0), (0, 1), (1, 1)]) * cut.alpha.shape[:0:-1]
        for t in range(start, stop):
            frame = cut.background.copy()
            for i in order[t - start].tolist():
                k, warp = int(self.choice[t, i]), self.warp[t, i]
                ends = corners @ warp[:, :2].T + warp[:, 2]
                x0, y0 = np.maximum(np.floor(ends.min(axis=0)), 0).astype(int)
                x1, y1 = np.minimum(np.ceil(ends.max(axis=0)) + 1, (width, height))
                if x1 <= x0 or y1 <= y0:
                    continue
                size = (int(x1) - x0, int(y1) - y0)
                local = warp - [[0, 0, x0], [0, 0, y0]]
                pixels = cv2.warpAffine(cut.pixels[k], local, size)
                alpha = cv2.warpAffine(cut.alpha[k], local, size)
                roi = frame[y0 : y0 + size[1], x0 : x0 + size[0]]
                a = (alpha.astype(np.float32) / 255).reshape(*alpha.shape, 1)
                top = pixels.reshape(roi.shape).astype(np.float32)
                roi[:] = np.rint(roi + (top - roi) * a).astype(np.uint8)
            if self.blur > 0:
                blurred = cv2.GaussianBlur(frame, (0, 0), self.blur)
                frame = np.asarray(blurred, np.uint8).reshape(frame.shape)
            yield frame[..., 0] if channels == 1 else frame


def load_source_mice(path: Path) -> SourceMice:
    """Read single-mouse labeled frames and their images.

    Args:
        path: A label file `etholoop.io.load_labels` reads, or a project folder
            (its manual and predicted labels, images from its frame cache or its
            videos).

    Raises:
        FormatError: the path is missing, the labels have no images, frames
            hold more than one instance, images differ in size, or no frame has
            a labeled head and tail end.
    """
    from etholoop.config import CONFIG_NAME
    from etholoop.io import load_labels
    from etholoop.video import open_video

    if not path.exists():
        raise FormatError(f"{path}: no such label file or project")
    if (path / CONFIG_NAME).is_file():
        from etholoop.label_files import project_label_set
        from etholoop.project import Project

        project = Project.open(path)
        try:
            labels = project_label_set(project, with_images=False).labels
        finally:
            project.close()
    else:
        labels = load_labels(path)
    frames = [f for f in labels.frames if f.instances]
    for frame in frames:
        if len(frame.instances) > 1:
            raise FormatError(
                f"{path}: frame {frame.frame_idx} of {labels.videos[frame.video].path} "
                f"has {len(frame.instances)} instances; composing needs single-mouse "
                "frames"
            )
    if not frames:
        raise FormatError(f"{path}: no labeled frames")
    images: list[U8] = []
    for video_idx, ref in enumerate(labels.videos):
        inds = [f.frame_idx for f in frames if f.video == video_idx]
        if not inds:
            continue
        source = list(ref.image_files) if ref.is_image_sequence else ref.path
        needed = [source[i] for i in inds] if ref.is_image_sequence else [ref.path]
        missing = [name for name in needed if not Path(name).is_file()]
        if missing:
            raise FormatError(
                f"{path}: labels refer to images at {missing[0]}, which do not exist"
            )
        with open_video(source) as reader:
            images.extend(reader.read_frame(i) for i in inds)
    if len({im.shape for im in images}) > 1:
        raise FormatError(f"{path}: labeled images differ in size")
    frames.sort(key=lambda f: f.video)  # the order the images were read in
    instances = [f.instances[0] for f in frames]
    return SourceMice(
        images=np.stack(images),
        keypoints=np.stack([inst.keypoints for inst in instances]),
        visibility=np.stack([inst.visibility for inst in instances]),
        skeleton=rename_keypoints(labels.skeleton),
    )


def rename_keypoints(skeleton: Skeleton) -> Skeleton:
    """The skeleton with names renamed by `KEYPOINT_MAP`.

    When every renamed keypoint is one the body model knows, edges and symmetry
    are those of a procedural arena with these keypoints; else the source's.
    """
    names = tuple(KEYPOINT_MAP.get(n.lower(), n) for n in skeleton.keypoints)
    if len(set(names)) != len(names):
        names = skeleton.keypoints
    if set(names) <= set(KEYPOINTS):
        return make_skeleton(names)
    return Skeleton(names, skeleton.edges, skeleton.symmetry)


def body_axis(keypoints: F64, names: Sequence[str]) -> tuple[F64, F64]:
    """Front and back end of each body: nose and tailB if named, else first and last.

    Args:
        keypoints: Shape (..., keypoints, 2).
        names: Keypoint names.

    Returns:
        Front and back points, shape (..., 2) each.
    """
    front = names.index("nose") if "nose" in names else 0
    back = names.index("tailB") if "tailB" in names else len(names) - 1
    return keypoints[..., front, :], keypoints[..., back, :]


def cut_mice(source: SourceMice, gray: bool = False) -> Cutouts:
    """Estimate the background and cut each labeled mouse out of its frame.

    The background is the per-pixel median of up to `MEDIAN_FRAMES` source frames.
    A mouse is the pixels differing from it by more than `THRESHOLD` inside the
    box around its keypoints grown by `MARGIN` body lengths, cleaned, dilated by
    2 px and softened at the edge. Frames without a labeled front and back end of
    the body are left out.

    Args:
        source: The labeled frames.
        gray: Make single-channel cutouts and background.

    Raises:
        ValueError: no frame has both ends of the body labeled.
    """
    front, back = body_axis(source.keypoints, source.skeleton.keypoints)
    axis = front - back
    lengths = np.hypot(axis[:, 0], axis[:, 1])
    usable = np.flatnonzero(np.isfinite(lengths) & (lengths > 1))
    if not len(usable):
        raise ValueError("no source frame has both ends of the body labeled")
    images = source.images
    if gray:
        images = np.stack([cv2.cvtColor(im, cv2.COLOR_RGB2GRAY) for im in images])
        images = images[..., None]
    some = np.linspace(0, len(images) - 1, min(len(images), MEDIAN_FRAMES))
    median = np.median(images[np.rint(some).astype(np.int64)], axis=0)
    background = np.rint(median).astype(np.uint8)
    height, width = background.shape[:2]

    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    boxes, alphas = [], []
    for k in usable.tolist():
        xy = source.keypoints[k][np.isfinite(source.keypoints[k]).all(axis=1)]
        pad = MARGIN * lengths[k]
        x0, y0 = np.maximum(np.floor(xy.min(axis=0) - pad), 0).astype(int)
        x1, y1 = np.minimum(np.ceil(xy.max(axis=0) + pad), (width, height)).astype(int)
        diff = cv2.absdiff(images[k, y0:y1, x0:x1], background[y0:y1, x0:x1])
        diff = diff.reshape(y1 - y0, x1 - x0, -1).max(axis=2)
        mask = (diff > THRESHOLD).astype(np.uint8)
        opened = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel[1:-1, 1:-1])
        kept = _keep_labeled_blobs(np.asarray(opened, np.uint8), xy - (x0, y0))
        mask = cv2.dilate(kept, kernel)
        soft = cv2.GaussianBlur(mask * np.uint8(255), (0, 0), 1.0)
        boxes.append((x0, y0, x1, y1))
        alphas.append(np.asarray(soft, np.uint8))

    n = len(usable)
    h = max(b[3] - b[1] for b in boxes)
    w = max(b[2] - b[0] for b in boxes)
    pixels = np.zeros((n, h, w, images.shape[3]), np.uint8)
    alpha = np.zeros((n, h, w), np.uint8)
    hulls: list[F64] = []
    origin = np.array([b[:2] for b in boxes], np.float64)
    for j, (k, (x0, y0, x1, y1)) in enumerate(zip(usable.tolist(), boxes, strict=True)):
        pixels[j, : y1 - y0, : x1 - x0] = images[k, y0:y1, x0:x1]
        alpha[j, : y1 - y0, : x1 - x0] = alphas[j]
        solid = cv2.findNonZero((alphas[j] >= OPAQUE).astype(np.uint8))
        outline = np.zeros((1, 2)) if solid is None else cv2.convexHull(solid)
        hulls.append(np.asarray(outline, np.float64).reshape(-1, 2))
    n_hull = max(len(points) for points in hulls)
    hull = np.stack([np.pad(p, ((0, n_hull - len(p)), (0, 0)), "edge") for p in hulls])
    keypoints = source.keypoints[usable] - origin[:, None]
    return Cutouts(
        background=background,
        pixels=pixels,
        alpha=alpha,
        keypoints=keypoints,
        visibility=source.visibility[usable],
        hull=hull,
        center=(front[usable] + back[usable]) / 2 - origin,
        angle=np.arctan2(axis[usable, 1], axis[usable, 0]),
        body_length=float(np.median(lengths[usable])),
    )


def _keep_labeled_blobs(mask: U8, keypoints: F64) -> U8:
    """The connected parts of `mask` under a keypoint, else its largest part.

    Args:
        mask: 0/1 mask, shape (h, w).
        keypoints: Labeled keypoints in mask px, shape (K, 2).
    """
    n, blobs, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n <= 1:
        return mask
    col, row = np.clip(np.rint(keypoints), 0, mask.shape[::-1]).astype(np.int64).T
    inside = (col < mask.shape[1]) & (row < mask.shape[0])
    keep = np.setdiff1d(blobs[row[inside], col[inside]], [0])
    if not len(keep):
        keep = 1 + np.argmax(stats[1:, cv2.CC_STAT_AREA], keepdims=True)
    return np.isin(blobs, keep).astype(np.uint8)


def make_composed_arena(spec: ArenaSpec, source: SourceMice) -> Arena:
    """Simulate an arena whose mice are cut from real single-mouse frames.

    The motion is that of `make_arena` for the same spec. Each animal's body axis
    (the middle between front and back end, see `body_axis`) follows the
    simulated centroid and heading; cutouts are scaled so that the median body
    axis is `spec.body_length` long. An animal takes the next cutout of its own
    random cycle through the source frames each time it has moved `STRIDE` body
    lengths, so a resting mouse keeps its look. The background is the source
    background resized to the frame size. The keypoints are the source's
    (`spec.keypoints` and `spec.noise` are not used); a keypoint is not visible
    (1) where a mouse pasted later covers it, not labeled (0) where the source
    has no label. Boxes enclose the pasted mask.

    Args:
        spec: Size, animals, frames, seed, behaviors (of `COMPOSABLE_BEHAVIORS`),
            gray and blur.
        source: The labeled frames to cut mice from.

    Raises:
        ValueError: a behavior cannot be composed, no source frame has a
            labeled body axis, or `min_contacts` contacts do not fit.
    """
    unshown = [b for b in spec.behaviors if b not in COMPOSABLE_BEHAVIORS]
    if unshown:
        raise ValueError(
            f"behaviors {unshown} cannot be shown by cutouts of still frames; "
            f"choose from {list(COMPOSABLE_BEHAVIORS)}"
        )
    motion_rng, look_rng = np.random.default_rng(spec.seed).spawn(2)
    motion, contacts = simulate_with_contacts(spec, motion_rng)
    cut = cut_mice(source, spec.gray)
    height, width = cut.background.shape[:2]
    if (width, height) != (spec.width, spec.height):
        resized = cv2.resize(cut.background, (spec.width, spec.height))
        background = np.asarray(resized, np.uint8).reshape(spec.height, spec.width, -1)
        cut = attrs.evolve(cut, background=background)

    posture = motion.posture
    n_cut = len(cut.pixels)
    steps = np.linalg.norm(np.diff(posture.xy, axis=0), axis=-1)
    moved = np.concatenate([np.zeros((1, spec.n_animals)), np.cumsum(steps, axis=0)])
    cycles = np.stack([look_rng.permutation(n_cut) for _ in range(spec.n_animals)])
    stride = (moved // (STRIDE * spec.body_length)).astype(np.int64) % n_cut
    choice = cycles[np.arange(spec.n_animals), stride]

    scale = spec.body_length / cut.body_length
    turn = posture.heading - cut.angle[choice]
    cos, sin = scale * np.cos(turn), scale * np.sin(turn)
    linear = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], -2)
    shift = posture.xy - np.einsum("fnij,fnj->fni", linear, cut.center[choice])
    warp = np.concatenate([linear, shift[..., None]], axis=-1)

    xy = _apply(warp, cut.keypoints[choice])
    boxes = _apply(warp, cut.hull[choice])
    box = np.concatenate([boxes.min(axis=2), boxes.max(axis=2)], axis=-1)
    vis = _visibility(cut, choice, warp, xy, posture.depth)
    return assemble_arena(
        spec,
        motion,
        contacts,
        xy=xy.astype(np.float32),
        visibility=vis,
        boxes=box.astype(np.float32),
        skeleton=source.skeleton,
        painter=ComposedMice(cut, choice, warp, spec.blur),
    )


def _apply(warp: F64, points: F64) -> F64:
    """Points (frames, animals, P, 2) mapped by affine maps (frames, animals, 2, 3)."""
    mapped = np.einsum("fnij,fnpj->fnpi", warp[..., :2], points)
    return np.asarray(mapped + warp[..., None, :, 2], np.float64)


def _visibility(
    cut: Cutouts, choice: NDArray[np.int64], warp: F64, xy: F64, depth: F64
) -> U8:
    """Visibility of pasted keypoints: 1 under the mask of an animal pasted later.

    Args:
        cut: The cutouts.
        choice: Cutout of each animal, shape (frames, animals).
        warp: Cutout-to-frame maps, shape (frames, animals, 2, 3).
        xy: Keypoints in frame px, shape (frames, animals, keypoints, 2).
        depth: Height of each animal, shape (frames, animals).

    Returns:
        Shape (frames, animals, keypoints), uint8.
    """
    n_animals = choice.shape[1]
    rank = np.argsort(np.argsort(depth, axis=1, kind="stable"), axis=1)
    linear = warp[..., :2]
    inverse = np.linalg.inv(linear)
    hidden = np.zeros(xy.shape[:-1], dtype=bool)
    _, h, w = cut.alpha.shape
    for j in range(n_animals):
        offset = xy - warp[:, j, None, None, :, 2]
        local = np.einsum("fij,fnkj->fnki", inverse[:, j], offset)
        col, row = np.rint(local[..., 0]), np.rint(local[..., 1])
        inside = (col >= 0) & (col < w) & (row >= 0) & (row < h)
        col = np.where(inside, col, 0).astype(np.int64)
        row = np.where(inside, row, 0).astype(np.int64)
        alpha = cut.alpha[choice[:, j, None, None], row, col]
        covered = inside & (alpha >= OPAQUE)
        above = rank[:, j, None] > rank
        hidden |= covered & above[..., None]
    source = cut.visibility[choice]
    covered = hidden & (source != NOT_LABELED)
    return np.where(covered, NOT_VISIBLE, source).astype(np.uint8)
