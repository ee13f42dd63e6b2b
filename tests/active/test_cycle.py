"""`advance_cycle`: corrected frames join train+val; a new predict subset is drawn."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import func, select

from etholoop.active import advance_cycle
from etholoop.errors import ProjectError, SamplingError
from etholoop.project import Project
from etholoop.sampling import sample_frames, split_frames
from etholoop.store import latest_cycle, load_split_members, save_frame_instances
from etholoop.store.models import Cycle, Frame, SplitMember
from etholoop.types import Instance


@pytest.fixture
def looped(make_project, arena_videos) -> Project:
    project = make_project(*arena_videos)
    sample_frames(project, n=60)
    split_frames(project, test=0.2, n_trainval=12, n_predict=10)
    return project


def _splits(project: Project) -> dict[int, tuple[str, bool]]:
    with project.store.session() as session:
        cycle = latest_cycle(session)
        return {
            m.frame_id: (m.split, m.val) for m in load_split_members(session, cycle.id)
        }


def _label(project: Project, frame_id: int, source: str = "manual") -> None:
    points = np.array([[10.0, 10.0], [30.0, 20.0]])
    with project.store.session() as session:
        save_frame_instances(
            session,
            frame_id=frame_id,
            instances=[Instance(keypoints=points, box=[5, 5, 35, 25], source=source)],
            base_versions={},
        )


def test_corrected_frames_join_trainval_and_a_new_subset_is_drawn(looped):
    before = _splits(looped)
    predict = sorted(f for f, (s, _) in before.items() if s == "predict")
    for frame_id in predict[:3]:
        _label(looped, frame_id)  # corrected by a person
    _label(looped, predict[3], source="predicted")  # still waiting
    report = advance_cycle(looped, strategy="stratified", n=8, seed=1)
    after = _splits(looped)
    assert report.cycle == 1 and report.n_corrected == 3 and report.n_chosen == 8
    assert report.n_returned == len(predict) - 3
    assert {f for f, (s, _) in after.items() if s == "test"} == {
        f for f, (s, _) in before.items() if s == "test"
    }
    trainval = {f for f, (s, _) in after.items() if s == "trainval"}
    assert set(predict[:3]) <= trainval
    assert trainval - set(predict[:3]) == {
        f for f, (s, _) in before.items() if s == "trainval"
    }
    new_predict = {f for f, (s, _) in after.items() if s == "predict"}
    assert len(new_predict) == 8 and not new_predict & trainval
    assert report.counts == {
        s: sum(split == s for split, _ in after.values())
        for s in ("test", "trainval", "predict", "reserve")
    }
    with looped.store.session() as session:
        statuses = [
            c.status for c in session.scalars(select(Cycle).order_by(Cycle.index))
        ]
    assert statuses == ["closed", "open"]


def test_a_crash_leaves_the_cycle_as_it_was_and_a_rerun_works(looped, monkeypatch):
    before = _splits(looped)
    with looped.store.session() as session:
        n_frames = session.scalar(select(func.count(Frame.id)))

    def crash(session, cycle_id, members):
        session.flush()  # the old cycle closed, the new one written: then the cut
        raise RuntimeError("power cut")

    monkeypatch.setattr("etholoop.store.cycles.replace_split_members", crash)
    with pytest.raises(RuntimeError, match="power cut"):
        advance_cycle(looped, n=5)
    monkeypatch.undo()
    with looped.store.session() as session:
        assert [c.index for c in session.scalars(select(Cycle))] == [0]
        assert latest_cycle(session).status == "open"
    assert _splits(looped) == before
    advance_cycle(looped, n=5)
    with looped.store.session() as session:
        assert session.scalar(select(func.count(Frame.id))) == n_frames
        per_cycle = session.execute(
            select(SplitMember.cycle_id, func.count()).group_by(SplitMember.cycle_id)
        ).all()
    assert [n for _, n in per_cycle] == [n_frames, n_frames]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"n": 10_000}, SamplingError, "reserve holds only"),
        ({"strategy": "psychic"}, SamplingError, "unknown sampling strategy"),
        ({"strategy": "uncertainty", "n": 5}, ProjectError, "no finished pose model"),
    ],
)
def test_bad_requests_change_nothing(looped, kwargs, error, message):
    before = _splits(looped)
    with pytest.raises(error, match=message):
        advance_cycle(looped, **kwargs)
    assert _splits(looped) == before


def test_n_zero_only_moves_corrections(looped):
    predict = sorted(f for f, (s, _) in _splits(looped).items() if s == "predict")
    _label(looped, predict[0])
    report = advance_cycle(looped, strategy="uncertainty", n=0)  # needs no model
    after = _splits(looped)
    assert report.n_chosen == 0 and after[predict[0]][0] == "trainval"
    assert not any(s == "predict" for s, _ in after.values())
