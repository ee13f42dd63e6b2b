"""What every request handler of the annotation app shares."""

from __future__ import annotations

from attrs import frozen
from fastapi import Request

from etholoop.annotate.images import VideoFrames
from etholoop.project import Project


@frozen
class AppState:
    """The project served and the open video readers."""

    project: Project
    video_frames: VideoFrames


def app_state(request: Request) -> AppState:
    """The `AppState` of the app handling `request` (a FastAPI dependency)."""
    state: AppState = request.app.state.etholoop
    return state
