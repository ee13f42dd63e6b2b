"""The offline pass: repair identity swaps at close contacts with hindsight.

The online pass decides each frame from the past alone. Here the whole video is
known: tracks are cut where identities come close (a contact, a crossing, an
animal lost near another), and at each such event the identities involved are
permuted after it so that each one's motion and body shape before the event best
continue into the track that follows it. Events are handled in time order, each
permutation relabelling the rest of the video, so a swap the online pass made is
undone from the event on.
"""

from __future__ import annotations

import warnings
from itertools import permutations

import numpy as np
from numpy.typing import NDArray

from etholoop.track.params import TrackerParams
from etholoop.types import Detections

PROXIMITY = 0.3
"""Two identities are ambiguous while their centres are closer than this many
body lengths (a box diagonal)."""
MERGE_GAP = 2
"""Close runs of one pair separated by at most this many frames form one event."""
WINDOW = 8
"""Frames on each side of an event whose motion is fitted to bridge it."""
MAX_BRIDGE = 15
"""Longest extrapolation in frames; beyond it the motion is assumed to stop."""
SHAPE_WEIGHT = 0.5
"""Weight of the change in keypoint layout (heading, body axis) across an event,
against the mismatch of the extrapolated positions."""
CONFIDENT_RATIO = 0.3
"""A permutation is applied only if its cost is below this share of the next
best: with look-alike animals a weak preference is no better than the online
pass's own frame-by-frame choice."""
MAX_EVENT = 30
"""Events longer than this many frames are left as the online pass tracked them
(motion does not bridge a long huddle) and marked suspicious."""
MAX_PERMUTED = 5
"""Events involving more identities than this are not searched (5! = 120)."""


