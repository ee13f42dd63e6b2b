"""`sample_frames`: choose frames of a project's videos and cache them for labeling.

Each video is opened once and read forward only, so no frame is decoded twice.
Strategies without embeddings choose up front; the chosen frames are then read
in the order of a `reading.ReadingQueue` (all videos side by side), a frame
that is a near-duplicate of one kept before from the same video is passed over
and replaced by a frame of its stratum decoded on the way (`reading.StandIns`),
else by the queue from the frames left (in another stratum when its own has
given what it can), and the kept frames are written to the frame cache and
the store. Strategies that need embeddings read an evenly spread pool of
candidates window by window: each window's frames are embedded, its share of
the stratum's frames is chosen (counting the frames chosen before from that
stratum) and cached, and only then is the next window read, so memory holds one
window of frames.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from attrs import frozen
from numpy.typing import NDArray
from sqlalchemy.orm import Session

from etholoop.errors import SamplingError
from etholoop.progress import Reporter, silent
from etholoop.project import Project
from etholoop.sampling.candidates import Candidates
from etholoop.sampling.conditions import conditions_from_csv, conditions_from_regex
from etholoop.sampling.embed import (
    DUPLICATE_DISTANCE,
    EMBED_DIMS,
    embed_frame,
    rms_distances,
)
from etholoop.sampling.reading import ForwardFrames, ReadingQueue, StandIns
from etholoop.sampling.strata import (
    DEFAULT_STRATA,
    DEFAULT_TIME_BINS,
    FACTORS,
    Factor,
    assign_strata,
    time_bins,
)
from etholoop.sampling.strategies import (
    Strategy,
    allocate_equal,
    get_strategy,
    select_stratified,
)
from etholoop.store.sampling import (
    SampledFrame,
    save_sampled_frames,
    set_video_conditions,
)
from etholoop.store.videos import video_files_to_read
from etholoop.video import VideoReader, open_video
from etholoop.video.frames import frame_png, write_png
from etholoop.video.reader import rgb_to_gray

if TYPE_CHECKING:
    from etholoop.store import Video

POOL_PER_FRAME = 5  # candidates embedded per frame wanted, for strategies that embed
WINDOW = 64  # pool frames held in memory at once by strategies that embed


@frozen
class SampleReport:
    """What `sample_frames` did.

    Attributes:
        n_chosen: Frames chosen and cached.
        n_added: Of those, frames new to the store.
        n_duplicates: Frames passed over as near-duplicates of a kept frame
            (strategies that embed: frames not chosen because only
            near-duplicates were left).
        per_stratum: Chosen frames per stratum name.
    """

    n_chosen: int
    n_added: int
    n_duplicates: int
    per_stratum: dict[str, int]


@frozen
class _Source:
    video: Video
    file_name: str  # the raw file's name, which conditions are read from


def sample_frames(
    project: Project,
    *,
    n: int,
    strategy: str = "stratified",
    strata: Sequence[str] = DEFAULT_STRATA,
    n_time_bins: int = DEFAULT_TIME_BINS,
    condition_from: str | None = None,
    conditions_csv: Path | None = None,
    seed: int = 0,
    report: Reporter = silent,
) -> SampleReport:
    """Choose `n` frames of the project's videos, cache them and add them to the store.

    Videos are the normalized copies where they exist, else the raw files; image
    sequences are frames already and are not sampled. Everything is checked
    before anything is written.

    Args:
        project: The open project.
        n: Frames wanted.
        strategy: "stratified", "uniform", "diverse" or another registered one.
        strata: Factors that define a stratum: "video", "condition", "time".
        n_time_bins: Equal parts of each video for the "time" factor.
        condition_from: Regex on raw file names giving each video's condition
            (its first group, else the match); stored on the videos.
        conditions_csv: CSV `video,condition` giving each video's condition.
        seed: Random seed; the same seed on the same videos gives the same frames.
        report: Progress reporter.

    Returns:
        What was chosen and added.

    Raises:
        SamplingError: an unknown strategy or factor, a condition regex that
            matches nothing, a video missing from the conditions file, no
            videos, or fewer frames than `n`.
    """
    chosen_strategy = get_strategy(strategy)
    if chosen_strategy.needs_scores:
        raise SamplingError(
            f"--strategy {strategy} ranks frames by a model's predictions; "
            "use it with `etholoop cycle` once a model is trained"
        )
    factors = _check_factors(strata)
    if n < 1 or n_time_bins < 1:
        raise SamplingError(f"{project.root}: --n and --time-bins must be at least 1")
    with project.store.session() as session:
        sources = _sources(session)
    if not sources:
        raise SamplingError(
            f"{project.root}: no video files to sample from; "
            "register some with `etholoop add-videos`"
        )
    names = [s.file_name for s in sources]
    conditions = (
        conditions_from_regex(names, condition_from)
        if condition_from is not None
        else conditions_from_csv(conditions_csv, names)
        if conditions_csv is not None
        else [s.video.condition for s in sources]
    )
    candidates = _candidates(sources, conditions, factors, n_time_bins)
    if n > len(candidates):
        raise SamplingError(
            f"{project.root}: asked for {n} frames but the {len(sources)} video(s) "
            f"have only {len(candidates)}"
        )
    rng = np.random.default_rng(seed)
    with ExitStack() as stack:
        readers = {
            s.video.id: stack.enter_context(open_video(project.resolve(s.video.path)))
            for s in sources
        }
        dirs = {s.video.id: project.frame_dir(s.video.sha256) for s in sources}
        if chosen_strategy.needs_embeddings:
            pool = select_stratified(
                candidates, min(len(candidates), POOL_PER_FRAME * n), rng
            )
            kept, n_duplicates = _choose_in_windows(
                readers, dirs, candidates, pool, n, chosen_strategy.select, rng, report
            )
        else:
            chosen = chosen_strategy.select(candidates, n, rng)
            kept, n_duplicates = _extract(readers, dirs, candidates, chosen, report)
    settings = {
        "strategy": strategy,
        "seed": seed,
        "strata": list(factors),
        "time_bins": n_time_bins,
    }
    with project.store.session() as session:
        if condition_from is not None or conditions_csv is not None:
            set_video_conditions(
                session,
                {s.video.id: c for s, c in zip(sources, conditions, strict=True)},
            )
        n_added = save_sampled_frames(
            session, _sampled_frames(project, candidates, kept, dirs), settings
        )
    per_stratum = np.bincount(
        candidates.stratum_ids[kept], minlength=len(candidates.stratum_names)
    )
    return SampleReport(
        n_chosen=len(kept),
        n_added=n_added,
        n_duplicates=n_duplicates,
        per_stratum={
            name: int(k)
            for name, k in zip(candidates.stratum_names, per_stratum, strict=True)
        },
    )


def _check_factors(strata: Sequence[str]) -> tuple[Factor, ...]:
    unknown = [f for f in strata if f not in FACTORS]
    if unknown:
        raise SamplingError(
            f"unknown stratum factor {unknown[0]!r}; choose from {list(FACTORS)}"
        )
    return tuple(f for f in FACTORS if f in strata)


def _sources(session: Session) -> list[_Source]:
    """Each raw video file as its normalized copy if there is one, with its name."""
    return [
        _Source(video, Path(raw.path).name)
        for raw, video in video_files_to_read(session)
    ]


def _candidates(
    sources: Sequence[_Source],
    conditions: Sequence[str | None],
    factors: Sequence[Factor],
    n_time_bins: int,
) -> Candidates:
    lengths = np.array([s.video.n_frames for s in sources], np.int64)
    video_ids = np.repeat([s.video.id for s in sources], lengths).astype(np.int64)
    frame_inds = np.concatenate([np.arange(k, dtype=np.int64) for k in lengths])
    source_of = np.repeat(np.arange(len(sources)), lengths)
    bins = time_bins(frame_inds, lengths[source_of], n_time_bins)
    stratum_ids, names = assign_strata(
        factors, video_ids, [conditions[i] for i in source_of.tolist()], bins
    )
    return Candidates(video_ids, frame_inds, stratum_ids, names)


def _windows(
    candidates: Candidates, pool: NDArray[np.int64], n: int, rng: np.random.Generator
) -> list[tuple[NDArray[np.int64], int]]:
    """Cut the pool into windows within one video and stratum; frames due from each.

    Strata share `n` equally; a stratum's share is spread over its pool frames in
    stream order, so each window owes its part of it.

    Returns:
        (pool positions, frames due) per window, in reading order.
    """
    strata = candidates.stratum_ids[pool]
    groups = candidates.groups(strata)
    counts = allocate_equal(np.array([len(g) for g in groups], np.int64), n, rng)
    share = np.zeros(len(pool), np.int64)  # frames due at each pool frame
    for members, k in zip(groups, counts, strict=True):
        due_so_far = np.arange(1, len(members) + 1) * int(k) // len(members)
        share[members] = np.diff(due_so_far, prepend=0)
    videos = candidates.video_ids[pool]
    cuts = np.flatnonzero((np.diff(strata) != 0) | (np.diff(videos) != 0)) + 1
    windows = []
    for run in np.split(np.arange(len(pool)), cuts):
        for window in np.array_split(run, -(-len(run) // WINDOW)):
            windows.append((pool[window], int(share[window].sum())))
    return windows


def _choose_in_windows(
    readers: dict[int, VideoReader],
    dirs: dict[int, Path],
    candidates: Candidates,
    pool: NDArray[np.int64],
    n: int,
    select: Strategy,
    rng: np.random.Generator,
    report: Reporter,
) -> tuple[NDArray[np.int64], int]:
    """Read, embed, choose and cache the pool window by window; kept positions.

    A window chooses its due frames (plus any owed by earlier windows) among its
    own, counting the frames chosen before from its stratum; what it cannot
    choose (only near-duplicates left) is owed to the next window.

    Returns:
        Ascending kept positions, and the frames still owed at the end (the
        shares that had only near-duplicates left).
    """
    embeddings = np.zeros((len(candidates), EMBED_DIMS), np.float32)
    kept: dict[int, list[int]] = {}  # stratum -> positions chosen so far
    owed = 0
    with report("Choosing frames", len(pool)) as advance:
        for window, due in _windows(candidates, pool, n, rng):
            video_id = int(candidates.video_ids[window[0]])
            stratum = int(candidates.stratum_ids[window[0]])
            frames = {}
            for pos in window.tolist():
                rgb = readers[video_id].read_frame(int(candidates.frame_inds[pos]))
                embeddings[pos] = embed_frame(rgb_to_gray(rgb))
                frames[pos] = rgb
                advance(1)
            before = kept.setdefault(stratum, [])
            inds = np.array([*before, *window.tolist()], np.int64)
            wanted = min(due + owed, len(window))
            subset = candidates.subset(
                inds, embeddings[inds], np.arange(len(inds)) < len(before)
            )
            new = inds[select(subset, wanted, rng)].tolist()
            owed += due - len(new)
            out_dir = dirs[video_id]
            out_dir.mkdir(parents=True, exist_ok=True)
            for pos in new:
                path = frame_png(out_dir, int(candidates.frame_inds[pos]))
                if not path.exists():
                    write_png(frames[pos], path)
            before.extend(new)
    chosen = sorted(p for positions in kept.values() for p in positions)
    return np.array(chosen, np.int64), owed


def _extract(
    readers: dict[int, VideoReader],
    dirs: dict[int, Path],
    candidates: Candidates,
    chosen: NDArray[np.int64],
    report: Reporter,
) -> tuple[NDArray[np.int64], int]:
    """Cache the chosen frames as PNGs, replacing near-duplicates; kept positions.

    Frames are read in the order of a `ReadingQueue`; one within
    `DUPLICATE_DISTANCE` of a frame kept before from the same video is passed
    over. Its stand-in is a frame of its stratum decoded on the way (see
    `StandIns`), else the queue draws a replacement ahead of the readers, else
    (none left ahead) any stand-in held.

    Returns:
        Ascending kept positions, and the number of frames passed over.
    """
    queue = ReadingQueue(candidates, chosen)
    stand_ins = StandIns(candidates)
    kept_embeddings = {v: np.zeros((0, EMBED_DIMS), np.float32) for v in readers}
    kept: list[int] = []
    n_duplicates = 0
    with ExitStack() as stack, report("Extracting frames", len(chosen)) as advance:
        forward = {}
        for video_id, reader in readers.items():
            forward[video_id] = ForwardFrames(reader)
            stack.callback(forward[video_id].close)
        while (pos := queue.pop()) is not None:
            video_id = int(candidates.video_ids[pos])
            first = pos - int(candidates.frame_inds[pos])
            earlier = kept_embeddings[video_id]
            for frame_idx, rgb in forward[video_id].read_to(pos - first):
                embedding = embed_frame(rgb_to_gray(rgb))
                if first + frame_idx < pos:
                    stand_ins.offer(first + frame_idx, rgb, embedding, earlier)
            distances = rms_distances(embedding, earlier)
            keep: tuple[int, NDArray[np.uint8], NDArray[np.float32]] | None = (
                pos,
                rgb,
                embedding,
            )
            if len(distances) and distances.min() < DUPLICATE_DISTANCE:
                n_duplicates += 1
                keep = stand_ins.take(kept_embeddings, candidates.stratum_ids[pos])
                if keep is None:
                    n_lost = queue.n_lost
                    queue.pass_over(pos)
                    if queue.n_lost > n_lost:
                        keep = stand_ins.take(kept_embeddings)
            if keep is None:
                continue
            if candidates.stratum_ids[keep[0]] == candidates.stratum_ids[pos]:
                queue.keep(pos)  # its stratum has its frame
            kept_pos, kept_rgb, kept_embedding = keep
            kept_video = int(candidates.video_ids[kept_pos])
            kept_embeddings[kept_video] = np.vstack(
                [kept_embeddings[kept_video], kept_embedding]
            )
            kept.append(kept_pos)
            path = frame_png(dirs[kept_video], int(candidates.frame_inds[kept_pos]))
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                write_png(kept_rgb, path)
            advance(1)
    return np.array(sorted(kept), np.int64), n_duplicates


def _sampled_frames(
    project: Project,
    candidates: Candidates,
    kept: NDArray[np.int64],
    dirs: dict[int, Path],
) -> list[SampledFrame]:
    """The kept frames as the store records them: video, index, image, stratum."""
    return [
        SampledFrame(
            video_id=video_id,
            frame_idx=frame_idx,
            image_path=project.relative(frame_png(dirs[video_id], frame_idx)),
            stratum=candidates.stratum_names[stratum_id],
        )
        for video_id, frame_idx, stratum_id in zip(
            candidates.video_ids[kept].tolist(),
            candidates.frame_inds[kept].tolist(),
            candidates.stratum_ids[kept].tolist(),
            strict=True,
        )
    ]
