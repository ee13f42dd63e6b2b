"""The label-format registry that the format modules add themselves to.

Each format module decorates its reader with `register_reader` and its writer
with `register_writer` (movement's `@register_loader` style); `etholoop.io`
imports them all and dispatches on the format name.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from attrs import define, field

from etholoop.types import LabelSet

Reader = Callable[[str | os.PathLike[str]], LabelSet]
Writer = Callable[..., None]
F = TypeVar("F", bound=Callable[..., Any])


@define
class LabelFormat:
    """One label file format.

    Attributes:
        name: Short name, e.g. "dlc".
        suffixes: File suffixes (lower case, with dot) that auto-detection maps
            to this format; "/" stands for a folder.
        reader: `read_<fmt>(path) -> LabelSet`, or None if write-only.
        writer: `write_<fmt>(labels, path, ...)`, or None if read-only.
        takes_images: True if the writer takes `images=` (it copies frames).
        file_name: The file the writer writes into a folder given as its path,
            e.g. "labels.json"; None if the writer takes folders itself.
    """

    name: str
    suffixes: tuple[str, ...] = field(factory=tuple)
    reader: Reader | None = None
    writer: Writer | None = None
    takes_images: bool = False
    file_name: str | None = None


REGISTRY: dict[str, LabelFormat] = {}


def _entry(name: str) -> LabelFormat:
    return REGISTRY.setdefault(name, LabelFormat(name=name))


def register_reader(name: str, *, suffixes: tuple[str, ...] = ()) -> Callable[[F], F]:
    """Register the decorated function as the reader of format `name`.

    Args:
        name: Format name.
        suffixes: File suffixes that `load_labels(format="auto")` maps to it.
    """

    def decorate(func: F) -> F:
        entry = _entry(name)
        entry.reader = func
        entry.suffixes = tuple(dict.fromkeys([*entry.suffixes, *suffixes]))
        return func

    return decorate


def register_writer(
    name: str, *, takes_images: bool = False, file_name: str | None = None
) -> Callable[[F], F]:
    """Register the decorated function as the writer of format `name`.

    Args:
        name: Format name.
        takes_images: True if the writer accepts `images=`.
        file_name: The file to write into a folder given as the path (a path
            without this file's suffix is taken for a folder).
    """

    def decorate(func: F) -> F:
        entry = _entry(name)
        entry.writer = func
        entry.takes_images = takes_images
        entry.file_name = file_name
        return func

    return decorate


def suffix_of(path: Path) -> str:
    """The lower-case suffix auto-detection uses; "/" for a folder."""
    return "/" if path.is_dir() else path.suffix.lower()
