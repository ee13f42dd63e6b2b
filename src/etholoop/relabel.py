"""Labels follow their video: labeled frames of a raw video move onto its copy.

Sampling and labeling use a raw video's normalized copy (`etholoop preprocess`),
so labels imported or made on the raw video would otherwise be missing wherever
that moment is shown or trained on. A labeled raw frame that the copy shows
exactly (see `video.frame_map`) *moves* to the copy, positions scaled, so that no
moment is in the project twice (it could land in train+val and in test):

- no copy row for that frame yet: the row itself moves, split memberships kept;
- a copy row without instances: the instances move into it and the raw row goes;
- a copy row with the same labels (the file imported again): the raw row goes;
- a copy row with other labels: the raw frame stays, and is counted.

Raw frames the copy does not show (between its frames, outside its time range)
stay on the raw video, counted, since a frame is never invented.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from attrs import evolve, frozen
from sqlalchemy.orm import Session

from etholoop.store import (
    find_normalized,
    frame_versions,
    load_frame_instances,
    load_instances_by_frame,
    save_frame_instances,
)
from etholoop.store.relocate import (
    fold_frame,
    frames_by_index,
    labeled_frames,
    move_frame,
)
from etholoop.store.videos import get_video
from etholoop.types import Instance
from etholoop.video import PreprocessParams
from etholoop.video.frame_map import NOT_SHOWN, copy_frame_inds, scale_xy, size_scale
from etholoop.video.preprocess import plan_source_frames

if TYPE_CHECKING:
    from etholoop.store import Video

_SAME_PX = 1e-6  # labels this close (px) on the copy are the same labels


@frozen
class MoveReport:
    """What `move_labels_to_copy` did for one normalized copy.

    Attributes:
        raw_name: File name of the raw video.
        fps: Frame rate of the copy.
        scale: (x, y) factors from raw to copy positions.
        trimmed: The copy keeps only part of the raw video's time.
        n_moved: Labeled raw frames moved onto the copy.
        n_unshown: Labeled raw frames the copy does not show; they stay.
        n_occupied: Labeled raw frames whose copy frame holds other labels; they
            stay.
        n_duplicates: Labeled raw frames whose copy frame holds the same labels
            already; they were removed.
        n_duplicate_instances: The instances of those frames.
    """

    raw_name: str
    fps: float
    scale: tuple[float, float]
    trimmed: bool
    n_moved: int = 0
    n_unshown: int = 0
    n_occupied: int = 0
    n_duplicates: int = 0
    n_duplicate_instances: int = 0


def move_labels_to_copy(session: Session, copy: Video) -> MoveReport:
    """Move the labeled frames of `copy`'s raw video onto `copy` where it shows them.

    Args:
        session: An open session; the caller's transaction makes the move atomic.
        copy: A normalized copy (`parent_id` and `params` set by `preprocess`).
    """
    assert copy.parent_id is not None
    raw = get_video(session, copy.parent_id)
    assert raw is not None and raw.fps is not None and copy.params is not None
    params = PreprocessParams(**copy.params)
    frames = labeled_frames(session, raw.id)
    targets = copy_frame_inds(
        plan_source_frames(raw.n_frames, raw.fps, params),
        [f.frame_idx for f in frames],
    )
    scale = size_scale((raw.width, raw.height), (copy.width, copy.height))
    on_copy = frames_by_index(session, copy.id)
    instances = load_instances_by_frame(session, frame_ids=[f.id for f in frames])
    counts: Counter[str] = Counter()
    for frame, copy_idx in zip(frames, targets.tolist(), strict=True):
        if copy_idx == NOT_SHOWN:
            counts["unshown"] += 1
            continue
        scaled = [_scaled(inst, scale) for inst in instances[frame.id]]
        there = on_copy.get(copy_idx)
        if there is None or there.n_instances == 0:
            save_frame_instances(
                session,
                frame_id=frame.id,
                instances=scaled,
                base_versions=frame_versions(session, frame.id),
            )
            if there is None:
                move_frame(session, frame, video_id=copy.id, frame_idx=copy_idx)
            else:
                fold_frame(session, frame, there, keep_instances=True)
            counts["moved"] += 1
        elif _same_labels(scaled, load_frame_instances(session, there.id)):
            fold_frame(session, frame, there, keep_instances=False)
            counts["dup"] += 1
            counts["dup_inst"] += len(scaled)
        else:
            counts["occupied"] += 1
    return MoveReport(
        raw_name=Path(raw.path).name,
        fps=params.fps or raw.fps,
        scale=scale,
        trimmed=params.start_s > 0 or params.duration_s is not None,
        n_moved=counts["moved"],
        n_unshown=counts["unshown"],
        n_occupied=counts["occupied"],
        n_duplicates=counts["dup"],
        n_duplicate_instances=counts["dup_inst"],
    )


def move_labels_to_copies(
    session: Session, raw_ids: Iterable[int]
) -> tuple[MoveReport, ...]:
    """`move_labels_to_copy` for each raw video's copy (the newest, which is sampled).

    Videos without a copy (image sequences, videos not preprocessed) are passed
    over.
    """
    reports = []
    for raw_id in dict.fromkeys(raw_ids):
        copy = find_normalized(session, raw_id)
        if copy is not None:
            reports.append(move_labels_to_copy(session, copy))
    return tuple(reports)


def describe_moves(moves: Sequence[MoveReport]) -> list[str]:
    """One line per thing a user should know about where their labels went."""
    lines = []
    for move in moves:
        copy = f"the {move.fps:g} fps copy"
        if move.n_moved:
            sx, sy = move.scale
            lines.append(
                f"{move.n_moved} labeled frame(s) moved onto {copy} of "
                f"{move.raw_name} (positions scaled by {sx:.4g} x {sy:.4g})"
            )
        if move.n_unshown:
            where = " or outside its time range" if move.trimmed else ""
            lines.append(
                f"{move.n_unshown} labeled frame(s) fall between frames of {copy}"
                f"{where} and stay on the raw video"
            )
        if move.n_occupied:
            lines.append(
                f"{move.n_occupied} labeled frame(s) stay on the raw video "
                f"{move.raw_name}: {copy} has other labels at those moments"
            )
    return lines


def _scaled(inst: Instance, scale: tuple[float, float]) -> Instance:
    box = None if inst.box is None else scale_xy(inst.box.reshape(2, 2), scale)
    return evolve(
        inst,
        keypoints=scale_xy(inst.keypoints, scale),
        box=None if box is None else box.reshape(4),
    )


def _same_labels(a: Sequence[Instance], b: Sequence[Instance]) -> bool:
    """Whether two frames hold the same instances, in the same order."""

    def close(x: np.ndarray | None, y: np.ndarray | None) -> bool:
        if x is None or y is None:
            return x is y
        return bool(np.allclose(x, y, rtol=0, atol=_SAME_PX, equal_nan=True))

    return len(a) == len(b) and all(
        (p.source, p.track_id) == (q.source, q.track_id)
        and np.array_equal(p.visibility, q.visibility)
        and close(p.keypoints, q.keypoints)
        and close(p.box, q.box)
        for p, q in zip(a, b, strict=True)
    )
