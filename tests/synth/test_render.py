from __future__ import annotations

import cv2
import numpy as np
import pytest

from etholoop.synth import make_arena
from etholoop.synth.body import make_body
from etholoop.synth.config import floor_rect
from etholoop.synth.render import _Layout, to_i420

SMALL = {"width": 320, "height": 240, "n_frames": 40, "min_contacts": 0, "seed": 5}
LOOKS = [
    {},
    {"gray": True},
    {"blur": 1.3},
    {"noise": 0.0, "blur": 1.0, "n_animals": 5},
    {"gray": True, "blur": 0.7, "noise": 2.0},
]


@pytest.mark.parametrize("look", LOOKS)
def test_frames_equal_drawing_blurring_and_noising_the_whole_frame(look):
    # Only the regions around the animals are blurred and noised; the result
    # must be what doing it to the whole frame gives.
    arena = make_arena(**SMALL, **look)
    painter = arena.painter
    renderer = painter.renderer
    posture = arena.motion.posture
    body = make_body(posture, arena.spec.body_length, floor_rect(arena.spec))
    order = np.argsort(posture.depth, axis=1, kind="stable")
    layout = _Layout.build(renderer._shapes(body.ellipses), body.tail, renderer)
    widths = np.rint(body.tail_width).astype(np.int64).tolist()
    frames = list(arena.frames())
    for t in range(0, arena.n_frames, 3):
        expected = renderer.background.copy()
        for i in order[t].tolist():
            renderer._draw_animal(expected, layout, t, i, widths)
        if renderer.blur > 0:
            size = 2 * renderer.blur_radius + 1
            expected = cv2.GaussianBlur(expected, (size, size), renderer.blur)
            expected = expected.reshape(renderer.background.shape)
        if renderer.noise_up is not None and renderer.noise_down is not None:
            k = painter.noise[t]
            channels = expected.shape[2]
            up = np.repeat(renderer.noise_up[k][..., None], channels, axis=-1)
            down = np.repeat(renderer.noise_down[k][..., None], channels, axis=-1)
            expected = cv2.subtract(cv2.add(expected, up), down)
            expected = expected.reshape(renderer.background.shape)
        if arena.spec.gray:
            expected = expected[..., 0]
        np.testing.assert_array_equal(frames[t], expected)


@pytest.mark.parametrize("look", LOOKS)
def test_i420_frames_equal_converting_whole_frames(look):
    arena = make_arena(**SMALL, **look)
    fast = list(arena.painter.paint_i420(arena.motion, 0, arena.n_frames))
    assert len(fast) == arena.n_frames
    for t, frame in enumerate(arena.frames()):
        np.testing.assert_array_equal(fast[t], to_i420(frame))


def test_to_i420_maps_gray_to_limited_range_luma():
    gray = np.array([[0, 255], [128, 64]], np.uint8)
    yuv = to_i420(gray)
    assert yuv.shape == (3, 2)
    assert yuv[:2].tolist() == [[16, 235], [126, 71]]
    assert (yuv[2:] == 128).all()


def test_noise_looks_like_sensor_noise():
    arena = make_arena(**{**SMALL, "noise": 2.0})
    background = arena.painter.renderer.background.astype(np.int16)
    frames = [f.astype(np.int16) for f in arena.frames()]
    # far from the animals, frames differ from the background by the noise only
    corner = np.s_[:24, :24]
    diffs = np.stack([f[corner] - background[corner] for f in frames])
    assert diffs.std() == pytest.approx(2.0, rel=0.15)
    assert (diffs[..., 0] == diffs[..., 1]).all()  # brightness noise
    same = [np.array_equal(a, b) for a, b in zip(diffs, diffs[1:], strict=False)]
    assert sum(same) < len(same) / 2  # changes from frame to frame
