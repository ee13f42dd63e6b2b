"""Body geometry of a top-view mouse: the drawn parts and the keypoints on them.

One function turns posture arrays into ellipses, a tail polyline and keypoints, so
the renderer draws exactly the shapes the ground truth describes. Lengths are in
px, angles in radians, image coordinates (x right, y down).
"""

from __future__ import annotations

import numpy as np
from attrs import asdict, frozen
from numpy.typing import NDArray

from etholoop.synth.config import KEYPOINTS
from etholoop.types import NOT_VISIBLE, VISIBLE

F64 = NDArray[np.float64]

N_TAIL_SEGMENTS = 8
TAIL_SEGMENT = 0.11
"""Length of one tail segment in body lengths."""
PAW_REACH = 0.3
"""How far a flinching paw reaches past the edge of the body, in body lengths
(at least `PAW_MIN_REACH` px)."""
PAW_MIN_REACH = 4.0
PAW_WIDTH = 0.05
"""Half the width of a paw in body lengths (at least `PAW_MIN_WIDTH` px)."""
PAW_MIN_WIDTH = 1.2
PAW_TILT = 0.45
"""A fore paw points this many rad forward of straight sideways, a hind paw as
much backward."""


@frozen(eq=False)
class Posture:
    """State of each animal, every array of the same shape, e.g. (frames, animals).

    Attributes:
        xy: Body centroid in px, shape (..., 2).
        heading: Direction of the body axis in rad.
        bend: Angle between the front and rear halves of the body in rad.
        head_yaw: Head direction relative to the front half in rad.
        stretch: Length factor of the body, 1 = standing on four legs, about
            0.6 when rearing (the body foreshortens seen from above).
        width: Width factor of the body.
        head_ext: How far the head reaches from the neck, 1 = normal.
        tail_curl: Total curvature of the tail in rad.
        tail_phase: Phase of the tail's traveling wave in rad.
        tail_amp: Amplitude of the tail's wave in rad.
        depth: Height above the floor; higher animals are drawn on top.
    """

    xy: F64
    heading: F64
    bend: F64
    head_yaw: F64
    stretch: F64
    width: F64
    head_ext: F64
    tail_curl: F64
    tail_phase: F64
    tail_amp: F64
    depth: F64

    def __getitem__(self, index: int | slice) -> Posture:
        """The posture of some frames (indexing the first axis of every array)."""
        fields = asdict(self, recurse=False)
        return Posture(**{name: arr[index] for name, arr in fields.items()})


@frozen(eq=False)
class Body:
    """Drawn shapes and keypoints of animals, leading shape (...) as the posture.

    Attributes:
        ellipses: Hip, shoulder, head, left and right ear (the order they are
            drawn in, after the tail) as cx, cy, semi-major, semi-minor,
            angle (rad), shape (..., 5, 5).
        tail: Tail polyline from root to tip in px, shape (..., 9, 2).
        tail_width: Line width of each tail segment in px, shape (8,), the same
            for every animal.
        keypoints: Every keypoint of `KEYPOINTS` in px, shape (..., 9, 2).
    """

    ellipses: F64
    tail: F64
    tail_width: F64
    keypoints: F64

    def __getitem__(self, index: int | slice) -> Body:
        """The bodies of some frames (indexing the first axis of every array)."""
        return Body(
            ellipses=self.ellipses[index],
            tail=self.tail[index],
            tail_width=self.tail_width,
            keypoints=self.keypoints[index],
        )


def _unit(angle: F64) -> F64:
    return np.stack([np.cos(angle), np.sin(angle)], axis=-1)


def _left(angle: F64) -> F64:
    # Seen from above with y pointing down, an animal's left is heading - 90 deg.
    return np.stack([np.sin(angle), -np.cos(angle)], axis=-1)


