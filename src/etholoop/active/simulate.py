"""The active-learning loop simulated on a fully labeled project.

`start_simulation` hides every label outside the test split behind an `Oracle`
and gives back a few seed frames for train+val. Each round then does what a
lab does between two trainings: `advance_cycle` selects frames from the
unlabeled reserve by a strategy (model-based ones rank them with the latest
model), the oracle reveals their true labels (what a person correcting the
predictions ends up with), `advance_cycle(n=0)` merges them into train+val,
and the model is fine-tuned on the larger label set. Training is the caller's
`FineTune`, so the round logic runs (and is tested) without one;
`benchmarks/active_learning.py` trains and scores a pose model there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from attrs import frozen

from etholoop.active.cycle import advance_cycle
from etholoop.active.oracle import Oracle
from etholoop.project import Project
from etholoop.sampling import split_frames
from etholoop.sampling.split import subset_frames
from etholoop.store import latest_cycle
from etholoop.store.cycles import count_manually_labeled

Model = TypeVar("Model")
FineTune = Callable[[Project, Model], Model]
"""Trains on the project's current labels, starting from the given model."""


@frozen
class LabelRound:
    """What one round of labeling did.

    Attributes:
        cycle: Index of the cycle the revealed frames were merged in.
        revealed: The frames selected and revealed, by id.
        n_labeled: Train+val frames holding manual labels afterwards.
    """

    cycle: int
    revealed: tuple[int, ...]
    n_labeled: int


def count_labeled_trainval(project: Project) -> int:
    """Train+val frames of the latest cycle holding manual labels: the training set."""
    with project.store.session() as session:
        cycle = latest_cycle(session)
        return (
            0
            if cycle is None
            else count_manually_labeled(session, cycle.id, "trainval")
        )


def start_simulation(
    project: Project, *, test: float = 0.2, n_seed: int = 16, seed: int = 0
) -> Oracle:
    """Split a fully labeled project and hide all labels but test and seed frames.

    The first split draws the test split (`test` of the labeled frames); every
    other label is then hidden, and a second split (test split kept) draws
    `n_seed` frames for train+val, whose labels are revealed.

    Args:
        project: The open project; every frame should hold manual labels.
        test: Share of the labeled frames for the test split.
        n_seed: Seed frames for train+val.
        seed: Random seed of both splits.

    Returns:
        The oracle, holding the labels of every frame outside test and seed.
    """
    split_frames(project, test=test, n_trainval=0, n_predict=0, seed=seed)
    oracle = Oracle.hide(project)
    split_frames(project, n_trainval=n_seed, n_predict=0, seed=seed)
    oracle.reveal(project, subset_frames(project, "trainval"))
    return oracle


def label_round(
    project: Project,
    oracle: Oracle,
    *,
    strategy: str,
    n: int,
    seed: int = 0,
    run_id: int | None = None,
) -> LabelRound:
    """Select `n` reserve frames by `strategy`, reveal them, merge them into train+val.

    Args:
        project: The open project, started by `start_simulation`.
        oracle: Its hidden labels.
        strategy: A registered sampling strategy; model-based ones rank the
            reserve with the model of `run_id` (default: the latest).
        n: Frames to label this round.
        seed: Random seed of the selection.
        run_id: The model run that ranks the reserve.
    """
    advance_cycle(project, strategy=strategy, n=n, seed=seed, run_id=run_id)
    revealed = subset_frames(project, "predict")
    oracle.reveal(project, revealed)
    merged = advance_cycle(project, n=0, seed=seed)
    return LabelRound(merged.cycle, tuple(revealed), count_labeled_trainval(project))


def run_rounds(
    project: Project,
    oracle: Oracle,
    model: Model,
    fine_tune: FineTune[Model],
    *,
    strategy: str,
    n_rounds: int,
    step: int,
    seed: int = 0,
) -> list[tuple[LabelRound, Model]]:
    """Go round the loop `n_rounds` times from `model`: label `step` frames, fine-tune.

    Each round fine-tunes the previous round's model; model-based strategies
    rank with the latest model run.

    Returns:
        Each round's labeling and the model fine-tuned after it.
    """
    rounds: list[tuple[LabelRound, Model]] = []
    for _ in range(n_rounds):
        labeled = label_round(project, oracle, strategy=strategy, n=step, seed=seed)
        model = fine_tune(project, model)
        rounds.append((labeled, model))
    return rounds
