"""`ReadingQueue` on generated candidates: forward reading, where shortfalls go."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from etholoop.sampling.candidates import Candidates
from etholoop.sampling.embed import DUPLICATE_DISTANCE, rms_distances
from etholoop.sampling.reading import ForwardFrames, ReadingQueue, StandIns
from etholoop.sampling.strata import assign_strata, time_bins
from etholoop.sampling.strategies import select_stratified
from etholoop.video import open_video


def _videos(
    lengths: list[int], still: list[bool], rng: np.random.Generator
) -> tuple[Candidates, np.ndarray]:
    """Videos 1, 2, ... in 4 time bins each; a still one's frames are all alike."""
    sizes = np.array(lengths)
    video_ids = np.repeat(np.arange(1, len(lengths) + 1), sizes)
    frame_inds = np.concatenate([np.arange(k) for k in lengths])
    bins = time_bins(frame_inds, np.repeat(sizes, sizes), 4)
    strata, names = assign_strata(
        ["video", "time"], video_ids, [None] * len(bins), bins
    )
    embeddings = rng.random((len(video_ids), 8)).astype(np.float32)
    for video, is_still in enumerate(still, start=1):
        if is_still:
            embeddings[video_ids == video] = 0.5
    return Candidates(video_ids, frame_inds, strata, names), embeddings


def _read(
    candidates: Candidates, embeddings: np.ndarray, chosen: np.ndarray
) -> tuple[list[int], list[int], ReadingQueue]:
    """Read as `sample_frames` does: positions read, positions kept, the queue."""
    queue = ReadingQueue(candidates, chosen)
    read: list[int] = []
    kept: list[int] = []
    while (pos := queue.pop()) is not None:
        read.append(pos)
        earlier = [
            k for k in kept if candidates.video_ids[k] == candidates.video_ids[pos]
        ]
        distances = rms_distances(embeddings[pos], embeddings[earlier])
        if len(distances) and distances.min() < DUPLICATE_DISTANCE:
            queue.pass_over(pos)
        else:
            queue.keep(pos)
            kept.append(pos)
    return read, kept, queue


def test_a_still_video_s_shortfall_is_drawn_from_the_others_and_n_is_met(rng):
    # 12 strata of 5 frames; the still video, last, has one distinct frame
    candidates, embeddings = _videos([400, 300, 40], [False, False, True], rng)
    chosen = select_stratified(candidates, 60, rng)
    read, kept, queue = _read(candidates, embeddings, chosen)
    assert len(kept) == 60 and queue.n_lost == 0
    per_video = np.bincount(candidates.video_ids[kept], minlength=4)
    assert per_video[3] == 1 and per_video[1] + per_video[2] == 59
    per_stratum = np.bincount(candidates.stratum_ids[kept], minlength=12)
    assert per_stratum[:8].min() >= 5  # the moving videos kept their shares
    for video in (1, 2, 3):
        mine = [p for p in read if candidates.video_ids[p] == video]
        assert mine == sorted(set(mine))  # forward, no frame read twice


def test_frames_are_lost_only_once_every_video_is_read_to_its_end(rng):
    candidates, embeddings = _videos([30, 50], [True, True], rng)
    read, kept, queue = _read(
        candidates, embeddings, select_stratified(candidates, 10, rng)
    )
    assert len(kept) == 2 and queue.n_lost == 8
    last = {int(candidates.video_ids[p]): int(candidates.frame_inds[p]) for p in read}
    assert last == {1: 29, 2: 49}


@settings(max_examples=40, deadline=None)
@given(
    videos=st.lists(
        st.tuples(st.integers(4, 80), st.booleans()), min_size=1, max_size=5
    ),
    share=st.floats(0.05, 1),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_frame_asked_for_is_kept_or_lost_and_reading_is_forward(
    videos, share, seed
):
    rng = np.random.default_rng(seed)
    lengths, still = [v[0] for v in videos], [v[1] for v in videos]
    candidates, embeddings = _videos(lengths, still, rng)
    n = max(1, int(share * len(candidates)))
    read, kept, queue = _read(
        candidates, embeddings, select_stratified(candidates, n, rng)
    )
    assert len(kept) + queue.n_lost == n
    assert len(set(read)) == len(read)
    for video in set(candidates.video_ids.tolist()):
        mine = [p for p in read if candidates.video_ids[p] == video]
        assert mine == sorted(mine)
        if queue.n_lost:  # nothing was left: every video was read to its end
            assert candidates.frame_inds[mine[-1]] == lengths[video - 1] - 1


def test_frames_decoded_on_the_way_are_given_and_none_decoded_twice(
    still_video, decoded_frames
):
    # gop 30: reading 31 after 4 restarts at the seek point 30, 40 goes on from 31
    with open_video(still_video) as reader:
        assert reader.seek_points.tolist() == [0, 30]
        forward = ForwardFrames(reader)
        seen = [[i for i, _ in forward.read_to(frame_idx)] for frame_idx in (4, 31, 40)]
        forward.close()
    assert seen == [[0, 3, 4], [30, 31], [33, 36, 39, 40]]
    assert {path for path, _ in decoded_frames} == {still_video}
    assert [i for _, i in decoded_frames] == [*range(5), *range(30, 41)]


def test_a_stand_in_is_the_held_frame_farthest_from_the_kept_ones(rng):
    candidates, _ = _videos([40], [False], rng)
    embeddings = np.zeros((40, 8), np.float32)
    embeddings[[5, 6, 7], 0] = [0.2, 0.9, 0.9 + DUPLICATE_DISTANCE / 2]
    stand_ins = StandIns(candidates)
    kept = {1: embeddings[[0]]}
    for pos in (1, 5, 6, 7):  # 1 is a near-duplicate of 0, 7 one of 6
        stand_ins.offer(pos, np.zeros((1, 1, 3), np.uint8), embeddings[pos], kept[1])
    assert stand_ins.take(kept, stratum=1) is None  # 5, 6 and 7 lie in stratum 0
    assert [stand_ins.take(kept)[0] for _ in range(2)] == [6, 5]
    assert stand_ins.take(kept) is None


def test_stand_ins_stay_within_their_memory_budget(rng, monkeypatch):
    import etholoop.sampling.reading as reading

    candidates, embeddings = _videos([30, 30], [False, False], rng)
    frame = np.zeros((10, 10, 3), np.uint8)
    monkeypatch.setattr(reading, "STAND_IN_BYTES", 5 * frame.nbytes)
    stand_ins = StandIns(candidates)
    no_kept = np.zeros((0, 8), np.float32)
    for pos in range(60):
        stand_ins.offer(pos, frame.copy(), embeddings[pos], no_kept)
    given_up = []
    kept = {1: no_kept, 2: no_kept}
    while (entry := stand_ins.take(kept)) is not None:
        given_up.append(entry[0])
    assert len(given_up) == 5
    assert {candidates.video_ids[p] for p in given_up} == {1, 2}  # fullest let go
