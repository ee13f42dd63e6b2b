"""Store functions of imports, exports and the frame cache, on SQLite and PostgreSQL.

Which sources a frame holds comes from its counts; each test checks that
against the instances the store loads.
"""

from __future__ import annotations

import itertools

import pytest

from etholoop.store import Store, load_instances_by_frame
from etholoop.store.label_files import frames_with_videos, holds_instances
from etholoop.types import SOURCES, Source
from tests.store.conftest import LABELS, add_test_frame, add_test_video

SOURCE_SETS = [
    set(c) for n in range(len(SOURCES) + 1) for c in itertools.combinations(SOURCES, n)
]


def _holding(store: Store, sources: set[str]) -> set[int]:
    """Frames holding an instance of `sources`, from the instances themselves."""
    with store.session() as session:
        found = load_instances_by_frame(session)
    return {f for f, insts in found.items() if {i.source for i in insts} & sources}


@pytest.mark.parametrize("sources", SOURCE_SETS, ids=lambda s: "+".join(sorted(s)))
def test_frames_holding_sources_agree_with_their_instances(
    store: Store, labeled_frames: dict[str, int], sources: set[Source]
) -> None:
    expected = _holding(store, sources)
    assert expected == {
        labeled_frames[name] for name, held in LABELS.items() if set(held) & sources
    }
    with store.session() as session:
        rows = frames_with_videos(session, sources=sources)
        assert {f.id for f, _ in rows} == expected
        assert {
            f.id for f, _ in frames_with_videos(session) if holds_instances(f, sources)
        } == expected


def test_frames_with_videos_by_video_and_index_with_their_video_rows(
    store: Store,
) -> None:
    first, second = add_test_video(store, "a.mp4"), add_test_video(store, "b.mp4")
    ids = {
        (video, idx): add_test_frame(store, video, idx, ("manual",) * (idx % 2))
        for video, idx in [(second, 3), (first, 9), (second, 0), (first, 2)]
    }
    with store.session() as session:
        every = frames_with_videos(session)
        chosen = frames_with_videos(session, [ids[second, 0], ids[first, 9]])
        labeled = frames_with_videos(
            session, [ids[second, 0], ids[first, 9]], sources=["manual"]
        )
    # the rows outlive the session: callers read them after it closed
    assert [(v.path, f.frame_idx) for f, v in every] == [
        ("a.mp4", 2),
        ("a.mp4", 9),
        ("b.mp4", 0),
        ("b.mp4", 3),
    ]
    assert all(f.video_id == v.id for f, v in every)
    assert [f.id for f, _ in chosen] == [ids[first, 9], ids[second, 0]]
    assert [f.id for f, _ in labeled] == [ids[first, 9]]
