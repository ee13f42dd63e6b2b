"""Drawing frames: a static arena, textured look-alike mice, shadows, blur and noise.

The background (floor texture, lighting gradient, walls) and a bank of noise
images are made once; each frame copies the background, draws every mouse inside
its own small region of interest with anti-aliased polygons and adds a shifted
slice of the noise bank, so a 640x480 frame with three mice costs about 1.3 ms of
CPU time.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from attrs import frozen
from numpy.typing import NDArray

from etholoop.synth.body import Body
from etholoop.synth.config import WALL_MARGIN, ArenaSpec, floor_rect

U8 = NDArray[np.uint8]
F32 = NDArray[np.float32]

OUTSIDE = (34.0, 34.0, 38.0)
WALLS = ((182.0, 182.0, 186.0), (150.0, 150.0, 156.0), (124.0, 124.0, 130.0))
"""Inner wall faces: lit (top, left), side (right), in shade (bottom)."""
FLOOR = (204.0, 197.0, 184.0)
SPECK = (140.0, 124.0, 104.0)
FUR = (58.0, 55.0, 53.0)
FUR_MID = (72.0, 68.0, 65.0)
FUR_LIGHT = (90.0, 86.0, 82.0)
FUR_TEXTURE = 9.0
"""Standard deviation of the fur texture in gray levels."""
EAR = (116.0, 98.0, 100.0)
TAIL = (122.0, 102.0, 104.0)

SHADE = 155
"""Light left (of 255) under an animal's shadow."""
NOISE_BANK = 4
"""Noise images made once; each frame takes a randomly shifted window of one."""
NOISE_PAD = 32
"""How much larger than a frame each noise image is, in px per side."""
SHIFT = 4
"""Fractional bits of the coordinates given to cv2 drawing, for subpixel shapes."""
ONE = 1 << SHIFT


