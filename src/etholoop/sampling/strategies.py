"""Frame selection strategies and the registry they plug into.

A strategy is a function `(candidates, n, rng) -> positions`: it returns the
ascending positions in `candidates` of at most `n` chosen frames, none of them
marked in `Candidates.picked` (frames chosen in an earlier round, which a
strategy takes into account but does not return). Strategies that need
embeddings say so when registered; the caller then fills
`Candidates.embeddings` window by window as it reads the videos (see
`sampling.sample`). Later strategies (uncertainty from model predictions)
register the same way and read `Candidates.scores`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from attrs import frozen
from numpy.typing import NDArray

from etholoop.errors import SamplingError
from etholoop.sampling.candidates import Candidates
from etholoop.sampling.embed import DUPLICATE_DISTANCE, rms_distances

Strategy = Callable[[Candidates, int, np.random.Generator], NDArray[np.int64]]


@frozen
class RegisteredStrategy:
    """A strategy and whether it needs `Candidates.embeddings` or `.scores`."""

    select: Strategy
    needs_embeddings: bool
    needs_scores: bool = False


STRATEGIES: dict[str, RegisteredStrategy] = {}


def register_strategy(
    name: str, *, needs_embeddings: bool = False, needs_scores: bool = False
) -> Callable[[Strategy], Strategy]:
    """Register a strategy under `name` (a decorator)."""

    def register(select: Strategy) -> Strategy:
        STRATEGIES[name] = RegisteredStrategy(select, needs_embeddings, needs_scores)
        return select

    return register


def get_strategy(name: str) -> RegisteredStrategy:
    """The strategy registered as `name`.

    Raises:
        SamplingError: no strategy has that name; the message lists them.
    """
    if name not in STRATEGIES:
        raise SamplingError(
            f"unknown sampling strategy {name!r}; choose one of {sorted(STRATEGIES)}"
        )
    return STRATEGIES[name]


def allocate_equal(
    sizes: NDArray[np.int64], n: int, rng: np.random.Generator
) -> NDArray[np.int64]:
    """Share `n` equally among groups, none getting more than its size.

    Groups too small for an equal share give all they have and the rest is shared
    among the others (water-filling), so groups that are not exhausted get counts
    within one of each other; which ones get the extra one is random.

    Args:
        sizes: Members per group, shape (groups,).
        n: Total to allocate, at most `sizes.sum()`.
        rng: Picks the groups that get one more.

    Returns:
        Count per group, shape (groups,).
    """
    counts = np.zeros(len(sizes), np.int64)
    left = n
    while left > 0:
        open_ = np.flatnonzero(counts < sizes)
        share = left // len(open_)
        if share == 0:
            lucky = rng.choice(open_, size=left, replace=False)
            counts[lucky] += 1
            break
        add = np.minimum(share, sizes[open_] - counts[open_])
        counts[open_] += add
        left -= int(add.sum())
    return counts


def allocate_proportional(
    sizes: NDArray[np.int64], n: int, rng: np.random.Generator
) -> NDArray[np.int64]:
    """Share `n` among groups in proportion to their sizes (largest remainder).

    Args:
        sizes: Members per group, shape (groups,).
        n: Total to allocate, at most `sizes.sum()`.
        rng: Breaks ties between equal remainders.

    Returns:
        Count per group, shape (groups,), each within one of `n * size / total`.
    """
    exact = n * sizes / max(int(sizes.sum()), 1)
    counts = np.floor(exact).astype(np.int64)
    remainder = exact - counts
    order = np.lexsort((rng.random(len(sizes)), -remainder))
    counts[order[: n - int(counts.sum())]] += 1
    return counts


def spread(n_items: int, k: int, offset: float) -> NDArray[np.int64]:
    """`k` evenly spaced positions in `range(n_items)`, one per equal part.

    Args:
        n_items: Number of items, >= k.
        k: Positions wanted.
        offset: Where in each part, in [0, 1); 0.5 takes the middle.

    Returns:
        Ascending distinct positions, shape (k,).
    """
    return np.floor((np.arange(k) + offset) * n_items / max(k, 1)).astype(np.int64)


def _by_group(
    candidates: Candidates,
    keys: NDArray[np.int64],
    counts: NDArray[np.int64],
    pick: Callable[[NDArray[np.int64], int], NDArray[np.int64]],
) -> NDArray[np.int64]:
    groups = candidates.groups(keys)
    chosen = [pick(members, int(k)) for members, k in zip(groups, counts, strict=True)]
    return np.sort(np.concatenate([np.zeros(0, np.int64), *chosen]))


def _sizes(candidates: Candidates, keys: NDArray[np.int64]) -> NDArray[np.int64]:
    return np.array([len(g) for g in candidates.groups(keys)], np.int64)


@register_strategy("uniform")
def select_uniform(
    candidates: Candidates, n: int, rng: np.random.Generator
) -> NDArray[np.int64]:
    """Evenly spaced frames of each video, videos sharing `n` by their length."""
    keys = candidates.video_ids
    counts = allocate_proportional(_sizes(candidates, keys), n, rng)
    return _by_group(
        candidates,
        keys,
        counts,
        lambda members, k: members[spread(len(members), k, 0.5)],
    )


@register_strategy("random")
def select_random(
    candidates: Candidates, n: int, rng: np.random.Generator
) -> NDArray[np.int64]:
    """`n` frames drawn at random, the baseline other strategies must beat."""
    return np.sort(rng.choice(len(candidates), size=n, replace=False)).astype(np.int64)


@register_strategy("stratified")
def select_stratified(
    candidates: Candidates, n: int, rng: np.random.Generator
) -> NDArray[np.int64]:
    """An equal share per stratum, evenly spaced within it from a random phase."""
    keys = candidates.stratum_ids
    counts = allocate_equal(_sizes(candidates, keys), n, rng)
    return _by_group(
        candidates,
        keys,
        counts,
        lambda members, k: members[spread(len(members), k, rng.random())],
    )


def k_center_greedy(
    embeddings: NDArray[np.float32],
    k: int,
    rng: np.random.Generator,
    min_distance: float = DUPLICATE_DISTANCE,
    start: NDArray[np.int64] | None = None,
) -> NDArray[np.int64]:
    """Pick up to `k` points, each the farthest from those picked before.

    Starts from the `start` points if given (picked in an earlier round, not
    returned), else from a random point; stops early when every point left lies
    within `min_distance` of a picked one (only near-duplicates remain).

    Args:
        embeddings: Shape (n, dims).
        k: New points wanted.
        rng: Chooses the first point when there are no `start` points.
        min_distance: RMS distance below which a point is a near-duplicate.
        start: Positions of points already picked.

    Returns:
        Positions of the newly picked points in the order picked, shape (<= k,).
    """
    n = len(embeddings)
    if n == 0 or k == 0:
        return np.zeros(0, np.int64)
    picked: list[int] = []
    nearest = np.full(n, np.inf)
    for point in [] if start is None else start.tolist():
        nearest = np.minimum(nearest, rms_distances(embeddings[point], embeddings))
    if not np.isfinite(nearest).all():
        picked.append(int(rng.integers(n)))
        nearest = rms_distances(embeddings[picked[0]], embeddings)
    while len(picked) < min(k, n):
        far = int(np.argmax(nearest))
        if nearest[far] < min_distance:
            break
        picked.append(far)
        nearest = np.minimum(nearest, rms_distances(embeddings[far], embeddings))
    return np.array(picked, np.int64)


@register_strategy("diverse", needs_embeddings=True)
def select_diverse(
    candidates: Candidates, n: int, rng: np.random.Generator
) -> NDArray[np.int64]:
    """Visually different frames: k-center greedy on embeddings within each stratum.

    Strata share `n` equally; a stratum whose frames run out of distinct ones
    (near-duplicates only) hands its remaining share to the others. Frames
    marked `picked` count as picked: new frames are the farthest from them too.
    """
    if candidates.embeddings is None:
        raise ValueError("select_diverse needs Candidates.embeddings")
    embeddings = candidates.embeddings
    picked = (
        np.zeros(len(candidates), bool)
        if candidates.picked is None
        else candidates.picked
    )
    groups = candidates.groups(candidates.stratum_ids)
    capacity = np.array([int((~picked[g]).sum()) for g in groups], np.int64)
    seeds = rng.integers(2**63, size=len(groups))
    while True:
        counts = allocate_equal(capacity, min(n, int(capacity.sum())), rng)
        picks = [
            members[
                k_center_greedy(
                    embeddings[members],
                    int(k),
                    np.random.default_rng(seed),
                    start=np.flatnonzero(picked[members]),
                )
            ]
            for members, k, seed in zip(groups, counts, seeds, strict=True)
        ]
        short = [i for i, p in enumerate(picks) if len(p) < counts[i]]
        if not short:
            return np.sort(np.concatenate([np.zeros(0, np.int64), *picks]))
        for i in short:
            capacity[i] = len(picks[i])


def _top_scores(
    candidates: Candidates, members: NDArray[np.int64], k: int, rng: np.random.Generator
) -> NDArray[np.int64]:
    """The `k` members with the highest scores, ties broken at random."""
    assert candidates.scores is not None
    scores = candidates.scores[members]
    order = np.lexsort((rng.random(len(members)), -scores))
    return members[order[:k]]


def _require_scores(candidates: Candidates, name: str) -> None:
    if candidates.scores is None:
        raise ValueError(f"select_{name} needs Candidates.scores")


@register_strategy("uncertainty", needs_scores=True)
def select_uncertainty(
    candidates: Candidates, n: int, rng: np.random.Generator
) -> NDArray[np.int64]:
    """The frames the model is least sure of: the `n` highest scores overall."""
    _require_scores(candidates, "uncertainty")
    everyone = np.arange(len(candidates), dtype=np.int64)
    return np.sort(_top_scores(candidates, everyone, n, rng))


@register_strategy("hybrid", needs_scores=True)
def select_hybrid(
    candidates: Candidates, n: int, rng: np.random.Generator
) -> NDArray[np.int64]:
    """Uncertainty spread over strata: each stratum's highest scores.

    Strata get an equal share, so hard frames come from every video, condition
    and time bin rather than from one difficult stretch.
    """
    _require_scores(candidates, "hybrid")
    keys = candidates.stratum_ids
    counts = allocate_equal(_sizes(candidates, keys), n, rng)
    return _by_group(
        candidates,
        keys,
        counts,
        lambda members, k: _top_scores(candidates, members, k, rng),
    )
