"""Motion of look-alike mice: a behavior state machine per animal, steering, contacts.

Pure numpy and deterministic: everything random comes from the one generator
passed in. Speeds are in body lengths per second and times in seconds, so the
motion looks the same at any frame rate and frame size.
"""

from __future__ import annotations

import math

import attrs
import numpy as np
from attrs import frozen
from numpy.typing import NDArray

from etholoop.synth.body import Posture
from etholoop.synth.config import (
    BEHAVIORS,
    FLINCH,
    FLINCH_EDGE,
    FLINCH_FRAMES,
    FLINCH_RATE,
    ArenaSpec,
    floor_rect,
)

F64 = NDArray[np.float64]


@frozen
class _Mode:
    """How an animal moves and holds its body while showing one behavior."""

    speed: tuple[float, float]  # body lengths / s, drawn once per bout
    dwell: tuple[float, float]  # s, drawn once per bout
    turn: float  # standard deviation of the turning rate, rad / s
    stretch: float
    width: float
    head_ext: float
    depth: float


MODES: dict[str, _Mode] = {
    "rest": _Mode((0.0, 0.0), (1.5, 5.0), 0.0, 0.92, 1.08, 0.85, 0.0),
    "walk": _Mode((1.0, 2.2), (1.0, 4.0), 2.0, 1.05, 0.95, 1.0, 0.5),
    "groom": _Mode((0.0, 0.0), (2.0, 6.0), 0.0, 0.85, 1.12, 0.75, 0.1),
    "rear": _Mode((0.0, 0.0), (0.6, 2.0), 0.0, 0.6, 1.1, 0.85, 1.0),
    "chase": _Mode((2.5, 3.5), (1.0, 3.0), 0.5, 1.1, 0.92, 1.0, 0.8),
}

TRANSITIONS: dict[str, dict[str, float]] = {
    "rest": {"walk": 0.6, "groom": 0.25, "rear": 0.1, "chase": 0.05},
    "walk": {"rest": 0.3, "walk": 0.2, "groom": 0.15, "rear": 0.2, "chase": 0.15},
    "groom": {"rest": 0.4, "walk": 0.4, "rear": 0.15, "chase": 0.05},
    "rear": {"rest": 0.2, "walk": 0.6, "groom": 0.15, "chase": 0.05},
    "chase": {"rest": 0.2, "walk": 0.6, "groom": 0.1, "rear": 0.1},
}
"""Relative odds of the next behavior when a bout ends; behaviors the spec leaves
out are dropped and the rest renormalized."""

FREE, APPROACH, LEAVE = 0, 1, 2
"""Whether an animal moves freely or was sent towards or away from its target."""

APPROACH_TIMEOUT = 8.0
"""Seconds an animal sent towards another keeps trying before giving up."""

LEAVE_TIMEOUT = 2.0
"""Seconds an animal sent away from another keeps going at most; it stops once it
is two contact distances away."""

CONTACT_GAP = 0.5
"""Seconds apart within which two close spells of one pair count as one contact."""


@frozen
class Contact:
    """A close-contact event: two animals' centroids nearer than the contact distance.

    Attributes:
        start: First frame of the event.
        stop: One past the last frame of the event.
        individuals: The two animals' indices, lower first.
        min_distance: Smallest centroid distance during the event in px.
    """

    start: int
    stop: int
    individuals: tuple[int, int]
    min_distance: float


@frozen(eq=False)
class Flinches:
    """Flinch episodes: a paw shoots out from the side of the body and back.

    Attributes:
        extension: How far the paw is out, 0..1 of its reach, shape (frames,
            animals); above 0 exactly on flinch frames.
        side: Which side the paw comes out of, +1 = the animal's left, -1 = its
            right, 0 = no flinch; shape (frames, animals).
        shoulder: Whether the paw comes from the shoulder (a fore paw) rather
            than the hip (a hind paw), shape (frames, animals).
    """

    extension: F64
    side: F64
    shoulder: NDArray[np.bool_]

    def __getitem__(self, index: int | slice) -> Flinches:
        """The flinches of some frames (indexing the first axis of every array)."""
        return Flinches(self.extension[index], self.side[index], self.shoulder[index])


