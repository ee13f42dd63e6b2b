"""Store functions of the active-learning loop, on SQLite and on PostgreSQL.

The frames are saved with the store's own save function (`labeled_frames` in
conftest), so the frame counts the queries read are the ones saves keep.
"""

from __future__ import annotations

from sqlalchemy import select

from etholoop.store import (
    Cycle,
    Store,
    frame_versions,
    get_or_add_cycle,
    latest_cycle,
    load_split_members,
    replace_split_members,
    save_frame_instances,
)
from etholoop.store.cycles import (
    FramePosition,
    corrected_frames,
    count_manually_labeled,
    frames_in_video_order,
    open_next_cycle,
)
from etholoop.store.splits import Membership
from etholoop.types import Split
from tests.store.conftest import add_test_frame, add_test_video, instance


def test_corrected_frames_hold_instances_and_no_prediction(
    store: Store, labeled_frames: dict[str, int]
) -> None:
    with store.session() as session:
        found = corrected_frames(session, list(labeled_frames.values()))
        only_some = corrected_frames(
            session, [labeled_frames["manual"], labeled_frames["both"]]
        )
    assert found == {labeled_frames["manual"], labeled_frames["two manual"]}
    assert only_some == {labeled_frames["manual"]}


def test_correcting_the_last_prediction_makes_a_frame_corrected(
    store: Store, labeled_frames: dict[str, int]
) -> None:
    frame_id = labeled_frames["both"]
    with store.session() as session:
        assert not corrected_frames(session, [frame_id])
        save_frame_instances(
            session,
            frame_id=frame_id,
            instances=[instance("manual"), instance("manual")],  # confirmed
            base_versions=frame_versions(session, frame_id),
        )
        assert corrected_frames(session, [frame_id]) == {frame_id}


def test_frames_come_in_video_and_frame_order(store: Store) -> None:
    first, second = add_test_video(store, "a.mp4"), add_test_video(store, "b.mp4")
    ids = {
        (video, idx): add_test_frame(store, video, idx, ())
        for video, idx in [(second, 3), (first, 9), (second, 0), (first, 2)]
    }
    with store.session() as session:
        found = frames_in_video_order(session, list(ids.values()))
        some = frames_in_video_order(session, [ids[second, 3], ids[first, 9]])
    expected = [(first, 2), (first, 9), (second, 0), (second, 3)]
    assert found == [FramePosition(ids[key], *key) for key in expected]
    assert [(p.video_id, p.frame_idx) for p in some] == [(first, 9), (second, 3)]


def _split_into(store: Store, splits: dict[int, Split]) -> int:
    with store.session() as session:
        cycle = get_or_add_cycle(session)
        replace_split_members(
            session,
            cycle.id,
            [Membership(f, s, stratum=f"s{f}") for f, s in splits.items()],
        )
        return cycle.id


def test_count_manually_labeled_counts_frames_of_one_split(
    store: Store, labeled_frames: dict[str, int]
) -> None:
    trainval = ("empty", "manual", "predicted", "both")
    cycle_id = _split_into(
        store,
        {labeled_frames[n]: "trainval" for n in trainval}
        | {labeled_frames["two manual"]: "test"},
    )
    with store.session() as session:
        assert count_manually_labeled(session, cycle_id, "trainval") == 2
        assert count_manually_labeled(session, cycle_id, "test") == 1
        assert count_manually_labeled(session, cycle_id, "predict") == 0


def test_open_next_cycle_closes_the_last_and_stores_the_new_splits(
    store: Store, labeled_frames: dict[str, int]
) -> None:
    ids = sorted(labeled_frames.values())
    first = _split_into(store, dict.fromkeys(ids, "reserve"))
    new = [
        Membership(ids[0], "test"),
        Membership(ids[1], "trainval", val=True, stratum="a"),
        *(Membership(f, "reserve", stratum="b") for f in ids[2:]),
    ]
    with store.session() as session:
        opened = open_next_cycle(session, first, new, notes='{"n": 1}')
    with store.session() as session:
        cycle = latest_cycle(session)
        assert cycle is not None and cycle.id == opened.id
        assert (cycle.index, cycle.status, cycle.notes) == (1, "open", '{"n": 1}')
        members = load_split_members(session, cycle.id)
        old = load_split_members(session, first)
    assert [(m.frame_id, m.split, m.val, m.stratum) for m in members] == [
        (m.frame_id, m.split, m.val, m.stratum) for m in new
    ]
    assert [m.split for m in old] == ["reserve"] * len(ids)
    with store.session() as session:
        statuses = session.scalars(select(Cycle.status).order_by(Cycle.index))
        assert list(statuses) == ["closed", "open"]
