"""`etholoop behavior next`: the stretches of video most worth labeling next.

Candidates are windows of `length` frames, tiled over each animal of each
session the latest `behavior predict` run covered, on frames that are not
labeled yet (see `behavior_runs.data`: animals without manual ranges, and
predicted ranges nobody confirmed). A window's score is, over behaviors, the
largest mean uncertainty `1 - |2p - 1|` weighted by rarity: `sqrt(q_min / q)`,
with `q` the behavior's share of positive frames in the manual labels (at
least 0.001), so the rarest behavior weighs 1. The best `n` windows are
proposed, best first.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from attrs import frozen
from numpy.typing import NDArray

from etholoop.behavior_runs.data import behaviors_of, labeled_frames
from etholoop.behavior_runs.predict import BEHAVIOR_PREDICT
from etholoop.errors import ProjectError
from etholoop.io.ethograms import read_probabilities
from etholoop.project import Project
from etholoop.sessions import get_session
from etholoop.store.behaviors import load_behavior_ranges
from etholoop.store.runs import find_finished_run
from etholoop.types import BehaviorRange

DEFAULT_LENGTH = 60
MIN_PRIOR = 1e-3


@frozen
class Proposal:
    """A window to label: session, animal, frames [start, stop), why."""

    session: str
    animal: int
    start: int
    stop: int
    behavior: str
    uncertainty: float
    score: float


def propose_segments(
    project: Project, n: int, *, length: int = DEFAULT_LENGTH
) -> list[Proposal]:
    """The `n` unlabeled windows the latest predictions are least sure about.

    Raises:
        ProjectError: there are no predictions yet.
    """
    behaviors = behaviors_of(project)
    with project.store.session() as session:
        run = find_finished_run(session, stage=BEHAVIOR_PREDICT)
        if run is None:
            raise ProjectError(
                f"{project.root}: no behavior predictions yet; run "
                "`etholoop behavior predict` first"
            )
        outputs: dict[str, dict[str, str]] = run.config.get("outputs") or {}
        lanes = []
        for name, files in outputs.items():
            video = get_session(session, project, name)
            ranges = load_behavior_ranges(session, video.id)
            probabilities = read_probabilities(project.resolve(files["netcdf"]))
            if probabilities.behaviors != behaviors:
                raise ProjectError(
                    f"{files['netcdf']}: predicts {list(probabilities.behaviors)}, "
                    f"not the project's {list(behaviors)}; predict again"
                )
            lanes.append((name, np.asarray(probabilities.values, np.float64), ranges))
    priors = _priors(lanes, behaviors)
    weights = np.sqrt(priors.min() / priors)
    candidates = []
    for name, values, ranges in lanes:
        for animal in range(values.shape[1]):
            free = ~labeled_frames(ranges, animal, values.shape[0])
            p = np.asarray(values[:, animal], np.float64)
            uncertain = 1 - np.abs(2 * p - 1)
            for start in range(0, values.shape[0] - length + 1, length):
                stop = start + length
                if not free[start:stop].all():
                    continue
                mean = np.nanmean(uncertain[start:stop], axis=0)
                weighted = np.nan_to_num(mean * weights, nan=-1.0)
                k = int(np.argmax(weighted))
                candidates.append(
                    Proposal(
                        name,
                        animal,
                        start,
                        stop,
                        behaviors[k],
                        float(mean[k]),
                        float(weighted[k]),
                    )
                )
    candidates.sort(key=lambda c: (-c.score, c.session, c.animal, c.start))
    return candidates[:n]


def _priors(
    lanes: Sequence[tuple[str, NDArray[np.float64], Sequence[BehaviorRange]]],
    behaviors: Sequence[str],
) -> NDArray[np.float64]:
    """Each behavior's share of positive frames among the labeled ones."""
    positive = np.zeros(len(behaviors))
    total = 0
    for _, values, ranges in lanes:
        for animal in range(values.shape[1]):
            labeled = labeled_frames(ranges, animal, values.shape[0])
            total += int(labeled.sum())
            for r in ranges:
                manual = r.source == "manual" and r.individual == animal
                if manual and r.behavior in behaviors:
                    k = list(behaviors).index(r.behavior)
                    positive[k] += int(labeled[r.start : r.stop].sum())
    return np.maximum(positive / max(total, 1), MIN_PRIOR)