@frozen(eq=False)
class Motion:
    """Per-frame state of every animal.

    Attributes:
        posture: Posture arrays of shape (frames, animals).
        behavior: Index into `ArenaSpec.behaviors`, shape (frames, animals).
        flinch: The flinches to draw, or None when the arena has none; the
            posture does not show them.
    """

    posture: Posture
    behavior: NDArray[np.int16]
    flinch: Flinches | None = None


def contact_gap_frames(fps: float) -> int:
    """Frames apart within which close spells of one pair merge into one contact."""
    return round(CONTACT_GAP * fps)


def find_contacts(xy: F64, contact_distance: float, gap: int) -> tuple[Contact, ...]:
    """Close-contact events of every pair of animals, ordered by start frame.

    Args:
        xy: Centroids in px, shape (frames, animals, 2).
        contact_distance: Centroids closer than this many px are in contact.
        gap: Close spells of one pair at most this many frames apart merge.

    Returns:
        The events, sorted by start frame, then by pair.
    """
    events: list[Contact] = []
    n = xy.shape[1]
    for a in range(n):
        for b in range(a + 1, n):
            dist = np.linalg.norm(xy[:, a] - xy[:, b], axis=-1)
            close = np.flatnonzero(dist < contact_distance)
            if not len(close):
                continue
            breaks = np.flatnonzero(np.diff(close) - 1 > gap)
            starts = close[np.r_[0, breaks + 1]]
            ends = close[np.r_[breaks, len(close) - 1]] + 1
            for start, stop in zip(starts.tolist(), ends.tolist(), strict=True):
                low = float(dist[start:stop].min())
                events.append(Contact(start, stop, (a, b), low))
    return tuple(sorted(events, key=lambda e: (e.start, e.individuals)))


def simulate(spec: ArenaSpec, rng: np.random.Generator) -> Motion:
    """Move the animals of `spec` for `spec.n_frames` frames.

    Each animal runs a behavior state machine (bouts of random length, next
    behavior drawn from `TRANSITIONS`), turns at random while moving, follows the
    walls, steers towards its target when chasing, and stays inside the arena. When
    `spec.min_contacts` asks for more contacts than happen by chance, animals are
    sent towards each other, spread over the video.

    Args:
        spec: What to simulate.
        rng: The only source of randomness.

    Returns:
        The state of every animal in every frame.
    """
    herd = _Herd(spec, rng)
    record = {
        name: np.empty((spec.n_frames, *arr.shape))
        for name, arr in herd.posture().items()
    }
    behavior = np.empty((spec.n_frames, spec.n_animals), dtype=np.int16)
    label = np.array(
        [spec.behaviors.index(b) if b in spec.behaviors else -1 for b in BEHAVIORS]
    )
    for t in range(spec.n_frames):
        herd.step(t)
        for name, arr in herd.posture().items():
            record[name][t] = arr
        behavior[t] = label[herd.behavior]
    return Motion(posture=Posture(**record), behavior=behavior)


