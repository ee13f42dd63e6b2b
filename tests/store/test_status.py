"""The store queries of a project summary, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest

from etholoop.runs import start_run
from etholoop.store import (
    Store,
    add_frame_instances,
    add_video,
    frame_versions,
    get_or_add_frame,
    replace_split_members,
    save_frame_instances,
)
from etholoop.store.models import Cycle, SplitMember
from etholoop.store.status import (
    SplitStratumCounts,
    count_frames_by_split,
    list_cycles,
    list_runs,
)
from etholoop.types import Source, VideoInfo
from tests.store.conftest import instance

INFO = VideoInfo("v.mp4", "cd" * 32, 30.0, 100, 64, 48, "h264", "yuv420p", 100 / 30)


# frame index: (sampled stratum, sources of its instances)
FRAMES: dict[int, tuple[str | None, tuple[Source, ...]]] = {
    0: ("time=0", ()),
    1: ("time=0", ("manual", "manual")),
    2: (None, ("manual", "predicted")),
    3: (None, ("predicted", "predicted")),
    4: ("time=1", ()),
}


@pytest.fixture
def cycles(store: Store) -> tuple[int, int]:
    """Frames 0-4 of one video; cycle 0 splits 0-2, cycle 1 puts frame 0 in reserve.

    Frame 0 has the stratum "split-0" in cycle 0's split, the others none.
    """
    with store.session() as session:
        video = add_video(session, INFO, path="v.mp4")
        ids = {}
        for idx, (stratum, sources) in FRAMES.items():
            frame = get_or_add_frame(session, video_id=video.id, frame_idx=idx)
            frame.stratum = stratum
            add_frame_instances(
                session, frame_id=frame.id, instances=map(instance, sources)
            )
            ids[idx] = frame.id
        first, second = Cycle(index=0), Cycle(index=1)
        session.add_all([first, second])
        session.flush()
        replace_split_members(
            session,
            first.id,
            [
                SplitMember(frame_id=ids[0], split="test", stratum="split-0"),
                SplitMember(frame_id=ids[1], split="trainval"),
                SplitMember(frame_id=ids[2], split="trainval"),
            ],
        )
        replace_split_members(
            session, second.id, [SplitMember(frame_id=ids[0], split="reserve")]
        )
        return first.id, second.id


def _counts(store: Store, cycle_id: int | None) -> set[SplitStratumCounts]:
    with store.session() as session:
        return set(count_frames_by_split(session, cycle_id=cycle_id))


def test_frames_and_labels_per_split_and_stratum(
    store: Store, cycles: tuple[int, int]
) -> None:
    first, second = cycles
    assert _counts(store, first) == {
        SplitStratumCounts("test", "split-0", 1, 0, 0, 0, 0),
        SplitStratumCounts("trainval", "time=0", 1, 2, 1, 0, 0),
        SplitStratumCounts("trainval", None, 1, 1, 1, 1, 1),
        SplitStratumCounts(None, None, 1, 0, 0, 2, 1),
        SplitStratumCounts(None, "time=1", 1, 0, 0, 0, 0),
    }
    assert _counts(store, second) == {
        SplitStratumCounts("reserve", "time=0", 1, 0, 0, 0, 0),
        SplitStratumCounts(None, "time=0", 1, 2, 1, 0, 0),
        SplitStratumCounts(None, None, 2, 1, 1, 3, 2),
        SplitStratumCounts(None, "time=1", 1, 0, 0, 0, 0),
    }
    assert _counts(store, None) == {
        SplitStratumCounts(None, "time=0", 2, 2, 1, 0, 0),
        SplitStratumCounts(None, None, 2, 1, 1, 3, 2),
        SplitStratumCounts(None, "time=1", 1, 0, 0, 0, 0),
    }


def test_confirming_predictions_moves_them_to_manual(
    store: Store, cycles: tuple[int, int]
) -> None:
    with store.session() as session:
        frame = get_or_add_frame(session, video_id=1, frame_idx=3)
        save_frame_instances(
            session,
            frame_id=frame.id,
            instances=[instance("manual")],
            base_versions=frame_versions(session, frame.id),
        )
    unassigned = {c for c in _counts(store, None) if c.stratum is None}
    assert unassigned == {SplitStratumCounts(None, None, 2, 2, 2, 1, 1)}


def test_an_empty_store_counts_nothing(store: Store) -> None:
    assert _counts(store, None) == set()
    with store.session() as session:
        assert list_cycles(session) == [] and list_runs(session) == []


def test_cycles_by_index_and_runs_by_id(store: Store) -> None:
    with store.session() as session:
        session.add_all([Cycle(index=2), Cycle(index=0), Cycle(index=1)])
        session.flush()
        for stage in ("pose-train", "pose-predict"):
            start_run(session, stage=stage, config={}, cycle_id=None)
    with store.session() as session:
        assert [c.index for c in list_cycles(session)] == [0, 1, 2]
        runs = list_runs(session)
    assert [r.stage for r in runs] == ["pose-train", "pose-predict"]
    assert runs[0].id < runs[1].id
