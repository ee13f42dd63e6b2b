"""A summary of a project: videos, frames per split and stratum, labels, cycles.

`project_status` returns a typed `ProjectStatus`; `ProjectStatus.to_dict` gives
the JSON of `etholoop status --json`. How it is shown is the CLI's business.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attrs import frozen

from etholoop.project import Project
from etholoop.store import list_videos
from etholoop.store.status import (
    SplitStratumCounts,
    count_frames_by_split,
    list_cycles,
    list_runs,
)
from etholoop.types import SPLITS

if TYPE_CHECKING:
    from etholoop.store import ModelRun, Video

UNASSIGNED = "unassigned"
"""The name of the frames in no split of the latest cycle."""

NO_STRATUM = "-"
"""The stratum of a frame that was neither sampled nor given one by a split."""


@frozen
class VideoStatus:
    """A registered video.

    Attributes:
        id: Its id in the store.
        path: Its path as stored (relative to the project when inside it).
        kind: "file", "images" or "tracks" (imported pose tracks, no images).
        normalized_from: The raw video this is a normalized copy of, if any.
        n_frames: Frames.
        fps: Frames per second (None for an image sequence).
        width: Width in px.
        height: Height in px.
        codec: The codec name.
        condition: The experimental condition, if known.
    """

    id: int
    path: str
    kind: str
    normalized_from: int | None
    n_frames: int
    fps: float | None
    width: int
    height: int
    codec: str
    condition: str | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able values, keyed as `status --json` has them."""
        return {
            "id": self.id,
            "path": self.path,
            "kind": self.kind,
            "normalized_from": self.normalized_from,
            "frames": self.n_frames,
            "fps": self.fps,
            "size": [self.width, self.height],
            "codec": self.codec,
            "condition": self.condition,
        }


@frozen
class LabelCounts:
    """Instances of one source and the frames holding them."""

    n_instances: int
    n_frames: int

    def to_dict(self) -> dict[str, int]:
        """JSON-able values, keyed as `status --json` has them."""
        return {"instances": self.n_instances, "frames": self.n_frames}


@frozen
class SplitStatus:
    """One split of the latest cycle, or the frames in none (`UNASSIGNED`).

    Attributes:
        name: A split name or `UNASSIGNED`.
        n_frames: Frames.
        manual: Manual instances and the frames holding them.
        predicted: Predicted instances and the frames holding them.
        pool: Frames per stratum (`NO_STRATUM` for none), strata sorted.
    """

    name: str
    n_frames: int
    manual: LabelCounts
    predicted: LabelCounts
    pool: dict[str, int]


@frozen
class HeldOutMetrics:
    """Headline test-split metrics of an evaluated run; None where undefined.

    Attributes:
        oks_map50_95: Keypoint OKS mAP over 0.5:0.95.
        box_map50: Box mAP at IoU 0.5.
        rmse: Root mean square keypoint error in px.
        pck_01: PCK at 0.1 of the truth box's larger side.
    """

    oks_map50_95: float | None
    box_map50: float | None
    rmse: float | None
    pck_01: float | None

    def to_dict(self) -> dict[str, float | None]:
        """JSON-able values, keyed as `status --json` has them."""
        return {
            "oks_map50_95": self.oks_map50_95,
            "box_map50": self.box_map50,
            "rmse": self.rmse,
            "pck@0.1": self.pck_01,
        }


@frozen
class RunStatus:
    """A model run: its id, stage, status and test metrics once evaluated."""

    id: int
    stage: str
    status: str
    test: HeldOutMetrics | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able values, keyed as `status --json` has them."""
        return {
            "id": self.id,
            "stage": self.stage,
            "status": self.status,
            "test": None if self.test is None else self.test.to_dict(),
        }


@frozen
class CycleStatus:
    """An active-learning cycle and the model runs made during it.

    Attributes:
        index: The cycle's index (0 for the first split).
        status: "open" or "closed".
        created_at: When it was created (UTC).
        settings: What chose its prediction frames (`cycle`'s strategy, n,
            seed, run), None for cycle 0.
        runs: Its model runs by id.
    """

    index: int
    status: str
    created_at: datetime
    settings: dict[str, Any] | None
    runs: tuple[RunStatus, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able values, keyed as `status --json` has them."""
        return {
            "index": self.index,
            "status": self.status,
            "created_at": self.created_at.isoformat(),
            "settings": self.settings,
            "runs": [run.to_dict() for run in self.runs],
        }


