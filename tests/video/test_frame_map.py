"""Raw frames and positions mapped onto a normalized copy (pure, property-tested)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from etholoop.video import PreprocessParams, plan_output_size
from etholoop.video.frame_map import NOT_SHOWN, copy_frame_inds, scale_xy, size_scale
from etholoop.video.preprocess import plan_source_frames


@pytest.mark.parametrize(
    ("source_inds", "frame_inds", "expected"),
    [
        ([0, 2, 4], [0, 1, 2, 3, 4, 5], [0, -1, 1, -1, 2, -1]),  # half the rate
        ([0, 0, 1, 1, 2], [0, 1, 2], [0, 2, 4]),  # double: the first showing
        ([12, 14, 16], [11, 12, 16, 17], [-1, 0, 2, -1]),  # a trimmed range
        ([], [0, 3], [-1, -1]),
        ([0, 1, 2], [], []),
    ],
)
def test_copy_frame_inds_table(
    source_inds: list[int], frame_inds: list[int], expected: list[int]
) -> None:
    got = copy_frame_inds(np.array(source_inds, np.int64), frame_inds)
    assert got.dtype == np.int64
    assert got.tolist() == expected


params = st.builds(
    PreprocessParams,
    fps=st.none() | st.floats(1, 120),
    start_s=st.floats(0, 3),
    duration_s=st.none() | st.floats(0.05, 5),
)


@given(
    n_frames=st.integers(1, 300),
    src_fps=st.sampled_from([7.5, 15.0, 24.0, 25.0, 29.97, 30.0, 60.0]),
    params=params,
)
def test_a_raw_frame_goes_where_the_copy_first_shows_it(
    n_frames: int, src_fps: float, params: PreprocessParams
) -> None:
    shown = plan_source_frames(n_frames, src_fps, params)
    raw = np.arange(n_frames)
    placed = copy_frame_inds(shown, raw)
    found = placed != NOT_SHOWN
    # Exactly the raw frames the copy shows are placed, at a frame showing them...
    assert set(raw[found].tolist()) == set(shown.tolist())
    assert (shown[placed[found]] == raw[found]).all()
    # ...the first one...
    first = {j: k for k, j in reversed(list(enumerate(shown.tolist())))}
    assert placed[found].tolist() == [first[j] for j in raw[found].tolist()]
    # ...so no two raw frames share a copy frame, and time order is kept.
    assert (np.diff(placed[found]) > 0).all()


@given(
    width=st.integers(2, 4000),
    height=st.integers(2, 4000),
    size=st.none() | st.integers(2, 2000),
    xy=st.lists(
        st.tuples(st.floats(0, 1) | st.just(np.nan), st.floats(0, 1)),
        min_size=1,
        max_size=8,
    ),
)
def test_scaled_positions_keep_their_place_in_the_frame(
    width: int, height: int, size: int | None, xy: list[tuple[float, float]]
) -> None:
    dst = plan_output_size(width, height, size)
    scale = size_scale((width, height), dst)
    rel = np.array(xy)
    src = rel * (width, height)
    out = scale_xy(src, scale)
    assert out.shape == src.shape
    np.testing.assert_array_equal(np.isnan(out), np.isnan(src))
    # The same fraction of the frame in both, within 1e-6 px of the copy.
    np.testing.assert_allclose(out, rel * dst, atol=1e-6, rtol=0)
    # And back again.
    back = scale_xy(out, size_scale(dst, (width, height)))
    np.testing.assert_allclose(back, src, atol=1e-6, rtol=0)


def test_scale_xy_scales_boxes_and_leaves_its_input() -> None:
    box = np.array([10.0, 20.0, 30.0, 40.0])
    out = scale_xy(box.reshape(2, 2), (0.5, 0.25)).reshape(4)
    assert out.tolist() == [5.0, 5.0, 15.0, 10.0]
    assert box.tolist() == [10.0, 20.0, 30.0, 40.0]
