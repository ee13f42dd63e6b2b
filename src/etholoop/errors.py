"""Errors a user can cause, each with a one-line message naming the file and problem.

The CLI prints these without a traceback and exits 1; any other exception is a bug
and keeps its traceback.
"""

from __future__ import annotations


class EtholoopError(Exception):
    """Base class for every error a user can cause and fix."""


class ConfigError(EtholoopError):
    """`etholoop.yaml` is missing, malformed or holds an invalid value."""


class ProjectError(EtholoopError):
    """A project folder is missing, already exists or is not an etholoop project."""


class VideoError(EtholoopError):
    """A video file is missing, unreadable, truncated or out of range."""


class FormatError(EtholoopError):
    """A label file cannot be read or written in the requested format."""


class SkeletonMismatchError(FormatError):
    """Imported keypoint names do not match the project skeleton."""


class ConflictError(EtholoopError):
    """A save was based on a stale version of a frame's labels."""


class StoreError(EtholoopError):
    """The label store cannot be opened or migrated."""


class SamplingError(EtholoopError):
    """A frame sampling or split request cannot be met (bad option, too few frames)."""
