"""A synthetic arena in memory: exact ground truth plus frames rendered on demand."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs
import numpy as np
from attrs import frozen
from numpy.typing import NDArray

from etholoop.synth.body import (
    Posture,
    bounding_boxes,
    make_body,
    visibility,
)
from etholoop.synth.config import KEYPOINTS, ArenaSpec, floor_rect
from etholoop.synth.motion import (
    Contact,
    Motion,
    contact_gap_frames,
    find_contacts,
    simulate,
)
from etholoop.synth.render import NOISE_BANK, NOISE_PAD, Renderer, make_renderer
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


@frozen(eq=False)
class Arena:
    """Ground truth of a synthetic video, with its frames rendered lazily.

    Attributes:
        spec: What was asked for.
        tracks: Keypoints of every animal in every frame, scores all 1.
        visibility: COCO visibility, shape (frames, individuals, keypoints): 1 where
            an animal drawn on top hides the keypoint, else 2.
        boxes: Boxes x1, y1, x2, y2 in px around body, head and ears (tail left
            out), shape (frames, individuals, 4).
        ethogram: One behavior per animal per frame, booleans.
        contacts: Close-contact events, by start frame.
        motion: The full per-frame state the frames are drawn from.
        renderer: The background, noise bank and texture frames are drawn with.
        noise: Bank entry and offsets of each frame's noise, shape (frames, 3).
    """

    spec: ArenaSpec
    tracks: Tracks
    visibility: NDArray[np.uint8]
    boxes: NDArray[np.float32]
    ethogram: Ethogram
    contacts: tuple[Contact, ...]
    motion: Motion
    renderer: Renderer
    noise: NDArray[np.int64]

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return self.spec.n_frames

    def render(self, frame_idx: int) -> NDArray[np.uint8]:
        """Draw one frame: (H, W, 3) RGB, or (H, W) when the spec is gray."""
        if not 0 <= frame_idx < self.n_frames:
            raise IndexError(f"frame {frame_idx} out of range [0, {self.n_frames})")
        posture = self.motion.posture[frame_idx : frame_idx + 1]
        return next(self._draw(posture, frame_idx))

    def frames(self) -> Iterator[NDArray[np.uint8]]:
        """Draw every frame in order, one at a time (memory does not grow)."""
        for start in range(0, self.n_frames, CHUNK):
            posture = self.motion.posture[start : start + CHUNK]
            yield from self._draw(posture, start)

    def _draw(self, posture: Posture, start: int) -> Iterator[NDArray[np.uint8]]:
        body = make_body(posture, self.spec.body_length, floor_rect(self.spec))
        order = np.argsort(posture.depth, axis=1, kind="stable")
        for t in range(len(order)):
            k, dy, dx = self.noise[start + t].tolist()
            frame = self.renderer.render(body[t], order[t], (k, dy, dx))
            yield frame[..., 0] if self.spec.gray else frame

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
    motion_rng, look_rng = np.random.default_rng(spec.seed).spawn(2)
    motion = simulate(spec, motion_rng)
    posture = motion.posture
    contacts = find_contacts(
        posture.xy, spec.contact_distance, contact_gap_frames(spec.fps)
    )
    if len(contacts) < spec.min_contacts:
        raise ValueError(
            f"only {len(contacts)} of min_contacts={spec.min_contacts} contacts fit "
            f"in {spec.n_frames} frames; ask for more frames or fewer contacts"
        )

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
        box = bounding_boxes(body.ellipses)
        boxes[start:stop] = np.clip(box, 0, [spec.width, spec.height] * 2)

    names = spec.individuals
    one_hot = motion.behavior[..., None] == np.arange(len(spec.behaviors))
    renderer = make_renderer(spec, look_rng)
    noise = look_rng.integers(
        0, [NOISE_BANK, NOISE_PAD + 1, NOISE_PAD + 1], size=(spec.n_frames, 3)
    )
    return Arena(
        spec=spec,
        tracks=Tracks(
            xy=xy,
            scores=np.ones(xy.shape[:-1], np.float32),
            individuals=names,
            skeleton=make_skeleton(spec.keypoints),
        ),
        visibility=vis,
        boxes=boxes,
        ethogram=Ethogram(one_hot, spec.behaviors, names),
        contacts=contacts,
        motion=motion,
        renderer=renderer,
        noise=noise,
    )
