"""Drawing frames: a static arena, textured look-alike mice, shadows, blur and noise.

The background (floor texture, lighting gradient, walls) is made once, and with it
a bank of noisy copies: the background as a frame shows it, blurred and with
sensor noise. Each frame starts from one of these; the mice are drawn on a clean
canvas inside their own small regions of interest, with anti-aliased polygons,
and only those regions are blurred, get the same noise and are pasted in. The
shapes of a whole chunk of frames are laid out at once. A 640x480 frame with three
mice costs about 1 ms of CPU time.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

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
PAW = (132.0, 104.0, 108.0)
"""A flinching paw: pink, dark on the floor and light on the fur."""

SHADE = 155
"""Light left (of 255) under an animal's shadow."""
NOISE_BANK = 8
"""Independent noise images made once; each frame takes one at random."""
SHIFT = 4
"""Fractional bits of the coordinates given to cv2 drawing, for subpixel shapes."""
ONE = 1 << SHIFT


@frozen(eq=False)
class Renderer:
    """Everything needed to draw frames of one arena; `frames` draws them.

    Attributes:
        background: The empty arena, shape (H, W, C), C = 1 (gray) or 3 (RGB).
        base: The empty arena as frames show it, blurred and with each noise
            image of the bank added, shape (B, H, W, C); B = 1 without noise.
        noise_up: Positive part of each noise image, shape (B, H, W), or None
            for no noise.
        noise_down: Negative part of each noise image, same shape.
        fur_up: Fur texture added to the body, centered on the shoulders, shape
            (T, T), T above twice the body length.
        fur_down: Fur texture subtracted from the body, same shape.
        colors: Color of each paint ("fur", "fur_mid", "fur_light", "ear",
            "tail", "paw"), C channels each.
        body_length: Nose-to-tail-base length in px.
        blur: Gaussian blur sigma in px, 0 = none.
    """

    background: U8
    base: U8
    noise_up: U8 | None
    noise_down: U8 | None
    fur_up: U8
    fur_down: U8
    colors: dict[str, tuple[float, ...]]
    body_length: float
    blur: float

    @property
    def blur_radius(self) -> int:
        """How far the blur reaches, in px: its kernel is 2 * radius + 1 wide."""
        return math.ceil(3 * self.blur) if self.blur > 0 else 0

    def frames(
        self,
        body: Body,
        order: NDArray[np.intp],
        noise: NDArray[np.int64],
        *,
        i420: bool = False,
        paws: NDArray[np.float64] | None = None,
    ) -> Iterator[U8]:
        """Draw frames one at a time.

        Args:
            body: The animals, arrays with leading shape (frames, animals).
            order: Animal indices from bottom to top, shape (frames, animals).
            noise: Bank entry of each frame's noise, shape (frames,).
            i420: Yield the frames as `to_i420` converts them, but converting only
                the drawn regions (the video writer's path: a full-frame
                conversion costs half as much as drawing).
            paws: Flinching paws as `paw_ellipses` places them, shape (frames,
                animals, 5), NaN where an animal shows none; None = no paws.

        Yields:
            Each frame, shape (H, W, C) uint8, or (H * 3 / 2, W) with `i420`; a
            new array every time.
        """
        layout = _Layout.build(self._shapes(body.ellipses), body.tail, self, paws)
        widths = np.rint(body.tail_width).astype(np.int64).tolist()
        canvas = self.background.copy()
        bases = [to_i420(base) for base in self.base] if i420 else list(self.base)
        height, width = canvas.shape[:2]
        banks = noise.tolist()
        for t in range(len(order)):
            for i in order[t].tolist():
                self._draw_animal(canvas, layout, t, i, widths)
            frame = bases[banks[t]].copy()
            if i420:
                y, u, v = _planes(frame, height, width)
            for y0, y1, x0, x1, pixels in self._regions(
                canvas, layout.roi[t], banks[t], 2 if i420 else 1
            ):
                if i420:
                    h, w = y1 - y0, x1 - x0
                    py, pu, pv = _planes(to_i420(pixels), h, w)
                    y[y0:y1, x0:x1] = py
                    u[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2] = pu
                    v[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2] = pv
                else:
                    frame[y0:y1, x0:x1] = pixels
            for x0, y0, x1, y1 in layout.roi[t].tolist():
                canvas[y0:y1, x0:x1] = self.background[y0:y1, x0:x1]
            yield frame

    def _regions(
        self, canvas: U8, rois: NDArray[np.int64], k: int, align: int
    ) -> Iterator[tuple[int, int, int, int, U8]]:
        """The drawn regions of `canvas` as they differ from bank entry `k`.

        Yields y0, y1, x0, x1 and the pixels there: each region of interest grown
        by the blur's reach and to multiples of `align`, blurred from the canvas,
        with the noise of entry `k`. Elsewhere the frame equals the entry.
        """
        height, width = canvas.shape[:2]
        r = self.blur_radius
        for x0, y0, x1, y1 in rois.tolist():
            if x1 <= x0 or y1 <= y0:
                continue
            bx0, by0 = _floor(max(x0 - r, 0), align), _floor(max(y0 - r, 0), align)
            bx1 = min(-_floor(-(x1 + r), align), width)
            by1 = min(-_floor(-(y1 + r), align), height)
            if r:
                sx0, sy0 = max(bx0 - r, 0), max(by0 - r, 0)
                source = canvas[sy0 : min(by1 + r, height), sx0 : min(bx1 + r, width)]
                size = 2 * r + 1
                blurred = np.asarray(
                    cv2.GaussianBlur(source, (size, size), self.blur), np.uint8
                )
                pixels = blurred.reshape(source.shape)[
                    by0 - sy0 : by1 - sy0, bx0 - sx0 : bx1 - sx0
                ].copy()
            else:
                pixels = canvas[by0:by1, bx0:bx1].copy()
            if self.noise_up is not None and self.noise_down is not None:
                for bank, op in (
                    (self.noise_up, cv2.add),
                    (self.noise_down, cv2.subtract),
                ):
                    noise = bank[k, by0:by1, bx0:bx1]
                    if pixels.shape[2] == 3:
                        noise = np.asarray(
                            cv2.cvtColor(noise, cv2.COLOR_GRAY2RGB), np.uint8
                        )
                    op(pixels, noise.reshape(pixels.shape), dst=pixels)
            yield by0, by1, bx0, bx1, pixels

    def _shapes(self, parts: NDArray[np.float64]) -> NDArray[np.float64]:
        """The parts plus the lit ridges drawn on them, shape (..., 10, 5).

        Order: hip, shoulder, head, earL, earR, then broad ridges on hip, shoulder
        and head, then narrow ridges on hip and shoulder, all offset towards the
        light (top left).
        """
        broad = parts[..., :3, :].copy()
        broad[..., :2] -= 0.03 * self.body_length
        broad[..., 2:4] *= (0.8, 0.55)
        narrow = broad[..., :2, :].copy()
        narrow[..., 2:4] *= (0.7, 0.5)
        return np.concatenate([parts, broad, narrow], axis=-2)

    def _draw_animal(
        self, frame: U8, layout: _Layout, t: int, i: int, tail_widths: list[int]
    ) -> None:
        """Draw animal `i` of frame `t` of `layout` and its shadow onto `frame`.

        Shapes are drawn anti-aliased straight onto the frame inside the animal's
        region of interest; the fur texture is added under a mask of the torso. A
        flinching paw is drawn over the tail and under the body.
        """
        x0, y0, x1, y1 = layout.roi[t, i].tolist()
        if x1 <= x0 or y1 <= y0:
            return
        roi = frame[y0:y1, x0:x1]
        shape = roi.shape[:2]
        color = self.colors
        poly = layout.poly[t, i]
        aa, fill = cv2.LINE_AA, cv2.LINE_8

        # Soft shadow cast towards the bottom right, darkening what lies below.
        shadow = np.full(shape, 255, np.uint8)
        for j in range(3):
            cv2.fillConvexPoly(shadow, layout.shadow[t, i, j], SHADE, fill, SHIFT)
        k = layout.shadow_blur
        light = cv2.blur(shadow, (k, k))
        if roi.shape[2] == 3:
            light = cv2.cvtColor(light, cv2.COLOR_GRAY2RGB)
        cv2.multiply(roi, light.reshape(roi.shape), dst=roi, scale=1 / 255)

        ends = layout.tail[t, i].tolist()
        for j, w in enumerate(tail_widths):
            cv2.line(roi, ends[j], ends[j + 1], color["tail"], w, aa, SHIFT)
        paw, has_paw = layout.paw, layout.has_paw
        if paw is not None and has_paw is not None and has_paw[t, i]:
            cv2.fillConvexPoly(roi, paw[t, i], color["paw"], aa, SHIFT)
        for j in range(3):
            cv2.fillConvexPoly(roi, poly[j], color["fur"], aa, SHIFT)
        for j in range(5, 8):
            cv2.fillConvexPoly(roi, poly[j], color["fur_mid"], aa, SHIFT)
        for j in range(8, 10):
            cv2.fillConvexPoly(roi, poly[j], color["fur_light"], aa, SHIFT)

        # Fur texture that turns with the shoulders, added inside the torso.
        bx0, by0, bx1, by1 = layout.torso[t, i].tolist()
        patch = roi[by0:by1, bx0:bx1]
        mask = np.zeros(patch.shape[:2], np.uint8)
        for j in range(3):
            cv2.fillConvexPoly(mask, layout.torso_poly[t, i, j], 255, fill, SHIFT)
        size = (patch.shape[1], patch.shape[0])
        flags = cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP
        for tile, op in ((self.fur_up, cv2.add), (self.fur_down, cv2.subtract)):
            fur = cv2.warpAffine(
                tile,
                layout.fur_warp[t, i],
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
    """Where each animal of some frames is drawn, in integer drawing coordinates.

    Attributes:
        roi: Region of interest x0, y0, x1, y1 in px, shape (frames, animals, 4).
        poly: Polygons of `Renderer._shapes` relative to the region, with SHIFT
            fractional bits, shape (frames, animals, 10, V, 2).
        shadow: Torso polygons moved to where the shadow falls, shape (frames,
            animals, 3, V, 2).
        shadow_blur: Box blur size of the shadow in px.
        tail: Tail polyline relative to the region, SHIFT bits, shape (frames,
            animals, 9, 2).
        torso: Box of the torso within the region x0, y0, x1, y1 in px, shape
            (frames, animals, 4).
        torso_poly: Torso polygons relative to that box, (frames, animals, 3, V, 2).
        fur_warp: Affine map from torso-box px to fur-texture px, shape (frames,
            animals, 2, 3).
        paw: Flinching paw polygon relative to the region, SHIFT bits, shape
            (frames, animals, V, 2), or None for no paws.
        has_paw: Which animals show their paw, shape (frames, animals), or None.
    """

    roi: NDArray[np.int64]
    poly: NDArray[np.int32]
    shadow: NDArray[np.int32]
    shadow_blur: int
    tail: NDArray[np.int64]
    torso: NDArray[np.int64]
    torso_poly: NDArray[np.int32]
    fur_warp: NDArray[np.float64]
    paw: NDArray[np.int32] | None = None
    has_paw: NDArray[np.bool_] | None = None

    @classmethod
    def build(
        cls,
        shapes: NDArray[np.float64],
        tail: NDArray[np.float64],
        renderer: Renderer,
        paws: NDArray[np.float64] | None = None,
    ) -> _Layout:
        """Lay out every animal of every frame at once (vectorized).

        A paw widens its animal's region of interest only in frames it shows.
        """
        length = renderer.body_length
        outlines = _outline(shapes)
        lead = shapes.shape[:-2]
        shadow = np.array([0.05, 0.06]) * length
        blur = 2 * int(0.05 * length) + 1
        pad = max(0.07 * length, shadow.max() + blur) + 2
        body = outlines[..., :5, :, :].reshape(*lead, -1, 2)
        points = np.concatenate([body, tail], axis=-2)
        has_paw = paw_outline = None
        if paws is not None:
            has_paw = np.isfinite(paws[..., 0])
            # Where there is no paw, the hip stands in: already inside the region.
            paw_outline = _outline(
                np.where(has_paw[..., None], paws, shapes[..., 0, :])
            )
            points = np.concatenate([points, paw_outline], axis=-2)
        height, width = renderer.background.shape[:2]
        lo = np.maximum(points.min(axis=-2) - pad, 0).astype(np.int64)
        hi = np.minimum(points.max(axis=-2) + pad + 1, (width, height)).astype(np.int64)
        local = outlines - lo[..., None, None, :]
        poly = np.rint(local * ONE).astype(np.int32)

        torso = local[..., :3, :, :].reshape(*lead, -1, 2)
        t_lo = np.maximum(torso.min(axis=-2), 0).astype(np.int64)
        t_hi = (torso.max(axis=-2) + 2).astype(np.int64)
        shoulder = outlines[..., 1, :, :]
        axis = shoulder[..., 0, :] - shoulder[..., shoulder.shape[-2] // 2, :]
        axis /= np.hypot(axis[..., :1], axis[..., 1:])
        cos, sin = axis[..., 0], axis[..., 1]
        offset = lo + t_lo - shoulder.mean(axis=-2)
        px, py = offset[..., 0], offset[..., 1]
        mid = renderer.fur_up.shape[0] / 2
        fur_warp = np.stack(
            [
                np.stack([cos, sin, cos * px + sin * py + mid], axis=-1),
                np.stack([-sin, cos, -sin * px + cos * py + mid], axis=-1),
            ],
            axis=-2,
        )
        return cls(
            roi=np.concatenate([lo, hi], axis=-1),
            poly=poly,
            shadow=poly[..., :3, :, :] + np.rint(shadow * ONE).astype(np.int32),
            shadow_blur=blur,
            tail=np.rint((tail - lo[..., None, :]) * ONE).astype(np.int64),
            torso=np.concatenate([t_lo, t_hi], axis=-1),
            torso_poly=poly[..., :3, :, :]
            - (t_lo * ONE).astype(np.int32)[..., None, None, :],
            fur_warp=fur_warp,
            paw=None
            if paw_outline is None
            else np.rint((paw_outline - lo[..., None, :]) * ONE).astype(np.int32),
            has_paw=has_paw,
        )


_CIRCLE = np.linspace(0, 2 * np.pi, 32, endpoint=False)


def _outline(ellipses: NDArray[np.float64]) -> NDArray[np.float64]:
    """Polygons of 32 vertices on ellipses, shape (..., 32, 2) from (..., 5)."""
    cx, cy, a, b, angle = np.moveaxis(ellipses[..., None], -2, 0)
    x, y = a * np.cos(_CIRCLE), b * np.sin(_CIRCLE)
    cos, sin = np.cos(angle), np.sin(angle)
    return np.stack([cx + x * cos - y * sin, cy + x * sin + y * cos], axis=-1)


_GRAY_TO_LIMITED = np.rint(16 + np.arange(256) * (219 / 255)).astype(np.uint8)


def to_i420(pixels: U8) -> U8:
    """Limited-range BT.601 yuv420p (I420) of a frame, shape (H * 3 / 2, W).

    `pixels` is (H, W, 3) RGB or (H, W) / (H, W, 1) gray, H and W even; gray
    levels map to luma only.
    """
    height, width = pixels.shape[:2]
    if pixels.ndim == 3 and pixels.shape[2] == 3:
        return np.asarray(cv2.cvtColor(pixels, cv2.COLOR_RGB2YUV_I420), np.uint8)
    yuv = np.full((height * 3 // 2, width), 128, np.uint8)
    cv2.LUT(pixels.reshape(height, width), _GRAY_TO_LIMITED, dst=yuv[:height])
    return yuv


def _planes(i420: U8, height: int, width: int) -> tuple[U8, U8, U8]:
    """Views of the Y, U and V planes of an I420 image of the given size."""
    flat = i420.reshape(-1)
    luma, chroma = height * width, (height // 2) * (width // 2)
    return (
        flat[:luma].reshape(height, width),
        flat[luma : luma + chroma].reshape(height // 2, width // 2),
        flat[luma + chroma : luma + 2 * chroma].reshape(height // 2, width // 2),
    )


def _floor(value: int, step: int) -> int:
    return value - value % step


def make_renderer(spec: ArenaSpec, rng: np.random.Generator) -> Renderer:
    """Build the background, noise bank and fur texture of an arena.

    Args:
        spec: Frame size, color mode, body length, noise and blur.
        rng: Source of the background's and noise's randomness.
    """
    background = _to_channels(_make_background(spec, rng), spec.gray)
    seen = background
    if spec.blur > 0:
        size = 2 * math.ceil(3 * spec.blur) + 1
        blurred = cv2.GaussianBlur(background, (size, size), spec.blur)
        seen = np.asarray(blurred, np.uint8).reshape(background.shape)
    base = seen[None]
    noise_up = noise_down = None
    if spec.noise > 0:
        # Brightness noise, the same in every channel, as a camera's image
        # processing leaves it (and cheap to encode: the chroma stays clean).
        shape = (NOISE_BANK, spec.height, spec.width)
        noise = np.rint(rng.standard_normal(shape, dtype=np.float32) * spec.noise)
        noise_up = np.clip(noise, 0, 255).astype(np.uint8)
        noise_down = np.clip(-noise, 0, 255).astype(np.uint8)
        base = np.clip(seen + noise[..., None], 0, 255).astype(np.uint8)
    colors = {
        "fur": FUR,
        "fur_mid": FUR_MID,
        "fur_light": FUR_LIGHT,
        "ear": EAR,
        "tail": TAIL,
        "paw": PAW,
    }
    size = 32 * math.ceil(2.2 * spec.body_length / 32)
    fur = np.rint(_fur_texture(rng, size) * FUR_TEXTURE)
    fur_up = np.clip(fur, 0, 255).astype(np.uint8)
    fur_down = np.clip(-fur, 0, 255).astype(np.uint8)
    return Renderer(
        background=background,
        base=base,
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
