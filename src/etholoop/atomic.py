"""Files that appear under their name only when complete."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def written_atomically(path: Path, suffix: str = "") -> Iterator[Path]:
    """A hidden partial path beside `path`, renamed to `path` when the block succeeds.

    A killed or failed writer leaves no file under the final name; a partial file
    of an earlier attempt is overwritten. `suffix` ends the partial name, for
    writers that choose a format by it (e.g. ".mp4").
    """
    partial = path.with_name(f".{path.name}.partial{suffix}")
    partial.unlink(missing_ok=True)
    try:
        yield partial
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
