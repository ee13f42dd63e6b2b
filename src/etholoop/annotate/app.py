"""The annotation web app: `create_app(project)` gives a FastAPI app serving it.

The front end is static files in `static/` (no build step); the JSON API is
documented by FastAPI at `/docs` and in `docs/annotate-api.md`.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from etholoop.annotate import behaviors_api, frames_api
from etholoop.annotate.images import VideoFrames
from etholoop.annotate.state import AppState
from etholoop.errors import ConflictError, EtholoopError
from etholoop.project import Project

STATIC_DIR = Path(str(files("etholoop.annotate") / "static"))


def _detail(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status)


def _validation_message(error: RequestValidationError) -> str:
    """One line naming each bad field, e.g. "body.instances.0.box: too short"."""
    parts = []
    for e in error.errors():
        where = ".".join(str(part) for part in e.get("loc", ()))
        parts.append(f"{where}: {e.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def _presented_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.query_params.get("token")


def create_app(project: Project, token: str | None = None) -> FastAPI:
    """The annotation app for `project`.

    Args:
        project: The open project whose store and files are served.
        token: When set, every request must present it, as the header
            `Authorization: Bearer TOKEN` or the query parameter `token=TOKEN`.
    """
    video_frames = VideoFrames(project)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        video_frames.close()

    app = FastAPI(
        title=f"etholoop annotation: {project.config.name}",
        description="Pose labels and behavior timelines of an etholoop project.",
        lifespan=lifespan,
    )
    app.state.etholoop = AppState(project, video_frames)

    if token is not None:

        @app.middleware("http")
        async def require_token(
            request: Request, call_next: Callable[[Request], Awaitable[Response]]
        ) -> Response:
            presented = _presented_token(request) or ""
            if not secrets.compare_digest(presented.encode(), token.encode()):
                return _detail(401, "this server needs its token (?token=...)")
            return await call_next(request)

    @app.exception_handler(ConflictError)
    async def conflict(request: Request, error: ConflictError) -> JSONResponse:
        return _detail(409, str(error))

    @app.exception_handler(EtholoopError)
    async def refused(request: Request, error: EtholoopError) -> JSONResponse:
        return _detail(422, str(error))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        return _detail(422, _validation_message(error))

    app.include_router(frames_api.router)
    app.include_router(behaviors_api.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    def pose_page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    @app.get("/timeline", include_in_schema=False)
    def timeline_page() -> FileResponse:
        return FileResponse(STATIC_DIR / "timeline.html")

    return app
