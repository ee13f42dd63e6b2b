"""Writing an arena to disk: the video, streamed frame by frame, and ground truth."""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import cv2
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from etholoop.progress import Reporter, silent
from etholoop.synth.arena import CHUNK, Arena, DrawnMice
from etholoop.synth.render import to_i420

if TYPE_CHECKING:
    from av import VideoFrame

T = TypeVar("T")

FILES = {
    "video": "arena.mp4",
    "truth": "truth.npz",
    "behaviors": "behaviors.csv",
    "contacts": "contacts.csv",
    "labels": "arena.slp",
}
"""What `write_arena` writes, by key of its returned dict."""

CRF = 23
"""x264 quality, ffmpeg's default: 2.3 kB per 640x480 frame and 0.6 ms CPU less to
encode than crf 18 (5.5 kB), at the price of smoothing some of the faint sensor
noise; needed to write 300 frames/s on two cores."""
PRESET = "ultrafast"
"""x264 preset: the sensor noise makes slower presets the bottleneck."""
X264_THREADS = 1
"""x264 encodes in the writing thread: with the frames drawn in another, its own
threads only add 0.3 ms CPU per frame of overhead on two cores."""
_BT601, _LIMITED_RANGE = 6, 1
PROGRESS_STEP = 32
QUEUE_DEPTH = 8
"""Frames rendered ahead of the encoder; bounds memory whatever the length."""


def write_arena(
    arena: Arena, out_dir: Path, *, progress: Reporter = silent
) -> dict[str, Path]:
    """Write the video of `arena` and its ground truth into `out_dir`.

    Frames are rendered and encoded one at a time, so memory does not grow with
    the video's length. Files (keys of the returned dict):

    - video, `arena.mp4`: H.264 (libx264, yuv420p, crf 23, a keyframe every
      second, no B-frames).
    - truth, `truth.npz`: `xy` (frames, individuals, keypoints, 2) float32 px;
      `visibility` (frames, individuals, keypoints) uint8, 1 = hidden under
      another animal, 2 = visible; `boxes` (frames, individuals, 4) float32 x1,
      y1, x2, y2 px; `behavior` (frames, individuals) int16 index into
      `behaviors`; `contacts` (events, 4) int64 start frame, stop frame
      (exclusive), individual a, individual b; `contact_min_distance` (events,)
      float32 px; names `keypoints`, `individuals`, `behaviors`; skeleton
      `edges` (edges, 2); `fps`; `size` (width, height).
    - behaviors, `behaviors.csv`: columns `frame,individual,behavior`, one row
      per frame per animal, frame-major, e.g. `0,mouse1,walk`.
    - contacts, `contacts.csv`: columns
      `start,stop,individual_a,individual_b,min_distance`, one row per
      close-contact event, `stop` exclusive, distances in px.
    - labels, `arena.slp`: the ground truth as SLEAP labels (`to_label_set`),
      referring to the video by its name beside it.

    Args:
        arena: The arena to write.
        out_dir: Folder to write into; created if missing, files replaced.
        progress: Reports frames encoded.

    Returns:
        The path of each file written.
    """
    from etholoop.io import save_labels

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {key: out_dir / name for key, name in FILES.items()}
    with progress("synthesizing video", arena.n_frames) as advance:
        _write_video(arena, paths["video"], advance)
    _write_truth(arena, paths["truth"])
    _write_behaviors(arena, paths["behaviors"])
    _write_contacts(arena, paths["contacts"])
    save_labels(arena.to_label_set(FILES["video"]), paths["labels"], "slp")
    return paths


