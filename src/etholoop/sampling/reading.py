"""The order chosen frames are read in, and what replaces a frame passed over.

Every video is read forward only, and all of them side by side: the next frame
read is the queued one that lies earliest in its video as a share of the
video's length, times the share of that video's reads that were kept. So videos
advance together, and one whose frames keep turning out near-duplicates is read
ahead of the others: what it owes is known while they still have frames left.

A frame read and passed over is owed, and one stratum takes it up: by
preference one not capped (capped: its last `CAP_AFTER` reads were passed
over), then the one with the fewest frames chosen, then the one with the most
frames left ahead of its reader. That stratum spreads its queued frames and one
more evenly over the frames it has left. So the shortfall of a stratum whose
frames are near-duplicates is drawn from the others, wherever they are in the
reading, and a frame is lost only when no frame is left ahead of any reader.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray

from etholoop.errors import VideoError
from etholoop.sampling.candidates import Candidates
from etholoop.sampling.embed import DUPLICATE_DISTANCE, rms_distances
from etholoop.sampling.strategies import spread
from etholoop.video import VideoReader
from etholoop.video.reader import Frame

CAP_AFTER = 3  # reads passed over in a row that cap a stratum
STAND_INS = 64  # frames decoded on the way held per video, at most
STAND_IN_BYTES = 512 * 2**20  # and in all videos together, at most
STAND_IN_STEP = 3  # every how many frames decoded on the way one is looked at


class ReadingQueue:
    """Chosen frames in reading order, refilled when one is passed over.

    Call `pop` for the next frame to read, then `keep` or `pass_over` on it.

    Args:
        candidates: The frames of the videos read, ordered by video then frame
            index.
        chosen: Positions in `candidates` chosen by a strategy, shape (k,).

    Attributes:
        n_lost: Frames passed over for which no frame was left to read instead.
    """

    def __init__(self, candidates: Candidates, chosen: NDArray[np.int64]) -> None:
        self.candidates = candidates
        _, self._video_of, lengths = np.unique(
            candidates.video_ids, return_inverse=True, return_counts=True
        )
        self._video_end = np.cumsum(lengths)  # one past each video's last position
        starts = self._video_end - lengths
        self._cursor = starts - 1  # last position read in each video
        rank = np.arange(len(candidates)) - starts[self._video_of]
        self._share = rank / lengths[self._video_of]  # where in its video
        n_strata = len(candidates.stratum_names)
        self._members: list[NDArray[np.int64]] = [np.zeros(0, np.int64)] * n_strata
        for members in candidates.groups(candidates.stratum_ids):
            self._members[int(candidates.stratum_ids[members[0]])] = members
        self._n_chosen = np.bincount(candidates.stratum_ids[chosen], minlength=n_strata)
        self._n_kept = np.zeros(n_strata, np.int64)
        self._passed_in_a_row = np.zeros(n_strata, np.int64)
        self._exhausted = np.zeros(n_strata, bool)  # no free frame left, for good
        self._queued = np.zeros(len(candidates), bool)
        self._queued[chosen] = True
        self._n_read = np.zeros(len(lengths), np.int64)
        self._n_kept_of_video = np.zeros(len(lengths), np.int64)
        self._version = np.zeros(len(lengths), np.int64)  # of each video's entry
        self._heap: list[tuple[float, int, int]] = []  # (key, video, version)
        for video in range(len(lengths)):
            self._schedule(video)
        self.n_lost = 0

    def pop(self) -> int | None:
        """The position of the next frame to read, or None when none is queued."""
        while self._heap:
            _, video, version = heapq.heappop(self._heap)
            if version == self._version[video]:
                pos = self._next_queued(video)
                assert pos is not None
                self._queued[pos] = False
                self._cursor[video] = pos
                self._n_read[video] += 1
                self._schedule(video)
                return pos
        return None

    def keep(self, pos: int) -> None:
        """Record that the frame at `pos`, just read, was kept."""
        stratum, video = self.candidates.stratum_ids[pos], self._video_of[pos]
        self._n_kept[stratum] += 1
        self._passed_in_a_row[stratum] = 0
        self._n_kept_of_video[video] += 1
        self._schedule(int(video))

    def pass_over(self, pos: int) -> None:
        """Record that the frame at `pos`, just read, was not kept; queue another."""
        stratum = self.candidates.stratum_ids[pos]
        self._n_chosen[stratum] -= 1
        self._passed_in_a_row[stratum] += 1
        free = {s: self._free(s) for s in np.flatnonzero(~self._exhausted).tolist()}
        self._exhausted[[s for s, inds in free.items() if not len(inds)]] = True
        takers = [s for s, inds in free.items() if len(inds)]
        if takers:
            self._add_one(min(takers, key=lambda s: self._preference(s, free[s])))
        else:
            self.n_lost += 1
        self._schedule(int(self._video_of[pos]))

    def _preference(
        self, stratum: int, free: NDArray[np.int64]
    ) -> tuple[bool, int, int]:
        """Sort key of a stratum that could take up a frame owed (lowest first)."""
        capped = bool(self._passed_in_a_row[stratum] >= CAP_AFTER)
        return capped, int(self._n_chosen[stratum]), -len(free)

    def _free(self, stratum: int) -> NDArray[np.int64]:
        """Positions of the stratum's frames ahead of their reader and not queued."""
        members = self._members[stratum]
        ahead = members > self._cursor[self._video_of[members]]
        return members[ahead & ~self._queued[members]]

    def _add_one(self, stratum: int) -> None:
        """Spread the stratum's queued frames and one more evenly over what's left."""
        members = self._members[stratum]
        k = int(self._n_chosen[stratum] - self._n_kept[stratum]) + 1
        self._queued[members] = False
        left = self._free(stratum)
        self._queued[left[spread(len(left), k, 0.5)]] = True
        self._n_chosen[stratum] += 1
        for video in np.unique(self._video_of[members]).tolist():
            self._schedule(video)

    def _next_queued(self, video: int) -> int | None:
        start = int(self._cursor[video]) + 1
        queued = np.flatnonzero(self._queued[start : self._video_end[video]])
        return start + int(queued[0]) if len(queued) else None

    def _schedule(self, video: int) -> None:
        """(Re)place the video's entry in the heap, for its next queued frame."""
        self._version[video] += 1
        pos = self._next_queued(video)
        if pos is not None:
            kept = (self._n_kept_of_video[video] + 1) / (self._n_read[video] + 1)
            key = float(self._share[pos] * kept)
            heapq.heappush(self._heap, (key, video, int(self._version[video])))


