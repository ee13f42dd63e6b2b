"""`Oracle`: a fully labeled project's labels, hidden and handed back frame by frame.

A simulated active-learning loop starts from a project whose every frame is
labeled. The oracle takes the labels of every frame outside the test split out
of the store and keeps them; revealing a frame saves its true labels back as
manual instances, which is what a person correcting the model's predictions
ends up with. Test frames keep their labels throughout, so every round is
scored on the same ground truth, and are never revealed.
"""

from __future__ import annotations

from collections.abc import Iterable

from attrs import evolve, frozen

from etholoop.errors import SamplingError
from etholoop.project import Project
from etholoop.sampling.split import subset_frames
from etholoop.store import (
    frame_versions,
    load_instances_by_frame,
    save_frame_instances,
)
from etholoop.types import Instance


@frozen
class Oracle:
    """The hidden labels of a simulated loop.

    Revealing leaves the oracle as it was, so one can serve several copies of
    a project (one per strategy); a frame revealed twice in one project is a
    `ConflictError` of the store.

    Attributes:
        labels: Frame id -> its manual instances, taken out of the store.
    """

    labels: dict[int, list[Instance]]

    @classmethod
    def hide(cls, project: Project) -> Oracle:
        """Take every instance off the frames outside the latest test split.

        Their manual instances become the oracle's; predicted ones are dropped.
        One transaction: a crash hides nothing.

        Raises:
            ProjectError: the project has no splits yet.
        """
        test = set(subset_frames(project, "test"))
        labels: dict[int, list[Instance]] = {}
        with project.store.session() as session:
            for frame_id, found in load_instances_by_frame(session).items():
                if frame_id in test:
                    continue
                manual = [i for i in found if i.source == "manual"]
                if manual:
                    labels[frame_id] = [
                        evolve(i, id=None, version=None) for i in manual
                    ]
                save_frame_instances(
                    session,
                    frame_id=frame_id,
                    instances=[],
                    base_versions=frame_versions(session, frame_id),
                )
        return cls(labels)

    def reveal(self, project: Project, frame_ids: Iterable[int]) -> None:
        """Save the true labels of exactly `frame_ids` as manual instances.

        All of them in one transaction, and nothing when one cannot be revealed.

        Raises:
            SamplingError: a frame is in the latest test split, or the oracle
                holds no labels for it.
            ConflictError: a frame already holds instances.
        """
        frame_ids = list(frame_ids)
        in_test = sorted(set(frame_ids) & set(subset_frames(project, "test")))
        if in_test:
            raise SamplingError(
                f"{project.root}: frames {in_test} are test frames; "
                "the oracle never reveals them"
            )
        unknown = sorted(set(frame_ids) - self.labels.keys())
        if unknown:
            raise SamplingError(
                f"{project.root}: the oracle holds no labels for frames {unknown}"
            )
        with project.store.session() as session:
            for frame_id in frame_ids:
                save_frame_instances(
                    session,
                    frame_id=frame_id,
                    instances=self.labels[frame_id],
                    base_versions={},
                )
