"""`advance_cycle`: close one round of the active-learning loop and open the next.

Predict-split frames whose predictions were all confirmed or corrected by a
person (manual labels, no predictions left) join train+val; the others return to
the reserve; the next prediction subset is drawn from the reserve by a sampling
strategy. Model-based strategies ("uncertainty", "hybrid") rank the reserve by
how unsure the latest pose model is of each frame (`pose.uncertainty`). The new
cycle and all its split rows are written in one transaction, so a crash leaves
the previous cycle as it was and the call can simply be run again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from attrs import evolve, frozen
from numpy.typing import NDArray
from PIL import Image

from etholoop.errors import SamplingError
from etholoop.frame_cache import frame_image_paths
from etholoop.progress import Reporter, silent
from etholoop.project import Project
from etholoop.sampling.candidates import Candidates
from etholoop.sampling.embed import embed_frame
from etholoop.sampling.strategies import get_strategy
from etholoop.store import latest_cycle, load_split_members
from etholoop.store.cycles import (
    corrected_frames,
    frames_in_video_order,
    open_next_cycle,
)
from etholoop.store.splits import Membership
from etholoop.types import SPLITS

if TYPE_CHECKING:
    from etholoop.store import Cycle, SplitMember

RANKING_MIN_SCORE = 0.01
"""Keep weak detections when ranking: a young model's doubt is in them."""


@frozen
class CycleReport:
    """What `advance_cycle` did.

    Attributes:
        cycle: Index of the cycle opened.
        strategy: How the new prediction subset was chosen.
        n_corrected: Predict frames that joined train+val.
        n_returned: Predict frames not fully corrected, back in the reserve.
        n_chosen: Frames in the new prediction subset.
        counts: Frames per split in the new cycle.
    """

    cycle: int
    strategy: str
    n_corrected: int
    n_returned: int
    n_chosen: int
    counts: dict[str, int]


@frozen
class _Pool:
    members: list[SplitMember]
    corrected: set[int]
    reserve: list[SplitMember]


def _pool(project: Project) -> tuple[Cycle, _Pool]:
    with project.store.session() as session:
        cycle = latest_cycle(session)
        if cycle is None:
            raise SamplingError(
                f"{project.root}: no splits yet; run `etholoop split` first"
            )
        members = load_split_members(session, cycle.id)
        predict = [m.frame_id for m in members if m.split == "predict"]
        corrected = corrected_frames(session, predict)
    reserve = [
        m
        for m in members
        if m.split == "reserve"
        or (m.split == "predict" and m.frame_id not in corrected)
    ]
    return cycle, _Pool(members, corrected, reserve)


def _candidates(
    project: Project, reserve: Sequence[SplitMember]
) -> tuple[Candidates, list[int]]:
    """The reserve as candidates, ordered by video and frame index, and their ids."""
    stratum = {m.frame_id: m.stratum or "" for m in reserve}
    with project.store.session() as session:
        rows = frames_in_video_order(session, stratum)
    names = sorted(set(stratum.values()))
    candidates = Candidates(
        video_ids=[row.video_id for row in rows],
        frame_inds=[row.frame_idx for row in rows],
        stratum_ids=[names.index(stratum[row.frame_id]) for row in rows],
        stratum_names=names,
    )
    return candidates, [row.frame_id for row in rows]


def _uncertainty(
    project: Project, run_id: int | None, frame_ids: list[int], report: Reporter
) -> NDArray[np.float64]:
    from etholoop.pose.predict import load_predictor, predict_images
    from etholoop.pose.uncertainty import frame_uncertainty

    _, predictor = load_predictor(project, run_id, min_score=RANKING_MIN_SCORE)
    plain = predict_images(project, predictor, frame_ids, report=report)
    flipped = predict_images(project, predictor, frame_ids, flip=True, report=report)
    animals = project.config.animals
    return np.array(
        [frame_uncertainty(plain[f], flipped[f], animals) for f in frame_ids]
    )


