"""The project configuration, `etholoop.yaml`, validated with pydantic.

Config classes hold parameters only; the code that uses them lives in the stage
packages. Unknown keys are refused so that a typo is named, not ignored.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from etholoop.behavior.features import CleanParams, FeatureParams
from etholoop.behavior.model import BoostParams
from etholoop.errors import ConfigError
from etholoop.track.params import TrackerParams
from etholoop.types import Skeleton

CONFIG_NAME = "etholoop.yaml"

_NAME_PART = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
"""Words of a keypoint name: camel case, runs of capitals and numbers split apart."""
_SIDE_WORDS = {"l": "left", "left": "left", "r": "right", "right": "right"}
_SIDE_PREFIX = re.compile(r"^(left|right)(.+)$")
_SIDE = "<side>"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


DEFAULT_OKS_SIGMA = 0.05
"""Per-keypoint OKS sigma when the config gives none (COCO's range is 0.025-0.107)."""


class SkeletonConfig(_Strict):
    """Keypoint names, edges drawn between them, left/right pairs, OKS sigmas.

    A keypoint's OKS sigma says how far, relative to the animal's size, a
    prediction may land and still count (`DEFAULT_OKS_SIGMA` each when not given).
    """

    keypoints: list[str] = Field(min_length=1)
    edges: list[tuple[str, str]] = Field(default_factory=list)
    symmetry: list[tuple[str, str]] = Field(default_factory=list)
    sigmas: list[float] | None = None

    @model_validator(mode="after")
    def _check_names(self) -> SkeletonConfig:
        self.to_skeleton()
        if self.sigmas is not None and (
            len(self.sigmas) != len(self.keypoints) or min(self.sigmas) <= 0
        ):
            raise ValueError(
                f"sigmas: need one positive value per keypoint "
                f"({len(self.keypoints)}), got {self.sigmas}"
            )
        return self

    def oks_sigmas(self) -> list[float]:
        """The OKS sigma of each keypoint."""
        return self.sigmas or [DEFAULT_OKS_SIGMA] * len(self.keypoints)

    def to_skeleton(self) -> Skeleton:
        """The shared `Skeleton` type for this config."""
        return Skeleton.from_names(self.keypoints, self.edges, self.symmetry)


class StoreConfig(_Strict):
    """Where labels live: None means the SQLite file inside the project."""

    url: str | None = None


class VideoConfig(_Strict):
    """Defaults for `etholoop preprocess`."""

    fps: float | None = Field(default=None, gt=0)
    size: int | None = Field(default=None, gt=15)
    gray: bool = False
    crf: int = Field(default=18, ge=0, le=51)
    keyframe_interval: int = Field(default=30, ge=1)


_TRACKER = TrackerParams(max_ids=1)
"""The tracker's defaults, which the config's are."""


class TrackingConfig(_Strict):
    """Defaults for `etholoop track`: the tracker's parameters (`TrackerParams`).

    The names are the reference tracker's (BehavTrack); `framesSkip_limit` is
    accepted for `max_skip`. `max_ids` None means the project's `animals`.
    """

    max_ids: int | None = Field(default=None, ge=1)
    alpha: float = Field(default=_TRACKER.alpha, ge=0, le=1)
    cost_threshold: float = Field(default=_TRACKER.cost_threshold, ge=0)
    max_skip: int = Field(
        default=_TRACKER.max_skip,
        ge=0,
        validation_alias=AliasChoices("max_skip", "framesSkip_limit"),
    )
    release_id_at_value: int = Field(default=_TRACKER.release_id_at_value, ge=1)
    visibility_threshold: float = Field(
        default=_TRACKER.visibility_threshold, ge=0, le=1
    )
    max_gap: int = Field(default=_TRACKER.max_gap, ge=0)
    smooth_window: int = Field(default=_TRACKER.smooth_window, ge=0)
    offline: bool = _TRACKER.offline


_CLEAN = CleanParams()
"""The behavior features' cleaning defaults, which the config's are."""


class BehaviorConfig(_Strict):
    """Defaults of the behavior stage: how pose tracks are cleaned before features.

    A keypoint scored below `min_score`, or farther than `max_spread` body
    lengths from the median of its animal's keypoints, becomes missing; missing
    runs of at most `max_gap` frames are interpolated (`CleanParams`).
    `windows` are the lengths in frames of the windowed feature statistics;
    `trees` the boosting rounds of each behavior's LightGBM model.
    """

    min_score: float = Field(default=_CLEAN.min_score, ge=0, le=1)
    max_spread: float = Field(default=_CLEAN.max_spread, ge=0)
    max_gap: int = Field(default=_CLEAN.max_gap, ge=0)
    windows: list[int] = Field(
        default_factory=lambda: list(FeatureParams().windows), min_length=1
    )
    trees: int = Field(default=BoostParams().n_trees, ge=1)

    def feature_params(self) -> FeatureParams:
        """The feature parameters these settings give."""
        clean = CleanParams(self.min_score, self.max_spread, self.max_gap)
        return FeatureParams(clean=clean, windows=tuple(self.windows))


class ProjectConfig(_Strict):
    """Everything `etholoop.yaml` holds."""

    name: str
    animals: int = Field(ge=1)
    skeleton: SkeletonConfig
    behaviors: list[str] = Field(default_factory=list)
    store: StoreConfig = Field(default_factory=StoreConfig)
    video: VideoConfig = Field(default_factory=VideoConfig)
    tracking: TrackingConfig = Field(default_factory=TrackingConfig)
    behavior: BehaviorConfig = Field(default_factory=BehaviorConfig)

    @model_validator(mode="after")
    def _check_behaviors(self) -> ProjectConfig:
        if len(set(self.behaviors)) != len(self.behaviors):
            raise ValueError(f"behaviors repeat: {self.behaviors}")
        return self


def _side_marks(name: str) -> list[tuple[str, str]]:
    """Each left/right marker in a keypoint name: its side and the name without it.

    A marker is a word `l`, `r`, `left` or `right` in any case (earL, L_ear,
    ear_left, LeftEar), a lowercase word that starts with left/right (leftear), or
    a two-capital word that starts with L/R (paw1LH_top: left hind). The name
    without it is lowercase, with separators dropped, so that earL and ear_r or
    leftear and RightEar compare equal.
    """
    words = _NAME_PART.findall(name)
    marks = []
    for i, word in enumerate(words):
        prefix = _SIDE_PREFIX.match(word) if word.islower() else None
        if word.lower() in _SIDE_WORDS:
            side, rest = _SIDE_WORDS[word.lower()], ""
        elif prefix:
            side, rest = prefix[1], prefix[2]
        elif len(word) == 2 and word.isupper() and word[0] in "LR":
            side, rest = _SIDE_WORDS[word[0].lower()], word[1].lower()
        else:
            continue
        before, after = "".join(words[:i]), "".join(words[i + 1 :])
        marks.append((side, f"{before}{_SIDE}{rest}{after}".lower()))
    return marks


def guess_symmetry(keypoints: list[str]) -> list[tuple[str, str]]:
    """Left/right keypoint pairs found by name, where the pairing is unambiguous.

    Two names pair when they are the same apart from one left/right marker
    (earL/earR, leftear/rightear, L_ear/R_ear, ear_left/ear_right), else apart
    from the marker and numbers (paw1LH_top/paw4RH_top), and no third name reads
    the same. Names with more than one marker are not paired.
    """
    marked = {
        name: marks[0] for name in keypoints if len(marks := _side_marks(name)) == 1
    }
    pairs: list[tuple[str, str]] = []
    for strip in (lambda key: key, lambda key: re.sub(r"\d+", "", key)):
        groups: dict[str, list[str]] = {}
        for name, (_, key) in marked.items():
            groups.setdefault(strip(key), []).append(name)
        for group in groups.values():
            if sorted(marked[name][0] for name in group) == ["left", "right"]:
                pairs.append((group[0], group[1]))
                for name in group:
                    del marked[name]
    order = {name: i for i, name in enumerate(keypoints)}
    return sorted(pairs, key=lambda pair: order[pair[0]])


def unpaired_side_keypoints(
    keypoints: list[str], symmetry: list[tuple[str, str]]
) -> list[str]:
    """Keypoints whose names mark a left or right side but that are in no pair.

    A horizontal flip swaps only the pairs in `symmetry`, so these would keep
    their label on the wrong side of a flipped image.
    """
    paired = {name for pair in symmetry for name in pair}
    return [name for name in keypoints if _side_marks(name) and name not in paired]


def _describe(error: ValidationError, path: Path) -> str:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(top level)"
    if first["type"] == "extra_forbidden":
        return f"{path}: unknown key {where!r}"
    if first["type"] == "missing":
        return f"{path}: missing key {where!r}"
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"{path}: {where}: {message}"


def load_config(path: Path) -> ProjectConfig:
    """Read and validate `etholoop.yaml`.

    Raises:
        ConfigError: the file is missing, is not YAML or holds an invalid value.
    """
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        where = f" (line {line + 1})" if line is not None else ""
        raise ConfigError(f"{path}: not valid YAML{where}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of keys to values")
    try:
        return ProjectConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, path)) from None


def save_config(config: ProjectConfig, path: Path) -> None:
    """Write `etholoop.yaml`, keys in declaration order."""
    data = config.model_dump(mode="json")
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
