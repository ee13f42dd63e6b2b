"""Mirroring instances left-right: where points and boxes go; twice is no change."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from etholoop.pose.flip import flip_instances
from etholoop.types import Instance, Skeleton

WIDTH = 640


def test_a_flip_moves_x_to_width_minus_x_and_swaps_left_and_right() -> None:
    skeleton = Skeleton.from_names(
        ["nose", "earL", "earR"], symmetry=[("earL", "earR")]
    )
    inst = Instance(
        keypoints=[[100.0, 50.0], [90.0, 40.0], [np.nan, np.nan]],
        visibility=[2, 1, 0],
        box=[80.0, 30.0, 130.0, 70.0],
        box_score=0.8,
        keypoint_scores=[0.9, 0.4, 0.1],
        source="predicted",
    )
    (flipped,) = flip_instances([inst], WIDTH, skeleton.flip_idx)
    np.testing.assert_array_equal(
        flipped.keypoints, [[540.0, 50.0], [np.nan, np.nan], [550.0, 40.0]]
    )
    assert flipped.visibility.tolist() == [2, 0, 1]
    assert flipped.keypoint_scores.tolist() == [0.9, 0.1, 0.4]
    assert flipped.box.tolist() == [510.0, 30.0, 560.0, 70.0]  # x1 < x2 still
    assert (flipped.box_score, flipped.source) == (0.8, "predicted")
    assert inst.keypoints[0, 0] == 100.0  # the input is left alone


def test_instances_without_box_or_scores_stay_without() -> None:
    inst = Instance(keypoints=[[0.0, 1.0], [WIDTH, 2.0]])
    (flipped,) = flip_instances([inst], WIDTH, [0, 1])
    assert flipped.box is None and flipped.keypoint_scores is None
    assert flipped.keypoints.tolist() == [[WIDTH, 1.0], [0.0, 2.0]]
    assert flip_instances([], WIDTH, [0, 1]) == []


@pytest.mark.parametrize("flip_idx", [[0, 0], [0], [0, 1, 2], [1, 2]])
def test_a_flip_idx_that_is_no_permutation_is_refused(flip_idx: list[int]) -> None:
    with pytest.raises(ValueError, match="no permutation of 2 keypoints"):
        flip_instances([Instance(keypoints=np.zeros((2, 2)))], WIDTH, flip_idx)


@st.composite
def symmetric_flips(draw: st.DrawFn) -> list[int]:
    """A flip_idx that swaps some disjoint pairs of keypoints and fixes the rest."""
    n = draw(st.integers(1, 8))
    order = draw(st.permutations(range(n)))
    n_pairs = draw(st.integers(0, n // 2))
    flip_idx = list(range(n))
    for a, b in zip(order[: 2 * n_pairs : 2], order[1 : 2 * n_pairs : 2], strict=True):
        flip_idx[a], flip_idx[b] = b, a
    return flip_idx


@st.composite
def instances(draw: st.DrawFn, n_keypoints: int) -> Instance:
    """An instance with finite or missing keypoints, maybe a box and scores."""
    coordinate = st.floats(-50, WIDTH + 50, allow_nan=False) | st.just(np.nan)
    keypoints = draw(arrays(np.float64, (n_keypoints, 2), elements=coordinate))
    x1, x2 = sorted(draw(st.lists(st.floats(0, WIDTH), min_size=2, max_size=2)))
    has_box, has_scores = draw(st.booleans()), draw(st.booleans())
    return Instance(
        keypoints=keypoints,
        visibility=draw(
            arrays(np.uint8, n_keypoints, elements=st.sampled_from([0, 1, 2]))
        ),
        box=[x1, 10.0, x2, 20.0] if has_box else None,
        keypoint_scores=draw(arrays(np.float64, n_keypoints, elements=st.floats(0, 1)))
        if has_scores
        else None,
    )


@settings(max_examples=100, deadline=None)
@given(data=st.data(), flip_idx=symmetric_flips())
def test_flipping_twice_gives_the_instances_back(
    data: st.DataObject, flip_idx: list[int]
) -> None:
    found = data.draw(st.lists(instances(len(flip_idx)), max_size=3))
    once = flip_instances(found, WIDTH, flip_idx)
    assert all(i.box is None or i.box[0] <= i.box[2] for i in once)
    back = flip_instances(once, WIDTH, flip_idx)
    assert len(back) == len(found)
    for before, after in zip(found, back, strict=True):
        np.testing.assert_allclose(after.keypoints, before.keypoints, atol=1e-9)
        np.testing.assert_array_equal(after.visibility, before.visibility)
        if before.box is None:
            assert after.box is None
        else:
            np.testing.assert_allclose(after.box, before.box, atol=1e-9)
        if before.keypoint_scores is None:
            assert after.keypoint_scores is None
        else:
            np.testing.assert_array_equal(after.keypoint_scores, before.keypoint_scores)
