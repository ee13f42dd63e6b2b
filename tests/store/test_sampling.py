"""Store functions of `sample` and `split`, on SQLite and on PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from etholoop.store import (
    Frame,
    SplitMember,
    Store,
    add_video,
    get_or_add_cycle,
    load_split_members,
    replace_split_members,
)
from etholoop.store.sampling import (
    SampledFrame,
    list_split_frames,
    save_sampled_frames,
    set_video_conditions,
)
from etholoop.store.splits import Membership
from etholoop.store.videos import get_video
from etholoop.types import VideoInfo
from tests.store.conftest import add_test_frame, add_test_video

SETTINGS = {"strategy": "uniform", "seed": 3, "strata": ["video"], "time_bins": 4}


def test_sampled_frames_are_added_once_and_updated_after(store: Store) -> None:
    video_id = add_test_video(store, "v.mp4")
    first = [
        SampledFrame(video_id, 4, "frames/a/000004.png", "video=1"),
        SampledFrame(video_id, 9, "frames/a/000009.png", "video=1"),
    ]
    with store.session() as session:
        assert save_sampled_frames(session, first, SETTINGS) == 2
    again = [
        SampledFrame(video_id, 9, "frames/b/000009.png", "video=1|time=2"),
        SampledFrame(video_id, 11, "frames/a/000011.png", "video=1|time=2"),
    ]
    with store.session() as session:
        assert save_sampled_frames(session, again, {**SETTINGS, "seed": 4}) == 1
    with store.session() as session:
        rows = session.scalars(select(Frame).order_by(Frame.frame_idx)).all()
        got = [(r.frame_idx, r.image_path, r.stratum, r.sampling) for r in rows]
    assert got == [
        (4, "frames/a/000004.png", "video=1", SETTINGS),
        (9, "frames/a/000009.png", "video=1|time=2", {**SETTINGS, "seed": 4}),
        (11, "frames/a/000011.png", "video=1|time=2", {**SETTINGS, "seed": 4}),
    ]


def test_a_copy_s_condition_is_also_its_raw_video_s(store: Store) -> None:
    raw_id = add_test_video(store, "raw.mp4")
    other_id = add_test_video(store, "other.mp4")
    with store.session() as session:
        info = VideoInfo("c.mp4", "cd" * 32, 15.0, 50, 32, 24, "h264", "yuv420p", 3.3)
        copy_id = add_video(session, info, path="c.mp4", parent_id=raw_id).id
    with store.session() as session:
        set_video_conditions(session, {copy_id: "drug", other_id: None})
    with store.session() as session:
        conditions = {}
        for video_id in (raw_id, other_id, copy_id):
            video = get_video(session, video_id)
            assert video is not None
            conditions[video_id] = video.condition
        assert get_video(session, copy_id + 1) is None
    assert conditions == {raw_id: "drug", other_id: None, copy_id: "drug"}


def test_split_frames_are_labeled_when_they_hold_a_manual_instance(
    store: Store, labeled_frames: dict[str, int]
) -> None:
    with store.session() as session:
        (video_id,) = {f.video_id for f in session.scalars(select(Frame))}
        set_video_conditions(session, {video_id: "saline"})
        frame = session.get(Frame, labeled_frames["both"])
        assert frame is not None
        frame.stratum = "video=1|time=0"
    with store.session() as session:
        frames = list_split_frames(session)
    assert [f.frame_id for f in frames] == sorted(labeled_frames.values())
    labeled = {f.frame_id: f.labeled for f in frames}
    assert labeled == {
        labeled_frames["empty"]: False,
        labeled_frames["manual"]: True,
        labeled_frames["predicted"]: False,
        labeled_frames["both"]: True,
        labeled_frames["two manual"]: True,
    }
    both = next(f for f in frames if f.frame_id == labeled_frames["both"])
    assert (both.stratum, both.frame_idx, both.video_id) == (
        "video=1|time=0",
        3,
        video_id,
    )
    assert (both.video_n_frames, both.condition) == (100, "saline")


def test_memberships_replace_a_cycle_s_splits(store: Store) -> None:
    video_id = add_test_video(store, "v.mp4")
    frame_ids = [add_test_frame(store, video_id, i, ()) for i in range(3)]
    with store.session() as session:
        cycle_id = get_or_add_cycle(session).id
        replace_split_members(
            session, cycle_id, [Membership(frame_ids[0], "test", stratum="s0")]
        )
    with store.session() as session:
        replace_split_members(
            session,
            cycle_id,
            [
                Membership(frame_ids[1], "trainval", val=True, stratum="s1"),
                Membership(frame_ids[2], "reserve"),
            ],
        )
    with store.session() as session:
        members = load_split_members(session, cycle_id)
        got = [(m.frame_id, m.split, m.val, m.stratum) for m in members]
        assert len(session.scalars(select(SplitMember)).all()) == 2
    assert got == [
        (frame_ids[1], "trainval", True, "s1"),
        (frame_ids[2], "reserve", False, None),
    ]
