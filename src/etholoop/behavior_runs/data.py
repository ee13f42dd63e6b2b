"""The behavior stage's view of the project: sessions with tracks and their labels.

Labels to learn from are the manual behavior ranges. An animal of a session
counts as labeled on every frame once it has one manual range (an observer
who scores an animal scores the whole session, as in DeepEthogram and BORIS),
except that inside a predicted range nobody confirmed yet, that behavior counts
neither way (the others do). Animal i of the project is individual i of the
session's tracks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from attrs import frozen
from numpy.typing import NDArray

from etholoop.behavior.model import LabeledVideo
from etholoop.behavior_ranges import one_hot
from etholoop.errors import ProjectError
from etholoop.sessions import (
    get_session,
    list_sessions,
    load_session_tracks,
    session_name,
)
from etholoop.store.behaviors import load_behavior_ranges
from etholoop.store.session_tracks import latest_tracks_file
from etholoop.types import BehaviorRange, Ethogram, Tracks

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from etholoop.project import Project


@frozen(eq=False)
class SessionData:
    """One session's tracks and behavior ranges.

    Attributes:
        video_id: The session's id in the store (`videos.id`).
        name: Its short name (video stem or tracks session name).
        fps: Frames per second, None if unknown.
        tracks: Its newest tracks, as long as the session.
        ranges: Its behavior ranges, manual and predicted.
    """

    video_id: int
    name: str
    fps: float | None
    tracks: Tracks
    ranges: tuple[BehaviorRange, ...]

    def labels(
        self, behaviors: Sequence[str]
    ) -> tuple[Ethogram, NDArray[np.bool_], NDArray[np.bool_]]:
        """Manual labels, which animal-frames count, where one behavior does not.

        Shapes (frames, individuals, behaviors), (frames, individuals) and
        (frames, individuals, behaviors); the last marks unconfirmed predictions.
        """
        n_frames, n_animals = self.tracks.n_frames, len(self.tracks.individuals)
        manual = [r for r in self.ranges if r.source == "manual"]
        values = np.zeros((n_frames, n_animals, len(behaviors)), bool)
        labeled = np.zeros((n_frames, n_animals), bool)
        unknown = np.zeros(values.shape, bool)
        for animal in range(n_animals):
            if not any(r.individual == animal for r in manual):
                continue
            labeled[:, animal] = True
            values[:, animal] = one_hot(
                manual, behaviors, n_frames=n_frames, individual=animal
            ).astype(bool)
            predicted = [r for r in self.ranges if r.source == "predicted"]
            unknown[:, animal] = one_hot(
                predicted, behaviors, n_frames=n_frames, individual=animal
            ).astype(bool)
        labels = Ethogram(values, behaviors, self.tracks.individuals)
        return labels, labeled, unknown

    def labeled_video(self, behaviors: Sequence[str]) -> LabeledVideo | None:
        """What a model learns from this session, None if nothing is labeled."""
        labels, labeled, unknown = self.labels(behaviors)
        if not labeled.any():
            return None
        return LabeledVideo(self.tracks, labels, labeled, unknown)


def labeled_frames(
    ranges: Sequence[BehaviorRange], animal: int, n_frames: int
) -> NDArray[np.bool_]:
    """Frames of one animal a person has settled, shape (frames,).

    Every frame once the animal has a manual range, but those inside predicted
    ranges nobody confirmed.
    """
    mask = np.zeros(n_frames, bool)
    if any(r.source == "manual" and r.individual == animal for r in ranges):
        mask[:] = True
        for r in ranges:
            if r.source == "predicted" and r.individual == animal:
                mask[r.start : r.stop] = False
    return mask


def load_sessions(
    session: Session, project: Project, names: Sequence[str] | None = None
) -> list[SessionData]:
    """The named sessions (each must have tracks), or every session that has tracks.

    Raises:
        ProjectError: a named session does not exist or has no tracks.
    """
    if names:
        videos = [get_session(session, project, name) for name in names]
    else:
        videos = [
            v for v in list_sessions(session) if latest_tracks_file(session, v.id)
        ]
    return [
        SessionData(
            video_id=video.id,
            name=session_name(session, video),
            fps=video.fps,
            tracks=load_session_tracks(session, project, video),
            ranges=tuple(load_behavior_ranges(session, video.id)),
        )
        for video in videos
    ]


def behaviors_of(project: Project) -> tuple[str, ...]:
    """The project's behaviors.

    Raises:
        ProjectError: the config lists none.
    """
    if not project.config.behaviors:
        raise ProjectError(
            f"{project.config_path}: no behaviors; list them under `behaviors:`"
        )
    return tuple(project.config.behaviors)
