"""SQLAlchemy models of the label store: videos, frames, cycles, splits, labels, runs.

Tracking runs record each video they tracked in `tracked_videos`; pose tracks
imported from other tools are in `imported_tracks`.

Keypoints are stored as JSON lists (`[[x, y] | null, ...]`) so that one row holds one
animal in one frame and a save touches as few rows as possible; JSON has no NaN, so
unlabeled keypoints are null.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from etholoop.types import SOURCES, SPLITS


def utcnow() -> datetime:
    """The current time in UTC, timezone-aware."""
    return datetime.now(UTC)


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


class Base(DeclarativeBase):
    """Base of every table; JSON columns map from `dict`/`list`."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_name)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


VIDEO_KINDS = ("file", "images", "tracks")
"""A video file, an image sequence, or a session known by its pose tracks alone."""


class Video(Base):
    """A video file or image sequence registered in the project.

    Kind `tracks` is a session of imported pose tracks without a video: it has
    frames (its `n_frames`, `fps`) that behaviors are labeled on, but no images.
    `pixel_stats` is [mean, std] of the gray pixels, measured the first time a
    pixel model reads the video.
    """

    __tablename__ = "videos"

    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(String(1024))
    kind: Mapped[str] = mapped_column(String(16), default="file")
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    fps: Mapped[float | None] = mapped_column(Float)
    n_frames: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    codec: Mapped[str] = mapped_column(String(32))
    pix_fmt: Mapped[str] = mapped_column(String(32))
    duration_s: Mapped[float | None] = mapped_column(Float)
    condition: Mapped[str | None] = mapped_column(String(256))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("videos.id", ondelete="CASCADE"), index=True
    )
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    image_files: Mapped[list[Any] | None] = mapped_column(JSON)
    pixel_stats: Mapped[list[Any] | None] = mapped_column(JSON)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    frames: Mapped[list[Frame]] = relationship(
        back_populates="video", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (CheckConstraint(_in("kind", VIDEO_KINDS), name="kind"),)


class Frame(Base):
    """One frame of a video that takes part in labeling (sampled or imported).

    `n_instances`, `n_predicted` and `n_complete` (manual instances with every
    keypoint labeled, visible or not; no box needed) are kept up to date by the
    save functions of `store.labels`, so labeling progress needs no look at the
    instances.
    """

    __tablename__ = "frames"

    id: Mapped[int] = mapped_column(primary_key=True)
    video_id: Mapped[int] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"))
    frame_idx: Mapped[int] = mapped_column(Integer)
    image_path: Mapped[str | None] = mapped_column(String(1024))
    stratum: Mapped[str | None] = mapped_column(String(256))
    sampling: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    n_instances: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    n_predicted: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    n_complete: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    video: Mapped[Video] = relationship(back_populates="frames")
    instances: Mapped[list[InstanceRow]] = relationship(
        back_populates="frame", cascade="all, delete-orphan", passive_deletes=True
    )

    @hybrid_property
    def n_manual(self) -> int:
        """Manual instances of the frame: those not predicted (SQL on the class)."""
        return self.n_instances - self.n_predicted

    __table_args__ = (
        UniqueConstraint("video_id", "frame_idx"),
        CheckConstraint("frame_idx >= 0", name="frame_idx"),
    )


class Cycle(Base):
    """One round of the active-learning loop; splits are recorded per cycle."""

    __tablename__ = "cycles"

    id: Mapped[int] = mapped_column(primary_key=True)
    index: Mapped[int] = mapped_column(Integer, unique=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    notes: Mapped[str | None] = mapped_column(String(4096))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )


class SplitMember(Base):
    """Membership of one frame in one split during one cycle."""

    __tablename__ = "splits"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"))
    frame_id: Mapped[int] = mapped_column(ForeignKey("frames.id", ondelete="CASCADE"))
    split: Mapped[str] = mapped_column(String(16))
    val: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    stratum: Mapped[str | None] = mapped_column(String(256))

    __table_args__ = (
        UniqueConstraint("cycle_id", "frame_id"),
        CheckConstraint(_in("split", SPLITS), name="split"),
        Index("ix_splits_cycle_split", "cycle_id", "split"),
    )


class ModelRun(Base):
    """A training or inference run; its files live in `run_dir`."""

    __tablename__ = "model_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    stage: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="running")
    run_dir: Mapped[str] = mapped_column(String(1024))
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    metrics: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    cycle_id: Mapped[int | None] = mapped_column(
        ForeignKey("cycles.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class TrackName(Base):
    """The name of an animal identity (`instances.track_id`), e.g. "female"."""

    __tablename__ = "track_names"

    track_id: Mapped[int] = mapped_column(
        Integer, primary_key=True, autoincrement=False
    )
    name: Mapped[str] = mapped_column(String(256), unique=True)


TRACK_VIDEO_STATUSES = ("running", "done", "failed")


class TrackedVideo(Base):
    """One video of a tracking run: how far it got, its files and its quality.

    A run folder holds the files of every video tracked with one pose run and one
    set of tracker parameters; a video `done` there is not tracked again.
    """

    __tablename__ = "tracked_videos"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("model_runs.id", ondelete="CASCADE"), index=True
    )
    video_id: Mapped[int] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="running")
    error: Mapped[str | None] = mapped_column(String(1024))
    outputs: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    quality: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    started_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("run_id", "video_id", name="uq_tracked_videos_run_video"),
        CheckConstraint(_in("status", TRACK_VIDEO_STATUSES), name="status"),
    )


