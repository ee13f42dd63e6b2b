"""Keypoint heatmaps and their peaks: targets, weights, sub-pixel peak recovery."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etholoop.pose.heatmap.targets import find_peaks, keypoint_heatmaps, refine_peaks

OUT_SIZE, STRIDE = 64, 2


def test_each_labeled_keypoint_gets_a_gaussian_peaking_at_it() -> None:
    # Crop px 11.0 is the centre of heatmap cell 5 at stride 2 (it covers 10..12).
    points = np.array([[11.0, 21.0], [30.0, 40.0]])
    maps, weights = keypoint_heatmaps(
        points, np.array([True, True]), OUT_SIZE, STRIDE, sigma=3.0
    )
    assert maps.shape == (2, 32, 32) and maps.dtype == np.float32
    assert weights.tolist() == [1.0, 1.0] and weights.dtype == np.float32
    assert maps[0, 10, 5] == pytest.approx(1.0)
    assert np.unravel_index(maps[0].argmax(), maps[0].shape) == (10, 5)
    # sigma is in crop px: one cell (2 px) away the value is exp(-4 / 18).
    assert maps[0, 10, 6] == pytest.approx(np.exp(-4 / 18), rel=1e-6)
    assert maps.max() <= 1.0 and maps.min() >= 0.0


def test_unlabeled_keypoints_get_weight_0_and_an_empty_map() -> None:
    points = np.array([[11.0, 21.0], [np.nan, np.nan], [30.0, 30.0]])
    labeled = np.array([True, False, False])
    maps, weights = keypoint_heatmaps(points, labeled, OUT_SIZE, STRIDE, sigma=2.0)
    assert weights.tolist() == [1.0, 0.0, 0.0]
    assert not maps[1].any() and not maps[2].any()
    assert maps[0].max() > 0.9


@pytest.mark.parametrize(
    "point", [[-0.5, 20.0], [20.0, -3.0], [64.0, 20.0], [20.0, 64.2], [1e6, 1e6]]
)
def test_a_labeled_keypoint_outside_the_crop_gets_an_empty_map_and_weight_1(
    point: list[float],
) -> None:
    maps, weights = keypoint_heatmaps(
        np.array([point]), np.array([True]), OUT_SIZE, STRIDE, sigma=2.0
    )
    assert weights.tolist() == [1.0]
    assert not maps.any()


def test_a_crop_that_the_stride_does_not_divide_is_refused() -> None:
    with pytest.raises(ValueError, match="out_size 63 .* stride 2"):
        keypoint_heatmaps(np.zeros((1, 2)), np.array([True]), 63, 2, sigma=2.0)


@settings(max_examples=150, deadline=None)
@given(
    # Away from the border cells (at stride 4 they reach 4 px in), which keep
    # their cell centre.
    x=st.floats(5.0, 59.0),
    y=st.floats(5.0, 59.0),
    sigma=st.floats(1.0, 6.0),
    stride=st.sampled_from([1, 2, 4]),
)
def test_refine_peaks_recovers_a_gaussian_peak_to_a_tenth_of_a_pixel(
    x: float, y: float, sigma: float, stride: int
) -> None:
    maps, _ = keypoint_heatmaps(
        np.array([[x, y], [y, x]]), np.array([True, True]), OUT_SIZE, stride, sigma
    )
    xy, scores = refine_peaks(maps[None] * 0.8, stride)
    assert xy.shape == (1, 2, 2) and scores.shape == (1, 2)
    np.testing.assert_allclose(xy[0], [[x, y], [y, x]], atol=0.1)
    np.testing.assert_allclose(scores[0], maps.max(axis=(1, 2)) * 0.8, rtol=1e-6)


def test_refine_peaks_keeps_a_peak_on_the_border_in_its_cell() -> None:
    maps = np.zeros((1, 1, 8, 8), dtype=np.float32)
    maps[0, 0, 0, 7] = 1.0
    maps[0, 0, 0, 6] = 0.5
    xy, scores = refine_peaks(maps, 2)
    assert scores[0, 0] == 1.0
    # No neighbour beyond the border to fit with: the cell's centre on both axes.
    np.testing.assert_allclose(xy[0, 0], [15.0, 1.0])


def test_refine_peaks_survives_flat_and_negative_maps() -> None:
    maps = np.stack([np.zeros((6, 6)), np.full((6, 6), -0.3)])[None]
    xy, scores = refine_peaks(maps.astype(np.float32), 4)
    assert np.isfinite(xy).all()
    np.testing.assert_allclose(scores, [[0.0, -0.3]], rtol=1e-6)


def test_find_peaks_finds_several_animals_and_suppresses_their_shoulders() -> None:
    centres = [(10.3, 12.6), (40.7, 20.2), (25.5, 50.1)]
    maps, _ = keypoint_heatmaps(
        np.array(centres), np.ones(3, dtype=bool), 64, 1, sigma=3.0
    )
    heatmap = (maps * np.array([1.0, 0.9, 0.7])[:, None, None]).max(axis=0)
    peaks = find_peaks(heatmap, threshold=0.2, min_distance=3, max_peaks=10)
    assert len(peaks) == 3
    # Strongest first, sub-pixel, in heatmap cells (cell centres at integers).
    np.testing.assert_allclose(
        [p[:2] for p in peaks], np.array(centres) - 0.5, atol=0.1
    )
    assert [p[2] for p in peaks] == sorted((p[2] for p in peaks), reverse=True)
    assert len(find_peaks(heatmap, threshold=0.2, min_distance=3, max_peaks=2)) == 2
    assert len(find_peaks(heatmap, threshold=0.8, min_distance=3, max_peaks=10)) == 2
    assert (
        find_peaks(np.zeros((5, 5)), threshold=0.1, min_distance=1, max_peaks=3) == []
    )


def test_find_peaks_keeps_one_of_two_close_peaks_and_one_of_a_plateau() -> None:
    heatmap = np.zeros((20, 20), dtype=np.float32)
    heatmap[5, 5], heatmap[5, 8] = 1.0, 0.9
    heatmap[15, 10:13] = 0.5
    peaks = find_peaks(heatmap, threshold=0.1, min_distance=4, max_peaks=10)
    assert [round(p[2], 6) for p in peaks] == [1.0, 0.5]
    assert (peaks[0][0], peaks[0][1]) == pytest.approx((5.0, 5.0), abs=0.5)
