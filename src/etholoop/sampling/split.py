"""`split_frames`: assign the project's frames to splits for the current cycle.

The first call creates cycle 0 and draws the test split; later calls keep the
test split and draw train+val, predict and reserve again from the other frames
(new frames included). Frames that hold manual labels come first: the test
split is drawn from them, and every other one goes to train+val. Frames carry
the stratum they were sampled in; frames that were imported rather than
sampled are grouped by video and time bin.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from attrs import frozen

from etholoop.errors import ProjectError, SamplingError
from etholoop.project import Project
from etholoop.sampling.splits import assign_splits, draw_test
from etholoop.sampling.strata import (
    DEFAULT_STRATA,
    DEFAULT_TIME_BINS,
    assign_strata,
    time_bins,
)
from etholoop.store import (
    get_or_add_cycle,
    latest_cycle,
    load_split_members,
    replace_split_members,
)
from etholoop.store.sampling import SplitFrame, list_split_frames
from etholoop.store.splits import Membership, all_frame_ids, split_frame_ids
from etholoop.types import SPLITS, Subset

DEFAULT_TEST_FRACTION = 0.15


@frozen
class SplitReport:
    """What `split_frames` did.

    Attributes:
        cycle: Index of the cycle the splits were stored for.
        counts: Frames per split name.
        labeled: Frames holding manual labels per split name (predict and
            reserve get none).
        n_val: Train+val frames held out for validation.
        test_drawn: Whether the test split was drawn by this call.
        n_labeled_left_test: Manually labeled frames that left the test split
            because it was redrawn.
    """

    cycle: int
    counts: dict[str, int]
    labeled: dict[str, int]
    n_val: int
    test_drawn: bool
    n_labeled_left_test: int


def split_frames(
    project: Project,
    *,
    test: float | None = None,
    n_trainval: int = 100,
    val_fraction: float = 0.2,
    n_predict: int = 200,
    seed: int = 0,
    redraw_test: bool = False,
) -> SplitReport:
    """Split every frame of the project into test, train+val, predict and reserve.

    Args:
        project: The open project.
        test: Share of the labeled frames (of all frames while none is
            labeled) for the test split when it is drawn; None means 0.15 on
            the first call and "keep it" later.
        n_trainval: Frames for train+val; every labeled frame outside the test
            split goes there, even beyond this number.
        val_fraction: Share of train+val held out for validation.
        n_predict: Frames to predict on (fewer if labeled frames took more of
            train+val than `n_trainval`).
        seed: Random seed; the same seed on the same frames gives the same splits.
        redraw_test: Draw the test split again although one exists.

    Returns:
        The split sizes.

    Raises:
        SamplingError: a fraction outside [0, 1), no frames, more train+val and
            predict frames than there are, or `test` given while a test split
            exists without `redraw_test` (the message counts the labeled frames
            a redraw would take out of it).
    """
    for name, value in (("--test", test), ("--val-fraction", val_fraction)):
        if value is not None and not 0 <= value < 1:
            raise SamplingError(f"{project.root}: {name} must lie in [0, 1)")
    if n_trainval < 0 or n_predict < 0:
        raise SamplingError(f"{project.root}: --train-val and --predict must be >= 0")
    rng_test, rng_rest = np.random.default_rng(seed).spawn(2)
    with project.store.session() as session:
        frames = list_split_frames(session)
        if not frames:
            raise SamplingError(
                f"{project.root}: no frames to split; run `etholoop sample` first"
            )
        frame_ids = np.array([f.frame_id for f in frames], np.int64)
        names = _stratum_names(frames)
        strata = np.unique(names, return_inverse=True)[1].reshape(-1)
        labeled = np.array([f.labeled for f in frames], bool)
        cycle = latest_cycle(session)
        members = [] if cycle is None else load_split_members(session, cycle.id)
        old_test = np.isin(
            frame_ids, [m.frame_id for m in members if m.split == "test"]
        )
        has_test = bool(old_test.any())
        draw = not has_test or redraw_test
        if draw or test is not None:
            new_test = draw_test(
                strata,
                DEFAULT_TEST_FRACTION if test is None else test,
                rng_test,
                labeled=labeled,
            )
        else:
            new_test = old_test
        n_left = int((old_test & ~new_test & labeled).sum())
        if has_test and not draw and test is not None:
            raise SamplingError(
                f"{project.root}: the test split ({int(old_test.sum())} frames) is "
                "drawn once and kept; leave out --test, or add --redraw-test, which "
                f"would take {n_left} labeled frame(s) out of it"
            )
        n_rest = int((~new_test).sum())
        if n_trainval + n_predict > n_rest:
            raise SamplingError(
                f"{project.root}: --train-val {n_trainval} and --predict {n_predict} "
                f"need {n_trainval + n_predict} frames, but only {n_rest} are "
                "outside the test split; sample more with `etholoop sample`"
            )
        assignment = assign_splits(
            strata,
            new_test,
            labeled=labeled,
            n_trainval=n_trainval,
            val_fraction=val_fraction,
            n_predict=n_predict,
            rng=rng_rest,
        )
        cycle = get_or_add_cycle(session)
        replace_split_members(
            session,
            cycle.id,
            (
                Membership(frame_id, split, val, stratum)
                for frame_id, split, val, stratum in zip(
                    frame_ids.tolist(),
                    assignment.split.tolist(),
                    assignment.val.tolist(),
                    names,
                    strict=True,
                )
            ),
        )
    return SplitReport(
        cycle=cycle.index,
        counts={s: int((assignment.split == s).sum()) for s in SPLITS},
        labeled={s: int((assignment.split[labeled] == s).sum()) for s in SPLITS},
        n_val=int(assignment.val.sum()),
        test_drawn=draw,
        n_labeled_left_test=n_left,
    )


def _stratum_names(frames: Sequence[SplitFrame]) -> list[str]:
    """Each frame's sampling stratum, else its video and time bin."""
    video_ids = np.array([f.video_id for f in frames], np.int64)
    bins = time_bins(
        np.array([f.frame_idx for f in frames], np.int64),
        np.array([f.video_n_frames for f in frames], np.int64),
        DEFAULT_TIME_BINS,
    )
    ids, fallback = assign_strata(
        DEFAULT_STRATA, video_ids, [f.condition for f in frames], bins
    )
    return [f.stratum or fallback[i] for f, i in zip(frames, ids.tolist(), strict=True)]


def subset_frames(project: Project, subset: Subset) -> list[int]:
    """Ids of the frames in a split of the latest cycle, or of every frame, ascending.

    Raises:
        ProjectError: a split is asked for but there are no splits yet.
    """
    with project.store.session() as session:
        if subset == "all":
            return all_frame_ids(session)
        cycle = latest_cycle(session)
        if cycle is None:
            raise ProjectError(
                f"{project.root}: no splits yet; run `etholoop split` first"
            )
        return split_frame_ids(session, cycle_id=cycle.id, split=subset)
