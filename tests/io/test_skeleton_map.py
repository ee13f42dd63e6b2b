"""Fitting imported labels to the project skeleton by keypoint name."""

from __future__ import annotations

import numpy as np
import pytest

from etholoop.errors import FormatError, SkeletonMismatchError
from etholoop.io import map_to_skeleton, match_keypoints
from etholoop.types import FrameLabels, Instance, LabelSet, Skeleton, VideoRef

PROJECT = Skeleton.from_names(
    ["nose", "earL", "earR", "tailbase"], symmetry=[("earL", "earR")]
)


def file_labels(names: list[str]) -> LabelSet:
    k = len(names)
    inst = Instance(
        keypoints=np.arange(2 * k, dtype=float).reshape(k, 2),
        visibility=[2, 1] * (k // 2) + [2] * (k % 2),
        keypoint_scores=np.linspace(0.1, 0.9, k),
        source="predicted",
        track_id=0,
    )
    return LabelSet(
        Skeleton(tuple(names)), [VideoRef("v.mp4")], [FrameLabels(0, 5, [inst])], ["a"]
    )


def test_reorders_by_exact_and_case_insensitive_name() -> None:
    labels = file_labels(["TailBase", "earR", "Nose", "earL"])
    mapped = map_to_skeleton(labels, PROJECT)
    assert mapped.skeleton == PROJECT
    (inst,) = mapped.frames[0].instances
    (orig,) = labels.frames[0].instances
    order = [2, 3, 1, 0]  # nose, earL, earR, tailbase in the file
    np.testing.assert_array_equal(inst.keypoints, orig.keypoints[order])
    np.testing.assert_array_equal(inst.visibility, orig.visibility[order])
    assert inst.keypoint_scores is not None and orig.keypoint_scores is not None
    np.testing.assert_array_equal(inst.keypoint_scores, orig.keypoint_scores[order])
    assert (inst.track_id, inst.source, mapped.tracks) == (0, "predicted", ("a",))
    assert mapped.frames[0].frame_idx == 5


def test_reorders_through_keypoint_map() -> None:
    labels = file_labels(["snout", "leftear", "rightear", "tailbase"])
    mapped = map_to_skeleton(
        labels, PROJECT, {"snout": "nose", "leftear": "earL", "rightear": "earR"}
    )
    np.testing.assert_array_equal(
        mapped.frames[0].instances[0].keypoints, labels.frames[0].instances[0].keypoints
    )


def test_map_wins_over_an_exact_name() -> None:
    # the file's "earL" is really the right ear
    pairs = match_keypoints(
        ("nose", "earL", "earR", "tailbase"),
        PROJECT.keypoints,
        {"earL": "earR", "earR": "earL"},
    )
    assert pairs == {
        "nose": "nose",
        "earL": "earR",
        "earR": "earL",
        "tailbase": "tailbase",
    }


@pytest.mark.parametrize(
    "names",
    [
        ["snout", "earL", "earR", "tailbase"],  # a project keypoint is missing
        ["nose", "earL", "earR", "tailbase", "neck"],  # a file keypoint has no place
        ["nose", "earL", "earR"],
    ],
)
def test_mismatch_lists_both_sets(names: list[str]) -> None:
    with pytest.raises(SkeletonMismatchError) as info:
        map_to_skeleton(file_labels(names), PROJECT, source="labels.csv")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("labels.csv: keypoints do not match the project skeleton")
    assert f"file has {names}" in message
    assert f"project has {list(PROJECT.keypoints)}" in message
    assert "--keypoint-map" in message
    assert isinstance(info.value, FormatError)


def test_mismatch_suggests_a_mapping() -> None:
    with pytest.raises(SkeletonMismatchError, match="--keypoint-map snout=nose$"):
        map_to_skeleton(file_labels(["snout", "earL", "earR", "tailbase"]), PROJECT)
