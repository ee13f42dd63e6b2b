"""Map imported labels onto the project skeleton by keypoint name."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from etholoop.errors import SkeletonMismatchError
from etholoop.types import FrameLabels, Instance, LabelSet, Skeleton


def match_keypoints(
    file_keypoints: tuple[str, ...],
    project_keypoints: tuple[str, ...],
    keypoint_map: Mapping[str, str] | None = None,
) -> dict[str, str] | None:
    """Pair each project keypoint with a file keypoint, or None if that fails.

    A file keypoint named in `keypoint_map` ({file name: project name}) goes
    where the map says; the others match a project keypoint of the same name,
    else of the same name ignoring case. Every file keypoint must find a place
    and no two may take the same one.

    Returns:
        {project keypoint: file keypoint} covering every project keypoint, or
        None if some project keypoint is not found or some file keypoint has no
        place.
    """
    mapped = {f: p for f, p in (keypoint_map or {}).items() if f in file_keypoints}
    free = [f for f in file_keypoints if f not in project_keypoints and f not in mapped]
    pairs: dict[str, str] = {}
    for project in project_keypoints:
        if project in file_keypoints and project not in mapped:
            pairs[project] = project
            continue
        via_map = [f for f, p in mapped.items() if p == project]
        if len(via_map) == 1:
            pairs[project] = via_map[0]
            continue
        folded = [f for f in free if f.casefold() == project.casefold()]
        if len(folded) != 1 or via_map:
            return None
        pairs[project] = folded[0]
        free.remove(folded[0])
    if set(pairs.values()) != set(file_keypoints) or len(pairs) != len(
        set(pairs.values())
    ):
        return None
    return pairs


def map_to_skeleton(
    labels: LabelSet,
    skeleton: Skeleton,
    keypoint_map: Mapping[str, str] | None = None,
    *,
    source: str = "labels",
) -> LabelSet:
    """Reorder every instance's keypoints to the project skeleton, by name.

    Each project keypoint is found by exact name, else case-insensitively, else
    through `keypoint_map` ({file name: project name}); a file keypoint that the
    map names always goes where the map says, even if its name also exists in
    the project. The result has the project skeleton; videos, frames, tracks
    and every instance field are kept.

    Args:
        labels: Labels as read from a file.
        skeleton: The project skeleton.
        keypoint_map: Renames from the file's keypoint names to the project's.
        source: The file name to put in the error message.

    Raises:
        SkeletonMismatchError: if a project keypoint is not found or a file
            keypoint has no place; the one-line message lists both sets.
    """
    file_kps = labels.skeleton.keypoints
    pairs = match_keypoints(file_kps, skeleton.keypoints, keypoint_map)
    if pairs is None:
        raise SkeletonMismatchError(_mismatch_message(source, file_kps, skeleton))
    order = np.array([file_kps.index(pairs[p]) for p in skeleton.keypoints])
    frames = [
        FrameLabels(
            video=f.video,
            frame_idx=f.frame_idx,
            instances=[_reorder(inst, order) for inst in f.instances],
        )
        for f in labels.frames
    ]
    return LabelSet(
        skeleton=skeleton, videos=labels.videos, frames=frames, tracks=labels.tracks
    )


def _reorder(
    inst: Instance, order: np.ndarray[tuple[int], np.dtype[np.intp]]
) -> Instance:
    return Instance(
        keypoints=inst.keypoints[order],
        visibility=inst.visibility[order],
        box=inst.box,
        box_score=inst.box_score,
        keypoint_scores=None
        if inst.keypoint_scores is None
        else inst.keypoint_scores[order],
        source=inst.source,
        track_id=inst.track_id,
        id=inst.id,
        version=inst.version,
        author=inst.author,
    )


def _mismatch_message(
    source: str, file_kps: tuple[str, ...], skeleton: Skeleton
) -> str:
    project = skeleton.keypoints
    unmatched_file = [f for f in file_kps if f not in project]
    unmatched_project = [p for p in project if p not in file_kps]
    hint = (
        ",".join(
            f"{f}={p}" for f, p in zip(unmatched_file, unmatched_project, strict=False)
        )
        or "FILE=PROJECT"
    )
    return (
        f"{source}: keypoints do not match the project skeleton: "
        f"file has {list(file_kps)}, project has {list(project)}; "
        f"map them with --keypoint-map {hint}"
    )
