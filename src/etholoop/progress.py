"""How long work reports progress without knowing who shows it.

Stage functions take a `Reporter`; the CLI passes one that draws rich progress
bars, Python callers get `silent` by default.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

Advance = Callable[[int], None]


class Reporter(Protocol):
    """Opens a progress task; the yielded function advances it by n steps."""

    def __call__(
        self, description: str, total: int | None
    ) -> AbstractContextManager[Advance]:
        """Start a task of `total` steps (None: unknown) named `description`."""
        ...


@contextmanager
def silent(description: str, total: int | None) -> Iterator[Advance]:
    """A reporter that shows nothing."""
    yield lambda n: None