@frozen(eq=False)
class Renderer:
    """Everything needed to draw frames of one arena; `render` draws one.

    Attributes:
        background: The empty arena, shape (H, W, C), C = 1 (gray) or 3 (RGB).
        noise_up: Positive part of the noise bank, shape (B, H + pad, W + pad, C),
            or None for no noise.
        noise_down: Negative part of the noise bank, same shape.
        fur_up: Fur texture added to the body, centered on the shoulders, shape
            (T, T), T above twice the body length.
        fur_down: Fur texture subtracted from the body, same shape.
        colors: Color of each paint ("fur", "fur_mid", "fur_light", "ear",
            "tail"), C channels each.
        body_length: Nose-to-tail-base length in px.
        blur: Gaussian blur sigma in px, 0 = none.
    """

    background: U8
    noise_up: U8 | None
    noise_down: U8 | None
    fur_up: U8
    fur_down: U8
    colors: dict[str, tuple[float, ...]]
    body_length: float
    blur: float

    def render(
        self, body: Body, order: NDArray[np.intp], noise: tuple[int, int, int]
    ) -> U8:
        """Draw one frame.

        Args:
            body: The animals of this frame, arrays with leading shape (animals,).
            order: Animal indices from bottom to top.
            noise: Bank entry, vertical and horizontal offset of this frame's noise.

        Returns:
            The frame, shape (H, W, C), uint8.
        """
        frame = self.background.copy()
        height, width = frame.shape[:2]
        layout = _Layout.build(self._shapes(body.ellipses), body.tail, self, frame)
        widths = np.rint(body.tail_width).astype(np.int64).tolist()
        for i in order.tolist():
            self._draw_animal(frame, layout, i, widths)
        if self.blur > 0:
            blurred = cv2.GaussianBlur(frame, (0, 0), self.blur)
            frame = np.asarray(blurred, np.uint8).reshape(frame.shape)
        if self.noise_up is not None and self.noise_down is not None:
            k, dy, dx = noise
            window = np.s_[k, dy : dy + height, dx : dx + width]
            cv2.add(frame, self.noise_up[window], dst=frame)
            cv2.subtract(frame, self.noise_down[window], dst=frame)
        return frame

    def _shapes(self, parts: NDArray[np.float64]) -> NDArray[np.float64]:
        """The parts plus the lit ridges drawn on them, shape (animals, 10, 5).

        Order: hip, shoulder, head, earL, earR, then broad ridges on hip, shoulder
        and head, then narrow ridges on hip and shoulder, all offset towards the
        light (top left).
        """
        broad = parts[:, :3].copy()
        broad[..., :2] -= 0.03 * self.body_length
        broad[..., 2:4] *= (0.8, 0.55)
        narrow = broad[:, :2].copy()
        narrow[..., 2:4] *= (0.7, 0.5)
        return np.concatenate([parts, broad, narrow], axis=1)

    def _draw_animal(
        self, frame: U8, layout: _Layout, i: int, tail_widths: list[int]
    ) -> None:
        """Draw animal `i` of `layout` and its shadow onto `frame` in place.

        Shapes are drawn anti-aliased straight onto the frame inside the animal's
        region of interest; the fur texture is added under a mask of the torso.
        """
        x0, y0, x1, y1 = layout.roi[i].tolist()
        if x1 <= x0 or y1 <= y0:
            return
        roi = frame[y0:y1, x0:x1]
        shape = roi.shape[:2]
        color = self.colors
        poly = layout.poly[i]
        aa, fill = cv2.LINE_AA, cv2.LINE_8

        # Soft shadow cast towards the bottom right, darkening what lies below.
        shadow = np.full(shape, 255, np.uint8)
        for j in range(3):
            cv2.fillConvexPoly(shadow, layout.shadow[i, j], SHADE, fill, SHIFT)
        k = layout.shadow_blur
        light = cv2.blur(shadow, (k, k))
        if roi.shape[2] == 3:
            light = cv2.cvtColor(light, cv2.COLOR_GRAY2RGB)
        cv2.multiply(roi, light.reshape(roi.shape), dst=roi, scale=1 / 255)

        ends = layout.tail[i].tolist()
        for j, w in enumerate(tail_widths):
            cv2.line(roi, ends[j], ends[j + 1], color["tail"], w, aa, SHIFT)
        for j in range(3):
            cv2.fillConvexPoly(roi, poly[j], color["fur"], aa, SHIFT)
        for j in range(5, 8):
            cv2.fillConvexPoly(roi, poly[j], color["fur_mid"], aa, SHIFT)
        for j in range(8, 10):
            cv2.fillConvexPoly(roi, poly[j], color["fur_light"], aa, SHIFT)

        # Fur texture that turns with the shoulders, added inside the torso.
        bx0, by0, bx1, by1 = layout.torso[i].tolist()
        patch = roi[by0:by1, bx0:bx1]
        mask = np.zeros(patch.shape[:2], np.uint8)
        for j in range(3):
            cv2.fillConvexPoly(mask, layout.torso_poly[i, j], 255, fill, SHIFT)
        size = (patch.shape[1], patch.shape[0])
        flags = cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP
        for tile, op in ((self.fur_up, cv2.add), (self.fur_down, cv2.subtract)):
            fur = cv2.warpAffine(
                tile,
                layout.fur_warp[i],
                size,
                flags=flags,
                borderMode=cv2.BORDER_REFLECT,
            )
            if patch.shape[2] == 3:
                fur = cv2.cvtColor(fur, cv2.COLOR_GRAY2RGB)
            op(patch, fur.reshape(patch.shape), dst=patch, mask=mask)

        for j in (3, 4):
            cv2.fillConvexPoly(roi, poly[j], color["ear"], aa, SHIFT)


