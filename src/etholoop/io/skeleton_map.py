"""Map imported labels onto the project skeleton by keypoint name."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence

import numpy as np
from attrs import evolve, frozen

from etholoop.errors import SkeletonMismatchError
from etholoop.io._common import instance_box
from etholoop.types import NOT_LABELED, FrameLabels, Instance, LabelSet, Skeleton


@frozen
class KeypointMatch:
    """Where each file keypoint goes in the project skeleton.

    Attributes:
        pairs: {project keypoint: file keypoint} for each project keypoint the
            file has, in project order.
        dropped: File keypoints that go nowhere and are not imported, in file
            order (only when a keypoint map was given).
        unlabeled: Project keypoints the file lacks, left unlabeled (only when a
            keypoint map was given).
    """

    pairs: dict[str, str]
    dropped: tuple[str, ...] = ()
    unlabeled: tuple[str, ...] = ()


def match_keypoints(
    file_keypoints: Sequence[str],
    project_keypoints: Sequence[str],
    keypoint_map: Mapping[str, str] | None = None,
    *,
    source: str = "labels",
) -> KeypointMatch:
    """Pair project keypoints with file keypoints by name.

    A file keypoint named in `keypoint_map` ({file name: project name}) goes
    where the map says, even if its name also exists in the project; the others
    match a project keypoint of the same name, else of the same name ignoring
    case. Names are never paired by position.

    Without a map (None or empty) every keypoint must match on both sides. With
    a map, the import may be partial, as a DeepLabCut user with more bodyparts
    than the project expects: file keypoints that match nothing are dropped
    and project keypoints the file lacks stay unlabeled (visibility 0) to be
    labeled later; both are listed in the result so the caller can say so.

    Args:
        file_keypoints: Keypoint names in the file, in file order.
        project_keypoints: Keypoint names of the project skeleton.
        keypoint_map: Renames from the file's keypoint names to the project's.
        source: The file name to put in error messages.

    Raises:
        SkeletonMismatchError: without a map, if the names differ (the one-line
            message lists both sets); with one, if the map names a keypoint
            that does not exist (with the closest existing name) or two file
            keypoints would go to one project keypoint.
    """
    file_kps, project_kps = tuple(file_keypoints), tuple(project_keypoints)
    mapping = dict(keypoint_map or {})
    _check_map(mapping, file_kps, project_kps, source)
    claims: dict[str, list[str]] = {}  # project keypoint -> file keypoints
    for f in file_kps:
        target = mapping.get(f) or _same_name(f, project_kps)
        if target is not None:
            claims.setdefault(target, []).append(f)
    for project, files in claims.items():
        if len(files) > 1:
            names = " and ".join(repr(f) for f in files)
            raise SkeletonMismatchError(
                f"{source}: file keypoints {names} both go to project keypoint "
                f"{project!r}; map one of them elsewhere with --keypoint-map"
            )
    pairs = {p: claims[p][0] for p in project_kps if p in claims}
    dropped = tuple(f for f in file_kps if f not in pairs.values())
    unlabeled = tuple(p for p in project_kps if p not in pairs)
    if not mapping and (dropped or unlabeled):
        raise SkeletonMismatchError(
            f"{source}: keypoints do not match the project skeleton: "
            f"file has {list(file_kps)} (not in the project: {list(dropped)}), "
            f"project has {list(project_kps)} (not in the file: {list(unlabeled)}); "
            "map them with --keypoint-map FILE=PROJECT,... "
            "(file keypoints it leaves out are dropped)"
        )
    return KeypointMatch(pairs, dropped, unlabeled)


def _same_name(name: str, project_kps: tuple[str, ...]) -> str | None:
    """The project keypoint of this name, else the one equal ignoring case."""
    if name in project_kps:
        return name
    folded = [p for p in project_kps if p.casefold() == name.casefold()]
    return folded[0] if len(folded) == 1 else None


def _check_map(
    mapping: Mapping[str, str],
    file_kps: tuple[str, ...],
    project_kps: tuple[str, ...],
    source: str,
) -> None:
    """Refuse a map that names a keypoint that exists on neither side."""
    problems = []
    for file_name, project_name in mapping.items():
        if file_name not in file_kps:
            problems.append(_unknown(file_name, "file", file_kps))
        if project_name not in project_kps:
            problems.append(_unknown(project_name, "project", project_kps))
    if problems:
        raise SkeletonMismatchError(f"{source}: --keypoint-map: {'; '.join(problems)}")


def _unknown(name: str, side: str, names: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(name, names, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"{side} has {list(names)}"
    return f"{name!r} is not a {side} keypoint ({hint})"


def map_to_skeleton(
    labels: LabelSet,
    skeleton: Skeleton,
    keypoint_map: Mapping[str, str] | None = None,
    *,
    source: str = "labels",
) -> tuple[LabelSet, KeypointMatch]:
    """Reorder every instance's keypoints to the project skeleton, by name.

    Keypoints are paired by `match_keypoints` (see there for partial imports
    with a map). The result has the project skeleton; videos, frames, tracks
    and every instance field are kept, except that keypoints the file lacks
    are unlabeled and an instance left with no labeled keypoint and no box is
    dropped.

    Args:
        labels: Labels as read from a file.
        skeleton: The project skeleton.
        keypoint_map: Renames from the file's keypoint names to the project's.
        source: The file name to put in error messages.

    Returns:
        The mapped labels, and how the keypoints were matched.

    Raises:
        SkeletonMismatchError: as `match_keypoints`.
    """
    file_kps = labels.skeleton.keypoints
    match = match_keypoints(file_kps, skeleton.keypoints, keypoint_map, source=source)
    # position in the file of each project keypoint; -1 where the file lacks it
    pairs = match.pairs
    order = np.array(
        [file_kps.index(pairs[p]) if p in pairs else -1 for p in skeleton.keypoints]
    )
    frames = [
        FrameLabels(
            video=f.video,
            frame_idx=f.frame_idx,
            instances=[
                inst
                for inst in (_reorder(i, order) for i in f.instances)
                if instance_box(inst) is not None
            ],
        )
        for f in labels.frames
    ]
    mapped = LabelSet(
        skeleton=skeleton, videos=labels.videos, frames=frames, tracks=labels.tracks
    )
    return mapped, match


def _take(
    values: np.ndarray, order: np.ndarray[tuple[int], np.dtype[np.intp]], fill: float
) -> np.ndarray:
    """`values[order]` along the first axis, `fill` where `order` is -1."""
    missing = (order < 0).reshape(-1, *[1] * (values.ndim - 1))
    return np.where(missing, fill, values[np.maximum(order, 0)])


def _reorder(
    inst: Instance, order: np.ndarray[tuple[int], np.dtype[np.intp]]
) -> Instance:
    scores = inst.keypoint_scores
    return evolve(
        inst,
        keypoints=_take(inst.keypoints, order, np.nan),
        visibility=_take(inst.visibility, order, NOT_LABELED),
        keypoint_scores=None if scores is None else _take(scores, order, np.nan),
    )
