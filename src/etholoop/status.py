"""A summary of a project: videos, frames per split and stratum, labels, cycles."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from etholoop.project import Project
from etholoop.store.models import (
    Cycle,
    Frame,
    InstanceRow,
    ModelRun,
    SplitMember,
    Video,
)
from etholoop.types import SOURCES, SPLITS

UNASSIGNED = "unassigned"
NO_STRATUM = "-"


def project_status(project: Project) -> dict[str, Any]:
    """Counts that describe where a project stands, as plain JSON-able data.

    Splits are those of the latest cycle; frames in no split count as "unassigned".
    `pool` counts frames per split and stratum (the split's stratum, else the one
    the frame was sampled in, else "-").
    """
    with project.store.session() as session:
        videos = list(session.scalars(select(Video).order_by(Video.id)))
        cycles = list(session.scalars(select(Cycle).order_by(Cycle.index)))
        runs = list(session.scalars(select(ModelRun).order_by(ModelRun.id)))
        latest = cycles[-1].id if cycles else None
        split_of = (
            select(SplitMember.frame_id, SplitMember.split, SplitMember.stratum)
            .where(SplitMember.cycle_id == latest)
            .subquery()
        )
        split = func.coalesce(split_of.c.split, UNASSIGNED)
        frame_rows = session.execute(
            select(split, func.count(Frame.id))
            .select_from(Frame)
            .outerjoin(split_of, split_of.c.frame_id == Frame.id)
            .group_by(split)
        ).all()
        stratum = func.coalesce(split_of.c.stratum, Frame.stratum, NO_STRATUM)
        pool_rows = session.execute(
            select(split, stratum, func.count(Frame.id))
            .select_from(Frame)
            .outerjoin(split_of, split_of.c.frame_id == Frame.id)
            .group_by(split, stratum)
        ).all()
        label_rows = session.execute(
            select(
                split,
                InstanceRow.source,
                func.count(InstanceRow.id),
                func.count(func.distinct(InstanceRow.frame_id)),
            )
            .select_from(InstanceRow)
            .outerjoin(split_of, split_of.c.frame_id == InstanceRow.frame_id)
            .group_by(split, InstanceRow.source)
        ).all()
    split_names = [*SPLITS, UNASSIGNED]
    frames = dict.fromkeys(split_names, 0)
    frames.update({name: int(n) for name, n in frame_rows})
    labels = {
        name: {src: {"instances": 0, "frames": 0} for src in SOURCES}
        for name in split_names
    }
    pool: dict[str, dict[str, int]] = {name: {} for name in split_names}
    for name, stratum_name, n in sorted(pool_rows):
        pool[name][stratum_name] = int(n)
    for name, source, n_instances, n_frames in label_rows:
        labels[name][source] = {"instances": int(n_instances), "frames": int(n_frames)}
    return {
        "project": str(project.root),
        "name": project.config.name,
        "animals": project.config.animals,
        "keypoints": list(project.config.skeleton.keypoints),
        "behaviors": list(project.config.behaviors),
        "store": project.store.engine.url.render_as_string(hide_password=True),
        "videos": [
            {
                "id": v.id,
                "path": v.path,
                "kind": v.kind,
                "normalized_from": v.parent_id,
                "frames": v.n_frames,
                "fps": v.fps,
                "size": [v.width, v.height],
                "codec": v.codec,
                "condition": v.condition,
            }
            for v in videos
        ],
        "frames": frames,
        "pool": pool,
        "labels": labels,
        "cycles": [
            {
                "index": c.index,
                "status": c.status,
                "created_at": c.created_at.isoformat(),
                "settings": json.loads(c.notes) if c.notes else None,
                "runs": [_run_summary(r) for r in runs if r.cycle_id == c.id],
            }
            for c in cycles
        ],
    }


def _run_summary(run: ModelRun) -> dict[str, Any]:
    """A model run's id, status and headline test metrics, if evaluated."""
    test = (run.metrics or {}).get("test") or {}
    return {
        "id": run.id,
        "stage": run.stage,
        "status": run.status,
        "test": {key: test.get(key) for key in ("oks_map50_95", "box_map50", "rmse")}
        | {"pck@0.1": (test.get("pck") or {}).get("0.1")}
        if test
        else None,
    }