def make_body(
    posture: Posture,
    body_length: float,
    floor: tuple[float, float, float, float] = (-np.inf, -np.inf, np.inf, np.inf),
) -> Body:
    """Place the parts and keypoints of animals in the given postures.

    Args:
        posture: Animal states, arrays of any common leading shape (...).
        body_length: Nose-to-tail-base length of an unstretched mouse in px.
        floor: x0, y0, x1, y1 of the floor in px; a tail that would reach past it
            is pressed along the wall instead.

    Returns:
        The shapes to draw and every keypoint of `KEYPOINTS` on them.
    """
    L = body_length
    s = posture.stretch[..., None]
    w = posture.width
    front_angle = posture.heading + posture.bend / 2
    rear_angle = posture.heading - posture.bend / 2
    head_angle = front_angle + posture.head_yaw
    front, rear, ahead = _unit(front_angle), _unit(rear_angle), _unit(head_angle)
    # A rearing mouse's head comes closer to the camera and looks larger.
    g = 1 + 0.35 * np.clip(1 - posture.stretch, 0, None)

    xy = posture.xy
    hip = xy - rear * (0.14 * L) * s
    shoulder = xy + front * (0.12 * L) * s
    neck = xy + front * (0.28 * L) * s
    head = neck + ahead * (0.10 * L * posture.head_ext * g)[..., None]
    nose = head + ahead * (0.15 * L * g)[..., None]
    ear_base = head - ahead * (0.055 * L * g)[..., None]
    side = _left(head_angle) * (0.08 * L * g)[..., None]
    ear_l, ear_r = ear_base + side, ear_base - side
    tail_b = hip - rear * (0.21 * L) * s

    stretch = posture.stretch
    ellipses = np.stack(
        [
            _ellipse(hip, 0.26 * L * stretch, 0.175 * L * w, rear_angle),
            _ellipse(shoulder, 0.22 * L * stretch, 0.145 * L * w, front_angle),
            _ellipse(head, 0.17 * L * g, 0.092 * L * g, head_angle),
            _ellipse(ear_l, 0.052 * L * g, 0.046 * L * g, head_angle),
            _ellipse(ear_r, 0.052 * L * g, 0.046 * L * g, head_angle),
        ],
        axis=-2,
    )

    j = np.arange(N_TAIL_SEGMENTS) / N_TAIL_SEGMENTS
    seg_angle = (
        rear_angle[..., None]
        + np.pi
        + posture.tail_curl[..., None] * (j + 1 / N_TAIL_SEGMENTS)
        + posture.tail_amp[..., None]
        * np.sin(posture.tail_phase[..., None] - 1.8 * np.pi * j)
    )
    steps = _unit(seg_angle) * (TAIL_SEGMENT * L)
    root = hip - rear * (0.24 * L) * s
    tail = np.concatenate(
        [root[..., None, :], root[..., None, :] + np.cumsum(steps, axis=-2)], axis=-2
    )
    tail_width = np.maximum(np.linspace(0.06, 0.025, N_TAIL_SEGMENTS) * L, 3.0)
    x0, y0, x1, y1 = floor
    tail[..., 1:, :] = np.clip(tail[..., 1:, :], (x0 + 2, y0 + 2), (x1 - 2, y1 - 2))
    steps = np.diff(tail, axis=-2)

    middle = tail[..., N_TAIL_SEGMENTS // 2, :]
    # The tip keypoint sits just inside the end of the last drawn segment.
    tip = tail[..., -1, :] - steps[..., -1, :] * 0.08
    points = {
        "nose": nose,
        "head": head,
        "earL": ear_l,
        "earR": ear_r,
        "neck": neck,
        "centroid": xy,
        "tailB": tail_b,
        "tailM": middle,
        "tailE": tip,
    }
    keypoints = np.stack([points[name] for name in KEYPOINTS], axis=-2)
    return Body(
        ellipses=ellipses, tail=tail, tail_width=tail_width, keypoints=keypoints
    )


def paw_ellipses(
    ellipses: F64,
    extension: F64,
    side: F64,
    shoulder: NDArray[np.bool_],
    body_length: float,
) -> F64:
    """The paw a flinching animal shoots out from the side of its hip or shoulder.

    The paw is an ellipse from inside the body part out past its edge by
    `extension` of its reach; it is drawn under the body, so only what sticks out
    shows. No keypoint lies on it.

    Args:
        ellipses: Parts as in `Body.ellipses`, shape (..., 5, 5).
        extension: How far each paw is out, 0..1 of its reach, shape (...).
        side: +1 = out of the animal's left, -1 = right, 0 = no paw, shape (...).
        shoulder: From the shoulder rather than the hip, shape (...).
        body_length: Nose-to-tail-base length in px.

    Returns:
        Paw ellipses cx, cy, semi-major, semi-minor, angle (rad), shape (..., 5);
        NaN where `side` is 0.
    """
    part = np.where(shoulder[..., None], ellipses[..., 1, :], ellipses[..., 0, :])
    cx, cy, a, b, axis = np.moveaxis(part, -1, 0)
    # Straight sideways on the left is the axis - 90 deg (y points down).
    turn = np.where(shoulder, np.pi / 2 - PAW_TILT, np.pi / 2 + PAW_TILT)
    relative = -side * turn
    edge = a * b / np.hypot(b * np.cos(relative), a * np.sin(relative))
    reach = max(PAW_REACH * body_length, PAW_MIN_REACH)
    inner, outer = 0.5 * edge, edge + extension * reach
    direction = _unit(axis + relative)
    center = np.stack([cx, cy], axis=-1) + direction * ((inner + outer) / 2)[..., None]
    minor = np.full_like(a, max(PAW_WIDTH * body_length, PAW_MIN_WIDTH))
    paw = _ellipse(center, (outer - inner) / 2, minor, axis + relative)
    return np.where((side != 0)[..., None], paw, np.nan)


def _ellipse(center: F64, major: F64, minor: F64, angle: F64) -> F64:
    return np.concatenate([center, np.stack([major, minor, angle], axis=-1)], axis=-1)


def inside_silhouette(ellipses: F64, points: F64) -> NDArray[np.bool_]:
    """Which points fall inside the body, head or ears (the tail is left out).

    Args:
        ellipses: One animal's parts, shape (..., 5, 5) as in `Body.ellipses`.
        points: Points in px, shape (..., P, 2) with the same leading shape.

    Returns:
        Shape (..., P): True where a point lies inside any part.
    """
    e = ellipses[..., None, :, :]
    d = points[..., :, None, :] - e[..., :2]
    cos, sin = np.cos(e[..., 4]), np.sin(e[..., 4])
    u = (d[..., 0] * cos + d[..., 1] * sin) / e[..., 2]
    v = (d[..., 1] * cos - d[..., 0] * sin) / e[..., 3]
    return np.asarray((u * u + v * v < 1.0).any(axis=-1), dtype=bool)


def ellipse_extents(ellipses: F64) -> F64:
    """Axis-aligned boxes x1, y1, x2, y2 around each ellipse, shape (..., 4)."""
    a, b, angle = ellipses[..., 2], ellipses[..., 3], ellipses[..., 4]
    cos, sin = np.cos(angle), np.sin(angle)
    half_x = np.hypot(a * cos, b * sin)
    half_y = np.hypot(a * sin, b * cos)
    cx, cy = ellipses[..., 0], ellipses[..., 1]
    return np.stack([cx - half_x, cy - half_y, cx + half_x, cy + half_y], axis=-1)


def bounding_boxes(ellipses: F64) -> F64:
    """Boxes x1, y1, x2, y2 around body, head and ears (tail left out), shape (..., 4).

    Args:
        ellipses: Parts as in `Body.ellipses`, shape (..., 5, 5).
    """
    ext = ellipse_extents(ellipses)
    return np.concatenate(
        [ext[..., :2].min(axis=-2), ext[..., 2:].max(axis=-2)], axis=-1
    )


def visibility(ellipses: F64, keypoints: F64, depth: F64) -> NDArray[np.uint8]:
    """COCO visibility of keypoints: 1 under an animal drawn on top, else 2.

    Animals are drawn in increasing depth (ties by index), so a keypoint is hidden
    when it falls inside the silhouette of an animal drawn later.

    Args:
        ellipses: Parts, shape (frames, animals, 5, 5).
        keypoints: Keypoints, shape (frames, animals, K, 2).
        depth: Height of each animal, shape (frames, animals).

    Returns:
        Shape (frames, animals, K), uint8.
    """
    rank = np.argsort(np.argsort(depth, axis=1, kind="stable"), axis=1)
    hidden = np.zeros(keypoints.shape[:-1], dtype=bool)
    for j in range(depth.shape[1]):
        covered = inside_silhouette(ellipses[:, j, None], keypoints)
        above = rank[:, j, None] > rank
        hidden |= covered & above[..., None]
    return np.where(hidden, NOT_VISIBLE, VISIBLE).astype(np.uint8)
