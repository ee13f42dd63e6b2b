"""Pixel behavior models over a project: `behavior train --model clip3d`, predict.

The 3D-CNN (`behavior.clip3d`) classifies whole frames into exclusive classes:
"none" and the project's behaviors. It runs on sessions with a video file (the
raw video: labels are on its frames) of single-animal projects; per-animal crops
of multi-animal videos are not built yet. A frame's class is its manual
behavior (the first by the config's order where several overlap), "none"
without one; only sessions whose animal has a manual range take part, and
frames inside unconfirmed predicted ranges are left out. The last
`VAL_SHARE` of each session's labeled frames (after a gap of one clip
length) chooses the best epoch; the rest trains. Where every training frame
has a behavior, there is no "none" class.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from attrs import frozen
from numpy.typing import NDArray

from etholoop.behavior.clip3d import Clip3dParams, Variant
from etholoop.behavior.clip3d_train import (
    Clip3dTrainParams,
    class_counts,
    load_clip3d,
    predict_video,
    train_clip3d,
)
from etholoop.behavior.clips import ClipItem, video_mean_std
from etholoop.behavior_ranges import one_hot
from etholoop.behavior_runs.data import labeled_frames
from etholoop.errors import ProjectError
from etholoop.project import Project
from etholoop.sessions import get_session, list_sessions, session_name
from etholoop.store.behaviors import load_behavior_ranges
from etholoop.store.videos import get_video, set_pixel_stats
from etholoop.types import BehaviorRange, Ethogram

NO_BEHAVIOR = "none"
VAL_SHARE = 0.2
CHECKPOINT = "clip3d/best.pt"


@frozen(eq=False)
class VideoSession:
    """A session with a video file: where to read it, its ranges, its pixel stats."""

    video_id: int
    name: str
    fps: float | None
    path: Path
    n_frames: int
    ranges: tuple[BehaviorRange, ...]
    stats: tuple[float, float]


def video_sessions(
    session: Any, project: Project, names: Sequence[str] | None = None
) -> list[VideoSession]:
    """The named sessions (each with a video file), or every video file's session.

    Raises:
        ProjectError: a named session has no video file, or the project has
            more than one animal.
    """
    if project.config.animals != 1:
        raise ProjectError(
            f"{project.config_path}: clip3d classifies whole frames, so it needs "
            f"a single-animal project (this one has {project.config.animals}); "
            "use --model pose"
        )
    videos = (
        [get_session(session, project, name) for name in names]
        if names
        else [v for v in list_sessions(session) if v.kind == "file"]
    )
    for video in videos:
        if video.kind != "file":
            raise ProjectError(f"{video.path}: no video file to read pixels from")
    return [
        VideoSession(
            video.id,
            session_name(video),
            video.fps,
            project.resolve(video.path),
            video.n_frames,
            tuple(load_behavior_ranges(session, video.id)),
            _pixel_stats(session, video.id, project.resolve(video.path)),
        )
        for video in videos
    ]


def _pixel_stats(session: Any, video_id: int, path: Path) -> tuple[float, float]:
    """The video's gray mean and std: stored, or measured once and stored."""
    video = get_video(session, video_id)
    if video is not None and video.pixel_stats:
        mean, std = video.pixel_stats
        return float(mean), float(std)
    stats = video_mean_std(path)
    set_pixel_stats(session, video_id, stats)
    return stats


def frame_classes(
    item: VideoSession, behaviors: Sequence[str]
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Each frame's class (0 = none, k = behaviors[k - 1]) and which frames count."""
    manual = [r for r in item.ranges if r.source == "manual"]
    on = one_hot(manual, behaviors, n_frames=item.n_frames, individual=0)
    classes = np.where(on.any(axis=1), np.argmax(on, axis=1) + 1, 0)
    return classes.astype(np.int64), labeled_frames(item.ranges, 0, item.n_frames)


def clip_items(
    sessions: Sequence[VideoSession], behaviors: Sequence[str], clip_length: int
) -> tuple[list[ClipItem], list[ClipItem]]:
    """Training and validation (video, frame, class) items of labeled sessions."""
    train, val = [], []
    for item in sessions:
        classes, labeled = frame_classes(item, behaviors)
        frames = np.flatnonzero(labeled)
        if not frames.size:
            continue
        cut = frames[int(len(frames) * (1 - VAL_SHARE))]
        for t in frames.tolist():
            if t >= cut:
                val.append(ClipItem(item.path, t, int(classes[t])))
            elif t < cut - clip_length:
                train.append(ClipItem(item.path, t, int(classes[t])))
    return train, val


def train_clip3d_run(
    project: Project,
    run_dir: Path,
    sessions: Sequence[VideoSession],
    behaviors: Sequence[str],
    *,
    variant: Variant,
    epochs: int | None,
    imsize: int | None,
) -> dict[str, Any]:
    """Train the clip network of a run; returns the metrics to record."""
    clip_length = Clip3dParams(n_classes=2).clip_length
    train, val = clip_items(sessions, behaviors, clip_length)
    if not train:
        raise ProjectError(
            f"{project.root}: no manual behavior labels on a session with a video; "
            "import some with `etholoop behavior import`"
        )
    if not any(item.class_idx == 0 for item in train):  # every frame has a behavior
        train, val = _without_none(train), _without_none(val)
        names = list(behaviors)
    else:
        names = [NO_BEHAVIOR, *behaviors]
    params = Clip3dParams(n_classes=len(names), variant=variant, imsize=imsize or 112)
    train_params = Clip3dTrainParams(epochs=epochs) if epochs else Clip3dTrainParams()
    result = train_clip3d(
        train,
        val,
        params,
        train_params,
        run_dir / "clip3d",
        class_names=names,
        stats={s.path: s.stats for s in sessions},
    )
    counts = class_counts(train, len(names))
    return {
        "classes": names,
        "train_frames": len(train),
        "val_frames": len(val),
        "class_counts": dict(zip(names, counts.tolist(), strict=True)),
        "best_epoch": result.best_epoch,
        "epochs": len(result.epochs),
        "val_macro_f1": max(r["val_macro_f1"] for r in result.epochs),
        "network": params.to_dict(),
        "optimizer": train_params.to_dict(),
    }


def _without_none(items: Sequence[ClipItem]) -> list[ClipItem]:
    """Items with class k - 1 for k: the labels of a model without a "none" class."""
    return [i._replace(class_idx=i.class_idx - 1) for i in items if i.class_idx > 0]


def predict_clip3d(
    run_dir: Path, item: VideoSession, behaviors: Sequence[str]
) -> tuple[Ethogram, Ethogram]:
    """Probabilities and exclusive labels of one session, one animal."""
    checkpoint = run_dir / CHECKPOINT
    _, names = load_clip3d(checkpoint)
    probabilities = predict_video(checkpoint, item.path, stats=item.stats)
    columns = [names.index(b) for b in behaviors]
    best = np.argmax(probabilities, axis=1)
    on = np.stack([best == c for c in columns], axis=1)
    individuals = ("animal0",)
    return (
        Ethogram(probabilities[:, None, columns], behaviors, individuals),
        Ethogram(on[:, None, :], behaviors, individuals),
    )