def add_flinches(spec: ArenaSpec, motion: Motion, rng: np.random.Generator) -> Motion:
    """Give every animal rare flinch episodes, labeled "flinch" in the ethogram.

    Per animal, episodes of `FLINCH_FRAMES` frames (uniform) cover about
    `FLINCH_RATE` of the frames (at least one episode), placed uniformly at random,
    `FLINCH_EDGE` frames clear of the video's ends and of each other. The paw
    shoots out in two frames, stays out and comes back in two. The posture is
    left as it is: a flinch shows in the pixels only.

    Args:
        spec: The arena; `FLINCH` must be among its behaviors.
        motion: The simulated motion.
        rng: The flinches' own random stream (the motion's is not touched).

    Returns:
        The motion with the flinch frames relabeled and `flinch` set.
    """
    n_frames, n_animals = motion.behavior.shape
    low, high = FLINCH_FRAMES
    count = max(1, round(FLINCH_RATE * n_frames / ((low + high) / 2)))
    span = n_frames - 2 * FLINCH_EDGE
    extension = np.zeros((n_frames, n_animals))
    side = np.zeros((n_frames, n_animals))
    shoulder = np.zeros((n_frames, n_animals), dtype=bool)
    for i in range(n_animals):
        lengths = rng.integers(low, high + 1, count)
        sides = rng.choice([-1.0, 1.0], count)
        fore = rng.random(count) < 0.5
        # Drop episodes until the rest fit with their gaps; then spread the free
        # frames uniformly between them (stars and bars).
        n = count
        while n > 1 and lengths[:n].sum() + (n - 1) * FLINCH_EDGE > span:
            n -= 1
        slack = span - int(lengths[:n].sum()) - (n - 1) * FLINCH_EDGE
        offsets = np.sort(rng.integers(0, slack + 1, n))
        before = np.concatenate([[0], np.cumsum(lengths[: n - 1])])
        starts = FLINCH_EDGE + offsets + before + np.arange(n) * FLINCH_EDGE
        episodes = zip(
            starts.tolist(), lengths[:n].tolist(), sides[:n], fore[:n], strict=True
        )
        for start, length, paw_side, from_shoulder in episodes:
            k = np.arange(length)
            out = np.minimum(k + 1, length - k) / 2
            extension[start : start + length, i] = np.minimum(out, 1.0)
            side[start : start + length, i] = paw_side
            shoulder[start : start + length, i] = from_shoulder
    label = np.int16(spec.behaviors.index(FLINCH))
    behavior = np.where(extension > 0, label, motion.behavior).astype(np.int16)
    return attrs.evolve(
        motion, behavior=behavior, flinch=Flinches(extension, side, shoulder)
    )


def _wrap(angle: F64) -> F64:
    return np.asarray((angle + np.pi) % (2 * np.pi) - np.pi)


def _rate(dt: float, tau: float) -> float:
    """Fraction of the way to its target a first-order lag moves in one frame."""
    return 1 - math.exp(-dt / tau)


