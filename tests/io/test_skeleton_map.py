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
# a DeepLabCut file with more bodyparts than the project
DLC_NAMES = ["snout", "leftear", "rightear", "tailbase", "tailend", "paw1LH_top"]
DLC_MAP = {"snout": "nose", "leftear": "earL", "rightear": "earR"}


def file_labels(names: list[str]) -> LabelSet:
    k = len(names)
    inst = Instance(
        keypoints=np.arange(2 * k, dtype=float).reshape(k, 2),
        visibility=[2, 1] * (k // 2) + [2] * (k % 2),
        keypoint_scores=np.linspace(0.1, 0.9, k),
        source="predicted",
        track_id=0,
        author="Pranav",
    )
    return LabelSet(
        Skeleton(tuple(names)), [VideoRef("v.mp4")], [FrameLabels(0, 5, [inst])], ["a"]
    )


def test_reorders_by_exact_and_case_insensitive_name() -> None:
    labels = file_labels(["TailBase", "earR", "Nose", "earL"])
    mapped, match = map_to_skeleton(labels, PROJECT)
    assert mapped.skeleton == PROJECT
    assert (match.dropped, match.unlabeled) == ((), ())
    (inst,) = mapped.frames[0].instances
    (orig,) = labels.frames[0].instances
    order = [2, 3, 1, 0]  # nose, earL, earR, tailbase in the file
    np.testing.assert_array_equal(inst.keypoints, orig.keypoints[order])
    np.testing.assert_array_equal(inst.visibility, orig.visibility[order])
    assert inst.keypoint_scores is not None and orig.keypoint_scores is not None
    np.testing.assert_array_equal(inst.keypoint_scores, orig.keypoint_scores[order])
    assert (inst.track_id, inst.source, mapped.tracks) == (0, "predicted", ("a",))
    assert inst.author == "Pranav"
    assert mapped.frames[0].frame_idx == 5


def test_reorders_through_keypoint_map() -> None:
    labels = file_labels(["snout", "leftear", "rightear", "tailbase"])
    mapped, _ = map_to_skeleton(labels, PROJECT, DLC_MAP)
    np.testing.assert_array_equal(
        mapped.frames[0].instances[0].keypoints, labels.frames[0].instances[0].keypoints
    )


def test_map_wins_over_an_exact_name() -> None:
    # the file's "earL" is really the right ear
    match = match_keypoints(
        ("nose", "earL", "earR", "tailbase"),
        PROJECT.keypoints,
        {"earL": "earR", "earR": "earL"},
    )
    assert match.pairs == {
        "nose": "nose",
        "earL": "earR",
        "earR": "earL",
        "tailbase": "tailbase",
    }


def test_a_map_may_import_a_subset_and_names_what_it_drops() -> None:
    labels = file_labels(DLC_NAMES)
    mapped, match = map_to_skeleton(labels, PROJECT, DLC_MAP)
    assert match.dropped == ("tailend", "paw1LH_top")
    assert match.unlabeled == ()
    (inst,) = mapped.frames[0].instances
    (orig,) = labels.frames[0].instances
    np.testing.assert_array_equal(inst.keypoints, orig.keypoints[:4])
    np.testing.assert_array_equal(inst.visibility, orig.visibility[:4])


def test_with_a_map_project_keypoints_missing_from_the_file_stay_unlabeled() -> None:
    labels = file_labels(["snout", "earR"])
    mapped, match = map_to_skeleton(labels, PROJECT, {"snout": "nose"})
    assert (match.dropped, match.unlabeled) == ((), ("earL", "tailbase"))
    (inst,) = mapped.frames[0].instances
    (orig,) = labels.frames[0].instances
    np.testing.assert_array_equal(inst.visibility, [orig.visibility[0], 0, 1, 0])
    np.testing.assert_array_equal(inst.keypoints[[0, 2]], orig.keypoints)
    assert np.isnan(inst.keypoints[[1, 3]]).all()
    assert inst.keypoint_scores is not None
    assert np.isnan(inst.keypoint_scores[[1, 3]]).all()


def test_an_instance_left_without_keypoints_is_dropped() -> None:
    k = len(DLC_NAMES)
    only_tail = np.full((k, 2), np.nan)
    only_tail[4] = [3.0, 4.0]  # just "tailend", which the project lacks
    frame = FrameLabels(
        0, 0, [Instance(keypoints=only_tail), Instance(keypoints=np.ones((k, 2)))]
    )
    labels = LabelSet(Skeleton(tuple(DLC_NAMES)), [VideoRef("v.mp4")], [frame])
    mapped, _ = map_to_skeleton(labels, PROJECT, DLC_MAP)
    (inst,) = mapped.frames[0].instances
    np.testing.assert_array_equal(inst.keypoints, np.ones((4, 2)))


@pytest.mark.parametrize(
    "names",
    [
        ["snout", "earL", "earR", "tailbase"],  # a project keypoint is missing
        ["nose", "earL", "earR", "tailbase", "neck"],  # a file keypoint has no place
        ["nose", "earL", "earR"],
    ],
)
def test_without_a_map_a_mismatch_lists_both_sets(names: list[str]) -> None:
    with pytest.raises(SkeletonMismatchError) as info:
        map_to_skeleton(file_labels(names), PROJECT, source="labels.csv")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("labels.csv: keypoints do not match the project skeleton")
    assert f"file has {names}" in message
    assert f"project has {list(PROJECT.keypoints)}" in message
    assert "--keypoint-map" in message
    assert isinstance(info.value, FormatError)


def test_mismatch_hint_pairs_no_names_by_position() -> None:
    # snout and tailend are both missing: pairing them by position would be a guess
    names = ["tailend", "earL", "earR", "tailbase", "snout"]
    with pytest.raises(SkeletonMismatchError) as info:
        map_to_skeleton(file_labels(names), PROJECT)
    message = str(info.value)
    assert "tailend=nose" not in message and "snout=nose" not in message
    assert "--keypoint-map FILE=PROJECT" in message


@pytest.mark.parametrize(
    ("keypoint_map", "expected"),
    [
        ({"snot": "nose"}, "'snot' is not a file keypoint (did you mean 'snout'?)"),
        ({"snout": "noze"}, "'noze' is not a project keypoint (did you mean 'nose'?)"),
        (
            {"snout": "nose", "xyz": "earL"},
            "'xyz' is not a file keypoint (file has ['snout', 'leftear',",
        ),
        (
            {"snout": "nose", "leftear": "nose"},
            "file keypoints 'snout' and 'leftear' both go to project keypoint 'nose'",
        ),
        ({"leftear": "tailbase"}, "'leftear' and 'tailbase' both go to project"),
        (
            {"tailend": "tailend"},
            "'tailend' is not a project keypoint (did you mean 'tailbase'?)",
        ),
    ],
)
def test_bad_keypoint_map_names_the_culprit(
    keypoint_map: dict[str, str], expected: str
) -> None:
    with pytest.raises(SkeletonMismatchError) as info:
        map_to_skeleton(file_labels(DLC_NAMES), PROJECT, keypoint_map, source="f.csv")
    message = str(info.value)
    assert message.startswith("f.csv: ")
    assert expected in message
    assert "\n" not in message
