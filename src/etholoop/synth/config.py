"""Parameters of a synthetic arena video: size, animals, behaviors and keypoints."""

from __future__ import annotations

from typing import Any

from attrs import field, frozen

from etholoop.types import at_least, str_tuple

BEHAVIORS: tuple[str, ...] = ("rest", "walk", "groom", "rear", "chase")
"""Every behavior the motion model knows, in its canonical order."""

FLINCH = "flinch"
"""A rare, short behavior an arena may ask for on top of `BEHAVIORS`: for 5-10
frames a paw shoots out from the side of the body and back. It is drawn in the
pixels only; the posture, and so every keypoint, goes on as without it."""

FLINCH_FRAMES = (5, 10)
"""Fewest and most frames of one flinch episode (uniform)."""
FLINCH_RATE = 0.02
"""About this fraction of each animal's frames are flinch."""
FLINCH_EDGE = 8
"""No flinch starts in the first or reaches into the last this many frames; two
episodes of one animal are at least this many frames apart."""

KEYPOINTS: tuple[str, ...] = (
    "nose",
    "head",
    "earL",
    "earR",
    "neck",
    "centroid",
    "tailB",
    "tailM",
    "tailE",
)
"""Every keypoint the body model can place: head, ears, spine and tail points."""

DEFAULT_KEYPOINTS: tuple[str, ...] = ("nose", "earL", "earR", "tailB")

WALL_MARGIN = 0.02
"""Gap between the image border and the top of the walls, as a fraction of the
shorter frame side."""

WALL_DEPTH = 0.05
"""Apparent width of the walls' inner faces seen from above, as a fraction of the
shorter frame side."""


def _names(known: tuple[str, ...]) -> Any:
    def check(instance: object, attribute: Any, value: tuple[str, ...]) -> None:
        unknown = [name for name in value if name not in known]
        if not value or unknown or len(set(value)) != len(value):
            raise ValueError(
                f"ArenaSpec.{attribute.name}: expected distinct names from "
                f"{list(known)}, got {list(value)}"
            )

    return check


def _even_size(instance: object, attribute: Any, value: int) -> None:
    if value < 64 or value % 2:
        raise ValueError(
            f"ArenaSpec.{attribute.name}: must be an even number of px >= 64 "
            f"(H.264 4:2:0 needs even sizes), got {value}"
        )


@frozen
class ArenaSpec:
    """What to synthesize: one top-view arena with look-alike mice.

    Attributes:
        n_animals: Number of mice.
        n_frames: Number of frames.
        width: Frame width in px (even).
        height: Frame height in px (even).
        fps: Frames per second; motion is specified in seconds, so it scales.
        seed: Seed of the only random generator; same seed, same output.
        gray: Render single-channel frames instead of RGB.
        blur: Gaussian blur sigma in px applied to each frame; 0 = none.
        noise: Standard deviation of the per-frame sensor noise in gray levels.
        behaviors: Behaviors the animals may show, a subset of `BEHAVIORS` plus,
            only when asked for, `FLINCH` (then at least one other); the
            ethogram's behavior axis follows this order.
        keypoints: Keypoints of the ground truth, a subset of `KEYPOINTS`.
        min_contacts: Fewest close-contact events the video must contain; the
            motion sends animals towards each other until it does. About one
            contact per 2 s fits with 3 animals, one per 3 s with 2.
        body_length: Nose-to-tail-base length of a mouse in px; by default 15 %
            of the shorter frame side.
        contact_distance: Two animals are in contact while their centroids are
            closer than this many px; by default 0.8 body lengths.
    """

    n_animals: int = field(default=3, validator=at_least(1))
    n_frames: int = field(default=1800, validator=at_least(1))
    width: int = field(default=640, validator=_even_size)
    height: int = field(default=480, validator=_even_size)
    fps: float = field(default=30.0, converter=float, validator=at_least(1.0))
    seed: int = field(default=0, validator=at_least(0))
    gray: bool = False
    blur: float = field(default=0.0, converter=float, validator=at_least(0.0))
    noise: float = field(default=1.0, converter=float, validator=at_least(0.0))
    behaviors: tuple[str, ...] = field(
        default=BEHAVIORS,
        converter=str_tuple,
        validator=_names((*BEHAVIORS, FLINCH)),
    )
    keypoints: tuple[str, ...] = field(
        default=DEFAULT_KEYPOINTS, converter=str_tuple, validator=_names(KEYPOINTS)
    )
    min_contacts: int = field(default=0, validator=at_least(0))
    body_length: float = field(converter=float, validator=at_least(8.0))
    contact_distance: float = field(converter=float, validator=at_least(1.0))

    @body_length.default
    def _default_body_length(self) -> float:
        return 0.15 * min(self.width, self.height)

    @contact_distance.default
    def _default_contact_distance(self) -> float:
        return 0.8 * self.body_length

    def __attrs_post_init__(self) -> None:
        """Check that the behaviors can be shown and contacts can be made."""
        if FLINCH in self.behaviors:
            if not self.motion_behaviors:
                raise ValueError(
                    f"ArenaSpec.behaviors: {FLINCH!r} interrupts other behaviors; "
                    f"name at least one of {list(BEHAVIORS)} too"
                )
            shortest = 2 * FLINCH_EDGE + FLINCH_FRAMES[1]
            if self.n_frames < shortest:
                raise ValueError(
                    f"ArenaSpec.n_frames: a {FLINCH!r} needs at least {shortest} "
                    f"frames, got {self.n_frames}"
                )
        if self.motion_behaviors == ("chase",) and self.n_animals == 1:
            raise ValueError("ArenaSpec: a single animal has no one to chase")
        if self.min_contacts and self.n_animals < 2:
            raise ValueError("ArenaSpec.min_contacts: contacts need at least 2 animals")
        if self.min_contacts and not {"walk", "chase"} & set(self.behaviors):
            raise ValueError(
                "ArenaSpec.min_contacts: animals must be able to 'walk' or 'chase' "
                "to meet"
            )
        floor = min(self.width, self.height) * (1 - 2 * (WALL_MARGIN + WALL_DEPTH))
        if self.body_length > floor / 3:
            raise ValueError(
                f"ArenaSpec.body_length: {self.body_length} px does not fit a "
                f"{self.width}x{self.height} arena (at most {floor / 3:.0f} px)"
            )

    @property
    def motion_behaviors(self) -> tuple[str, ...]:
        """The behaviors of `behaviors` the motion model runs: all but `FLINCH`."""
        return tuple(b for b in self.behaviors if b != FLINCH)

    @property
    def individuals(self) -> tuple[str, ...]:
        """Track names "mouse0".."mouseN-1"."""
        return tuple(f"mouse{i}" for i in range(self.n_animals))


def floor_rect(spec: ArenaSpec) -> tuple[float, float, float, float]:
    """The arena floor x0, y0, x1, y1 in px: the image inside the walls."""
    inset = (WALL_MARGIN + WALL_DEPTH) * min(spec.width, spec.height)
    return inset, inset, spec.width - inset, spec.height - inset
