"""`Oracle`: hides the labels outside the test split, reveals exactly what is asked."""

from __future__ import annotations

import numpy as np
import pytest

from etholoop.active import Oracle
from etholoop.errors import ConflictError, ProjectError, SamplingError
from etholoop.project import Project
from etholoop.sampling import split_frames
from etholoop.sampling.split import subset_frames
from etholoop.store import load_instances_by_frame
from etholoop.types import Instance


def _stored(project: Project) -> dict[int, list[Instance]]:
    with project.store.session() as session:
        return load_instances_by_frame(session)


def _same_labels(a: list[Instance], b: list[Instance]) -> bool:
    return len(a) == len(b) and all(
        x.source == y.source == "manual"
        and np.array_equal(x.keypoints, y.keypoints, equal_nan=True)
        and np.array_equal(x.visibility, y.visibility)
        for x, y in zip(a, b, strict=True)
    )


@pytest.fixture
def split_project(labeled_project: Project) -> Project:
    """Every frame labeled: a quarter in test, the rest in train+val."""
    split_frames(labeled_project, test=0.25, n_trainval=0, n_predict=0)
    return labeled_project


def test_hide_takes_every_label_outside_test_out_of_the_store(split_project):
    truth = _stored(split_project)
    test = set(subset_frames(split_project, "test"))
    oracle = Oracle.hide(split_project)
    assert test and oracle.labels.keys() == truth.keys() - test
    assert _stored(split_project).keys() == test
    for frame_id, labels in oracle.labels.items():
        assert _same_labels(labels, truth[frame_id])
        assert all(i.id is None and i.version is None for i in labels)


def test_reveal_saves_exactly_the_frames_asked_for(split_project):
    truth = _stored(split_project)
    test = set(subset_frames(split_project, "test"))
    oracle = Oracle.hide(split_project)
    chosen = sorted(oracle.labels)[::5]
    oracle.reveal(split_project, chosen)
    stored = _stored(split_project)
    assert stored.keys() == test | set(chosen)
    for frame_id in chosen:
        assert _same_labels(stored[frame_id], truth[frame_id])
    assert oracle.labels.keys() == truth.keys() - test  # revealing keeps them


def test_a_test_frame_is_never_revealed(split_project):
    everything = Oracle(_stored(split_project))  # an oracle that knows test frames
    test = subset_frames(split_project, "test")
    hidden = Oracle.hide(split_project)
    other = sorted(hidden.labels)[0]
    before = _stored(split_project)
    with pytest.raises(SamplingError, match=rf"frames \[{test[0]}\] are test frames"):
        everything.reveal(split_project, [other, test[0]])
    assert _stored(split_project).keys() == before.keys()


def test_frames_it_does_not_hold_are_refused_and_nothing_is_saved(split_project):
    oracle = Oracle.hide(split_project)
    known = sorted(oracle.labels)[0]
    unknown = max(oracle.labels) + 1000
    before = _stored(split_project).keys()
    with pytest.raises(SamplingError, match=rf"no labels for frames \[{unknown}\]"):
        oracle.reveal(split_project, [known, unknown])
    assert _stored(split_project).keys() == before


def test_revealing_a_frame_twice_is_a_conflict(split_project):
    oracle = Oracle.hide(split_project)
    frame_id = sorted(oracle.labels)[0]
    oracle.reveal(split_project, [frame_id])
    with pytest.raises(ConflictError):
        oracle.reveal(split_project, [frame_id])


def test_hide_needs_splits(labeled_project):
    with pytest.raises(ProjectError, match="no splits yet"):
        Oracle.hide(labeled_project)
