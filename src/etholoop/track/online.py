"""The online pass: identities frame by frame, by motion prediction and assignment.

Each identity keeps its last keypoints, box, a smoothed velocity and a body size.
In every frame the identities still followed compete for the detections through
one Hungarian assignment on a gated cost; identities lost for longer than
`release_id_at_value` frames then take what is left whatever its cost, and
identities never seen take the rest in order of box score. Detections are first
put into a canonical order within each frame, so the result does not depend on
the order they arrive in.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray

from etholoop.track.params import TrackerParams
from etholoop.types import Detections

UNASSIGNED = -1
BIG = 1e9
"""Cost of a gated pair: high enough that the assignment takes it only when no
allowed pair is left, and then the pair is dropped."""
VELOCITY_GAIN = 0.02
"""Share of the prediction's error per frame added to the velocity (the beta of
an alpha-beta filter). Small: the velocity follows ~50 frames, so two animals
jostling in a huddle do not kick each other's predictions apart, and an animal
that stops is not predicted to overshoot by much."""
SIZE_MEMORY = 0.9
"""Weight of the old body size when a new box is seen."""
POSITION_GAIN = 0.7
"""Weight of a detection's keypoints against the prediction when they are
merged (an alpha-beta filter: less jitter in what the next frame is compared to)."""


def canonical_order(detections: Detections) -> NDArray[np.int64]:
    """Row order sorted within each frame by box score (high first), then box.

    Returns:
        Indices of the rows, shape (n,); frames stay in order.
    """
    frame = np.repeat(
        np.arange(detections.n_frames), np.diff(detections.offsets).astype(np.int64)
    )
    boxes = np.nan_to_num(detections.boxes)
    kp = np.nan_to_num(detections.keypoints).reshape(
        len(boxes), 2 * detections.n_keypoints
    )
    keys = [*kp.T[::-1], *boxes.T[::-1], -np.nan_to_num(detections.box_scores), frame]
    return np.lexsort(keys).astype(np.int64)


def track_online(detections: Detections, params: TrackerParams) -> NDArray[np.int64]:
    """Give each detection one of `params.max_ids` identities.

    Args:
        detections: What the pose model found in each frame.
        params: Tracker parameters.

    Returns:
        Identity per detection row, shape (n,), in [0, max_ids) or -1 where no
        identity took the detection (more detections than identities, or gated).
    """
    order = canonical_order(detections)
    ids = _track(
        detections.offsets,
        detections.boxes[order],
        detections.box_scores[order],
        detections.keypoints[order],
        detections.keypoint_scores[order],
        params.max_ids,
        params.alpha,
        params.cost_threshold,
        params.max_skip,
        params.release_id_at_value,
        params.visibility_threshold,
        POSITION_GAIN,
        VELOCITY_GAIN,
    )
    out = np.empty_like(ids)
    out[order] = ids
    return out


@njit(cache=True)
def hungarian(cost: NDArray[np.float64]) -> NDArray[np.int64]:
    """Minimum-cost assignment of rows to columns (shortest augmenting paths).

    Args:
        cost: Shape (a, b); any shape works, the smaller side is matched fully.

    Returns:
        Column of each row, shape (a,), -1 for rows left out when a > b.
    """
    a, b = cost.shape
    transposed = a > b
    c = cost.T.copy() if transposed else cost
    n, m = c.shape
    u = np.zeros(n + 1)
    v = np.zeros(m + 1)
    p = np.zeros(m + 1, np.int64)  # p[j]: row (1-based) matched to column j
    way = np.zeros(m + 1, np.int64)
    for i in range(1, n + 1):
        p[0] = i
        j0 = 0
        minv = np.full(m + 1, np.inf)
        used = np.zeros(m + 1, np.bool_)
        while True:
            used[j0] = True
            i0 = p[j0]
            delta = np.inf
            j1 = 0
            for j in range(1, m + 1):
                if not used[j]:
                    cur = c[i0 - 1, j - 1] - u[i0] - v[j]
                    if cur < minv[j]:
                        minv[j] = cur
                        way[j] = j0
                    if minv[j] < delta:
                        delta = minv[j]
                        j1 = j
            for j in range(m + 1):
                if used[j]:
                    u[p[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            j0 = j1
            if p[j0] == 0:
                break
        while True:
            j1 = way[j0]
            p[j0] = p[j1]
            j0 = j1
            if j0 == 0:
                break
    result = np.full(a, -1, np.int64)
    for j in range(1, m + 1):
        if p[j] > 0:
            if transposed:
                result[j - 1] = p[j] - 1
            else:
                result[p[j] - 1] = j - 1
    return result


@njit(cache=True)
def _iou(a: NDArray[np.float64], b: NDArray[np.float64]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0.0 or h <= 0.0:
        return 0.0
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0.0 else 0.0


@njit(cache=True)
def pair_cost(
    pred_kp: NDArray[np.float64],
    pred_seen: NDArray[np.bool_],
    pred_box: NDArray[np.float64],
    size: float,
    det_kp: NDArray[np.float64],
    det_seen: NDArray[np.bool_],
    det_box: NDArray[np.float64],
    alpha: float,
) -> float:
    """Cost of giving a detection to an identity predicted at `pred_*`.

    Keypoint distance (mean over keypoints both see, else box centres) over body
    size, blended with one minus the boxes' IoU by `alpha`.
    """
    total = 0.0
    n = 0
    for k in range(pred_kp.shape[0]):
        if pred_seen[k] and det_seen[k]:
            dx = pred_kp[k, 0] - det_kp[k, 0]
            dy = pred_kp[k, 1] - det_kp[k, 1]
            total += np.sqrt(dx * dx + dy * dy)
            n += 1
    if n > 0:
        dist = total / n
    else:
        dx = 0.5 * (pred_box[0] + pred_box[2] - det_box[0] - det_box[2])
        dy = 0.5 * (pred_box[1] + pred_box[3] - det_box[1] - det_box[3])
        dist = np.sqrt(dx * dx + dy * dy)
    return alpha * dist / size + (1.0 - alpha) * (1.0 - _iou(pred_box, det_box))


@njit(cache=True)
def _residual(
    pred_kp: NDArray[np.float64],
    pred_seen: NDArray[np.bool_],
    pred_box: NDArray[np.float64],
    det_kp: NDArray[np.float64],
    det_seen: NDArray[np.bool_],
    det_box: NDArray[np.float64],
) -> tuple[float, float]:
    """Mean offset of a detection from its prediction: shared keypoints, else box."""
    sx = 0.0
    sy = 0.0
    n = 0
    for k in range(pred_kp.shape[0]):
        if pred_seen[k] and det_seen[k]:
            sx += det_kp[k, 0] - pred_kp[k, 0]
            sy += det_kp[k, 1] - pred_kp[k, 1]
            n += 1
    if n > 0:
        return sx / n, sy / n
    dx = 0.5 * (det_box[0] + det_box[2] - pred_box[0] - pred_box[2])
    dy = 0.5 * (det_box[1] + det_box[3] - pred_box[1] - pred_box[3])
    return dx, dy


@njit(cache=True)
def _track(  # noqa: C901 - one compiled loop over frames reads best as a whole
    offsets: NDArray[np.int64],
    boxes: NDArray[np.float64],
    box_scores: NDArray[np.float64],
    keypoints: NDArray[np.float64],
    keypoint_scores: NDArray[np.float64],
    max_ids: int,
    alpha: float,
    cost_threshold: float,
    max_skip: int,
    release: int,
    vis_threshold: float,
    position_gain: float,
    velocity_gain: float,
) -> NDArray[np.int64]:
    n_rows = boxes.shape[0]
    k_pts = keypoints.shape[1]
    ids = np.full(n_rows, UNASSIGNED, np.int64)
    det_seen = np.zeros((n_rows, k_pts), np.bool_)
    for r in range(n_rows):
        for k in range(k_pts):
            det_seen[r, k] = (
                keypoint_scores[r, k] >= vis_threshold
                and np.isfinite(keypoints[r, k, 0])
                and np.isfinite(keypoints[r, k, 1])
            )
    started = np.zeros(max_ids, np.bool_)
    last_t = np.zeros(max_ids, np.int64)
    kp = np.zeros((max_ids, k_pts, 2))
    seen = np.zeros((max_ids, k_pts), np.bool_)
    box = np.zeros((max_ids, 4))
    vel = np.zeros((max_ids, 2))
    size = np.ones(max_ids)
    pred_kp = np.zeros((max_ids, k_pts, 2))
    pred_box = np.zeros((max_ids, 4))
    for t in range(offsets.size - 1):
        r0 = offsets[t]
        m = offsets[t + 1] - r0
        if m == 0:
            continue
        for i in range(max_ids):
            if started[i]:
                steps = min(t - last_t[i], max_skip)
                sx = vel[i, 0] * steps
                sy = vel[i, 1] * steps
                for k in range(k_pts):
                    pred_kp[i, k, 0] = kp[i, k, 0] + sx
                    pred_kp[i, k, 1] = kp[i, k, 1] + sy
                pred_box[i, 0] = box[i, 0] + sx
                pred_box[i, 1] = box[i, 1] + sy
                pred_box[i, 2] = box[i, 2] + sx
                pred_box[i, 3] = box[i, 3] + sy
        taken = np.zeros(m, np.bool_)
        matched = np.full(max_ids, -1, np.int64)
        for stage in range(2):
            cand = np.empty(max_ids, np.int64)
            n_cand = 0
            for i in range(max_ids):
                if not started[i]:
                    continue
                lost = t - last_t[i] > release
                if lost == (stage == 1):
                    cand[n_cand] = i
                    n_cand += 1
            free = np.empty(m, np.int64)
            n_free = 0
            for d in range(m):
                if not taken[d]:
                    free[n_free] = d
                    n_free += 1
            if n_cand == 0 or n_free == 0:
                continue
            cost = np.empty((n_cand, n_free))
            for a in range(n_cand):
                i = cand[a]
                for b in range(n_free):
                    r = r0 + free[b]
                    c = pair_cost(
                        pred_kp[i],
                        seen[i],
                        pred_box[i],
                        size[i],
                        keypoints[r],
                        det_seen[r],
                        boxes[r],
                        alpha,
                    )
                    cost[a, b] = c if (stage == 1 or c <= cost_threshold) else BIG
            cols = hungarian(cost)
            for a in range(n_cand):
                b = cols[a]
                if b >= 0 and cost[a, b] < BIG:
                    matched[cand[a]] = free[b]
                    taken[free[b]] = True
        next_new = 0
        for d in range(m):
            if taken[d]:
                continue
            while next_new < max_ids and started[next_new]:
                next_new += 1
            if next_new == max_ids:
                break
            matched[next_new] = d
            taken[d] = True
            next_new += 1
        for i in range(max_ids):
            d = matched[i]
            if d < 0:
                continue
            r = r0 + d
            ids[r] = i
            diag = np.sqrt(
                (boxes[r, 2] - boxes[r, 0]) ** 2 + (boxes[r, 3] - boxes[r, 1]) ** 2
            )
            dt = t - last_t[i]
            if started[i] and dt <= release:
                rx, ry = _residual(
                    pred_kp[i],
                    seen[i],
                    pred_box[i],
                    keypoints[r],
                    det_seen[r],
                    boxes[r],
                )
                vel[i, 0] += velocity_gain * rx / dt
                vel[i, 1] += velocity_gain * ry / dt
                size[i] = SIZE_MEMORY * size[i] + (1 - SIZE_MEMORY) * max(diag, 1.0)
                for k in range(k_pts):
                    if det_seen[r, k]:
                        if seen[i, k]:
                            for x in range(2):
                                kp[i, k, x] = pred_kp[i, k, x] + position_gain * (
                                    keypoints[r, k, x] - pred_kp[i, k, x]
                                )
                        else:
                            kp[i, k] = keypoints[r, k]
                        seen[i, k] = True
                    else:
                        kp[i, k] = pred_kp[i, k]
            else:
                vel[i, 0] = 0.0
                vel[i, 1] = 0.0
                size[i] = max(diag, 1.0)
                for k in range(k_pts):
                    kp[i, k] = keypoints[r, k]
                    seen[i, k] = det_seen[r, k]
            box[i] = boxes[r]
            last_t[i] = t
            started[i] = True
    return ids
