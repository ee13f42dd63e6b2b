"""Crops of an image: where points go, the inverse brings them back, pixels agree."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etholoop.pose.heatmap.geometry import (
    crop_matrix,
    invert_matrix,
    map_points,
    warp_crop,
)

coords = st.floats(-500.0, 1500.0, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(
    center=st.tuples(coords, coords),
    crop_size=st.floats(8.0, 600.0),
    out_size=st.integers(8, 320),
    angle=st.floats(-360.0, 360.0),
    scale=st.floats(0.25, 4.0),
    flip=st.booleans(),
    points=st.lists(st.tuples(coords, coords), min_size=1, max_size=12),
)
def test_crop_then_inverse_maps_points_back(
    center: tuple[float, float],
    crop_size: float,
    out_size: int,
    angle: float,
    scale: float,
    flip: bool,
    points: list[tuple[float, float]],
) -> None:
    matrix = crop_matrix(
        center, crop_size, out_size, angle=angle, scale=scale, flip=flip
    )
    xy = np.array(points)
    back = map_points(map_points(xy, matrix), invert_matrix(matrix))
    np.testing.assert_allclose(back, xy, rtol=0, atol=1e-6)


def test_the_crop_square_becomes_the_output_square() -> None:
    matrix = crop_matrix((100.0, 50.0), 40.0, 80)
    corners = np.array([[80.0, 30.0], [120.0, 70.0], [100.0, 50.0]])
    np.testing.assert_allclose(
        map_points(corners, matrix), [[0.0, 0.0], [80.0, 80.0], [40.0, 40.0]]
    )
    flipped = crop_matrix((100.0, 50.0), 40.0, 80, flip=True)
    np.testing.assert_allclose(
        map_points(corners, flipped), [[80.0, 0.0], [0.0, 80.0], [40.0, 40.0]]
    )
    zoomed = crop_matrix((100.0, 50.0), 40.0, 80, scale=2.0)
    np.testing.assert_allclose(map_points(corners[:1], zoomed), [[-40.0, -40.0]])


def test_a_positive_angle_turns_the_image_counter_clockwise() -> None:
    matrix = crop_matrix((0.0, 0.0), 10.0, 10, angle=90.0)
    # A point right of the centre ends up above it (y grows downwards).
    np.testing.assert_allclose(map_points(np.array([2.0, 0.0]), matrix), [5.0, 3.0])


def test_nan_points_stay_nan_and_shapes_are_kept() -> None:
    matrix = crop_matrix((10.0, 10.0), 20.0, 40, angle=30.0)
    xy = np.full((3, 2, 4, 2), 5.0)
    xy[0, 1, 2] = np.nan
    mapped = map_points(xy, matrix)
    assert mapped.shape == xy.shape
    assert np.isnan(mapped[0, 1, 2]).all()
    assert np.isfinite(np.delete(mapped.reshape(-1, 2), 6, axis=0)).all()


@pytest.mark.parametrize(
    ("angle", "scale", "flip"),
    [(0.0, 1.0, False), (37.0, 1.3, False), (-120.0, 0.8, True), (180.0, 2.0, True)],
)
@pytest.mark.parametrize("gray", [False, True])
def test_a_bright_pixel_lands_where_map_points_says(
    angle: float, scale: float, flip: bool, gray: bool
) -> None:
    image = np.zeros((120, 160, 3), dtype=np.uint8)
    row, col = 47, 101
    image[row, col] = 255
    if gray:
        image = image[:, :, 0]
    # Pixel (row, col) covers x in [col, col + 1): its centre is col + 0.5.
    dot = np.array([col + 0.5, row + 0.5])
    center = (98.3, 49.9)
    out_size = 64
    # Zoom in enough that the dot spreads over a few crop pixels.
    matrix = crop_matrix(center, 24.0, out_size, angle=angle, scale=scale, flip=flip)
    crop = warp_crop(image, matrix, out_size)
    assert crop.dtype == np.uint8
    assert crop.shape == ((out_size, out_size) if gray else (out_size, out_size, 3))
    weights = (crop if gray else crop[:, :, 0]).astype(np.float64)
    rows, cols = np.mgrid[:out_size, :out_size]
    found = np.array(
        [
            ((cols + 0.5) * weights).sum() / weights.sum(),
            ((rows + 0.5) * weights).sum() / weights.sum(),
        ]
    )
    np.testing.assert_allclose(found, map_points(dot, matrix), atol=0.05)


def test_pixels_outside_the_image_repeat_the_border() -> None:
    image = np.full((20, 20), 7, dtype=np.uint8)
    crop = warp_crop(image, crop_matrix((0.0, 0.0), 20.0, 20), 20)
    assert (crop == 7).all()


def test_a_crop_size_or_scale_that_is_not_positive_is_refused() -> None:
    with pytest.raises(ValueError, match="crop_size"):
        crop_matrix((0.0, 0.0), 0.0, 10)
    with pytest.raises(ValueError, match="scale"):
        crop_matrix((0.0, 0.0), 10.0, 10, scale=0.0)
    with pytest.raises(ValueError, match="out_size"):
        crop_matrix((0.0, 0.0), 10.0, 0)