class _Herd:
    """Mutable state of all animals while simulating; arrays have shape (animals,)."""

    def __init__(self, spec: ArenaSpec, rng: np.random.Generator) -> None:
        self.spec, self.rng = spec, rng
        n, length = spec.n_animals, spec.body_length
        self.dt = 1 / spec.fps
        x0, y0, x1, y1 = floor_rect(spec)
        margin = 0.5 * length
        self.low = np.array([x0 + margin, y0 + margin])
        self.high = np.array([x1 - margin, y1 - margin])
        self.allowed = [BEHAVIORS.index(b) for b in spec.motion_behaviors]
        if n == 1:
            self.allowed = [b for b in self.allowed if BEHAVIORS[b] != "chase"]
        self.approach = BEHAVIORS.index(
            "chase" if "chase" in spec.behaviors else "walk"
        )
        self.leave = BEHAVIORS.index("walk") if "walk" in spec.behaviors else -1
        self.gap = contact_gap_frames(spec.fps)
        self.n_contacts = 0
        self.last_close = np.full((n, n), -(10**9))

        modes = [MODES[b] for b in BEHAVIORS]
        self.mode_turn = np.array([m.turn for m in modes])
        self.mode_stretch = np.array([m.stretch for m in modes])
        self.mode_width = np.array([m.width for m in modes])
        self.mode_head_ext = np.array([m.head_ext for m in modes])
        self.mode_depth = np.array([m.depth for m in modes])
        self.moving_mode = np.array([m.speed[1] > 0 for m in modes])
        self.groom_mode = BEHAVIORS.index("groom")
        self.rear_mode = BEHAVIORS.index("rear")

        self.xy = self._initial_positions()
        self.heading = rng.uniform(-np.pi, np.pi, n)
        self.omega = np.zeros(n)
        self.speed = np.zeros(n)
        self.behavior = np.zeros(n, dtype=np.int64)
        self.dwell = np.zeros(n, dtype=np.int64)
        self.target = np.full(n, -1)
        self.sent = np.zeros(n, dtype=np.int8)
        self.bout_speed = np.zeros(n)
        self.groom_freq = np.full(n, 3.0)
        self.groom_side = np.ones(n)
        self.groom_phase = rng.uniform(0, 2 * np.pi, n)
        self.breath_phase = rng.uniform(0, 2 * np.pi, n)
        self.yaw_drift = np.zeros(n)
        self.tail_drift = rng.normal(0, 0.4, n)
        for i in range(n):
            self._start(i, int(rng.choice(self.allowed)))
            self.dwell[i] = rng.integers(1, self.dwell[i] + 1)
        b = self.behavior
        self.stretch = self.mode_stretch[b].copy()
        self.width = self.mode_width[b].copy()
        self.head_ext = self.mode_head_ext[b].copy()
        self.depth = self.mode_depth[b].copy()
        self.bend = np.zeros(n)
        self.head_yaw = np.zeros(n)
        self.tail_curl = self.tail_drift.copy()
        self.tail_phase = rng.uniform(0, 2 * np.pi, n)
        self.tail_amp = np.full(n, 0.05)

    def _initial_positions(self) -> F64:
        """Random spots inside the arena, a body length apart where there is room."""
        xy = np.empty((self.spec.n_animals, 2))
        for i in range(self.spec.n_animals):
            for _ in range(100):
                xy[i] = self.rng.uniform(self.low, self.high)
                gaps = np.linalg.norm(xy[:i] - xy[i], axis=-1)
                if (gaps > 1.2 * self.spec.body_length).all():
                    break
        return xy

    def _start(self, i: int, behavior: int, target: int = -1) -> None:
        """Begin a new bout of `behavior` for animal `i`."""
        spec, rng = self.spec, self.rng
        mode = MODES[BEHAVIORS[behavior]]
        self.behavior[i] = behavior
        self.dwell[i] = max(1, round(rng.uniform(*mode.dwell) * spec.fps))
        self.bout_speed[i] = rng.uniform(*mode.speed) * spec.body_length
        self.sent[i] = FREE
        self.target[i] = target
        if BEHAVIORS[behavior] == "chase" and target < 0:
            self.target[i] = self._pick_target(i)
        if behavior == self.groom_mode:
            self.groom_freq[i] = rng.uniform(2.5, 4.0)
            self.groom_side[i] = rng.choice([-1.0, 1.0])

    def _pick_target(self, i: int) -> int:
        """Another animal, nearer ones more likely."""
        dist = np.linalg.norm(self.xy - self.xy[i], axis=-1)
        weight = 1 / np.maximum(dist, 1.0)
        weight[i] = 0
        return int(self.rng.choice(len(weight), p=weight / weight.sum()))

    def _switch(self, i: int) -> None:
        """End animal `i`'s bout and draw the next behavior."""
        odds = TRANSITIONS[BEHAVIORS[self.behavior[i]]]
        weight = np.array([odds.get(BEHAVIORS[b], 0.0) for b in self.allowed])
        if weight.sum() == 0:
            self._start(i, int(self.behavior[i]))
        else:
            self._start(i, int(self.rng.choice(self.allowed, p=weight / weight.sum())))

    def _send_together(self, t: int) -> None:
        """Send animals towards each other while contacts lag behind the quota.

        Contacts are due evenly over the first 70 % of the video. A pair that is
        apart is sent together, one more pair per frame while contacts plus
        approaches under way fall short; when no pair is apart, one animal is sent
        away first so that the next meeting is a new contact.
        """
        spec, rng = self.spec, self.rng
        due = math.ceil(spec.min_contacts * (t + 1) / (0.7 * spec.n_frames))
        pending = int((self.sent == APPROACH).sum())
        if self.n_contacts + pending >= min(due, spec.min_contacts):
            return
        d = np.linalg.norm(self.xy[:, None] - self.xy[None], axis=-1)
        quiet = t - self.last_close - 1 > self.gap
        busy = self.sent != FREE
        free = ~(busy[:, None] | busy[None, :])
        pairs = np.triu((d > 1.5 * spec.contact_distance) & quiet & free, k=1)
        apart = np.argwhere(pairs)
        if len(apart):
            a, b = apart[rng.integers(len(apart))].tolist()
            if rng.random() < 0.5:
                a, b = b, a
            self._start(a, self.approach, target=b)
            self.sent[a] = APPROACH
            self.dwell[a] = round(APPROACH_TIMEOUT * spec.fps)
        elif self.leave >= 0 and not busy.any():
            a = int(rng.integers(spec.n_animals))
            d[a, a] = np.inf
            self._start(a, self.leave, target=int(d[a].argmin()))
            self.sent[a] = LEAVE
            self.dwell[a] = round(LEAVE_TIMEOUT * spec.fps)
        else:
            return
        self.bout_speed[a] = rng.uniform(2.5, 3.2) * spec.body_length

    def step(self, t: int) -> None:
        """Advance every animal by one frame."""
        spec, rng, dt = self.spec, self.rng, self.dt
        length = spec.body_length
        self.dwell -= 1
        for i in np.flatnonzero(self.dwell <= 0):
            self._switch(int(i))
        if spec.min_contacts:
            self._send_together(t)

        b = self.behavior
        moving = self.moving_mode[b]
        fleeing = self.sent == LEAVE
        chasing = (self.target >= 0) & ~fleeing
        # Turning: random (Ornstein-Uhlenbeck) turning rate, pursuit, walls.
        tau = 0.4
        noise = rng.standard_normal(spec.n_animals)
        self.omega += -self.omega * dt / tau + self.mode_turn[b] * noise * math.sqrt(
            2 * dt / tau
        )
        to_target = self.xy[np.maximum(self.target, 0)] - self.xy
        dist_target = np.hypot(to_target[:, 0], to_target[:, 1])
        bearing = np.arctan2(to_target[:, 1], to_target[:, 0]) + np.pi * fleeing
        pursue = _wrap(bearing - self.heading)
        # A target right behind: keep turning the way the animal already turns,
        # rather than flipping between +pi and -pi.
        behind = np.abs(pursue) > 2.5
        pursue = np.where(behind, np.where(self.omega < 0, -2.5, 2.5), pursue)
        steered = self.target >= 0
        self.omega = np.where(steered, 5.0 * pursue + 0.3 * self.omega, self.omega)
        self.omega += moving * self._wall_turn()
        self.omega = np.clip(self.omega, -8.0, 8.0)
        self.heading = _wrap(self.heading + self.omega * dt * moving)

        # Speed: bout speed; a chaser closes in, then keeps pace with its target.
        target_speed = np.where(moving, self.bout_speed, 0.0)
        keep_pace = self.speed[np.maximum(self.target, 0)] + np.where(
            dist_target > 0.5 * length, 0.6 * length, 0.0
        )
        near = chasing & (dist_target < 1.2 * length)
        target_speed = np.where(near, np.minimum(keep_pace, target_speed), target_speed)
        self.speed += (target_speed - self.speed) * _rate(dt, 0.15)
        direction = np.stack([np.cos(self.heading), np.sin(self.heading)], axis=-1)
        self.xy = self.xy + direction * (self.speed * dt)[:, None]
        self._push_apart(moving)
        self.xy = np.clip(self.xy, self.low, self.high)
        apart = np.linalg.norm(self.xy[:, None] - self.xy[None], axis=-1)
        self._count_contacts(t, apart)
        far = apart[np.arange(spec.n_animals), self.target] > 2 * spec.contact_distance
        gone = fleeing & far
        self.dwell[gone] = np.minimum(self.dwell[gone], 1)
        self._pose(moving, apart)

    def _wall_turn(self) -> F64:
        """Turning rate that bends a heading into a wall along it (mice hug walls)."""
        ahead = np.stack([np.cos(self.heading), np.sin(self.heading)], axis=-1)
        probe = self.xy + ahead * 0.9 * self.spec.body_length
        wanted = ahead.copy()
        for axis in (0, 1):
            for side, beyond in (
                (1.0, probe[:, axis] > self.high[axis]),
                (-1.0, probe[:, axis] < self.low[axis]),
            ):
                into = np.maximum(ahead[:, axis] * side, 0.0)
                wanted[:, axis] -= np.where(beyond, 1.2 * into * side, 0.0)
        turn = _wrap(np.arctan2(wanted[:, 1], wanted[:, 0]) - self.heading)
        return 6.0 * turn

    def _push_apart(self, moving: NDArray[np.bool_]) -> None:
        """Keep two walking animals from overlapping much.

        Walkers climb over resting animals and chasers over their target; those
        crossings make the occlusions that identity tracking must survive.
        """
        reach = 0.6 * self.spec.body_length
        n = self.spec.n_animals
        for i in range(n):
            for j in range(i + 1, n):
                if (
                    not (moving[i] and moving[j])
                    or self.target[i] == j
                    or self.target[j] == i
                ):
                    continue
                d = self.xy[i] - self.xy[j]
                dist = math.hypot(d[0], d[1])
                if 1e-6 < dist < reach:
                    push = d / dist * (reach - dist) * 0.25
                    self.xy[i] += push
                    self.xy[j] -= push

    def _count_contacts(self, t: int, d: F64) -> None:
        """Count contacts as they start, by the rule of `find_contacts`.

        Args:
            t: The frame.
            d: Distances between the animals' centroids, shape (animals, animals).
        """
        cd = self.spec.contact_distance
        close = np.triu(d < cd, k=1)
        if not close.any():
            return
        new = close & (t - self.last_close - 1 > self.gap)
        self.n_contacts += int(new.sum())
        self.last_close[close] = t
        for a in np.flatnonzero(self.sent == APPROACH):
            b = self.target[a]
            if d[a, b] < cd:
                self.sent[a] = FREE
                follow = round(self.rng.uniform(0.3, 1.0) * self.spec.fps)
                self.dwell[a] = min(self.dwell[a], follow)

    def _pose(self, moving: NDArray[np.bool_], d: F64) -> None:
        """Move the body shape towards what the current behavior holds.

        Args:
            moving: Which animals walk or chase, shape (animals,).
            d: Distances between the animals' centroids, shape (animals, animals).
        """
        dt, rng, n = self.dt, self.rng, self.spec.n_animals
        b = self.behavior
        grooming = b == self.groom_mode
        slow, fast = _rate(dt, 0.25), _rate(dt, 0.08)
        self.stretch += (self.mode_stretch[b] - self.stretch) * slow
        self.width += (self.mode_width[b] - self.width) * slow
        self.head_ext += (self.mode_head_ext[b] - self.head_ext) * slow

        bend = np.where(moving, np.clip(0.3 * self.omega, -0.5, 0.5), 0.0)
        bend = np.where(grooming, 0.35 * self.groom_side, bend)
        self.bend += (bend - self.bend) * _rate(dt, 0.2)

        drift = rng.standard_normal((2, n))
        self.yaw_drift += -self.yaw_drift * dt / 1.0 + 0.25 * drift[0] * math.sqrt(
            2 * dt
        )
        self.tail_drift += -self.tail_drift * dt / 3.0 + 0.4 * drift[1] * math.sqrt(
            2 * dt / 3.0
        )
        self.groom_phase += 2 * np.pi * self.groom_freq * dt
        scan = np.where(b == self.rear_mode, 2.0, 1.0) * self.yaw_drift
        yaw = np.where(moving, 0.15 * self.omega + 0.5 * scan, scan)
        yaw = np.where(grooming, 0.55 * np.sin(self.groom_phase), yaw)
        self.head_yaw += (np.clip(yaw, -0.9, 0.9) - self.head_yaw) * fast

        lengths_per_s = self.speed / self.spec.body_length
        self.tail_phase += 2 * np.pi * (0.5 + 1.2 * lengths_per_s) * dt
        amp = 0.04 + 0.25 * np.minimum(lengths_per_s / 2.0, 1.0)
        self.tail_amp += (amp - self.tail_amp) * slow
        curl = -1.2 * self.bend + self.tail_drift
        self.tail_curl += (curl - self.tail_curl) * _rate(dt, 0.3)

        # Depth changes only while apart, so animals never swap layers mid-overlap.
        others = d + np.diag(np.full(n, np.inf))
        alone = others.min(axis=1) > 1.1 * self.spec.body_length
        self.depth += np.where(
            alone, (self.mode_depth[b] - self.depth) * _rate(dt, 0.5), 0.0
        )
        self.breath_phase += 2 * np.pi * 2.5 * dt

    def posture(self) -> dict[str, F64]:
        """The current posture arrays, named as the fields of `Posture`."""
        return {
            "xy": self.xy.copy(),
            "heading": self.heading.copy(),
            "bend": self.bend.copy(),
            "head_yaw": self.head_yaw.copy(),
            "stretch": self.stretch.copy(),
            "width": self.width * (1 + 0.025 * np.sin(self.breath_phase)),
            "head_ext": self.head_ext.copy(),
            "tail_curl": self.tail_curl.copy(),
            "tail_phase": self.tail_phase.copy(),
            "tail_amp": self.tail_amp.copy(),
            "depth": self.depth.copy(),
        }
