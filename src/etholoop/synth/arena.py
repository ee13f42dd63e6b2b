"""A synthetic arena in memory: exact ground truth plus frames rendered on demand."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

import attrs
import numpy as np
from attrs import frozen
from numpy.typing import NDArray

from etholoop.synth.body import (
    bounding_boxes,
    make_body,
    paw_ellipses,
    visibility,
)
from etholoop.synth.config import FLINCH, KEYPOINTS, ArenaSpec, floor_rect
from etholoop.synth.motion import (
    Contact,
    Motion,
    add_flinches,
    contact_gap_frames,
    find_contacts,
    simulate,
)
from etholoop.synth.render import NOISE_BANK, Renderer, make_renderer
from etholoop.types import (
    Ethogram,
    FrameLabels,
    Instance,
    LabelSet,
    Skeleton,
    Tracks,
    VideoRef,
)

CHUNK = 1024
"""Frames whose body geometry is computed at once, to bound temporary memory."""

_PARENT = {
    "head": "nose",
    "earL": "head",
    "earR": "head",
    "neck": "head",
    "centroid": "neck",
    "tailB": "centroid",
    "tailM": "tailB",
    "tailE": "tailM",
}
"""The body tree from the nose; a skeleton edge joins a keypoint to its nearest
chosen ancestor."""


def make_skeleton(keypoints: tuple[str, ...]) -> Skeleton:
    """The skeleton of the chosen keypoints: a tree along the body, ears mirrored."""
    edges = []
    for name in keypoints:
        parent = _PARENT.get(name)
        while parent is not None and parent not in keypoints:
            parent = _PARENT.get(parent)
        if parent is not None:
            edges.append((parent, name))
    symmetry = [("earL", "earR")] if {"earL", "earR"} <= set(keypoints) else []
    return Skeleton.from_names(keypoints, edges, symmetry)


U8 = NDArray[np.uint8]


class Painter(Protocol):
    """Draws the frames of an arena from its motion."""

    def paint(self, motion: Motion, start: int, stop: int) -> Iterator[U8]:
        """Draw frames `start` to `stop` - 1 (at most `CHUNK` of them), in order.

        Yields (H, W, 3) RGB frames, or (H, W) when the arena is gray.
        """
        ...


@frozen(eq=False)
class DrawnMice:
    """Paints procedurally drawn mice: the shapes the ground truth describes.

    Attributes:
        spec: Frame size, color mode, keypoints and body length.
        renderer: The background, noise bank and texture frames are drawn with.
        noise: Bank entry of each frame's noise, shape (frames,).
    """

    spec: ArenaSpec
    renderer: Renderer
    noise: NDArray[np.int64]

    def paint(self, motion: Motion, start: int, stop: int) -> Iterator[U8]:
        """Draw frames `start` to `stop` - 1 of `motion`, in order."""
        for frame in self._draw(motion, start, stop, i420=False):
            yield frame[..., 0] if self.spec.gray else frame

    def paint_i420(self, motion: Motion, start: int, stop: int) -> Iterator[U8]:
        """The frames of `paint` as `to_i420` converts them, converting less.

        Only the regions where animals were drawn are converted; the rest of
        each frame is copied from a converted background.
        """
        return self._draw(motion, start, stop, i420=True)

    def _draw(
        self, motion: Motion, start: int, stop: int, *, i420: bool
    ) -> Iterator[U8]:
        posture = motion.posture[start:stop]
        length = self.spec.body_length
        body = make_body(posture, length, floor_rect(self.spec))
        order = np.argsort(posture.depth, axis=1, kind="stable")
        noise = self.noise[start:stop]
        paws = None
        if motion.flinch is not None:
            f = motion.flinch[start:stop]
            paws = paw_ellipses(body.ellipses, f.extension, f.side, f.shoulder, length)
        return self.renderer.frames(body, order, noise, i420=i420, paws=paws)


@frozen(eq=False)
class Arena:
    """Ground truth of a synthetic video, with its frames rendered lazily.

    Attributes:
        spec: What was asked for.
        tracks: Keypoints of every animal in every frame, scores all 1; its
            skeleton names the keypoints. NaN where a keypoint is not labeled.
        visibility: COCO visibility, shape (frames, individuals, keypoints): 1 where
            an animal drawn on top hides the keypoint, else 2 (0 = not labeled).
        boxes: Boxes x1, y1, x2, y2 in px around each animal, shape (frames,
            individuals, 4).
        ethogram: One behavior per animal per frame, booleans.
        contacts: Close-contact events, by start frame.
        motion: The full per-frame state the frames are drawn from.
        painter: Draws the frames: `DrawnMice`, or `ComposedMice` for mice cut
            from real labeled frames.
    """

    spec: ArenaSpec
    tracks: Tracks
    visibility: NDArray[np.uint8]
    boxes: NDArray[np.float32]
    ethogram: Ethogram
    contacts: tuple[Contact, ...]
    motion: Motion
    painter: Painter

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return self.spec.n_frames

    def render(self, frame_idx: int) -> U8:
        """Draw one frame: (H, W, 3) RGB, or (H, W) when the spec is gray."""
        if not 0 <= frame_idx < self.n_frames:
            raise IndexError(f"frame {frame_idx} out of range [0, {self.n_frames})")
        return next(iter(self.painter.paint(self.motion, frame_idx, frame_idx + 1)))

    def frames(self) -> Iterator[U8]:
        """Draw every frame in order, one at a time (memory does not grow)."""
        for start in range(0, self.n_frames, CHUNK):
            stop = min(start + CHUNK, self.n_frames)
            yield from self.painter.paint(self.motion, start, stop)

    def to_label_set(self, video_path: str) -> LabelSet:
        """The ground truth as labels of one video: every frame, every animal.

        Args:
            video_path: Path of the video file the labels refer to.

        Returns:
            One `FrameLabels` per frame with one manual `Instance` per animal (box,
            keypoints, visibility, `track_id` = animal index); tracks are named
            "mouse0".."mouseN-1".
        """
        xy = self.tracks.xy.astype(np.float64)
        frames = [
            FrameLabels(
                video=0,
                frame_idx=t,
                instances=[
                    Instance(
                        keypoints=xy[t, i],
                        visibility=self.visibility[t, i],
                        box=self.boxes[t, i],
                        track_id=i,
                        author="etholoop.synth",
                    )
                    for i in range(self.spec.n_animals)
                ],
            )
            for t in range(self.n_frames)
        ]
        return LabelSet(
            skeleton=self.tracks.skeleton,
            videos=[VideoRef(video_path)],
            frames=frames,
            tracks=self.spec.individuals,
        )


def make_arena(spec: ArenaSpec | None = None, /, **fields: Any) -> Arena:
    """Simulate an arena and compute its ground truth; frames are drawn later.

    When the spec's behaviors include `FLINCH`, each animal also flinches
    (`add_flinches`, from a random stream of its own): those frames are labeled
    "flinch" and show a paw shooting out, while the motion, keypoints, boxes,
    visibility and contacts stay those of the same spec without it.

    Args:
        spec: What to make; `ArenaSpec()` if None.
        **fields: `ArenaSpec` fields that replace those of `spec`, e.g.
            `make_arena(n_animals=2, n_frames=300, seed=1)`.

    Returns:
        The arena, whose `frames()` renders the video.

    Raises:
        ValueError: a field is invalid, or `min_contacts` contacts do not fit in
            `n_frames` frames.
    """
    spec = ArenaSpec(**fields) if spec is None else attrs.evolve(spec, **fields)
    motion_rng, look_rng, flinch_rng = np.random.default_rng(spec.seed).spawn(3)
    motion, contacts = simulate_with_contacts(spec, motion_rng)
    if FLINCH in spec.behaviors:
        motion = add_flinches(spec, motion, flinch_rng)
    posture = motion.posture
    chosen = [KEYPOINTS.index(name) for name in spec.keypoints]
    shape = (spec.n_frames, spec.n_animals)
    xy = np.empty((*shape, len(chosen), 2), np.float32)
    vis = np.empty((*shape, len(chosen)), np.uint8)
    boxes = np.empty((*shape, 4), np.float32)
    for start in range(0, spec.n_frames, CHUNK):
        part = posture[start : start + CHUNK]
        body = make_body(part, spec.body_length, floor_rect(spec))
        points = body.keypoints[:, :, chosen]
        stop = start + len(part.depth)
        xy[start:stop] = points
        vis[start:stop] = visibility(body.ellipses, points, part.depth)
        boxes[start:stop] = bounding_boxes(body.ellipses)

    renderer = make_renderer(spec, look_rng)
    noise = look_rng.integers(0, NOISE_BANK if spec.noise > 0 else 1, spec.n_frames)
    return assemble_arena(
        spec,
        motion,
        contacts,
        xy=xy,
        visibility=vis,
        boxes=boxes,
        skeleton=make_skeleton(spec.keypoints),
        painter=DrawnMice(spec, renderer, noise),
    )


def simulate_with_contacts(
    spec: ArenaSpec, rng: np.random.Generator
) -> tuple[Motion, tuple[Contact, ...]]:
    """Move the animals of `spec` and find their close contacts.

    Raises:
        ValueError: `min_contacts` contacts do not fit in `n_frames` frames.
    """
    motion = simulate(spec, rng)
    contacts = find_contacts(
        motion.posture.xy, spec.contact_distance, contact_gap_frames(spec.fps)
    )
    if len(contacts) < spec.min_contacts:
        raise ValueError(
            f"only {len(contacts)} of min_contacts={spec.min_contacts} contacts fit "
            f"in {spec.n_frames} frames; ask for more frames or fewer contacts"
        )
    return motion, contacts


def assemble_arena(
    spec: ArenaSpec,
    motion: Motion,
    contacts: tuple[Contact, ...],
    *,
    xy: NDArray[np.float32],
    visibility: NDArray[np.uint8],
    boxes: NDArray[np.float32],
    skeleton: Skeleton,
    painter: Painter,
) -> Arena:
    """An arena from its motion and ground truth; boxes are clipped to the frame.

    Args:
        spec: What was asked for.
        motion: The simulated motion.
        contacts: Its close contacts.
        xy: Keypoints in px, shape (frames, animals, keypoints, 2).
        visibility: Their visibility, shape (frames, animals, keypoints).
        boxes: Boxes x1, y1, x2, y2 in px, shape (frames, animals, 4).
        skeleton: Names of the keypoints.
        painter: Draws the frames.
    """
    names = spec.individuals
    one_hot = motion.behavior[..., None] == np.arange(len(spec.behaviors))
    return Arena(
        spec=spec,
        tracks=Tracks(
            xy=xy,
            scores=np.ones(xy.shape[:-1], np.float32),
            individuals=names,
            skeleton=skeleton,
        ),
        visibility=visibility,
        boxes=np.clip(boxes, 0, [spec.width, spec.height] * 2).astype(np.float32),
        ethogram=Ethogram(one_hot, spec.behaviors, names),
        contacts=contacts,
        motion=motion,
        painter=painter,
    )