@frozen
class ProjectStatus:
    """Where a project stands.

    Attributes:
        root: The project folder.
        name: The project name.
        animals: Animals expected per frame.
        keypoints: Keypoint names in skeleton order.
        behaviors: Behavior names.
        store: The store's URL, password hidden.
        videos: Registered videos by id.
        splits: The splits of the latest cycle in `SPLITS` order, then
            `UNASSIGNED`.
        cycles: Cycles by index.
    """

    root: Path
    name: str
    animals: int
    keypoints: tuple[str, ...]
    behaviors: tuple[str, ...]
    store: str
    videos: tuple[VideoStatus, ...]
    splits: tuple[SplitStatus, ...]
    cycles: tuple[CycleStatus, ...]

    def to_dict(self) -> dict[str, Any]:
        """The JSON of `etholoop status --json`."""
        return {
            "project": str(self.root),
            "name": self.name,
            "animals": self.animals,
            "keypoints": list(self.keypoints),
            "behaviors": list(self.behaviors),
            "store": self.store,
            "videos": [video.to_dict() for video in self.videos],
            "frames": {s.name: s.n_frames for s in self.splits},
            "pool": {s.name: dict(s.pool) for s in self.splits},
            "labels": {
                s.name: {
                    "manual": s.manual.to_dict(),
                    "predicted": s.predicted.to_dict(),
                }
                for s in self.splits
            },
            "cycles": [cycle.to_dict() for cycle in self.cycles],
        }


def project_status(project: Project) -> ProjectStatus:
    """Where a project stands: its videos, splits and cycles.

    Splits are those of the latest cycle; frames in no split count as
    `UNASSIGNED`. A split's pool counts its frames per stratum (the split's
    stratum, else the one the frame was sampled in, else `NO_STRATUM`).
    """
    with project.store.session() as session:
        videos = tuple(_video_status(v) for v in list_videos(session))
        cycle_rows = list_cycles(session)
        runs = list_runs(session)
        latest = cycle_rows[-1].id if cycle_rows else None
        counts = count_frames_by_split(session, cycle_id=latest)
        cycles = tuple(
            CycleStatus(
                index=c.index,
                status=c.status,
                created_at=c.created_at,
                settings=json.loads(c.notes) if c.notes else None,
                runs=tuple(_run_status(r) for r in runs if r.cycle_id == c.id),
            )
            for c in cycle_rows
        )
    config = project.config
    return ProjectStatus(
        root=project.root,
        name=config.name,
        animals=config.animals,
        keypoints=tuple(config.skeleton.keypoints),
        behaviors=tuple(config.behaviors),
        store=project.store.engine.url.render_as_string(hide_password=True),
        videos=videos,
        splits=tuple(
            _split_status(name, [c for c in counts if (c.split or UNASSIGNED) == name])
            for name in (*SPLITS, UNASSIGNED)
        ),
        cycles=cycles,
    )


def _video_status(video: Video) -> VideoStatus:
    return VideoStatus(
        id=video.id,
        path=video.path,
        kind=video.kind,
        normalized_from=video.parent_id,
        n_frames=video.n_frames,
        fps=video.fps,
        width=video.width,
        height=video.height,
        codec=video.codec,
        condition=video.condition,
    )


def _split_status(name: str, counts: Iterable[SplitStratumCounts]) -> SplitStatus:
    """Sum one split's counts over its strata."""
    strata = sorted(counts, key=lambda c: c.stratum or NO_STRATUM)
    return SplitStatus(
        name=name,
        n_frames=sum(c.n_frames for c in strata),
        manual=LabelCounts(
            sum(c.n_manual for c in strata), sum(c.n_manual_frames for c in strata)
        ),
        predicted=LabelCounts(
            sum(c.n_predicted for c in strata),
            sum(c.n_predicted_frames for c in strata),
        ),
        pool={c.stratum or NO_STRATUM: c.n_frames for c in strata},
    )


def _run_status(run: ModelRun) -> RunStatus:
    test = (run.metrics or {}).get("test")
    return RunStatus(
        id=run.id,
        stage=run.stage,
        status=run.status,
        test=None
        if not test
        else HeldOutMetrics(
            oks_map50_95=test.get("oks_map50_95"),
            box_map50=test.get("box_map50"),
            rmse=test.get("rmse"),
            pck_01=(test.get("pck") or {}).get("0.1"),
        ),
    )
