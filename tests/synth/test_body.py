from __future__ import annotations

import numpy as np

from etholoop.synth.body import (
    Posture,
    bounding_boxes,
    inside_silhouette,
    make_body,
    visibility,
)
from etholoop.synth.config import KEYPOINTS

TAIL_KEYPOINTS = [KEYPOINTS.index(k) for k in ("tailM", "tailE")]


def _posture(xy, heading, rng=None, n=None):
    xy = np.asarray(xy, dtype=np.float64)
    shape = xy.shape[:-1]
    rng = rng or np.random.default_rng(0)

    def rand(lo, hi):
        return rng.uniform(lo, hi, shape)

    return Posture(
        xy=xy,
        heading=np.broadcast_to(np.asarray(heading, np.float64), shape).copy(),
        bend=rand(-0.5, 0.5),
        head_yaw=rand(-0.9, 0.9),
        stretch=rand(0.6, 1.1),
        width=rand(0.9, 1.15),
        head_ext=rand(0.75, 1.0),
        tail_curl=rand(-1, 1),
        tail_phase=rand(0, 6.3),
        tail_amp=rand(0, 0.3),
        depth=rand(0, 1),
    )


def test_body_keypoints_lie_inside_their_own_silhouette(rng):
    posture = _posture(
        rng.uniform(100, 300, (500, 2)), rng.uniform(-3.2, 3.2, 500), rng
    )
    body = make_body(posture, 60.0)
    assert body.ellipses.shape == (500, 5, 5)
    assert body.keypoints.shape == (500, len(KEYPOINTS), 2)
    on_torso = [i for i in range(len(KEYPOINTS)) if i not in TAIL_KEYPOINTS]
    inside = inside_silhouette(body.ellipses, body.keypoints[:, on_torso])
    assert inside.all()
    # tail keypoints sit on the tail polyline instead
    np.testing.assert_allclose(
        body.keypoints[:, KEYPOINTS.index("tailM")], body.tail[:, 4]
    )


def test_left_ear_is_on_the_animals_left_seen_from_above():
    # Facing right (+x) in an image whose y points down, the left side is up (-y).
    posture = _posture([[100.0, 100.0]], 0.0)
    posture = Posture(
        **{
            **{name: getattr(posture, name) for name in ("xy", "heading", "depth")},
            "bend": np.zeros(1),
            "head_yaw": np.zeros(1),
            "stretch": np.ones(1),
            "width": np.ones(1),
            "head_ext": np.ones(1),
            "tail_curl": np.zeros(1),
            "tail_phase": np.zeros(1),
            "tail_amp": np.zeros(1),
        }
    )
    kp = make_body(posture, 60.0).keypoints[0]
    nose, ear_l, ear_r, tail_b = (
        kp[KEYPOINTS.index(k)] for k in ("nose", "earL", "earR", "tailB")
    )
    assert nose[0] > ear_l[0] > tail_b[0]
    assert ear_l[1] < 100.0 < ear_r[1]


def test_boxes_hold_the_body_keypoints(rng):
    posture = _posture(
        rng.uniform(100, 300, (200, 2)), rng.uniform(-3.2, 3.2, 200), rng
    )
    body = make_body(posture, 60.0)
    boxes = bounding_boxes(body.ellipses)
    on_torso = [i for i in range(len(KEYPOINTS)) if i not in TAIL_KEYPOINTS]
    kp = body.keypoints[:, on_torso]
    assert (kp >= boxes[:, None, :2]).all()
    assert (kp <= boxes[:, None, 2:]).all()
    assert ((boxes[:, 2:] - boxes[:, :2]) < 80).all()


def test_keypoints_under_an_animal_drawn_on_top_are_not_visible():
    # Animal 1 lies across animal 0's nose; depth decides who is on top.
    xy = np.array([[[100.0, 100.0], [128.0, 100.0]]])
    posture = _posture(xy, np.array([[0.0, np.pi / 2]]))
    body = make_body(posture, 60.0)
    nose = KEYPOINTS.index("nose")
    on_top = visibility(body.ellipses, body.keypoints, np.array([[0.0, 1.0]]))
    below = visibility(body.ellipses, body.keypoints, np.array([[1.0, 0.0]]))
    assert inside_silhouette(body.ellipses[0, 1], body.keypoints[0, 0, nose][None])[0]
    assert on_top[0, 0, nose] == 1
    assert (on_top[0, 1] == 2).all()
    assert below[0, 0, nose] == 2
    # equal depth: the lower index is drawn first, so it is the one hidden
    tie = visibility(body.ellipses, body.keypoints, np.array([[0.5, 0.5]]))
    np.testing.assert_array_equal(tie, on_top)