class ForwardFrames:
    """One video read forward, with some of the frames decoded on the way.

    Reading a frame goes on decoding from the frame read before when no seek
    point lies between them, else starts at the last seek point before it: no
    frame is decoded twice. Of the frames between, decoded anyway, every
    `STAND_IN_STEP`-th (by index) is converted and given too.

    Args:
        reader: The open video.
    """

    def __init__(self, reader: VideoReader) -> None:
        self.reader = reader
        self._points = reader.seek_points
        self._frames: Iterator[tuple[int, Frame]] | None = None
        self._last = -1  # the last frame decoded
        self._target = 0  # the frame being read to

    def read_to(self, frame_idx: int) -> Iterator[tuple[int, Frame]]:
        """(index, RGB frame) of frames decoded to reach `frame_idx`, it last.

        Args:
            frame_idx: A frame after the one read before.

        Raises:
            VideoError: the frame cannot be decoded.
        """
        point = np.searchsorted(self._points, frame_idx, side="right") - 1
        start = int(self._points[point])
        if self._frames is None or not start <= self._last < frame_idx:
            self.close()
            self._frames = self.reader.iter_frames(start, wanted=self._wanted)
        self._target = frame_idx
        for idx, rgb in self._frames:
            self._last = idx
            yield idx, rgb
            if idx >= frame_idx:
                break
        if self._last != frame_idx:
            raise VideoError(
                f"{self.reader.path}: frame {frame_idx} could not be decoded"
            )

    def _wanted(self, frame_idx: int) -> bool:
        self._last = frame_idx
        return frame_idx == self._target or frame_idx % STAND_IN_STEP == 0

    def close(self) -> None:
        """Stop the decode under way."""
        if self._frames is not None:
            self._frames.close()  # type: ignore[attr-defined]
            self._frames = None


class StandIns:
    """Frames decoded on the way but not read for themselves, held as stand-ins.

    A frame read and found a near-duplicate can be replaced by one of these,
    behind the reader, which the `ReadingQueue` cannot offer. Per video, the
    last `STAND_INS` frames offered that differed from every frame kept and
    held before are held (a still stretch holds one), and beyond
    `STAND_IN_BYTES` in all the oldest frame of the video holding most is let
    go, so memory stays bounded however many videos are read; the stand-in
    given is the one farthest from the video's kept frames, if it is no
    near-duplicate.

    Args:
        candidates: The frames of the videos read.
    """

    def __init__(self, candidates: Candidates) -> None:
        self.candidates = candidates
        self._held: dict[int, deque[tuple[int, Frame, NDArray[np.float32]]]] = {}
        self._bytes = 0

    def offer(
        self,
        pos: int,
        rgb: Frame,
        embedding: NDArray[np.float32],
        kept: NDArray[np.float32],
    ) -> None:
        """Hold the frame at `pos` unless it is a near-duplicate.

        Args:
            pos: Its position in `candidates`.
            rgb: The frame.
            embedding: Its embedding.
            kept: Embeddings of the frames kept from its video, shape (k, dims).
        """
        video = int(self.candidates.video_ids[pos])
        held = self._held.setdefault(video, deque(maxlen=STAND_INS))
        others = np.concatenate([kept, [e for *_, e in held]]) if held else kept
        if not len(others) or rms_distances(embedding, others).min() >= (
            DUPLICATE_DISTANCE
        ):
            if len(held) == held.maxlen:
                self._bytes -= held[0][1].nbytes
            held.append((pos, rgb, embedding))
            self._bytes += rgb.nbytes
        while self._bytes > STAND_IN_BYTES:
            fullest = max(self._held.values(), key=len)
            self._bytes -= fullest.popleft()[1].nbytes

    def take(
        self, kept: dict[int, NDArray[np.float32]], stratum: int | None = None
    ) -> tuple[int, Frame, NDArray[np.float32]] | None:
        """The held frame farthest from the kept frames of its video, given up.

        Args:
            kept: Embeddings of the frames kept, per video id.
            stratum: Only frames of this stratum; None for any.

        Returns:
            (position, RGB frame, embedding), or None if every frame held (of
            the stratum) is a near-duplicate of a kept one.
        """
        best, best_distance = None, DUPLICATE_DISTANCE
        for video, held in self._held.items():
            for entry in held:
                if stratum is not None and (
                    self.candidates.stratum_ids[entry[0]] != stratum
                ):
                    continue
                distances = rms_distances(entry[2], kept[video])
                distance = distances.min() if len(distances) else np.inf
                if distance >= best_distance:
                    best, best_distance = (video, entry), distance
        if best is None:
            return None
        self._held[best[0]].remove(best[1])
        self._bytes -= best[1][1].nbytes
        return best[1]
