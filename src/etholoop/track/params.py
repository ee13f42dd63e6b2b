"""Parameters of the fixed-identity tracker, named after the reference's."""

from __future__ import annotations

from typing import Any

from attrs import field, frozen

from etholoop.types import at_least


def _fraction(instance: object, attribute: Any, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(
            f"TrackerParams.{attribute.name}: must lie in [0, 1], got {value}"
        )


@frozen
class TrackerParams:
    """How the tracker keeps a fixed set of identities through a video.

    Attributes:
        max_ids: The fixed number of identities (animals in the arena); no
            detection ever gets an identity >= max_ids.
        alpha: Weight of the keypoint distance in the assignment cost, the rest
            going to box overlap: cost = alpha * keypoint distance + (1 - alpha)
            * (1 - box IoU). The keypoint distance is the mean Euclidean distance
            of the keypoints both the detection and the prediction see, divided
            by the identity's body size (its box diagonal); box centres stand in
            when no keypoint is shared.
        cost_threshold: A detection costing more than this for an identity is
            never assigned to it (the gate), unless the identity was released.
        max_skip: Frames an identity coasts on its motion prediction through
            missed detections (the reference's `framesSkip_limit`); after that
            its prediction stays where it was last seen.
        release_id_at_value: Frames unmatched after which an identity is
            released: the next detection no other identity takes may take it
            whatever its cost (re-acquisition).
        visibility_threshold: Keypoints scoring below this in a detection are
            ignored by the cost (same as `pose.backend.CONFIDENT_KEYPOINT`).
        max_gap: Longest run of missing frames per keypoint that gap filling
            bridges by linear interpolation; 0 = no filling.
        smooth_window: Length in frames of the median filter applied to each
            keypoint's track; 0 = no smoothing.
        offline: Run the second, offline pass that repairs identity swaps at
            close contacts.
    """

    max_ids: int = field(validator=at_least(1))
    alpha: float = field(default=0.8, converter=float, validator=_fraction)
    cost_threshold: float = field(default=1.2, converter=float, validator=at_least(0.0))
    max_skip: int = field(default=10, validator=at_least(0))
    release_id_at_value: int = field(default=30, validator=at_least(1))
    visibility_threshold: float = field(
        default=0.5, converter=float, validator=_fraction
    )
    max_gap: int = field(default=10, validator=at_least(0))
    smooth_window: int = field(default=0, validator=at_least(0))
    offline: bool = True