def _write_video(arena: Arena, path: Path, advance: Callable[[int], None]) -> None:
    """Encode every frame to `path`, replacing it only once the video is complete.

    A worker thread renders and converts frames while this thread encodes; cv2,
    numpy and x264 release the GIL, so two CPU cores stay busy. cv2 and x264 run
    single-threaded meanwhile: their own worker threads would only compete (cv2's
    cost 1.5 ms CPU per frame more, x264's 0.3 ms) for no gain in wall time.
    """
    import av

    spec = arena.spec
    rate = Fraction(spec.fps).limit_denominator(1001)
    partial = path.with_name(path.name + ".partial")
    cv2_threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        with av.open(str(partial), mode="w", format="mp4") as container:
            stream = container.add_stream("libx264", rate=rate)
            stream.width, stream.height = spec.width, spec.height
            stream.pix_fmt = "yuv420p"
            stream.codec_context.gop_size = max(1, round(spec.fps))
            stream.codec_context.max_b_frames = 0
            stream.codec_context.colorspace = _BT601
            stream.codec_context.color_range = _LIMITED_RANGE
            stream.codec_context.options = {
                "crf": str(CRF),
                "preset": PRESET,
                "sc_threshold": "0",
                "threads": str(X264_THREADS),
            }
            frames = _in_background(_yuv_frames(arena), QUEUE_DEPTH)
            for t, frame in enumerate(frames):
                frame.pts = t
                frame.time_base = 1 / rate
                container.mux(stream.encode(frame))
                if (t + 1) % PROGRESS_STEP == 0:
                    advance(PROGRESS_STEP)
            container.mux(stream.encode(None))
            advance(arena.n_frames % PROGRESS_STEP)
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        cv2.setNumThreads(cv2_threads)


def _yuv_frames(arena: Arena) -> Iterator[VideoFrame]:
    """The frames of `arena` as limited-range BT.601 yuv420p video frames."""
    from av import VideoFrame

    painter = arena.painter
    if isinstance(painter, DrawnMice):
        n = arena.n_frames
        chunks = (
            painter.paint_i420(arena.motion, start, min(start + CHUNK, n))
            for start in range(0, n, CHUNK)
        )
        frames: Iterator[NDArray[np.uint8]] = itertools.chain.from_iterable(chunks)
    else:
        frames = map(to_i420, arena.frames())
    for yuv in frames:
        yield VideoFrame.from_numpy_buffer(yuv, format="yuv420p")


def _in_background(items: Iterator[T], depth: int) -> Iterator[T]:
    """Yield `items`, produced by a worker thread at most `depth` items ahead.

    An exception in the worker is raised here; stopping early stops the worker.
    """
    slots: queue.Queue[tuple[bool, Any]] = queue.Queue(depth)
    stop = threading.Event()

    def put(entry: tuple[bool, Any]) -> bool:
        while not stop.is_set():
            try:
                slots.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((True, item)):
                    return
        except BaseException as exc:  # handed to the consumer, which raises it
            put((False, exc))
            return
        put((False, None))

    worker = threading.Thread(target=produce, name="synth-render", daemon=True)
    worker.start()
    try:
        while True:
            ok, item = slots.get()
            if not ok:
                if item is not None:
                    raise item
                return
            yield item
    finally:
        stop.set()
        worker.join()


def _write_truth(arena: Arena, path: Path) -> None:
    spec = arena.spec
    contacts = arena.contacts
    np.savez_compressed(
        path,
        xy=arena.tracks.xy,
        visibility=arena.visibility,
        boxes=arena.boxes,
        behavior=arena.motion.behavior,
        contacts=np.array(
            [(c.start, c.stop, *c.individuals) for c in contacts], np.int64
        ).reshape(-1, 4),
        contact_min_distance=np.array([c.min_distance for c in contacts], np.float32),
        keypoints=np.array(arena.tracks.skeleton.keypoints),
        individuals=np.array(spec.individuals),
        behaviors=np.array(spec.behaviors),
        edges=np.array(arena.tracks.skeleton.edges, np.int64).reshape(-1, 2),
        fps=np.float64(spec.fps),
        size=np.array([spec.width, spec.height], np.int64),
    )


def _write_behaviors(arena: Arena, path: Path) -> None:
    spec = arena.spec
    n_frames, n_animals = arena.motion.behavior.shape
    table = pd.DataFrame(
        {
            "frame": np.repeat(np.arange(n_frames), n_animals),
            "individual": np.tile(np.array(spec.individuals), n_frames),
            "behavior": np.array(spec.behaviors)[arena.motion.behavior.ravel()],
        }
    )
    table.to_csv(path, index=False)


def _write_contacts(arena: Arena, path: Path) -> None:
    names = arena.spec.individuals
    table = pd.DataFrame(
        {
            "start": [c.start for c in arena.contacts],
            "stop": [c.stop for c in arena.contacts],
            "individual_a": [names[c.individuals[0]] for c in arena.contacts],
            "individual_b": [names[c.individuals[1]] for c in arena.contacts],
            "min_distance": [round(c.min_distance, 3) for c in arena.contacts],
        }
    )
    table.to_csv(path, index=False)
