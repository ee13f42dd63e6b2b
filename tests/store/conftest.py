"""Stores for the store tests, and frames holding instances of given sources.

`store`: a fresh label store, on SQLite and (marked `postgres`) on PostgreSQL.
`labeled_frames`: on one video of `store`, one frame per entry of `LABELS`
(frame index = its place there), its instances saved through the store's save
function so that the frame counts are the ones saves keep.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from etholoop.store import (
    Store,
    add_video,
    get_or_add_frame,
    save_frame_instances,
    sqlite_url,
)
from etholoop.types import Instance, Source, VideoInfo

LABELS: dict[str, tuple[Source, ...]] = {
    "empty": (),
    "manual": ("manual",),
    "predicted": ("predicted",),
    "both": ("manual", "predicted"),
    "two manual": ("manual", "manual"),
}
"""Frame name -> the sources of the instances it holds."""


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """A fresh label store."""
    if request.param == "sqlite":
        url = sqlite_url(tmp_path / "labels.db")
    else:
        url = request.getfixturevalue("postgres_url")
    store = Store(url)
    request.addfinalizer(store.close)
    return store


def add_test_video(store: Store, name: str) -> int:
    """Register a video row named `name` (no file behind it); its id."""
    sha = name.encode().hex().ljust(64, "0")
    info = VideoInfo(name, sha, 30.0, 100, 64, 48, "h264", "yuv420p", 100 / 30)
    with store.session() as session:
        return add_video(session, info, path=name).id


def instance(source: Source) -> Instance:
    """A two-keypoint instance of `source`."""
    return Instance(keypoints=np.array([[1.0, 2.0], [3.0, 4.0]]), source=source)


def add_test_frame(
    store: Store, video_id: int, frame_idx: int, sources: tuple[Source, ...]
) -> int:
    """A frame holding one instance per entry of `sources`; its id."""
    with store.session() as session:
        frame_id = get_or_add_frame(session, video_id=video_id, frame_idx=frame_idx).id
        save_frame_instances(
            session,
            frame_id=frame_id,
            instances=[instance(s) for s in sources],
            base_versions={},
        )
    return frame_id


@pytest.fixture
def labeled_frames(store: Store) -> dict[str, int]:
    """One frame per entry of `LABELS`, on one video, by name."""
    video_id = add_test_video(store, "v.mp4")
    return {
        name: add_test_frame(store, video_id, idx, sources)
        for idx, (name, sources) in enumerate(LABELS.items())
    }
