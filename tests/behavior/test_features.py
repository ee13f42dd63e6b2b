from __future__ import annotations

import numpy as np

from etholoop.behavior.features import (
    CleanParams,
    FeatureParams,
    clean_tracks,
    frame_features,
    video_features,
    windowed,
)
from etholoop.types import Skeleton, Tracks

NAMES = ("nose", "earL", "earR", "tailB")


def mouse(center: np.ndarray, heading: float, length: float = 20.0) -> np.ndarray:
    """Keypoints (4, 2) of a mouse at `center` facing `heading` (radians)."""
    u = np.array([np.cos(heading), np.sin(heading)])
    left = np.array([-u[1], u[0]])
    return np.stack(
        [
            center + u * length / 2,
            center + u * length / 4 + left * 3,
            center + u * length / 4 - left * 3,
            center - u * length / 2,
        ]
    )


def approach(scale: float = 1.0, n: int = 50) -> Tracks:
    """Mouse A walks along x towards mouse B, which stands still facing A."""
    xy = np.zeros((n, 2, 4, 2), np.float32)
    for t in range(n):
        xy[t, 0] = mouse(np.array([10.0 + 2 * t, 100.0]), 0.0)
        xy[t, 1] = mouse(np.array([150.0, 100.0]), np.pi)
    return Tracks(
        xy * scale,
        np.ones((n, 2, 4), np.float32),
        ("a", "b"),
        Skeleton.from_names(NAMES, [], []),
    )


def column(values: np.ndarray, names: list[str], name: str) -> np.ndarray:
    return values[:, names.index(name)]


def test_scripted_approach() -> None:
    tracks = approach()
    x, names = frame_features(tracks.xy, tracks.scores, 0, NAMES)
    nose_nose = column(x, names, "nose_nose")
    # Noses start 120 px apart (6 body lengths of 20 px) and close 2 px a frame.
    assert np.isclose(nose_nose[0], 6.0)
    assert np.all(np.diff(nose_nose) < 0)
    assert np.allclose(column(x, names, "approach_speed"), 0.1)
    assert np.allclose(column(x, names, "speed"), 0.1)
    assert np.allclose(column(x, names, "body_length"), 1.0)
    assert np.allclose(column(x, names, "facing_other"), 1.0)
    assert np.allclose(column(x, names, "relative_orientation"), -1.0)
    assert np.allclose(column(x, names, "turning"), 0.0)
    assert np.allclose(column(x, names, "other_speed"), 0.0)
    # Seen from B: A approaches too, but B itself does not move.
    xb, _ = frame_features(tracks.xy, tracks.scores, 1, NAMES)
    assert np.allclose(column(xb, names, "speed"), 0.0)
    assert np.allclose(column(xb, names, "approach_speed"), 0.1)
    assert np.allclose(column(xb, names, "tail_nose"), column(x, names, "nose_tail"))


def test_features_do_not_depend_on_pixel_scale() -> None:
    params = FeatureParams(windows=(3, 9), normalize=False)
    small, names = video_features(approach(1.0), params)
    large, _ = video_features(approach(3.0), params)
    assert small.shape == (50, 2, len(names)) and small.dtype == np.float32
    assert np.allclose(small, large, atol=1e-4, equal_nan=True)


def test_normalization_uses_the_video_alone() -> None:
    x, _ = video_features(approach(), FeatureParams(windows=(5,)))
    finite = np.isfinite(x).all(axis=(0, 1))
    medians = np.median(x[..., finite].reshape(-1, finite.sum()), axis=0)
    assert np.allclose(medians, 0.0, atol=1e-3)


def test_windowed_mean_skips_nan() -> None:
    values = np.array([[1.0], [np.nan], [3.0], [5.0]])
    out, names = windowed(values, ["v"], [3])
    assert names == ["v_mean3", "v_std3"]
    assert np.allclose(out[:, 0], [1.0, 2.0, 4.0, 4.0])
    assert np.allclose(out[:, 1], [0.0, 1.0, 1.0, 1.0])


def test_cleaning_drops_glitches_and_fills_short_gaps() -> None:
    tracks = approach()
    xy, scores = tracks.xy.copy(), tracks.scores.copy()
    xy[10, 0, 0] = [3100.0, 100.0]  # far outlier
    scores[20:23, 0, 1] = 0.1  # 3 frames of low confidence
    scores[30:49, 0, 2] = 0.1  # 19 frames: longer than max_gap
    dirty = Tracks(xy, scores, tracks.individuals, tracks.skeleton)
    clean = clean_tracks(dirty, CleanParams(min_score=0.5, max_gap=15))
    assert np.allclose(clean.xy[10, 0, 0], tracks.xy[10, 0, 0])  # interpolated
    assert np.allclose(clean.xy[20:23, 0, 1], tracks.xy[20:23, 0, 1])
    assert np.isnan(clean.xy[30:49, 0, 2]).all()
    assert np.allclose(clean.xy[:, 1], tracks.xy[:, 1])


def test_default_cleaning_keeps_low_scored_keypoints() -> None:
    """A hidden nose (low score) in contact keeps its position by default."""
    tracks = approach()
    scores = tracks.scores.copy()
    scores[30:49, 0, 0] = 0.01  # 19 frames, longer than max_gap
    hidden = Tracks(tracks.xy, scores, tracks.individuals, tracks.skeleton)
    clean = clean_tracks(hidden, CleanParams())
    assert np.allclose(clean.xy[30:49, 0, 0], tracks.xy[30:49, 0, 0])
