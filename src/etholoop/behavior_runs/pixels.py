"""Pixel behavior models over a project: `behavior train --model clip3d|sequence`.

Both run on sessions with a video file (the raw video: labels are on its
frames). clip3d sees each animal through a crop window that follows its
tracks (a single animal without tracks: the whole frame); sequence sees whole
frames, so it takes single-animal projects. The 3D-CNN (`behavior.clip3d`)
classifies frames into exclusive classes: "none" and the project's behaviors.
`sequence` (`behavior.flow`, `behavior.sequence`) is DeepEthogram's pipeline:
a flow generator learned from every session's video, spatial and motion
feature extractors and a temporal conv net learned from the labeled ones,
multi-label, with per-behavior thresholds and bout rules tuned on validation.

For clip3d a frame's class is its manual behavior (the first by the config's
order where several overlap), "none" without one; where every training frame
has a behavior, there is no "none" class. For both, only sessions whose animal
has a manual range take part, frames inside unconfirmed predicted ranges are
left out, and the last `VAL_SHARE` of each session's labeled frames (after a
gap of one clip or stack) chooses the best epoch and, for sequence, the
thresholds; the rest trains.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from attrs import asdict, frozen
from numpy.typing import NDArray

from etholoop.behavior.clip3d import Clip3dParams, Variant
from etholoop.behavior.clip3d_train import (
    Clip3dTrainParams,
    class_counts,
    load_clip3d,
    predict_video,
    train_clip3d,
)
from etholoop.behavior.clips import Boxes, ClipItem, crop_boxes, video_mean_std
from etholoop.behavior.features import body_axis_indices, body_scale
from etholoop.behavior_ranges import one_hot
from etholoop.behavior_runs.data import labeled_frames
from etholoop.errors import ProjectError
from etholoop.project import Project
from etholoop.sessions import (
    get_session,
    list_sessions,
    load_session_tracks,
    session_name,
)
from etholoop.store.behaviors import load_behavior_ranges
from etholoop.store.session_tracks import latest_tracks_file
from etholoop.store.videos import get_video, set_pixel_stats
from etholoop.types import BehaviorRange, Ethogram

NO_BEHAVIOR = "none"
CROP_BODY_LENGTHS = 2.0
"""Side of an animal's crop window, in body lengths (its tracks' median)."""
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
    crops: tuple[Boxes, ...] | None = None
    usable: NDArray[np.bool_] | None = None

    @property
    def n_animals(self) -> int:
        """Animals the model sees apart: one per crop window, else the frame."""
        return len(self.crops) if self.crops is not None else 1

    def labeled(self, animal: int = 0) -> NDArray[np.bool_]:
        """Frames whose labels count: settled by a person, and `usable` if given.

        `usable` limits a fold of a cross-validation to its training frames.
        """
        settled = labeled_frames(self.ranges, animal, self.n_frames)
        return settled if self.usable is None else settled & self.usable

    def crop_map(self) -> dict[tuple[Path, int], Boxes]:
        """The crop windows by (video, animal), as the clip datasets take them."""
        return {(self.path, a): b for a, b in enumerate(self.crops or ())}


def video_sessions(
    session: Any, project: Project, names: Sequence[str] | None = None
) -> list[VideoSession]:
    """The named sessions (each with a video file), or every video file's session.

    With several animals, each is cut out of the frames by a crop window of
    `CROP_BODY_LENGTHS` body lengths following its tracks' centroid; a
    single-animal session without tracks is seen whole.

    Raises:
        ProjectError: a named session has no video file, or a session of a
            multi-animal project has no tracks.
    """
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
            session_name(session, video),
            video.fps,
            project.resolve(video.path),
            video.n_frames,
            tuple(load_behavior_ranges(session, video.id)),
            _pixel_stats(session, video.id, project.resolve(video.path)),
            _crops(session, project, video),
        )
        for video in videos
    ]


def _crops(session: Any, project: Project, video: Any) -> tuple[Boxes, ...] | None:
    """Each animal's crop windows from the session's tracks; None: whole frames."""
    if latest_tracks_file(session, video.id) is None:
        if project.config.animals > 1:
            raise ProjectError(
                f"{video.path}: no tracks to cut each of the "
                f"{project.config.animals} animals out of the frames; run "
                "`etholoop track` or `etholoop tracks import` first"
            )
        return None
    tracks = load_session_tracks(session, project, video)
    front, back = body_axis_indices(tracks.skeleton.keypoints)
    side = max(int(round(CROP_BODY_LENGTHS * body_scale(tracks.xy, front, back))), 16)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # frames without keypoints
        centers = np.nanmean(tracks.xy, axis=2)
    return tuple(
        crop_boxes(centers[:, a], side, video.width, video.height)
        for a in range(len(tracks.individuals))
    )


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
    item: VideoSession, behaviors: Sequence[str], animal: int = 0
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """An animal's class on each frame and which frames count.

    Class 0 is "none", class k is `behaviors[k - 1]`.
    """
    manual = [r for r in item.ranges if r.source == "manual"]
    on = one_hot(manual, behaviors, n_frames=item.n_frames, individual=animal)
    classes = np.where(on.any(axis=1), np.argmax(on, axis=1) + 1, 0)
    return classes.astype(np.int64), item.labeled(animal)


def clip_items(
    sessions: Sequence[VideoSession], behaviors: Sequence[str], clip_length: int
) -> tuple[list[ClipItem], list[ClipItem]]:
    """Training and validation (video, frame, class, animal) items."""
    train, val = [], []
    for item in sessions:
        for animal in range(item.n_animals):
            classes, labeled = frame_classes(item, behaviors, animal)
            frames = np.flatnonzero(labeled)
            if not frames.size:
                continue
            cut = frames[int(len(frames) * (1 - VAL_SHARE))]
            for t in frames.tolist():
                clip = ClipItem(item.path, t, int(classes[t]), animal)
                if t >= cut:
                    val.append(clip)
                elif t < cut - clip_length:
                    train.append(clip)
    return train, val


def train_clip3d_run(
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
            f"{run_dir}: no manual behavior labels on a session with a video; "
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
        crops={k: b for s in sessions for k, b in s.crop_map().items()},
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
    """Probabilities and exclusive labels of one session, per animal."""
    checkpoint = run_dir / CHECKPOINT
    _, names = load_clip3d(checkpoint)
    columns = [names.index(b) for b in behaviors]
    per_animal = [
        predict_video(
            checkpoint,
            item.path,
            stats=item.stats,
            boxes=None if item.crops is None else item.crops[a],
        )
        for a in range(item.n_animals)
    ]
    probabilities = np.stack(per_animal, axis=1)  # (frames, animals, classes)
    best = np.argmax(probabilities, axis=2)
    on = np.stack([best == c for c in columns], axis=2)
    individuals = tuple(f"animal{a}" for a in range(item.n_animals))
    return (
        Ethogram(probabilities[:, :, columns], behaviors, individuals),
        Ethogram(on, behaviors, individuals),
    )


Labeled = tuple[VideoSession, NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_]]
"""A session, its on/off labels (frames, behaviors), training and validation frames."""


def multi_labels(
    sessions: Sequence[VideoSession], behaviors: Sequence[str], gap: int
) -> list[Labeled]:
    """Per labeled session: on/off per frame and behavior, training, validation frames.

    Validation is the last `VAL_SHARE` of its labeled frames, `gap` frames apart.
    """
    out = []
    for item in sessions:
        manual = [r for r in item.ranges if r.source == "manual"]
        labeled = item.labeled()
        frames = np.flatnonzero(labeled)
        if not frames.size:
            continue
        on = one_hot(manual, behaviors, n_frames=item.n_frames, individual=0)
        cut = int(frames[int(len(frames) * (1 - VAL_SHARE))])
        index = np.arange(item.n_frames)
        train = labeled & (index < cut - gap)
        val = labeled & (index >= cut)
        out.append((item, on.astype(bool), train, val))
    return out


def train_sequence_run(
    run_dir: Path,
    sessions: Sequence[VideoSession],
    behaviors: Sequence[str],
    *,
    epochs: int | None,
    imsize: int | None,
) -> dict[str, Any]:
    """DeepEthogram's three stages for a run: flow, feature extractors, sequence.

    The flow generator learns from every session's video (no labels); the
    extractors and the sequence model from the labeled ones.
    """
    from etholoop.behavior.flow import FlowParams, FlowTrainParams, train_flow
    from etholoop.behavior.sequence import (
        ExtractorParams,
        ExtractorTrainParams,
        SequenceParams,
        SequenceTrainParams,
        train_extractor,
        train_sequence,
    )

    if any(s.n_animals > 1 for s in sessions):
        raise ProjectError(
            f"{run_dir}: sequence sees whole frames, so it takes single-animal "
            "projects; use --model clip3d (one crop per animal) or pose"
        )
    flow_params = FlowParams(imsize=imsize or 112)
    labeled = multi_labels(sessions, behaviors, flow_params.span)
    if not labeled:
        raise ProjectError(
            f"{run_dir}: no manual behavior labels on a session with a video; "
            "import some with `etholoop behavior import`"
        )
    stats = {s.path: s.stats for s in sessions}
    epoch_cap: dict[str, Any] = {"epochs": epochs} if epochs else {}
    flow = _stage(
        run_dir / "flow",
        lambda out: train_flow(
            [s.path for s in sessions],
            flow_params,
            FlowTrainParams(**epoch_cap),
            out,
            stats=stats,
        ),
    )
    items = {
        part: [
            (item.path, int(t), on[t])
            for item, on, train, val in labeled
            for t in np.flatnonzero(train if part == "train" else val)
        ]
        for part in ("train", "val")
    }
    extractor = _stage(
        run_dir / "extractor",
        lambda out: train_extractor(
            items["train"],
            items["val"],
            run_dir / "flow" / "best.pt",
            ExtractorParams(n_behaviors=len(behaviors)),
            ExtractorTrainParams(**epoch_cap),
            out,
            behaviors=behaviors,
            stats=stats,
        ),
    )
    features = {item.path: sequence_features(run_dir, item) for item, *_ in labeled}
    result = _stage(
        run_dir / "sequence",
        lambda out: train_sequence(
            [(features[i.path][train], on[train]) for i, on, train, _ in labeled],
            [(features[i.path][val], on[val]) for i, on, _, val in labeled],
            SequenceParams(n_behaviors=len(behaviors)),
            SequenceTrainParams(**epoch_cap),
            out,
            behaviors=behaviors,
        ),
    )
    return {
        "behaviors": list(behaviors),
        "train_frames": len(items["train"]),
        "val_frames": len(items["val"]),
        "best_epochs": {
            "flow": flow["best_epoch"],
            "extractor": extractor["best_epoch"],
            "sequence": result["best_epoch"],
        },
        "bout_params": result["bout_params"],
    }


STAGE_DONE = "finished.json"
"""Written in a sequence stage's folder when it finished; a resumed run skips it."""


