"""The pose stages' store queries, on SQLite and PostgreSQL (`store` fixture).

One video of 64x48 frames in every labeling state (nothing, predictions only,
manual only, manual and predicted, predictions confirmed as manual), in the
train+val and test splits of cycle 0.
"""

from __future__ import annotations

from etholoop.runs import finish_run, start_run
from etholoop.store import (
    SplitMember,
    Store,
    add_video,
    get_or_add_cycle,
    get_or_add_frame,
    load_frame_instances,
    replace_split_members,
    save_frame_instances,
)
from etholoop.store.models import Cycle
from etholoop.store.pose import TrainingFrame, frame_sizes, training_frames
from etholoop.store.runs import find_finished_run
from etholoop.store.splits import all_frame_ids, split_frame_ids
from etholoop.types import Source, VideoInfo
from tests.store.conftest import add_test_frame, add_test_video, instance

OTHER = VideoInfo("w.mp4", "ef" * 32, 30.0, 100, 320, 240, "h264", "yuv420p", 10.0)
STATES: dict[str, tuple[Source, ...]] = {
    "empty": (),
    "predicted": ("predicted",),
    "manual": ("manual",),
    "both": ("manual", "predicted"),
    "confirmed": ("predicted",),  # then saved as manual
    "val": ("manual",),
    "test": ("manual",),
}


def _frames(store: Store) -> dict[str, int]:
    """Frames by labeling state, frame index = place in `STATES`; cycle 0's splits."""
    video_id = add_test_video(store, "v.mp4")
    ids = {
        name: add_test_frame(store, video_id, idx, sources)
        for idx, (name, sources) in enumerate(STATES.items())
    }
    with store.session() as session:
        found = load_frame_instances(session, ids["confirmed"])
        save_frame_instances(
            session,
            frame_id=ids["confirmed"],
            instances=[instance("manual")],
            base_versions={i.id: i.version for i in found if i.id and i.version},
        )
        cycle = get_or_add_cycle(session)
        members = [
            SplitMember(frame_id=ids[name], split="trainval", val=name == "val")
            for name in STATES
            if name != "test"
        ] + [SplitMember(frame_id=ids["test"], split="test")]
        replace_split_members(session, cycle.id, members)
    return ids


def test_training_frames_hold_manual_labels_and_no_predictions(store: Store) -> None:
    ids = _frames(store)
    with store.session() as session:
        found = training_frames(session, cycle_id=get_or_add_cycle(session).id)
    assert found == [
        TrainingFrame(ids[name], found[0].video_id, "v.mp4", idx, name == "val")
        for idx, name in [(2, "manual"), (4, "confirmed"), (5, "val")]
    ]


def test_training_frames_are_of_the_cycle_asked_for(store: Store) -> None:
    ids = _frames(store)
    with store.session() as session:
        later = Cycle(index=1)
        session.add(later)
        session.flush()
        replace_split_members(
            session, later.id, [SplitMember(frame_id=ids["test"], split="trainval")]
        )
        assert [f.frame_id for f in training_frames(session, cycle_id=later.id)] == [
            ids["test"]
        ]


def test_split_and_all_frame_ids_are_ascending(store: Store) -> None:
    ids = _frames(store)
    with store.session() as session:
        cycle = get_or_add_cycle(session)
        trainval = split_frame_ids(session, cycle_id=cycle.id, split="trainval")
        assert trainval == sorted(ids[n] for n in ids if n != "test")
        assert split_frame_ids(session, cycle_id=cycle.id, split="test") == [
            ids["test"]
        ]
        assert split_frame_ids(session, cycle_id=cycle.id, split="predict") == []
        assert all_frame_ids(session) == sorted(ids.values())


def test_frame_sizes_are_their_videos_sizes(store: Store) -> None:
    ids = _frames(store)
    with store.session() as session:
        other = add_video(session, OTHER, path="w.mp4")
        wide = get_or_add_frame(session, video_id=other.id, frame_idx=3).id
        sizes = frame_sizes(session, [ids["manual"], wide])
        assert sizes == {ids["manual"]: (64, 48), wide: (320, 240)}
        assert frame_sizes(session, []) == {}


def test_find_finished_run_takes_the_latest_done_run_of_the_stage(
    store: Store,
) -> None:
    with store.session() as session:
        runs = [
            start_run(session, stage=stage, config={}, cycle_id=None).id
            for stage in ("pose-train", "pose-train", "track", "pose-train")
        ]
        for run_id in runs[:3]:
            finish_run(session, run_id, status="done")
    with store.session() as session:
        assert find_finished_run(session, stage="pose-train").id == runs[1]
        assert (
            find_finished_run(session, stage="pose-train", run_id=runs[0]).id
            == (runs[0])
        )
        assert find_finished_run(session, stage="pose-train", run_id=runs[2]) is None
        assert find_finished_run(session, stage="pose-train", run_id=runs[3]) is None
        assert find_finished_run(session, stage="track").id == runs[2]
        assert find_finished_run(session, stage="behavior") is None
