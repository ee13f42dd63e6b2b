"""Behavior ranges in the store: save, update, conflicts."""

from __future__ import annotations

from pathlib import Path

import pytest

from etholoop.errors import ConflictError
from etholoop.store import Store, add_video, sqlite_url
from etholoop.store.behaviors import load_behavior_ranges, save_behavior_ranges
from etholoop.types import BehaviorRange, VideoInfo

INFO = VideoInfo("v.mp4", "cd" * 32, 30.0, 100, 64, 48, "h264", "yuv420p", 100 / 30)


@pytest.fixture
def video_store(tmp_path: Path) -> tuple[Store, int]:
    store = Store(sqlite_url(tmp_path / "b.db"))
    with store.session() as session:
        video_id = add_video(session, INFO, path="v.mp4").id
    yield store, video_id
    store.close()


def test_ranges_round_trip_and_update_in_place(video_store) -> None:
    store, video_id = video_store
    walk = BehaviorRange(individual=0, behavior="walk", start=3, stop=9)
    with store.session() as session:
        save_behavior_ranges(
            session, video_id=video_id, ranges=[walk], base_versions={}
        )
    with store.session() as session:
        (stored,) = load_behavior_ranges(session, video_id)
        longer = BehaviorRange(0, "walk", 3, 12, id=stored.id, version=stored.version)
        save_behavior_ranges(
            session,
            video_id=video_id,
            ranges=[longer],
            base_versions={stored.id: stored.version},
        )
    with store.session() as session:
        (updated,) = load_behavior_ranges(session, video_id)
    assert (updated.id, updated.stop, updated.version) == (stored.id, 12, 2)


def test_a_save_based_on_old_versions_is_refused(video_store) -> None:
    store, video_id = video_store
    rest = BehaviorRange(individual=1, behavior="rest", start=0, stop=5)
    with store.session() as session:
        save_behavior_ranges(
            session, video_id=video_id, ranges=[rest], base_versions={}
        )
    with (
        pytest.raises(ConflictError, match="changed by someone else"),
        store.session() as session,
    ):
        save_behavior_ranges(session, video_id=video_id, ranges=[], base_versions={})
    with store.session() as session:
        assert len(load_behavior_ranges(session, video_id)) == 1
