"""The project configuration, `etholoop.yaml`, validated with pydantic.

Config classes hold parameters only; the code that uses them lives in the stage
packages. Unknown keys are refused so that a typo is named, not ignored.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from etholoop.errors import ConfigError
from etholoop.types import Skeleton

CONFIG_NAME = "etholoop.yaml"

_LEFT_RIGHT = [
    (re.compile(r"^(.*)L$"), r"\1R"),
    (re.compile(r"^(.*)_l$"), r"\1_r"),
    (re.compile(r"^(.*)_left$"), r"\1_right"),
    (re.compile(r"^left(_?)(.*)$"), r"right\1\2"),
    (re.compile(r"^(?i:left)(.*)$"), r"Right\1"),
]


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


class ProjectConfig(_Strict):
    """Everything `etholoop.yaml` holds."""

    name: str
    animals: int = Field(ge=1)
    skeleton: SkeletonConfig
    behaviors: list[str] = Field(default_factory=list)
    store: StoreConfig = Field(default_factory=StoreConfig)
    video: VideoConfig = Field(default_factory=VideoConfig)

    @model_validator(mode="after")
    def _check_behaviors(self) -> ProjectConfig:
        if len(set(self.behaviors)) != len(self.behaviors):
            raise ValueError(f"behaviors repeat: {self.behaviors}")
        return self


def guess_symmetry(keypoints: list[str]) -> list[tuple[str, str]]:
    """Left/right keypoint pairs found by name, e.g. earL/earR or leftear/rightear."""
    names = set(keypoints)
    pairs: list[tuple[str, str]] = []
    used: set[str] = set()
    for name in keypoints:
        if name in used:
            continue
        for pattern, repl in _LEFT_RIGHT:
            if pattern.match(name):
                other = pattern.sub(repl, name)
                if other in names and other != name and other not in used:
                    pairs.append((name, other))
                    used.update((name, other))
                    break
    return pairs


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
