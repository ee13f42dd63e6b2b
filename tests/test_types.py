"""The shared vocabulary validates what it is given."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from etholoop.types import (
    Detections,
    Ethogram,
    FrameLabels,
    Instance,
    LabelSet,
    Skeleton,
    Tracks,
    VideoRef,
)

MOUSE = Skeleton.from_names(
    ["nose", "earL", "earR", "tailB"],
    edges=[("nose", "earL"), ("nose", "earR")],
    symmetry=[("earL", "earR")],
)


def test_skeleton_from_names_and_flip_idx() -> None:
    assert MOUSE.edges == ((0, 1), (0, 2))
    assert MOUSE.flip_idx == [0, 2, 1, 3]
    assert MOUSE.edge_names == [("nose", "earL"), ("nose", "earR")]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"keypoints": ()}, "at least one keypoint"),
        ({"keypoints": ("a", "a")}, "repeat"),
        ({"keypoints": ("a", "b"), "edges": [(0, 2)]}, "edges pair"),
        ({"keypoints": ("a", "b", "c"), "symmetry": [(0, 1), (1, 2)]}, "twice"),
    ],
)
def test_skeleton_rejects(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Skeleton(**kwargs)  # type: ignore[arg-type]


def test_skeleton_unknown_edge_name() -> None:
    with pytest.raises(ValueError, match="unknown keypoint 'tail'"):
        Skeleton.from_names(["nose"], edges=[("nose", "tail")])


@given(
    st.integers(2, 12).flatmap(
        lambda n: st.tuples(st.just(n), st.permutations(range(n)))
    )
)
def test_flip_idx_is_an_involution(case: tuple[int, list[int]]) -> None:
    n, perm = case
    pairs = [(perm[i], perm[i + 1]) for i in range(0, n - 1, 2)]
    skeleton = Skeleton(tuple(f"k{i}" for i in range(n)), symmetry=pairs)
    flip = skeleton.flip_idx
    assert [flip[flip[i]] for i in range(n)] == list(range(n))


def test_instance_defaults_visibility_from_nan() -> None:
    inst = Instance(keypoints=[[1, 2], [np.nan, np.nan]])
    np.testing.assert_array_equal(inst.visibility, [2, 0])
    np.testing.assert_array_equal(inst.bounding_box(margin=1), [0, 1, 2, 3])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"keypoints": [1, 2]}, "expected 2 dimensions"),
        ({"keypoints": [[1, 2]], "visibility": [2, 2]}, r"visibility: expected \(1,\)"),
        ({"keypoints": [[1, 2]], "visibility": [3]}, "0, 1 or 2"),
        ({"keypoints": [[1, 2]], "box": [1, 2]}, r"box: expected \(4,\)"),
        ({"keypoints": [[1, 2]], "source": "guess"}, "source"),
    ],
)
def test_instance_rejects(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Instance(**kwargs)  # type: ignore[arg-type]


def test_label_set_checks_keypoint_count() -> None:
    frame = FrameLabels(0, 0, [Instance(keypoints=np.zeros((3, 2)))])
    with pytest.raises(ValueError, match="3 keypoints, skeleton has 4"):
        LabelSet(MOUSE, [VideoRef("v.mp4")], [frame])


def test_tracks_and_ethogram_shapes() -> None:
    xy = np.zeros((5, 2, 4, 2), np.float32)
    tracks = Tracks(xy, np.ones((5, 2, 4), np.float32), ("a", "b"), MOUSE)
    assert tracks.n_frames == 5
    with pytest.raises(ValueError, match="scores"):
        Tracks(xy, np.ones((5, 2, 3), np.float32), ("a", "b"), MOUSE)
    etho = Ethogram(np.full((5, 2, 3), 0.6, np.float32), ("r", "w", "g"), ("a", "b"))
    assert etho.threshold(0.5).values.all()
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        Ethogram(np.full((5, 2, 3), 2.0, np.float32), ("r", "w", "g"), ("a", "b"))


def test_track_names_cover_every_track_id() -> None:
    inst = Instance(keypoints=np.zeros((4, 2)), track_id=2)
    labels = LabelSet(MOUSE, [VideoRef("v.mp4")], [FrameLabels(0, 0, [inst])], ["f"])
    assert labels.track_names == ["f", "track_1", "track_2"]
    assert LabelSet(MOUSE, [VideoRef("v.mp4")], []).track_names == []


def test_detections_from_frames_keeps_each_frames_rows() -> None:
    first = (np.ones((2, 4)), [0.9, 0.8], np.zeros((2, 3, 2)), np.ones((2, 3)))
    empty = (np.zeros((0, 4)), [], np.zeros((0, 3, 2)), np.zeros((0, 3)))
    last = (np.full((1, 4), 5.0), [0.7], np.ones((1, 3, 2)), np.ones((1, 3)))
    detections = Detections.from_frames([first, empty, last], n_keypoints=3)
    assert detections.n_frames == 3
    assert detections.n_keypoints == 3
    assert detections.offsets.tolist() == [0, 2, 2, 3]
    assert detections.box_scores[detections.rows(0)].tolist() == [0.9, 0.8]
    assert detections.boxes[detections.rows(1)].shape == (0, 4)
    assert detections.boxes[detections.rows(2)].tolist() == [[5.0] * 4]


def test_detections_concatenate_equals_one_from_frames() -> None:
    rng = np.random.default_rng(1)
    frames = []
    for n in [2, 0, 1, 3, 0, 0, 2]:
        frames.append(
            (
                rng.random((n, 4)),
                rng.random(n),
                rng.random((n, 3, 2)),
                rng.random((n, 3)),
            )
        )
    whole = Detections.from_frames(frames, n_keypoints=3)
    parts = [
        Detections.from_frames(frames[a:b], 3) for a, b in [(0, 2), (2, 6), (6, 7)]
    ]
    joined = Detections.concatenate(parts, n_keypoints=3)
    for name in ("offsets", "boxes", "box_scores", "keypoints", "keypoint_scores"):
        np.testing.assert_array_equal(getattr(joined, name), getattr(whole, name))
    assert Detections.concatenate([], n_keypoints=3).n_frames == 0


def test_detections_of_a_video_without_animals() -> None:
    detections = Detections.from_frames([], n_keypoints=4)
    assert detections.n_frames == 0
    assert detections.keypoints.shape == (0, 4, 2)


@pytest.mark.parametrize(
    ("offsets", "message"),
    [([0, 3], "from 0 to 2 rows"), ([0, 2, 1, 2], "must not decrease")],
)
def test_detections_reject_offsets(offsets: list[int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Detections(
            offsets=offsets,
            boxes=np.zeros((2, 4)),
            box_scores=np.zeros(2),
            keypoints=np.zeros((2, 1, 2)),
            keypoint_scores=np.zeros((2, 1)),
        )


def test_detections_reject_mismatched_arrays() -> None:
    with pytest.raises(ValueError, match="keypoint_scores"):
        Detections(
            offsets=[0, 2],
            boxes=np.zeros((2, 4)),
            box_scores=np.zeros(2),
            keypoints=np.zeros((2, 3, 2)),
            keypoint_scores=np.zeros((2, 2)),
        )
