"""`split_frames` over a real store: a fixed test split, per-cycle membership."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from etholoop.errors import SamplingError
from etholoop.sampling import sample_frames, split_frames
from etholoop.status import project_status
from etholoop.store import add_frame_instances
from etholoop.store.models import Cycle, Frame, SplitMember
from etholoop.types import Instance


def _members(project) -> dict[str, set[int]]:
    with project.store.session() as session:
        rows = session.scalars(select(SplitMember)).all()
        return {
            s: {m.frame_id for m in rows if m.split == s}
            for s in ("test", "trainval", "predict", "reserve")
        }


@pytest.fixture
def sampled(make_project, arena_videos):
    project = make_project(*arena_videos)
    sample_frames(project, n=80, seed=1)
    return project


def test_first_split_creates_cycle_0_and_fills_every_split(sampled):
    result = split_frames(sampled, n_trainval=20, val_fraction=0.25, n_predict=30)
    assert result.cycle == 0 and result.test_drawn
    assert result.counts == {"test": 12, "trainval": 20, "predict": 30, "reserve": 18}
    assert result.n_val == 5
    with sampled.store.session() as session:
        assert [c.index for c in session.scalars(select(Cycle))] == [0]
        members = session.scalars(select(SplitMember)).all()
        assert all(m.stratum and m.stratum.startswith("video=") for m in members)
        assert {m.split for m in members if m.val} == {"trainval"}
    pool = project_status(sampled).to_dict()["pool"]
    assert sum(pool["test"].values()) == 12 and len(pool["trainval"]) == 8


def test_test_split_is_stable_across_later_calls(sampled):
    split_frames(sampled, seed=0, n_trainval=10, n_predict=10)
    first = _members(sampled)
    split_frames(sampled, seed=5, n_trainval=20, n_predict=5)
    later = _members(sampled)
    assert later["test"] == first["test"]
    assert len(later["trainval"]) == 20 and not later["trainval"] & first["test"]
    sample_frames(sampled, n=40, seed=9)  # more frames: they never enter the test
    result = split_frames(sampled, n_trainval=10, n_predict=10)
    assert not result.test_drawn and _members(sampled)["test"] == first["test"]


def test_same_seed_same_splits(make_project, arena_videos):
    splits = []
    for name in ("a", "b"):
        project = make_project(*arena_videos, name=name)
        sample_frames(project, n=40)
        split_frames(project, seed=2, n_trainval=10, n_predict=10)
        splits.append(_members(project))
    assert splits[0] == splits[1]


def test_redrawing_the_test_split_needs_a_flag_and_counts_labels(sampled):
    split_frames(sampled, n_trainval=10, n_predict=10)
    test_ids = sorted(_members(sampled)["test"])
    instance = Instance(keypoints=np.array([[1.0, 2.0], [3.0, 4.0]]))
    with sampled.store.session() as session:
        for frame_id in test_ids:
            add_frame_instances(session, frame_id=frame_id, instances=[instance])
    with pytest.raises(SamplingError, match=r"12 frames.*--redraw-test.*would take"):
        split_frames(sampled, test=0.3)
    assert sorted(_members(sampled)["test"]) == test_ids
    result = split_frames(
        sampled, test=0.3, redraw_test=True, seed=4, n_trainval=10, n_predict=10
    )
    left = len(set(test_ids) - _members(sampled)["test"])
    assert result.test_drawn and result.counts["test"] == 4  # 0.3 of 12 labeled
    assert result.n_labeled_left_test == left == 8


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"test": 1.0}, r"--test must lie in \[0, 1\)"),
        ({"val_fraction": -0.1}, "--val-fraction must lie"),
        ({"n_trainval": 60, "n_predict": 20}, "need 80 frames, but only 68"),
    ],
)
def test_bad_split_requests_write_nothing(sampled, kwargs, message):
    with pytest.raises(SamplingError, match=message):
        split_frames(sampled, **kwargs)
    assert _members(sampled)["test"] == set()


def test_a_project_without_frames_cannot_be_split(make_project, arena_videos):
    with pytest.raises(SamplingError, match="no frames to split"):
        split_frames(make_project(*arena_videos))


def _label_frames(project, frame_ids) -> None:
    instance = Instance(keypoints=np.array([[1.0, 2.0], [3.0, 4.0]]))
    with project.store.session() as session:
        for frame_id in frame_ids:
            add_frame_instances(session, frame_id=frame_id, instances=[instance])


@pytest.mark.parametrize(("n_labeled", "n_trainval"), [(40, 20), (10, 20)])
def test_labeled_frames_go_to_test_and_trainval_first(sampled, n_labeled, n_trainval):
    with sampled.store.session() as session:
        frame_ids = sorted(session.scalars(select(Frame.id)))
    labeled = set(frame_ids[::2][:n_labeled])
    _label_frames(sampled, labeled)
    result = split_frames(sampled, n_trainval=n_trainval, n_predict=20)
    members = _members(sampled)
    n_test = round(0.15 * n_labeled)
    assert members["test"] <= labeled and len(members["test"]) == n_test
    assert labeled - members["test"] <= members["trainval"]
    assert len(members["trainval"]) == max(n_trainval, n_labeled - n_test)
    assert not labeled & (members["predict"] | members["reserve"])
    assert result.labeled == {
        "test": n_test,
        "trainval": n_labeled - n_test,
        "predict": 0,
        "reserve": 0,
    }