@frozen(eq=False)
class _Layout:
    """Where each animal of one frame is drawn, in integer drawing coordinates.

    Attributes:
        roi: Region of interest x0, y0, x1, y1 in px, shape (animals, 4).
        poly: Polygons of `Renderer._shapes` relative to the region, with SHIFT
            fractional bits, shape (animals, 10, V, 2).
        shadow: Torso polygons moved to where the shadow falls, (animals, 3, V, 2).
        shadow_blur: Box blur size of the shadow in px.
        tail: Tail polyline relative to the region, SHIFT bits, (animals, 9, 2).
        torso: Box of the torso within the region x0, y0, x1, y1 in px, shape
            (animals, 4).
        torso_poly: Torso polygons relative to that box, (animals, 3, V, 2).
        fur_warp: Affine map from torso-box px to fur-texture px, (animals, 2, 3).
    """

    roi: NDArray[np.int64]
    poly: NDArray[np.int32]
    shadow: NDArray[np.int32]
    shadow_blur: int
    tail: NDArray[np.int64]
    torso: NDArray[np.int64]
    torso_poly: NDArray[np.int32]
    fur_warp: NDArray[np.float64]

    @classmethod
    def build(
        cls,
        shapes: NDArray[np.float64],
        tail: NDArray[np.float64],
        renderer: Renderer,
        frame: U8,
    ) -> _Layout:
        """Lay out every animal of a frame at once (vectorized over animals)."""
        length = renderer.body_length
        outlines = _outline(shapes)
        n = len(shapes)
        shadow = np.array([0.05, 0.06]) * length
        blur = 2 * int(0.05 * length) + 1
        pad = max(0.07 * length, shadow.max() + blur) + 2
        points = np.concatenate([outlines[:, :5].reshape(n, -1, 2), tail], axis=1)
        height, width = frame.shape[:2]
        lo = np.maximum(points.min(axis=1) - pad, 0).astype(np.int64)
        hi = np.minimum(points.max(axis=1) + pad + 1, (width, height)).astype(np.int64)
        local = outlines - lo[:, None, None]
        poly = np.rint(local * ONE).astype(np.int32)

        torso = local[:, :3].reshape(n, -1, 2)
        t_lo = np.maximum(torso.min(axis=1), 0).astype(np.int64)
        t_hi = (torso.max(axis=1) + 2).astype(np.int64)
        shoulder = outlines[:, 1]
        axis = shoulder[:, 0] - shoulder[:, shoulder.shape[1] // 2]
        cos, sin = (axis / np.hypot(axis[:, :1], axis[:, 1:])).T
        px, py = (lo + t_lo - shoulder.mean(axis=1)).T
        mid = renderer.fur_up.shape[0] / 2
        fur_warp = np.stack(
            [
                np.stack([cos, sin, cos * px + sin * py + mid], axis=-1),
                np.stack([-sin, cos, -sin * px + cos * py + mid], axis=-1),
            ],
            axis=1,
        )
        return cls(
            roi=np.concatenate([lo, hi], axis=1),
            poly=poly,
            shadow=poly[:, :3] + np.rint(shadow * ONE).astype(np.int32),
            shadow_blur=blur,
            tail=np.rint((tail - lo[:, None]) * ONE).astype(np.int64),
            torso=np.concatenate([t_lo, t_hi], axis=1),
            torso_poly=poly[:, :3] - (t_lo * ONE).astype(np.int32)[:, None, None],
            fur_warp=fur_warp,
        )


_CIRCLE = np.linspace(0, 2 * np.pi, 32, endpoint=False)


def _outline(ellipses: NDArray[np.float64]) -> NDArray[np.float64]:
    """Polygons of 32 vertices on ellipses, shape (..., 32, 2) from (..., 5)."""
    cx, cy, a, b, angle = np.moveaxis(ellipses[..., None], -2, 0)
    x, y = a * np.cos(_CIRCLE), b * np.sin(_CIRCLE)
    cos, sin = np.cos(angle), np.sin(angle)
    return np.stack([cx + x * cos - y * sin, cy + x * sin + y * cos], axis=-1)


def make_renderer(spec: ArenaSpec, rng: np.random.Generator) -> Renderer:
    """Build the background, noise bank and fur texture of an arena.

    Args:
        spec: Frame size, color mode, body length, noise and blur.
        rng: Source of the background's and noise's randomness.
    """
    channels = 1 if spec.gray else 3
    background = _make_background(spec, rng)
    noise_up = noise_down = None
    if spec.noise > 0:
        # Brightness noise, the same in every channel, as a camera's image
        # processing leaves it (and cheap to encode: the chroma stays clean).
        shape = (NOISE_BANK, spec.height + NOISE_PAD, spec.width + NOISE_PAD, 1)
        noise = np.rint(rng.standard_normal(shape, dtype=np.float32) * spec.noise)
        noise = noise.repeat(channels, axis=-1)
        noise_up = np.clip(noise, 0, 255).astype(np.uint8)
        noise_down = np.clip(-noise, 0, 255).astype(np.uint8)
    colors = {
        "fur": FUR,
        "fur_mid": FUR_MID,
        "fur_light": FUR_LIGHT,
        "ear": EAR,
        "tail": TAIL,
    }
    size = 32 * math.ceil(2.2 * spec.body_length / 32)
    fur = np.rint(_fur_texture(rng, size) * FUR_TEXTURE)
    fur_up = np.clip(fur, 0, 255).astype(np.uint8)
    fur_down = np.clip(-fur, 0, 255).astype(np.uint8)
    return Renderer(
        background=_to_channels(background, spec.gray),
        noise_up=noise_up,
        noise_down=noise_down,
        fur_up=fur_up,
        fur_down=fur_down,
        colors={name: _paint(color, spec.gray) for name, color in colors.items()},
        body_length=spec.body_length,
        blur=spec.blur,
    )


def _paint(color: tuple[float, float, float], gray: bool) -> tuple[float, ...]:
    if not gray:
        return color
    r, g, b = color
    return (0.299 * r + 0.587 * g + 0.114 * b,)


def _to_channels(rgb: U8, gray: bool) -> U8:
    if not gray:
        return rgb
    return np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), np.uint8)[..., None].copy()


