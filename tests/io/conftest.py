"""Fixtures of the io tests: a small generated label set on image sequences."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from etholoop.types import LabelSet
from tests.io.helpers import make_labels


@pytest.fixture
def toy_labels(tmp_path: Path, rng: np.random.Generator) -> LabelSet:
    """Two 4-image videos (same image names), 3 labeled frames each, 2 tracks."""
    return make_labels(tmp_path, rng)
