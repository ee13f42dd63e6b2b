"""The shared vocabulary of etholoop: skeletons, labeled instances, tracks, ethograms.

Pose arrays have one shape everywhere: `(frames, individuals, keypoints, 2)` with a
matching `(frames, individuals, keypoints)` scores array, the order of sleap-io's
`Labels.numpy()`.

Visibility follows COCO: 0 = not labeled, 1 = labeled but not clearly visible,
2 = visible.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal, get_args

import numpy as np
from attrs import field, frozen
from numpy.typing import ArrayLike, NDArray

Split = Literal["test", "trainval", "predict", "reserve"]
SPLITS: tuple[Split, ...] = get_args(Split)

Source = Literal["manual", "predicted"]
SOURCES: tuple[Source, ...] = get_args(Source)

Subset = Literal["predict", "reserve", "test", "trainval", "all"]
"""Frames a model predicts on: one split of the latest cycle, or every frame."""
SUBSETS: tuple[Subset, ...] = get_args(Subset)

NOT_LABELED, NOT_VISIBLE, VISIBLE = 0, 1, 2


def _ndim(n: int) -> Any:
    def check(instance: object, attribute: Any, value: NDArray[Any]) -> None:
        if value.ndim != n:
            raise ValueError(
                f"{type(instance).__name__}.{attribute.name}: expected {n} "
                f"dimensions, got shape {value.shape}"
            )

    return check


def at_least(minimum: float) -> Any:
    """An attrs validator: the field must be >= `minimum` (named in the error)."""

    def check(instance: object, attribute: Any, value: float) -> None:
        if value < minimum:
            raise ValueError(
                f"{type(instance).__name__}.{attribute.name}: must be >= {minimum}, "
                f"got {value}"
            )

    return check


def _float_array(value: Any) -> NDArray[np.float64]:
    return np.array(value, dtype=np.float64)


def _int_array(value: Any) -> NDArray[np.int64]:
    return np.array(value, dtype=np.int64)


def _optional_float_array(value: Any) -> NDArray[np.float64] | None:
    return None if value is None else np.array(value, dtype=np.float64)


def str_tuple(value: Iterable[str]) -> tuple[str, ...]:
    """A tuple of names, typed for attrs converters."""
    return tuple(value)


def _edge_tuple(value: Iterable[Sequence[int]]) -> tuple[tuple[int, int], ...]:
    return tuple((int(a), int(b)) for a, b in value)


@frozen
class Skeleton:
    """Keypoint names, the edges drawn between them and left/right pairs.

    Attributes:
        keypoints: Keypoint names in order, e.g. ("nose", "earL", "earR", "tailB").
        edges: Pairs of keypoint indices joined by a line when drawn.
        symmetry: Pairs of keypoint indices that swap under a horizontal flip.
    """

    keypoints: tuple[str, ...] = field(converter=str_tuple)
    edges: tuple[tuple[int, int], ...] = field(default=(), converter=_edge_tuple)
    symmetry: tuple[tuple[int, int], ...] = field(default=(), converter=_edge_tuple)

    @keypoints.validator
    def _check_keypoints(self, attribute: Any, value: tuple[str, ...]) -> None:
        if not value:
            raise ValueError("Skeleton needs at least one keypoint")
        if len(set(value)) != len(value):
            raise ValueError(f"Skeleton keypoint names repeat: {list(value)}")

    @edges.validator
    def _check_edges(self, attribute: Any, value: tuple[tuple[int, int], ...]) -> None:
        self._check_pairs(attribute.name, value)

    @symmetry.validator
    def _check_symmetry(
        self, attribute: Any, value: tuple[tuple[int, int], ...]
    ) -> None:
        self._check_pairs(attribute.name, value)
        flat = [i for pair in value for i in pair]
        if len(set(flat)) != len(flat):
            raise ValueError(f"Skeleton symmetry uses a keypoint twice: {value}")

    def _check_pairs(self, name: str, pairs: tuple[tuple[int, int], ...]) -> None:
        n = len(self.keypoints)
        for a, b in pairs:
            if not (0 <= a < n and 0 <= b < n) or a == b:
                raise ValueError(
                    f"Skeleton {name} pair ({a}, {b}) is not two different "
                    f"keypoints of {n}"
                )

    @classmethod
    def from_names(
        cls,
        keypoints: Sequence[str],
        edges: Sequence[tuple[str, str]] = (),
        symmetry: Sequence[tuple[str, str]] = (),
    ) -> Skeleton:
        """Build a skeleton whose edges and symmetry pairs are given by name."""
        index = {name: i for i, name in enumerate(keypoints)}
        for a, b in [*edges, *symmetry]:
            for name in (a, b):
                if name not in index:
                    raise ValueError(
                        f"unknown keypoint {name!r}; the skeleton has {list(keypoints)}"
                    )
        return cls(
            keypoints=tuple(keypoints),
            edges=[(index[a], index[b]) for a, b in edges],
            symmetry=[(index[a], index[b]) for a, b in symmetry],
        )

    @property
    def n_keypoints(self) -> int:
        """Number of keypoints."""
        return len(self.keypoints)

    @property
    def edge_names(self) -> list[tuple[str, str]]:
        """Edges as pairs of keypoint names."""
        return [(self.keypoints[a], self.keypoints[b]) for a, b in self.edges]

    @property
    def symmetry_names(self) -> list[tuple[str, str]]:
        """Left/right pairs as pairs of keypoint names."""
        return [(self.keypoints[a], self.keypoints[b]) for a, b in self.symmetry]

    @property
    def flip_idx(self) -> list[int]:
        """Keypoint permutation that a horizontal flip applies (YOLO's `flip_idx`)."""
        perm = list(range(self.n_keypoints))
        for a, b in self.symmetry:
            perm[a], perm[b] = b, a
        return perm


@frozen(eq=False)
class Instance:
    """One animal in one frame: a box and its keypoints.

    Attributes:
        keypoints: Keypoint coordinates in px, shape (keypoints, 2); NaN where
            not labeled.
        visibility: Per keypoint 0 = not labeled, 1 = labeled but not clearly
            visible, 2 = visible; shape (keypoints,).
        box: Box corners x1, y1, x2, y2 in px, shape (4,), or None if unknown.
        box_score: Detector confidence for the box, None for manual labels.
        keypoint_scores: Per-keypoint confidence, shape (keypoints,), or None.
        source: "manual" for human labels, "predicted" for model output.
        track_id: Identity of the animal across frames, or None.
        id: Row id in the label store, None before it is saved.
        version: Row version in the label store, for optimistic concurrency.
        author: Who made the label (annotator name or model run).
    """

    keypoints: NDArray[np.float64] = field(converter=_float_array, validator=_ndim(2))
    visibility: NDArray[np.uint8] = field()
    box: NDArray[np.float64] | None = field(
        default=None, converter=_optional_float_array
    )
    box_score: float | None = None
    keypoint_scores: NDArray[np.float64] | None = field(
        default=None, converter=_optional_float_array
    )
    source: Source = "manual"
    track_id: int | None = None
    id: int | None = None
    version: int | None = None
    author: str | None = None

    @visibility.default
    def _default_visibility(self) -> NDArray[np.uint8]:
        if self.keypoints.ndim != 2:  # the keypoints validator reports this
            return np.zeros(0, dtype=np.uint8)
        labeled = np.isfinite(self.keypoints).all(axis=1)
        return np.where(labeled, VISIBLE, NOT_LABELED).astype(np.uint8)

    def __attrs_post_init__(self) -> None:
        """Check that every array agrees with the keypoint count."""
        n = len(self.keypoints)
        if self.keypoints.shape != (n, 2):
            raise ValueError(
                f"Instance.keypoints: expected (K, 2), got {self.keypoints.shape}"
            )
        vis = np.asarray(self.visibility)
        if vis.shape != (n,):
            raise ValueError(f"Instance.visibility: expected ({n},), got {vis.shape}")
        if not np.isin(vis, (NOT_LABELED, NOT_VISIBLE, VISIBLE)).all():
            raise ValueError(
                f"Instance.visibility: values must be 0, 1 or 2, got {vis}"
            )
        object.__setattr__(self, "visibility", vis.astype(np.uint8))
        if self.box is not None and self.box.shape != (4,):
            raise ValueError(f"Instance.box: expected (4,), got {self.box.shape}")
        if self.keypoint_scores is not None and self.keypoint_scores.shape != (n,):
            raise ValueError(
                f"Instance.keypoint_scores: expected ({n},), "
                f"got {self.keypoint_scores.shape}"
            )
        if self.source not in SOURCES:
            raise ValueError(
                f"Instance.source: expected one of {SOURCES}, got {self.source!r}"
            )

    @property
    def n_keypoints(self) -> int:
        """Number of keypoints."""
        return len(self.keypoints)

    @property
    def labeled(self) -> NDArray[np.bool_]:
        """Which keypoints carry a label (visibility 1 or 2), shape (keypoints,)."""
        return self.visibility > NOT_LABELED

    def bounding_box(self, margin: float = 0.0) -> NDArray[np.float64]:
        """The box if set, else the box around labeled keypoints grown by `margin` px.

        Raises:
            ValueError: if the instance has neither a box nor a labeled keypoint.
        """
        if self.box is not None:
            return self.box
        xy = self.keypoints[self.labeled]
        if len(xy) == 0:
            raise ValueError("Instance has no box and no labeled keypoint")
        lo, hi = xy.min(axis=0) - margin, xy.max(axis=0) + margin
        return np.array([lo[0], lo[1], hi[0], hi[1]], dtype=np.float64)


@frozen
class VideoRef:
    """Where the frames of a label file come from.

    Attributes:
        path: A video file, or the folder that holds an image sequence.
        image_files: For an image sequence, the image file of each frame in order;
            empty for a video file.
    """

    path: str
    image_files: tuple[str, ...] = field(default=(), converter=str_tuple)

    @property
    def is_image_sequence(self) -> bool:
        """True if the frames are separate image files."""
        return bool(self.image_files)


def _instance_tuple(value: Iterable[Instance]) -> tuple[Instance, ...]:
    return tuple(value)


@frozen(eq=False)
class FrameLabels:
    """The labeled instances of one frame of one video.

    Attributes:
        video: Index into the owning `LabelSet.videos`.
        frame_idx: 0-based frame index in that video (image index for sequences).
        instances: The animals labeled or predicted in this frame.
    """

    video: int
    frame_idx: int
    instances: tuple[Instance, ...] = field(converter=_instance_tuple)


def _video_tuple(value: Iterable[VideoRef]) -> tuple[VideoRef, ...]:
    return tuple(value)


def _frame_tuple(value: Iterable[FrameLabels]) -> tuple[FrameLabels, ...]:
    return tuple(value)


@frozen(eq=False)
class LabelSet:
    """Labeled frames with their skeleton and videos: what a label file holds.

    Attributes:
        skeleton: The keypoints every instance follows.
        videos: Sources of the frames; `FrameLabels.video` indexes this.
        frames: The labeled frames.
        tracks: Track (identity) names; `Instance.track_id` indexes this.
    """

    skeleton: Skeleton
    videos: tuple[VideoRef, ...] = field(converter=_video_tuple)
    frames: tuple[FrameLabels, ...] = field(converter=_frame_tuple)
    tracks: tuple[str, ...] = field(default=(), converter=str_tuple)

    def __attrs_post_init__(self) -> None:
        """Check that frames point at known videos and instances fit the skeleton."""
        k = self.skeleton.n_keypoints
        for frame in self.frames:
            if not 0 <= frame.video < len(self.videos):
                raise ValueError(
                    f"frame {frame.frame_idx}: unknown video {frame.video}"
                )
            for inst in frame.instances:
                if inst.n_keypoints != k:
                    raise ValueError(
                        f"frame {frame.frame_idx}: instance has {inst.n_keypoints} "
                        f"keypoints, skeleton has {k}"
                    )

    @property
    def n_instances(self) -> int:
        """Total number of instances over all frames."""
        return sum(len(f.instances) for f in self.frames)

    @property
    def track_names(self) -> list[str]:
        """A name for every track id in use: `tracks`, then "track_<id>" beyond it."""
        used = [
            i.track_id + 1
            for f in self.frames
            for i in f.instances
            if i.track_id is not None
        ]
        n_tracks = max([len(self.tracks), *used])
        return [
            self.tracks[t] if t < len(self.tracks) else f"track_{t}"
            for t in range(n_tracks)
        ]


@frozen(eq=False)
class Detections:
    """Animals a pose model found in each frame of a video, identities not yet known.

    Rows of all frames lie in one set of arrays, frame t's in rows
    `offsets[t]:offsets[t + 1]` (a frame may have none), so that a tracker's
    inner loop reads them without Python objects.

    Attributes:
        offsets: Row offsets, shape (frames + 1,), offsets[0] = 0, not decreasing.
        boxes: Boxes x1, y1, x2, y2 in px, shape (n, 4).
        box_scores: Box confidences, shape (n,).
        keypoints: Keypoints in px, shape (n, keypoints, 2); NaN = not found.
        keypoint_scores: Keypoint confidences, shape (n, keypoints).
    """

    offsets: NDArray[np.int64] = field(converter=_int_array, validator=_ndim(1))
    boxes: NDArray[np.float64] = field(converter=_float_array, validator=_ndim(2))
    box_scores: NDArray[np.float64] = field(converter=_float_array, validator=_ndim(1))
    keypoints: NDArray[np.float64] = field(converter=_float_array, validator=_ndim(3))
    keypoint_scores: NDArray[np.float64] = field(
        converter=_float_array, validator=_ndim(2)
    )

    def __attrs_post_init__(self) -> None:
        """Check that the offsets cover the rows and the arrays agree."""
        n = self.boxes.shape[0]
        if self.offsets.size == 0 or self.offsets[0] != 0 or self.offsets[-1] != n:
            raise ValueError(
                f"Detections.offsets must run from 0 to {n} rows, got "
                f"{self.offsets[:1].tolist()}..{self.offsets[-1:].tolist()}"
            )
        if np.any(np.diff(self.offsets) < 0):
            raise ValueError("Detections.offsets must not decrease")
        k = self.keypoints.shape[1]
        expected = {
            "boxes": (n, 4),
            "box_scores": (n,),
            "keypoints": (n, k, 2),
            "keypoint_scores": (n, k),
        }
        for name, shape in expected.items():
            if getattr(self, name).shape != shape:
                raise ValueError(
                    f"Detections.{name}: expected {shape}, "
                    f"got {getattr(self, name).shape}"
                )

    @classmethod
    def from_frames(
        cls,
        frames: Sequence[tuple[ArrayLike, ArrayLike, ArrayLike, ArrayLike]],
        n_keypoints: int,
    ) -> Detections:
        """Detections from per-frame (boxes, box_scores, keypoints, keypoint_scores).

        Args:
            frames: One tuple per frame, arrays of shapes (n, 4), (n,),
                (n, K, 2) and (n, K); n may be 0.
            n_keypoints: K, for a video without a single detection.
        """
        counts = [len(np.asarray(f[1]).reshape(-1)) for f in frames]

        def stacked(i: int, shape: tuple[int, ...]) -> NDArray[np.float64]:
            parts = [
                np.asarray(f[i], dtype=np.float64).reshape(-1, *shape) for f in frames
            ]
            return np.concatenate(parts) if parts else np.zeros((0, *shape))

        return cls(
            offsets=np.concatenate([[0], np.cumsum(counts, dtype=np.int64)]),
            boxes=stacked(0, (4,)),
            box_scores=stacked(1, ()),
            keypoints=stacked(2, (n_keypoints, 2)),
            keypoint_scores=stacked(3, (n_keypoints,)),
        )

    @classmethod
    def concatenate(cls, parts: Sequence[Detections], n_keypoints: int) -> Detections:
        """The detections of consecutive stretches of one video, joined in order.

        Args:
            parts: Detections of frames 0..a, a..b, ... in order.
            n_keypoints: K, for an empty `parts`.
        """
        if not parts:
            return cls.from_frames([], n_keypoints)
        starts = np.cumsum([0] + [len(p.box_scores) for p in parts[:-1]])
        return cls(
            offsets=np.concatenate(
                [[0]] + [p.offsets[1:] + s for p, s in zip(parts, starts, strict=True)]
            ),
            boxes=np.concatenate([p.boxes for p in parts]),
            box_scores=np.concatenate([p.box_scores for p in parts]),
            keypoints=np.concatenate([p.keypoints for p in parts]),
            keypoint_scores=np.concatenate([p.keypoint_scores for p in parts]),
        )

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return int(self.offsets.size - 1)

    @property
    def n_keypoints(self) -> int:
        """Keypoints per detection."""
        return int(self.keypoints.shape[1])

    def rows(self, frame: int) -> slice:
        """The rows of one frame's detections."""
        return slice(int(self.offsets[frame]), int(self.offsets[frame + 1]))


@frozen(eq=False)
class Tracks:
    """Poses of a fixed set of animals over time.

    Attributes:
        xy: Keypoint coordinates in px, shape (frames, individuals, keypoints, 2);
            NaN = missing.
        scores: Keypoint scores, shape (frames, individuals, keypoints).
        individuals: Names of the animals, one per individual.
        skeleton: The keypoints of the last axis but one.
    """

    xy: NDArray[np.float32] = field(validator=_ndim(4))
    scores: NDArray[np.float32] = field(validator=_ndim(3))
    individuals: tuple[str, ...] = field(converter=str_tuple)
    skeleton: Skeleton

    def __attrs_post_init__(self) -> None:
        """Check that the arrays, names and skeleton agree."""
        f, i, k, two = self.xy.shape
        if two != 2:
            raise ValueError(
                f"Tracks.xy: last axis must be 2 (x, y), got {self.xy.shape}"
            )
        if self.scores.shape != (f, i, k):
            raise ValueError(
                f"Tracks.scores: expected {(f, i, k)}, got {self.scores.shape}"
            )
        if len(self.individuals) != i:
            raise ValueError(
                f"Tracks: {i} individuals but {len(self.individuals)} names"
            )
        if self.skeleton.n_keypoints != k:
            raise ValueError(
                f"Tracks: {k} keypoints but skeleton has {self.skeleton.n_keypoints}"
            )

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return int(self.xy.shape[0])


@frozen(eq=False)
class Ethogram:
    """Per-frame, per-animal behavior probabilities or labels.

    Attributes:
        values: Shape (frames, individuals, behaviors); probabilities in [0, 1]
            or booleans.
        behaviors: Behavior names, one per last-axis entry.
        individuals: Animal names, one per second-axis entry.
    """

    values: NDArray[np.float32] | NDArray[np.bool_] = field(validator=_ndim(3))
    behaviors: tuple[str, ...] = field(converter=str_tuple)
    individuals: tuple[str, ...] = field(converter=str_tuple)

    def __attrs_post_init__(self) -> None:
        """Check that names match the array axes and values lie in [0, 1]."""
        _, i, b = self.values.shape
        if len(self.individuals) != i or len(self.behaviors) != b:
            raise ValueError(
                f"Ethogram: values {self.values.shape} do not match "
                f"{len(self.individuals)} individuals and "
                f"{len(self.behaviors)} behaviors"
            )
        if self.values.dtype != np.bool_:
            finite = self.values[np.isfinite(self.values)]
            if finite.size and (finite.min() < 0 or finite.max() > 1):
                raise ValueError("Ethogram: probabilities must lie in [0, 1]")

    def threshold(self, threshold: float = 0.5) -> Ethogram:
        """Booleans where the probability reaches `threshold`."""
        return Ethogram(self.values >= threshold, self.behaviors, self.individuals)


@frozen
class BehaviorRange:
    """One animal doing one behavior over frames [start, stop) of a video.

    Attributes:
        individual: Animal index in the video (0-based).
        behavior: Behavior name.
        start: First frame.
        stop: Frame after the last one (exclusive).
        source: "manual" for human labels, "predicted" for model output.
        score: Model confidence (mean probability over the range), None if manual.
        id: Row id in the label store, None before it is saved.
        version: Row version in the label store, for optimistic concurrency.
    """

    individual: int
    behavior: str
    start: int
    stop: int
    source: Source = "manual"
    score: float | None = None
    id: int | None = None
    version: int | None = None

    def __attrs_post_init__(self) -> None:
        """Check the range is non-empty and starts at a frame."""
        if not 0 <= self.start < self.stop:
            raise ValueError(
                f"BehaviorRange: need 0 <= start < stop, got {self.start}..{self.stop}"
            )


@frozen
class VideoInfo:
    """What a probe of a video file (or image sequence) found.

    Attributes:
        path: The file probed (the folder for an image sequence).
        sha256: Hex digest of the file's bytes (all images in order, for a sequence).
        fps: Frames per second, None for an image sequence.
        n_frames: Number of frames a sequential decode yields.
        width: Frame width in px.
        height: Frame height in px.
        codec: Codec name, e.g. "h264"; "png" etc. for image sequences.
        pix_fmt: Pixel format of the decoded stream, e.g. "yuv420p".
        duration_s: n_frames / fps, None for an image sequence.
    """

    path: str
    sha256: str
    fps: float | None
    n_frames: int
    width: int
    height: int
    codec: str
    pix_fmt: str
    duration_s: float | None
