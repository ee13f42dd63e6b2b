from __future__ import annotations

import pytest

from etholoop.synth import ArenaSpec
from etholoop.synth.config import BEHAVIORS, KEYPOINTS, floor_rect


def test_defaults_follow_the_frame_size():
    spec = ArenaSpec()
    assert (spec.width, spec.height, spec.fps) == (640, 480, 30.0)
    assert spec.behaviors == BEHAVIORS
    assert spec.keypoints == ("nose", "earL", "earR", "tailB")
    assert spec.body_length == pytest.approx(72.0)
    assert spec.contact_distance == pytest.approx(0.8 * 72.0)
    assert ArenaSpec(width=320, height=240).body_length == pytest.approx(36.0)
    assert spec.individuals == ("mouse0", "mouse1", "mouse2")


def test_floor_lies_inside_the_frame():
    x0, y0, x1, y1 = floor_rect(ArenaSpec(width=320, height=240))
    assert 0 < x0 < x1 < 320
    assert 0 < y0 < y1 < 240


def test_every_known_keypoint_is_accepted():
    assert ArenaSpec(keypoints=KEYPOINTS).keypoints == KEYPOINTS


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"n_animals": 0}, "n_animals: must be >= 1"),
        ({"n_frames": 0}, "n_frames: must be >= 1"),
        ({"width": 641}, "width: must be an even number"),
        ({"height": 32}, "height: must be an even number"),
        ({"fps": 0}, "fps: must be >= 1"),
        ({"seed": -1}, "seed: must be >= 0"),
        ({"blur": -1}, "blur: must be >= 0"),
        ({"noise": -0.5}, "noise: must be >= 0"),
        ({"behaviors": ("rest", "sleep")}, "behaviors: expected distinct names"),
        ({"behaviors": ()}, "behaviors: expected distinct names"),
        ({"keypoints": ("nose", "nose")}, "keypoints: expected distinct names"),
        ({"keypoints": ("paw",)}, "keypoints: expected distinct names"),
        ({"min_contacts": -1}, "min_contacts: must be >= 0"),
        ({"n_animals": 1, "behaviors": ("chase",)}, "no one to chase"),
        ({"n_animals": 1, "min_contacts": 1}, "at least 2 animals"),
        ({"behaviors": ("rest", "groom"), "min_contacts": 1}, "'walk' or 'chase'"),
        ({"body_length": 200.0}, "does not fit"),
    ],
)
def test_invalid_specs_are_refused(fields, message):
    with pytest.raises(ValueError, match=message):
        ArenaSpec(**fields)