def _embeddings(
    project: Project, frame_ids: list[int], report: Reporter
) -> NDArray[np.float32]:
    paths = frame_image_paths(project, frame_ids, report=report)
    return np.stack(
        [embed_frame(np.asarray(Image.open(paths[f]).convert("L"))) for f in frame_ids]
    )


def _next_membership(
    member: SplitMember, joining: dict[int, bool], chosen: set[int]
) -> Membership:
    """A frame's split in the next cycle: joining train+val, chosen, or as it was.

    Test and train+val frames stay; every other frame returns to the reserve.
    """
    frame_id, stratum = member.frame_id, member.stratum
    if frame_id in joining:
        return Membership(frame_id, "trainval", joining[frame_id], stratum)
    if frame_id in chosen:
        return Membership(frame_id, "predict", False, stratum)
    if member.split == "test":
        return Membership(frame_id, "test", member.val, stratum)
    if member.split == "trainval":
        return Membership(frame_id, "trainval", member.val, stratum)
    return Membership(frame_id, "reserve", False, stratum)


def advance_cycle(
    project: Project,
    *,
    strategy: str = "stratified",
    n: int = 50,
    run_id: int | None = None,
    val_fraction: float = 0.2,
    seed: int = 0,
    report: Reporter = silent,
) -> CycleReport:
    """Open the next cycle: corrected frames to train+val, new predict subset.

    Args:
        project: The open project.
        strategy: A registered sampling strategy; "uncertainty" and "hybrid"
            use the pose model of `run_id` (default: the latest).
        n: Frames in the new prediction subset; 0 only moves corrected
            frames to train+val (to train on them before choosing more).
        run_id: The model run whose predictions rank the reserve.
        val_fraction: Share of the newly added train+val frames kept for
            validation.
        seed: Random seed.
        report: Progress reporter.

    Raises:
        SamplingError: no splits yet, an unknown strategy, or fewer reserve
            frames than `n`.
        ProjectError: a model-based strategy without a finished model run.
    """
    chosen_strategy = get_strategy(strategy)
    if not 0 <= val_fraction < 1 or n < 0:
        raise SamplingError(
            f"{project.root}: need --n >= 0 and --val-fraction in [0, 1)"
        )
    cycle, pool = _pool(project)
    if n > len(pool.reserve):
        raise SamplingError(
            f"{project.root}: asked for {n} frames but the reserve holds only "
            f"{len(pool.reserve)}; sample more with `etholoop sample`"
        )
    rng = np.random.default_rng(seed)
    candidates, frame_ids = _candidates(project, pool.reserve)
    if n == 0:
        chosen_strategy = get_strategy("stratified")  # chooses nothing, needs nothing
    if chosen_strategy.needs_scores:
        candidates = evolve(
            candidates, scores=_uncertainty(project, run_id, frame_ids, report)
        )
    if chosen_strategy.needs_embeddings:
        candidates = evolve(
            candidates, embeddings=_embeddings(project, frame_ids, report)
        )
    chosen = {frame_ids[i] for i in chosen_strategy.select(candidates, n, rng)}
    new_val = rng.random(len(pool.corrected)) < val_fraction
    joining = dict(zip(sorted(pool.corrected), new_val.tolist(), strict=True))
    members = [_next_membership(m, joining, chosen) for m in pool.members]
    notes = {"strategy": strategy, "n": n, "seed": seed, "run_id": run_id}
    with project.store.session() as session:
        open_next_cycle(session, cycle.id, members, notes=json.dumps(notes))
    counts = {str(s): sum(m.split == s for m in members) for s in SPLITS}
    return CycleReport(
        cycle=cycle.index + 1,
        strategy=strategy,
        n_corrected=len(pool.corrected),
        n_returned=len(pool.reserve) - sum(m.split == "reserve" for m in pool.members),
        n_chosen=len(chosen),
        counts=counts,
    )
