"""JSON bodies of the annotation API, and their conversion to the shared types."""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from etholoop.types import BehaviorRange, Instance, Source

Visibility = Literal[0, 1, 2]
Point = Annotated[list[float], Field(min_length=2, max_length=2)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InstanceBody(_Body):
    """One animal in one frame (see `etholoop.types.Instance`)."""

    id: int | None = None
    version: int | None = None
    source: Source = "manual"
    box: Annotated[list[float], Field(min_length=4, max_length=4)] | None = None
    box_score: float | None = None
    keypoints: list[Point | None]
    visibility: list[Visibility]
    keypoint_scores: list[float | None] | None = None
    track_id: int | None = None
    author: str | None = None

    def to_instance(self) -> Instance:
        """The shared type; unlabeled keypoints (null) become NaN."""
        xy = [[math.nan, math.nan] if p is None else p for p in self.keypoints]
        scores = (
            None
            if self.keypoint_scores is None
            else [math.nan if s is None else s for s in self.keypoint_scores]
        )
        return Instance(
            keypoints=np.array(xy, np.float64).reshape(-1, 2),
            visibility=np.array(self.visibility, np.uint8),
            box=self.box,
            box_score=self.box_score,
            keypoint_scores=scores,
            source=self.source,
            track_id=self.track_id,
            id=self.id,
            version=self.version,
            author=self.author,
        )

    @classmethod
    def of(cls, inst: Instance) -> InstanceBody:
        """The JSON form of a stored instance."""
        finite = [bool(np.isfinite(p).all()) for p in inst.keypoints]
        scores = inst.keypoint_scores
        return cls(
            id=inst.id,
            version=inst.version,
            source=inst.source,
            box=None if inst.box is None else inst.box.tolist(),
            box_score=inst.box_score,
            keypoints=[
                p.tolist() if ok else None
                for p, ok in zip(inst.keypoints, finite, strict=True)
            ],
            visibility=[int(v) for v in inst.visibility],
            keypoint_scores=None
            if scores is None
            else [float(s) if math.isfinite(s) else None for s in scores],
            track_id=inst.track_id,
            author=inst.author,
        )


class SaveInstancesBody(_Body):
    """A frame after editing, and the versions it was loaded at."""

    instances: list[InstanceBody]
    base_versions: dict[int, int] = Field(default_factory=dict)
    author: str | None = None


class FrameItem(BaseModel):
    """One row of a frame list."""

    id: int
    video_id: int
    video: str
    frame_idx: int
    split: str | None
    status: str
    n_instances: int
    image_name: str | None
    """The image file, for a frame of an image sequence."""


class FramePage(BaseModel):
    """One page of a frame list and how many frames match in all."""

    total: int
    offset: int
    limit: int
    items: list[FrameItem]


class FrameBody(FrameItem):
    """A frame with its image address and instances."""

    width: int
    height: int
    image: str
    instances: list[InstanceBody]


class CycleItem(BaseModel):
    """A cycle of the active-learning loop."""

    id: int
    index: int


class ProjectBody(BaseModel):
    """What the front end needs to know about the project."""

    name: str
    animals: int
    keypoints: list[str]
    edges: list[tuple[int, int]]
    symmetry: list[tuple[int, int]]
    behaviors: list[str]
    cycles: list[CycleItem]
    cycle: int | None
    splits: list[str]


class ProgressBody(BaseModel):
    """Frames per status in each split ("none": in no split)."""

    splits: dict[str, dict[str, int]]


class VideoItem(BaseModel):
    """A video whose behaviors can be labeled.

    `kind` "tracks" is a session of imported pose tracks without a video: it has
    frames to label but no images (its frame requests answer 404).
    """

    id: int
    name: str
    kind: str = "file"
    n_frames: int
    fps: float | None
    width: int
    height: int


class RangeBody(_Body):
    """One animal doing one behavior over frames [start, stop)."""

    id: int | None = None
    version: int | None = None
    individual: Annotated[int, Field(ge=0)]
    behavior: str
    start: Annotated[int, Field(ge=0)]
    stop: Annotated[int, Field(gt=0)]
    source: Source = "manual"
    score: float | None = None

    def to_range(self) -> BehaviorRange:
        """The shared type."""
        return BehaviorRange(
            individual=self.individual,
            behavior=self.behavior,
            start=self.start,
            stop=self.stop,
            source=self.source,
            score=self.score,
            id=self.id,
            version=self.version,
        )

    @classmethod
    def of(cls, r: BehaviorRange) -> RangeBody:
        """The JSON form of a stored range."""
        return cls(
            id=r.id,
            version=r.version,
            individual=r.individual,
            behavior=r.behavior,
            start=r.start,
            stop=r.stop,
            source=r.source,
            score=r.score,
        )


class SaveRangesBody(_Body):
    """A video's behavior ranges after editing, and the versions they were loaded at."""

    labels: list[RangeBody]
    base_versions: dict[int, int] = Field(default_factory=dict)
    author: str | None = None


class TimelineBody(BaseModel):
    """A video's behavior ranges and what the lanes are."""

    video_id: int
    n_frames: int
    individuals: int
    behaviors: list[str]
    labels: list[RangeBody]
