"""The annotation web app: `create_app(project)` gives a FastAPI app serving it.

The front end is static files in `static/` (no build step): two pages that share
`head.html`, put in where a page says `<!--#include head.html-->`, and plain ES
modules. The JSON API is documented by FastAPI at `/docs` and in
`docs/annotate-api.md`.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from etholoop.annotate import behaviors_api, frames_api
from etholoop.annotate.images import VideoFrames
from etholoop.annotate.state import AppState
from etholoop.errors import ConflictError, EtholoopError
from etholoop.project import Project

STATIC_DIR = Path(str(files("etholoop.annotate") / "static"))
HEAD_INCLUDE = "<!--#include head.html-->"


def _detail(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status)


def _validation_message(error: RequestValidationError) -> str:
    """One line naming each bad field, e.g. "body.instances.0.box: too short"."""
    parts = []
    for e in error.errors():
        where = ".".join(str(part) for part in e.get("loc", ()))
        parts.append(f"{where}: {e.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def _token_cookie(token: str) -> str:
    """The name of the cookie that keeps `token`.

    Cookies do not tell ports apart, so the name is this token's own: servers on
    other ports of the same host keep theirs beside it.
    """
    return "etholoop-" + hashlib.sha256(token.encode()).hexdigest()[:12]


def _presented_token(request: Request, cookie: str) -> tuple[str, bool]:
    """The token a request presents, and whether it came in the cookie."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip(), False
    if "token" in request.query_params:
        return request.query_params["token"], False
    return request.cookies.get(cookie, ""), True


def _page(name: str) -> str:
    """The page `name` of `static/` with the shared head put in."""
    head = (STATIC_DIR / "head.html").read_text().strip()
    return (STATIC_DIR / name).read_text().replace(HEAD_INCLUDE, head)


def create_app(project: Project, token: str | None = None) -> FastAPI:
    """The annotation app for `project`.

    Args:
        project: The open project whose store and files are served.
        token: When set, every request must present it: as the header
            `Authorization: Bearer TOKEN`, the query parameter `token=TOKEN`, or the
            HttpOnly cookie that a request presenting it either way gets, so pages
            load their style sheet, modules and images with plain URLs.
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
        cookie = _token_cookie(token)

        @app.middleware("http")
        async def require_token(
            request: Request, call_next: Callable[[Request], Awaitable[Response]]
        ) -> Response:
            presented, from_cookie = _presented_token(request, cookie)
            if not secrets.compare_digest(presented.encode(), token.encode()):
                return _detail(401, "this server needs its token (?token=...)")
            response = await call_next(request)
            if not from_cookie:
                response.set_cookie(
                    cookie, token, path="/", httponly=True, samesite="strict"
                )
            return response

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

    pose, timeline = _page("index.html"), _page("timeline.html")

    @app.get("/", include_in_schema=False)
    def pose_page() -> HTMLResponse:
        return HTMLResponse(pose)

    @app.get("/timeline", include_in_schema=False)
    def timeline_page() -> HTMLResponse:
        return HTMLResponse(timeline)

    return app