def _stage(out_dir: Path, train: Callable[[Path], Any]) -> dict[str, Any]:
    """Run one stage into `out_dir`, unless an earlier attempt finished it."""
    marker = out_dir / STAGE_DONE
    if marker.is_file():
        done: dict[str, Any] = json.loads(marker.read_text())
        return done
    result = train(out_dir)
    summary = {
        "best_epoch": int(result.best_epoch),
        "bout_params": [asdict(p) for p in getattr(result, "bout_params", ())],
    }
    marker.write_text(json.dumps(summary))
    return summary


def sequence_features(run_dir: Path, item: VideoSession) -> NDArray[np.float32]:
    """A session's per-frame spatial + motion features (computed once per run)."""
    from etholoop.behavior.sequence import extract_features

    features = extract_features(
        item.path,
        run_dir / "extractor" / "best.pt",
        run_dir / "features" / f"{item.name}-{item.video_id}.features.npz",
        stats=item.stats,
    )
    return features.stacked().astype(np.float32)


def predict_sequence_run(
    run_dir: Path, item: VideoSession, behaviors: Sequence[str]
) -> tuple[Ethogram, Ethogram]:
    """Probabilities and labels (after the tuned bout rules) of one session."""
    from etholoop.behavior.sequence import (
        load_sequence,
        predict_ethogram,
        predict_sequence,
    )

    model = load_sequence(run_dir / "sequence" / "best.pt")
    probabilities = predict_sequence(model, sequence_features(run_dir, item))
    columns = [model.behaviors.index(b) for b in behaviors]
    on = predict_ethogram(model, probabilities)
    individuals = ("animal0",)
    return (
        Ethogram(probabilities[:, None, columns], behaviors, individuals),
        Ethogram(on[:, None, columns], behaviors, individuals),
    )