class ImportedTracks(Base):
    """A pose tracks file imported for a video or a tracks-only session.

    `path` is the project's own copy (netCDF, scores kept), `source_path` the
    file it was read from.
    """

    __tablename__ = "imported_tracks"

    id: Mapped[int] = mapped_column(primary_key=True)
    video_id: Mapped[int] = mapped_column(
        ForeignKey("videos.id", ondelete="CASCADE"), index=True
    )
    path: Mapped[str] = mapped_column(String(1024))
    source_path: Mapped[str] = mapped_column(String(1024))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class InstanceRow(Base):
    """One animal in one frame: box, keypoints, visibility, scores, provenance."""

    __tablename__ = "instances"

    id: Mapped[int] = mapped_column(primary_key=True)
    frame_id: Mapped[int] = mapped_column(
        ForeignKey("frames.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[str] = mapped_column(String(16))
    x1: Mapped[float | None] = mapped_column(Float)
    y1: Mapped[float | None] = mapped_column(Float)
    x2: Mapped[float | None] = mapped_column(Float)
    y2: Mapped[float | None] = mapped_column(Float)
    box_score: Mapped[float | None] = mapped_column(Float)
    keypoints: Mapped[list[Any]] = mapped_column(JSON)
    visibility: Mapped[list[Any]] = mapped_column(JSON)
    complete: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    keypoint_scores: Mapped[list[Any] | None] = mapped_column(JSON)
    track_id: Mapped[int | None] = mapped_column(Integer)
    author: Mapped[str | None] = mapped_column(String(256))
    model_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_runs.id", ondelete="SET NULL")
    )
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    frame: Mapped[Frame] = relationship(back_populates="instances")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (CheckConstraint(_in("source", SOURCES), name="source"),)


class BehaviorLabel(Base):
    """A behavior of one animal over frames [start_frame, stop_frame) of a video."""

    __tablename__ = "behavior_labels"

    id: Mapped[int] = mapped_column(primary_key=True)
    video_id: Mapped[int] = mapped_column(
        ForeignKey("videos.id", ondelete="CASCADE"), index=True
    )
    individual: Mapped[int] = mapped_column(Integer)
    behavior: Mapped[str] = mapped_column(String(128))
    start_frame: Mapped[int] = mapped_column(Integer)
    stop_frame: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16), default="manual")
    score: Mapped[float | None] = mapped_column(Float)
    author: Mapped[str | None] = mapped_column(String(256))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint("start_frame >= 0 AND stop_frame > start_frame", name="range"),
        CheckConstraint(_in("source", SOURCES), name="source"),
    )