def repair_identities(
    detections: Detections, identities: NDArray[np.int64], params: TrackerParams
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Undo identity swaps of an online tracking at close contacts.

    Args:
        detections: What the pose model found in each frame.
        identities: Identity per detection row, shape (n,), -1 = none, as
            `track_online` returns.
        params: Tracker parameters (`max_ids`, `visibility_threshold`).

    Returns:
        The repaired identity per row, shape (n,), and the per-frame swap
        suspicion, shape (frames,), in [0, 1]: the ratio of the best to the
        second-best permutation cost at the events still ambiguous, 0 elsewhere.
    """
    n_frames, n_ids = detections.n_frames, params.max_ids
    frame = np.repeat(np.arange(n_frames), np.diff(detections.offsets))
    assigned = identities >= 0
    kp = _per_identity(detections, identities, frame, params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # identities not seen
        centre = np.nanmean(kp, axis=2)
    diag = np.full((n_frames, n_ids), np.nan)
    b = detections.boxes[assigned]
    diag[frame[assigned], identities[assigned]] = np.hypot(
        b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    )
    suspicion = np.zeros(n_frames)
    label = np.tile(np.arange(n_ids), (n_frames, 1))
    if not np.isfinite(diag).any():
        return identities.copy(), suspicion
    body = float(np.nanmedian(diag))
    for start, stop, ids in _events(centre, PROXIMITY * body):
        if len(ids) > MAX_PERMUTED or stop - start > MAX_EVENT:
            suspicion[start:stop] = 1.0
            continue
        perm, ratio = _best_permutation(kp, centre, start, stop, ids, body)
        suspicion[start:stop] = np.maximum(suspicion[start:stop], ratio)
        if perm is None or ratio > CONFIDENT_RATIO:
            continue
        # identity ids[a] continues as ids[perm[a]] after the closest approach
        split = _closest_approach(centre, start, stop, ids) + 1
        old = np.array(ids)
        new = old[list(perm)]
        for arr in (kp, centre):
            tail = arr[split:, old].copy()
            arr[split:, new] = tail
        lookup = np.arange(n_ids)
        lookup[old] = new
        label[split:] = lookup[label[split:]]
    out = identities.copy()
    out[assigned] = label[frame[assigned], identities[assigned]]
    return out, suspicion


def _closest_approach(
    centre: NDArray[np.float64], start: int, stop: int, ids: tuple[int, ...]
) -> int:
    """The frame in [start, stop) where two of `ids` come closest (held centres)."""
    held = _hold(centre[:stop])[start:stop][:, list(ids)]
    d = np.linalg.norm(held[:, :, None] - held[:, None], axis=-1)
    d[:, np.arange(len(ids)), np.arange(len(ids))] = np.inf
    closest = np.nanmin(np.where(np.isfinite(d), d, np.inf), axis=(1, 2))
    return start + int(np.argmin(closest))


def _per_identity(
    detections: Detections,
    identities: NDArray[np.int64],
    frame: NDArray[np.int64],
    params: TrackerParams,
) -> NDArray[np.float64]:
    """Keypoints by frame and identity, (frames, ids, K, 2); NaN if not seen."""
    kp = np.full(
        (detections.n_frames, params.max_ids, detections.n_keypoints, 2), np.nan
    )
    rows = np.flatnonzero(identities >= 0)
    seen = detections.keypoint_scores[rows] >= params.visibility_threshold
    kp[frame[rows], identities[rows]] = np.where(
        seen[..., None], detections.keypoints[rows], np.nan
    )
    return kp


def _hold(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Carry each identity's last finite value forward over gaps, (F, ids, 2)."""
    finite = np.isfinite(x[..., 0])
    idx = np.where(finite, np.arange(len(x))[:, None], 0)
    np.maximum.accumulate(idx, axis=0, out=idx)
    held = np.take_along_axis(x, idx[..., None], axis=0)
    before_first = np.cumsum(finite, axis=0) == 0
    held[before_first] = np.nan
    return held


def _events(
    centre: NDArray[np.float64], distance: float
) -> list[tuple[int, int, tuple[int, ...]]]:
    """Time-ordered ambiguous events: (first frame, frame after last, identities).

    A pair is close while its (held over gaps) centres lie within `distance`;
    close runs sharing an identity and overlapping in time form one event.
    """
    held = _hold(centre)
    n_ids = centre.shape[1]
    runs: list[tuple[int, int, set[int]]] = []
    for i in range(n_ids):
        for j in range(i + 1, n_ids):
            d = np.linalg.norm(held[:, i] - held[:, j], axis=-1)
            close = np.flatnonzero(d < distance)
            if close.size == 0:
                continue
            breaks = np.flatnonzero(np.diff(close) > MERGE_GAP + 1)
            starts = close[np.concatenate([[0], breaks + 1])]
            stops = close[np.concatenate([breaks, [close.size - 1]])] + 1
            runs += [
                (int(s), int(e), {i, j}) for s, e in zip(starts, stops, strict=True)
            ]
    runs.sort(key=lambda r: r[0])
    events: list[tuple[int, int, set[int]]] = []
    for s, e, ids in runs:
        for k, (es, ee, eids) in enumerate(events):
            if s <= ee + MERGE_GAP and e + MERGE_GAP >= es and ids & eids:
                events[k] = (min(s, es), max(e, ee), eids | ids)
                break
        else:
            events.append((s, e, ids))
    events = _merge_chained(events)
    events.sort(key=lambda ev: ev[1])
    return [(s, e, tuple(sorted(ids))) for s, e, ids in events]


def _merge_chained(
    events: list[tuple[int, int, set[int]]],
) -> list[tuple[int, int, set[int]]]:
    """Merge events until no two share an identity and overlap in time."""
    merged = True
    while merged:
        merged = False
        for a in range(len(events)):
            for b in range(a + 1, len(events)):
                sa, ea, ia = events[a]
                sb, eb, ib = events[b]
                if sa <= eb + MERGE_GAP and sb <= ea + MERGE_GAP and ia & ib:
                    events[a] = (min(sa, sb), max(ea, eb), ia | ib)
                    del events[b]
                    merged = True
                    break
            if merged:
                break
    return events


def _state(
    kp: NDArray[np.float64], centre: NDArray[np.float64], frames: NDArray[np.int64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]] | None:
    """Position, velocity (px/frame) and keypoint layout over `frames`, or None.

    Args:
        kp: One identity's keypoints, (frames, K, 2).
        centre: Its centres, (frames, 2).
        frames: The window, in time order; position is given at its last frame.
    """
    inside = frames[(frames >= 0) & (frames < len(centre))]
    ok = inside[np.isfinite(centre[inside, 0])]
    if ok.size == 0:
        return None
    ref = frames[-1]
    if ok.size >= 2:
        t = (ok - ref).astype(np.float64)
        slope, at_ref = np.polyfit(t, centre[ok], 1)
    else:
        slope, at_ref = np.zeros(2), centre[ok[0]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a keypoint never seen: NaN
        layout = np.nanmean(kp[ok] - centre[ok, None], axis=0)
    return at_ref, slope, layout


def _best_permutation(
    kp: NDArray[np.float64],
    centre: NDArray[np.float64],
    start: int,
    stop: int,
    ids: tuple[int, ...],
    body: float,
) -> tuple[tuple[int, ...] | None, float]:
    """The permutation of `ids` across [start, stop) that best continues motion.

    Returns:
        The permutation (index into `ids` of each one's continuation) if it
        differs from the identity, and the ratio of the best to the second-best
        permutation cost (1 = fully ambiguous).
    """
    before = [
        _state(kp[:, i], centre[:, i], np.arange(start - WINDOW, start)) for i in ids
    ]
    after = [
        _state(kp[:, i], centre[:, i], np.arange(stop + WINDOW - 1, stop - 1, -1))
        for i in ids
    ]
    bridge = min(stop - start + 1, MAX_BRIDGE)
    n = len(ids)
    pair = np.zeros((n, n))
    for a, pre in enumerate(before):
        for c, post in enumerate(after):
            if pre is None or post is None:
                continue
            forward = pre[0] + pre[1] * bridge - post[0]
            backward = post[0] - post[1] * bridge - pre[0]
            motion = 0.5 * (np.linalg.norm(forward) + np.linalg.norm(backward))
            shape = np.nanmean(np.linalg.norm(pre[2] - post[2], axis=-1))
            pair[a, c] = (motion + SHAPE_WEIGHT * np.nan_to_num(shape)) / body
    costs = sorted(
        (float(pair[np.arange(n), list(p)].sum()), p) for p in permutations(range(n))
    )
    best_cost, best = costs[0]
    second = costs[1][0] if len(costs) > 1 else np.inf
    ratio = best_cost / second if second > 0 else 1.0
    changed = best != tuple(range(n)) and best_cost < costs_of_identity(costs, n)
    return (best if changed else None), float(min(ratio, 1.0))


def costs_of_identity(costs: list[tuple[float, tuple[int, ...]]], n: int) -> float:
    """The cost of leaving every identity as it is, from a sorted cost list."""
    keep = tuple(range(n))
    return next(c for c, p in costs if p == keep)
