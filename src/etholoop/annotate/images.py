"""Frame pixels for the browser: cached PNGs from the project, or decoded video frames.

Only files of the project are served: a frame's cached image must lie inside the
project folder, and video frames are read by video id from registered videos (an
image sequence from its copy in the frame cache, `video.image_files` being the
names there); a session of imported tracks (kind "tracks") has no images.
Readers stay open between requests (scrubbing reads neighbouring frames), a few
at a time, each behind a lock since a reader is not thread-safe.
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

from etholoop.errors import EtholoopError
from etholoop.project import Project
from etholoop.video import VideoReader, open_video

if TYPE_CHECKING:
    from etholoop.store import Video

OPEN_READERS = 4
JPEG_QUALITY = 90


class NotServed(Exception):
    """The requested pixels are not a file of the project (the API answers 404)."""


def project_file(project: Project, stored: str) -> Path:
    """The path of a stored file if it lies inside the project folder.

    Raises:
        NotServed: it lies outside (a path traversal) or does not exist.
    """
    root = project.root.resolve()
    path = project.resolve(stored).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise NotServed(stored)
    return path


class VideoFrames:
    """Decodes single frames of registered videos to JPEG, keeping readers open."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._readers: OrderedDict[int, tuple[VideoReader, threading.Lock]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()

    def _reader(self, video: Video) -> tuple[VideoReader, threading.Lock]:
        with self._lock:
            if video.id in self._readers:
                self._readers.move_to_end(video.id)
                return self._readers[video.id]
            source = (
                [self.project.frame_dir(video.sha256) / f for f in video.image_files]
                if video.kind == "images" and video.image_files
                else self.project.resolve(video.path)
            )
            try:
                entry = (open_video(source), threading.Lock())
            except EtholoopError as error:
                raise NotServed(str(error)) from error
            self._readers[video.id] = entry
            while len(self._readers) > OPEN_READERS:
                _, (old, old_lock) = self._readers.popitem(last=False)
                with old_lock:
                    old.close()
            return entry

    def jpeg(self, video: Video, frame_idx: int) -> bytes:
        """Frame `frame_idx` of `video`, exactly as a sequential decode gives it.

        Raises:
            NotServed: the index is outside the video or the file cannot be read.
        """
        if video.kind == "tracks":
            raise NotServed(f"{video.path}: a session of tracks, without images")
        if not 0 <= frame_idx < video.n_frames:
            raise NotServed(f"{video.path}: no frame {frame_idx}")
        reader, lock = self._reader(video)
        try:
            with lock:
                pixels = reader.read_frame(frame_idx)
        except EtholoopError as error:
            raise NotServed(str(error)) from error
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format="JPEG", quality=JPEG_QUALITY)
        return buffer.getvalue()

    def close(self) -> None:
        """Close every open reader."""
        with self._lock:
            for reader, lock in self._readers.values():
                with lock:
                    reader.close()
            self._readers.clear()
