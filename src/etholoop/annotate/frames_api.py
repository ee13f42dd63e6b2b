"""API routes of the pose labeling view: project, frame lists, frames, saves."""

from __future__ import annotations

from typing import Annotated, Literal

from attrs import asdict
from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import FileResponse, Response
from sqlalchemy.orm import Session

from etholoop.annotate.images import NotServed, project_file
from etholoop.annotate.schemas import (
    CycleItem,
    FrameBody,
    FrameItem,
    FramePage,
    InstanceBody,
    ProgressBody,
    ProjectBody,
    SaveInstancesBody,
)
from etholoop.annotate.state import AppState, app_state
from etholoop.store import latest_cycle, load_frame_instances, save_frame_instances
from etholoop.store.annotate import get_cycle, get_frame_with_video
from etholoop.store.frame_list import (
    FrameSort,
    FrameStatus,
    frame_listing,
    list_frames,
    split_progress,
)
from etholoop.store.status import list_cycles
from etholoop.types import SPLITS, Split

router = APIRouter(prefix="/api")
State = Annotated[AppState, Depends(app_state)]
SplitFilter = Split | Literal["none"]


def _cycle_id(session: Session, cycle: int | None) -> int | None:
    if cycle is not None:
        if get_cycle(session, cycle) is None:
            raise HTTPException(404, f"no cycle {cycle}")
        return cycle
    latest = latest_cycle(session)
    return None if latest is None else latest.id


def _shape(state: AppState) -> dict[str, int]:
    return {"animals": state.project.config.animals}


@router.get("/project")
def get_project(state: State) -> ProjectBody:
    """The project's name, skeleton, behaviors and cycles."""
    config, skeleton = state.project.config, state.project.skeleton
    with state.project.store.session() as session:
        cycles = list_cycles(session)
        cycle = _cycle_id(session, None)
        return ProjectBody(
            name=config.name,
            animals=config.animals,
            keypoints=list(skeleton.keypoints),
            edges=list(skeleton.edges),
            symmetry=list(skeleton.symmetry),
            behaviors=list(config.behaviors),
            cycles=[CycleItem(id=c.id, index=c.index) for c in cycles],
            cycle=cycle,
            splits=list(SPLITS),
        )


@router.get("/frames")
def get_frames(
    state: State,
    split: SplitFilter | None = None,
    cycle: int | None = None,
    status: FrameStatus | None = None,
    sort: FrameSort = "id",
    order: Literal["asc", "desc"] = "asc",
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> FramePage:
    """One page of frames, filtered by split of a cycle and status."""
    with state.project.store.session() as session:
        total, page = list_frames(
            session,
            **_shape(state),
            cycle_id=_cycle_id(session, cycle),
            split=split,
            status=status,
            sort=sort,
            descending=order == "desc",
            offset=offset,
            limit=limit,
        )
    items = [FrameItem(**asdict(listing)) for listing in page]
    return FramePage(total=total, offset=offset, limit=limit, items=items)


@router.get("/progress")
def get_progress(state: State, cycle: int | None = None) -> ProgressBody:
    """Frames per status in each split of a cycle."""
    with state.project.store.session() as session:
        progress = split_progress(
            session, **_shape(state), cycle_id=_cycle_id(session, cycle)
        )
    return ProgressBody(splits=progress)


def _frame_body(state: AppState, session: Session, frame_id: int) -> FrameBody:
    listing = frame_listing(
        session, frame_id, **_shape(state), cycle_id=_cycle_id(session, None)
    )
    if listing is None:
        raise HTTPException(404, f"no frame {frame_id}")
    frame = get_frame_with_video(session, frame_id)
    assert frame is not None
    return FrameBody(
        **asdict(listing),
        width=frame.video.width,
        height=frame.video.height,
        image=f"/api/frames/{frame_id}/image",
        instances=[
            InstanceBody.of(inst) for inst in load_frame_instances(session, frame_id)
        ],
    )


@router.get("/frames/{frame_id}")
def get_frame(state: State, frame_id: int) -> FrameBody:
    """A frame with its instances."""
    with state.project.store.session() as session:
        return _frame_body(state, session, frame_id)


@router.get(
    "/frames/{frame_id}/image",
    response_class=Response,
    responses={200: {"content": {"image/png": {}, "image/jpeg": {}}}},
)
def get_frame_image(state: State, frame_id: int) -> Response:
    """The frame's pixels: its cached PNG, else decoded from its video."""
    with state.project.store.session() as session:
        frame = get_frame_with_video(session, frame_id)
    if frame is None:
        raise HTTPException(404, f"no frame {frame_id}")
    try:
        if frame.image_path is not None:
            return FileResponse(project_file(state.project, frame.image_path))
        return Response(
            state.video_frames.jpeg(frame.video, frame.frame_idx),
            media_type="image/jpeg",
        )
    except NotServed:
        raise HTTPException(404, f"frame {frame_id}: no image") from None


@router.put("/frames/{frame_id}/instances")
def put_frame_instances(
    state: State, frame_id: int, body: SaveInstancesBody
) -> FrameBody:
    """Replace a frame's instances in one transaction; 409 if changed meanwhile."""
    n_keypoints = len(state.project.config.skeleton.keypoints)
    for i, inst in enumerate(body.instances):
        if len(inst.keypoints) != n_keypoints or len(inst.visibility) != n_keypoints:
            raise HTTPException(
                422,
                f"frame {frame_id}: instance {i} has {len(inst.keypoints)} keypoints "
                f"and {len(inst.visibility)} visibilities; the skeleton has "
                f"{n_keypoints}",
            )
    with state.project.store.session() as session:
        if get_frame_with_video(session, frame_id) is None:
            raise HTTPException(404, f"no frame {frame_id}")
        save_frame_instances(
            session,
            frame_id=frame_id,
            instances=[inst.to_instance() for inst in body.instances],
            base_versions=body.base_versions,
            author=body.author,
        )
    with state.project.store.session() as session:
        return _frame_body(state, session, frame_id)
