"""Fixtures shared by every test module."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

pytest_plugins = [
    "tests.fixtures.postgres",
    "tests.fixtures.projects",
    "tests.fixtures.videos",
]

SHARED_DATA = (Path(__file__).resolve().parents[2] / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real third-party data in `../shared/data` (see its README), or skip."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real test data not found at {SHARED_DATA} (needs ../shared/data)")
    return SHARED_DATA


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep third-party settings (Ultralytics) out of the user's home folder."""
    os.environ["ETHOLOOP_CACHE"] = str(tmp_path_factory.mktemp("etholoop-cache"))


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded random generator, so every run sees the same numbers."""
    return np.random.default_rng(0)
