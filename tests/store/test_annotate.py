"""The annotation app's store functions: a cycle and a frame by id."""

from __future__ import annotations

from etholoop.store import Store, get_or_add_cycle, get_or_add_frame
from etholoop.store.annotate import get_cycle, get_frame_with_video
from tests.store.conftest import add_test_video


def test_a_cycle_is_found_by_id(store: Store) -> None:
    with store.session() as session:
        cycle_id = get_or_add_cycle(session).id
    with store.session() as session:
        cycle = get_cycle(session, cycle_id)
        assert cycle is not None and cycle.index == 0
        assert get_cycle(session, cycle_id + 1) is None


def test_a_frame_found_by_id_keeps_its_video_after_the_session(store: Store) -> None:
    video_id = add_test_video(store, "videos/v.mp4")
    with store.session() as session:
        frame_id = get_or_add_frame(session, video_id=video_id, frame_idx=7).id
    with store.session() as session:
        frame = get_frame_with_video(session, frame_id)
        assert get_frame_with_video(session, frame_id + 1) is None
    assert frame is not None and frame.frame_idx == 7
    video = frame.video  # read after the session has ended
    assert (video.id, video.path, video.width, video.height) == (
        video_id,
        "videos/v.mp4",
        64,
        48,
    )
