"""Training samples: a crop around one animal, its targets, and their augmentation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etholoop.io import load_labels
from etholoop.pose.heatmap.geometry import crop_matrix, invert_matrix, map_points
from etholoop.pose.heatmap.samples import (
    Augmentation,
    Jitter,
    crop_size_for,
    instance_center,
    photometric_jitter,
    render_sample,
    training_sample,
)
from etholoop.pose.heatmap.targets import refine_peaks

CROP, OUT, STRIDE, SIGMA = 60.0, 48, 2, 2.0
# nose, earL, earR, tail: the ears swap in a flip.
FLIP_IDX = [0, 2, 1, 3]


def _scene(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A textured 120 x 160 RGB image and one mouse's keypoints on it."""
    image = rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)
    keypoints = np.array([[90.2, 50.7], [82.4, 44.1], [83.9, 58.3], [60.6, 52.2]])
    return image, keypoints, np.ones(4, dtype=bool)


def test_without_augmentation_the_heatmap_peaks_map_back_to_the_keypoints(
    rng: np.random.Generator,
) -> None:
    image, keypoints, labeled = _scene(rng)
    crop, maps, weights = training_sample(
        image,
        keypoints,
        labeled,
        FLIP_IDX,
        crop_size=CROP,
        out_size=OUT,
        stride=STRIDE,
        sigma=SIGMA,
        augmentation=Augmentation.none(),
        rng=rng,
    )
    assert crop.shape == (3, OUT, OUT) and crop.dtype == np.float32
    assert crop.min() >= 0.0 and crop.max() <= 1.0
    assert maps.shape == (4, OUT // STRIDE, OUT // STRIDE)
    assert weights.tolist() == [1.0] * 4
    xy, _ = refine_peaks(maps[None], STRIDE)
    matrix = crop_matrix(instance_center(keypoints, labeled), CROP, OUT)
    np.testing.assert_allclose(
        map_points(xy[0], invert_matrix(matrix)), keypoints, atol=0.1
    )


def test_unlabeled_keypoints_get_weight_0_and_far_ones_an_empty_map(
    rng: np.random.Generator,
) -> None:
    image, keypoints, labeled = _scene(rng)
    keypoints[1] = np.nan
    labeled[1] = False
    keypoints[3] = [10.0, 110.0]  # a tail tip far outside the crop
    _, maps, weights = render_sample(
        image,
        keypoints,
        labeled,
        FLIP_IDX,
        crop_size=CROP,
        out_size=OUT,
        stride=STRIDE,
        sigma=SIGMA,
        jitter=Jitter(),
    )
    assert weights.tolist() == [1.0, 0.0, 1.0, 1.0]
    assert not maps[1].any() and not maps[3].any()
    assert maps[0].max() > 0.8 and maps[2].max() > 0.8


def test_a_grayscale_image_gives_three_equal_channels(rng: np.random.Generator) -> None:
    image, keypoints, labeled = _scene(rng)
    crop, _, _ = render_sample(
        image[:, :, 0],
        keypoints,
        labeled,
        FLIP_IDX,
        crop_size=CROP,
        out_size=OUT,
        stride=STRIDE,
        sigma=SIGMA,
        jitter=Jitter(),
    )
    assert crop.shape == (3, OUT, OUT)
    np.testing.assert_array_equal(crop[0], crop[2])


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    angle=st.floats(-180.0, 180.0),
    scale=st.floats(0.7, 1.3),
)
def test_flipping_a_sample_twice_gives_it_back_with_left_and_right_swapped_back(
    seed: int, angle: float, scale: float
) -> None:
    image, keypoints, labeled = _scene(np.random.default_rng(seed))
    labeled[2] = False  # one ear unlabeled: its weight must travel with it
    keypoints[2] = np.nan

    def sample(flip: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return render_sample(
            image,
            keypoints,
            labeled,
            FLIP_IDX,
            crop_size=CROP,
            out_size=OUT,
            stride=STRIDE,
            sigma=SIGMA,
            jitter=Jitter(angle=angle, scale=scale, flip=flip),
        )

    plain_crop, plain_maps, plain_weights = sample(False)
    crop, maps, weights = sample(True)
    assert weights.tolist() == [1.0, 0.0, 1.0, 1.0]  # the unlabeled ear moved
    # Flip the flipped sample back: mirror the pixels, swap left and right.
    np.testing.assert_allclose(maps[FLIP_IDX][:, :, ::-1], plain_maps, atol=1e-6)
    np.testing.assert_array_equal(weights[FLIP_IDX], plain_weights)
    assert np.abs(crop[:, :, ::-1] - plain_crop).max() <= 2 / 255
    xy, _ = refine_peaks(maps[None], STRIDE)
    plain_xy, _ = refine_peaks(plain_maps[None], STRIDE)
    back = xy[0, FLIP_IDX]
    back[:, 0] = OUT - back[:, 0]
    visible = plain_maps.max(axis=(1, 2)) > 0
    np.testing.assert_allclose(back[visible], plain_xy[0, visible], atol=1e-4)


def test_augmented_samples_vary_and_stay_valid(rng: np.random.Generator) -> None:
    image, keypoints, labeled = _scene(rng)
    crops = []
    for _ in range(12):
        crop, maps, weights = training_sample(
            image,
            keypoints,
            labeled,
            FLIP_IDX,
            crop_size=CROP,
            out_size=OUT,
            stride=STRIDE,
            sigma=SIGMA,
            augmentation=Augmentation(),
            rng=rng,
        )
        assert crop.min() >= 0.0 and crop.max() <= 1.0 and crop.dtype == np.float32
        assert maps.max() <= 1.0 and weights.tolist() == [1.0] * 4
        crops.append(crop)
    assert len({c.tobytes() for c in crops}) == len(crops)


def test_the_same_seed_gives_the_same_sample() -> None:
    image, keypoints, labeled = _scene(np.random.default_rng(1))
    samples = [
        training_sample(
            image,
            keypoints,
            labeled,
            FLIP_IDX,
            crop_size=CROP,
            out_size=OUT,
            stride=STRIDE,
            sigma=SIGMA,
            augmentation=Augmentation(blur=1.0),
            rng=np.random.default_rng(7),
        )
        for _ in range(2)
    ]
    for a, b in zip(*samples, strict=True):
        np.testing.assert_array_equal(a, b)


def test_jitter_draws_stay_in_the_augmentation_ranges(rng: np.random.Generator) -> None:
    aug = Augmentation(rotate=30.0, scale=0.2, translate=0.1, flip=False, blur=0.0)
    draws = [aug.draw(rng, crop_size=100.0) for _ in range(200)]
    assert all(abs(d.angle) <= 30.0 and 0.8 <= d.scale <= 1.2 for d in draws)
    assert all(max(abs(d.shift[0]), abs(d.shift[1])) <= 10.0 for d in draws)
    assert not any(d.flip for d in draws) and all(d.blur == 0.0 for d in draws)
    assert any(
        d.flip for d in (Augmentation().draw(rng, crop_size=1.0) for _ in range(20))
    )
    assert Augmentation.none().draw(rng, crop_size=100.0) == Jitter()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"rotate": -1.0}, "rotate"),
        ({"scale": 1.0}, "scale"),
        ({"translate": -0.1}, "translate"),
        ({"contrast": 1.5}, "contrast"),
        ({"brightness": -0.2}, "brightness"),
        ({"noise": -0.01}, "noise"),
        ({"blur": 1.2}, "blur"),
    ],
)
def test_an_augmentation_out_of_range_is_refused(
    kwargs: dict[str, float], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        Augmentation(**kwargs)  # type: ignore[arg-type]


def test_the_instance_center_is_the_mean_of_its_labeled_keypoints() -> None:
    keypoints = np.array([[10.0, 20.0], [np.nan, np.nan], [30.0, 40.0], [99.0, 99.0]])
    labeled = np.array([True, True, True, False])
    assert instance_center(keypoints, labeled) == (20.0, 30.0)
    with pytest.raises(ValueError, match="no labeled keypoint"):
        instance_center(keypoints, np.zeros(4, dtype=bool))


def test_the_crop_size_covers_most_animals_with_a_margin() -> None:
    sides = [40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0, 110.0, 120.0, 500.0]
    assert crop_size_for(sides) == pytest.approx(1.6 * np.percentile(sides, 90))
    assert crop_size_for([5.0, np.nan]) == 32.0
    with pytest.raises(ValueError, match="no animal"):
        crop_size_for([np.nan])


def test_the_crop_holds_every_real_mouse_in_any_rotation(shared_data: Path) -> None:
    labels = load_labels(
        shared_data / "dlc_openfield_mouse/labeled-data/m4s1/CollectedData_Pranav.csv"
    )
    instances = [inst for frame in labels.frames for inst in frame.instances]
    boxes = [inst.bounding_box() for inst in instances]
    crop_size = crop_size_for([max(b[2] - b[0], b[3] - b[1]) for b in boxes])
    assert 150.0 < crop_size < 250.0
    for inst in instances:
        center = np.array(instance_center(inst.keypoints, inst.labeled))
        radius = np.linalg.norm(inst.keypoints[inst.labeled] - center, axis=1)
        assert radius.max() < crop_size / 2


def test_photometric_jitter_changes_intensities_only(rng: np.random.Generator) -> None:
    image = np.tile(np.linspace(0, 255, 64, dtype=np.uint8), (32, 1))
    image = np.repeat(image[:, :, None], 3, axis=2)
    jittered = photometric_jitter(image, Augmentation(blur=0.0, noise=0.0), rng)
    assert jittered.shape == image.shape and jittered.dtype == np.uint8
    assert not np.array_equal(jittered, image)
    # Contrast and brightness keep the order of intensities along the ramp.
    assert (np.diff(jittered[0, :, 0].astype(int)) >= 0).all()
    unchanged = photometric_jitter(image, Augmentation.none(), rng)
    np.testing.assert_array_equal(unchanged, image)
