"""Strategies and allocation: counts, spread, determinism, the registry."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from etholoop.errors import SamplingError
from etholoop.sampling.candidates import Candidates
from etholoop.sampling.embed import mean_nearest_neighbour_distance
from etholoop.sampling.strategies import (
    STRATEGIES,
    allocate_equal,
    allocate_proportional,
    get_strategy,
    k_center_greedy,
    register_strategy,
    select_diverse,
    select_stratified,
    select_uniform,
)


def _candidates(sizes: list[int], embeddings: np.ndarray | None = None) -> Candidates:
    """One video per stratum, `sizes[i]` frames in stratum i."""
    video_ids = np.repeat(np.arange(len(sizes)), sizes)
    frame_inds = np.concatenate([np.arange(k) for k in sizes])
    return Candidates(
        video_ids,
        frame_inds,
        video_ids,
        [f"video={i}" for i in range(len(sizes))],
        embeddings=embeddings,
    )


@given(
    sizes=st.lists(st.integers(0, 60), min_size=1, max_size=12),
    share=st.floats(0, 1),
    seed=st.integers(0, 2**32 - 1),
)
def test_equal_allocation_is_within_one_of_equal(sizes, share, seed):
    sizes_arr = np.array(sizes, np.int64)
    n = int(share * sizes_arr.sum())
    counts = allocate_equal(sizes_arr, n, np.random.default_rng(seed))
    assert counts.sum() == n
    assert (counts <= sizes_arr).all() and (counts >= 0).all()
    open_ = counts < sizes_arr  # strata with frames left got the most there was
    if open_.any():
        assert counts.max() - counts[open_].min() <= 1


@given(
    sizes=st.lists(st.integers(0, 500), min_size=1, max_size=12),
    share=st.floats(0, 1),
    seed=st.integers(0, 2**32 - 1),
)
def test_proportional_allocation_is_within_one_of_exact(sizes, share, seed):
    sizes_arr = np.array(sizes, np.int64)
    n = int(share * sizes_arr.sum())
    counts = allocate_proportional(sizes_arr, n, np.random.default_rng(seed))
    assert counts.sum() == n
    exact = n * sizes_arr / max(sizes_arr.sum(), 1)
    assert (np.abs(counts - exact) < 1).all()


@given(
    sizes=st.lists(st.integers(1, 400), min_size=1, max_size=8),
    seed=st.integers(0, 1000),
)
def test_stratified_counts_are_within_one_of_equal(sizes, seed):
    candidates = _candidates(sizes)
    n = min(sum(sizes), 10 * len(sizes))
    chosen = select_stratified(candidates, n, np.random.default_rng(seed))
    assert len(np.unique(chosen)) == n
    counts = np.bincount(candidates.stratum_ids[chosen], minlength=len(sizes))
    full = counts == np.array(sizes)
    assert counts[~full].max(initial=0) - counts[~full].min(initial=counts.max()) <= 1


def test_same_seed_same_frames_and_another_seed_others():
    candidates = _candidates([500, 300, 200])
    first = select_stratified(candidates, 30, np.random.default_rng(7))
    again = select_stratified(candidates, 30, np.random.default_rng(7))
    other = select_stratified(candidates, 30, np.random.default_rng(8))
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_uniform_is_evenly_spaced_per_video_by_length():
    candidates = _candidates([300, 100])
    chosen = select_uniform(candidates, 8, np.random.default_rng(0))
    assert candidates.frame_inds[chosen].tolist() == [
        *(25, 75, 125, 175, 225, 275),
        *(25, 75),
    ]


def test_k_center_greedy_stops_at_near_duplicates():
    points = np.zeros((50, 4), np.float32)
    points[25:] = 1.0  # two distinct pictures, 25 copies each
    picked = k_center_greedy(points, 10, np.random.default_rng(0))
    assert len(picked) == 2
    assert {int(p >= 25) for p in picked} == {0, 1}


def test_diverse_is_more_spread_than_uniform():
    rng = np.random.default_rng(0)
    # a mostly resting animal: 400 frames near one picture, 40 spread far away
    embeddings = np.concatenate(
        [rng.normal(0.5, 0.01, (400, 16)), rng.uniform(0, 1, (40, 16))]
    ).astype(np.float32)
    embeddings = embeddings[rng.permutation(len(embeddings))]
    candidates = _candidates([440], embeddings)
    diverse = select_diverse(candidates, 20, np.random.default_rng(0))
    uniform = select_uniform(candidates, 20, np.random.default_rng(0))
    assert len(diverse) == 20
    assert mean_nearest_neighbour_distance(
        embeddings[diverse]
    ) > 2 * mean_nearest_neighbour_distance(embeddings[uniform])


def test_diverse_hands_the_share_of_a_static_stratum_to_the_others():
    embeddings = np.zeros((200, 4), np.float32)
    embeddings[100:] = np.random.default_rng(0).uniform(0, 1, (100, 4))
    candidates = _candidates([100, 100], embeddings)  # stratum 0 is static
    chosen = select_diverse(candidates, 20, np.random.default_rng(0))
    counts = np.bincount(candidates.stratum_ids[chosen], minlength=2)
    assert counts.tolist() == [1, 19]


def test_unknown_strategy_names_the_known_ones():
    with pytest.raises(SamplingError, match="'nope'.*diverse.*stratified.*uniform"):
        get_strategy("nope")


def test_a_registered_strategy_can_be_looked_up(monkeypatch):
    monkeypatch.setattr("etholoop.sampling.strategies.STRATEGIES", dict(STRATEGIES))

    @register_strategy("first")
    def select_first(candidates, n, rng):
        return np.arange(n, dtype=np.int64)

    assert get_strategy("first").select is select_first
    assert not get_strategy("first").needs_embeddings


def test_diverse_counts_frames_picked_before_and_returns_only_new_ones():
    embeddings = np.array([[0.0], [0.001], [0.5], [1.0], [0.999]], np.float32)
    candidates = _candidates([5], embeddings)
    earlier = candidates.subset(
        np.arange(5), picked=np.array([True, False, False, True, False])
    )
    chosen = select_diverse(earlier, 3, np.random.default_rng(0))
    assert chosen.tolist() == [2]  # 1 and 4 are near-duplicates of 0 and 3