def _fur_texture(rng: np.random.Generator, size: int) -> F32:
    """Periodic noise streaked along x (the body axis), zero mean, unit variance."""
    spectrum = np.fft.fft2(rng.standard_normal((size, size)))
    fy = np.fft.fftfreq(size)[:, None]
    fx = np.fft.fftfreq(size)[None, :]
    streaks = np.exp(-((fx / 0.04) ** 2) - (fy / 0.22) ** 2)
    fur = np.real(np.fft.ifft2(spectrum * streaks))
    return np.asarray((fur - fur.mean()) / fur.std(), np.float32)


def _make_background(spec: ArenaSpec, rng: np.random.Generator) -> U8:
    """The empty arena in RGB: textured floor, walls, lighting, bedding specks."""
    height, width = spec.height, spec.width
    side = min(height, width)
    fx0, fy0, fx1, fy1 = floor_rect(spec)
    m = WALL_MARGIN * side
    img = np.empty((height, width, 3), np.float32)
    img[:] = OUTSIDE

    outer = np.array([(m, m), (width - m, m), (width - m, height - m), (m, height - m)])
    inner = np.array([(fx0, fy0), (fx1, fy0), (fx1, fy1), (fx0, fy1)])
    faces = [(0, 1, WALLS[0]), (3, 0, WALLS[0]), (1, 2, WALLS[1]), (2, 3, WALLS[2])]
    for a, b, color in faces:
        quad = np.array([outer[a], outer[b], inner[b], inner[a]])
        cv2.fillPoly(
            img, [np.rint(quad * ONE).astype(np.int32)], color, cv2.LINE_AA, SHIFT
        )

    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    texture = np.zeros((height, width), np.float32)
    for cell, amplitude in ((48, 0.015), (12, 0.02)):
        coarse = rng.standard_normal((height // cell + 2, width // cell + 2))
        smooth = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
        texture += amplitude * smooth.astype(np.float32)
    grain = rng.standard_normal((height, width)).astype(np.float32)
    texture += 0.025 * cv2.GaussianBlur(grain, (0, 0), 0.7)
    to_wall = np.minimum.reduce([xx - fx0, fx1 - xx, yy - fy0, fy1 - yy])
    occlusion = 1 - 0.3 * np.exp(-np.maximum(to_wall, 0) / (0.035 * side))
    on_floor = to_wall >= 0
    floor = np.asarray(FLOOR, np.float32) * ((1 + texture) * occlusion)[..., None]
    img[on_floor] = floor[on_floor]

    n_specks = height * width // 6000
    centers = rng.uniform((fx0, fy0), (fx1, fy1), size=(n_specks, 2))
    radii = rng.uniform(0.6, 2.2, size=(n_specks, 2))
    angles = rng.uniform(0, 180, size=n_specks)
    for c, r, a in zip(centers, radii, angles, strict=True):
        cv2.ellipse(
            img,
            tuple(np.rint(c * ONE).astype(int).tolist()),
            tuple(np.rint(r * ONE).astype(int).tolist()),
            float(a),
            0,
            360,
            SPECK,
            -1,
            cv2.LINE_AA,
            SHIFT,
        )

    light_x, light_y = 0.3 * width, 0.25 * height
    falloff = ((xx - light_x) ** 2 + (yy - light_y) ** 2) / float(width**2 + height**2)
    lighting = 1.08 - 0.35 * falloff
    img *= lighting[..., None]
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)
