"""Saving and loading frames in the label store, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest
from attrs import evolve
from sqlalchemy import inspect, select, text

from etholoop.errors import ConflictError, StoreError
from etholoop.store import (
    Store,
    add_frame_instances,
    add_video,
    frame_versions,
    get_or_add_frame,
    load_frame_instances,
    save_frame_instances,
    sqlite_url,
)
from etholoop.store.models import Frame, InstanceRow
from etholoop.types import Instance, VideoInfo

INFO = VideoInfo("v.mp4", "ab" * 32, 30.0, 100, 64, 48, "h264", "yuv420p", 100 / 30)


def _frame(store: Store) -> int:
    with store.session() as session:
        video = add_video(session, INFO, path="v.mp4")
        return get_or_add_frame(session, video_id=video.id, frame_idx=7).id


def _instance(value: float, **kwargs: object) -> Instance:
    xy = np.array([[value, value + 0.5], [np.nan, np.nan], [value + 1e-7, 3.25]])
    return Instance(keypoints=xy, visibility=[2, 0, 1], **kwargs)  # type: ignore[arg-type]


def test_schema_is_migrated_on_open(store: Store) -> None:
    tables = set(inspect(store.engine).get_table_names())
    expected = {"videos", "frames", "splits", "cycles", "instances", "behavior_labels"}
    assert expected | {"model_runs", "alembic_version"} <= tables


def test_save_and_load_round_trip(store: Store) -> None:
    frame_id = _frame(store)
    box = [1.0, 2.0, 30.5, 40.25]
    scores = [0.9, np.nan, 0.4]
    with store.session() as session:
        saved = save_frame_instances(
            session,
            frame_id=frame_id,
            instances=[
                _instance(10.0, track_id=3),
                _instance(
                    20.0,
                    box=box,
                    box_score=0.8,
                    keypoint_scores=scores,
                    source="predicted",
                ),
            ],
            base_versions={},
            author="ann",
        )
    assert [s.version for s in saved] == [1, 1]
    with store.session() as session:
        loaded = load_frame_instances(session, frame_id)
    assert len(loaded) == 2
    first, second = loaded
    np.testing.assert_array_equal(first.keypoints, _instance(10.0).keypoints)
    np.testing.assert_array_equal(first.visibility, [2, 0, 1])
    assert (first.track_id, first.author, first.source, first.box) == (
        3,
        "ann",
        "manual",
        None,
    )
    np.testing.assert_array_equal(second.box, box)
    np.testing.assert_array_equal(second.keypoint_scores, scores)
    assert (second.source, second.box_score) == ("predicted", 0.8)


def test_stale_save_is_refused_and_changes_nothing(store: Store) -> None:
    frame_id = _frame(store)
    with store.session() as session:
        save_frame_instances(
            session, frame_id=frame_id, instances=[_instance(1.0)], base_versions={}
        )
        base = frame_versions(session, frame_id)
    (inst_id,) = base
    # Annotator A saves a move; annotator B still holds the old version.
    with store.session() as session:
        a = load_frame_instances(session, frame_id)[0]
        moved = _instance(5.0, id=a.id, version=a.version)
        save_frame_instances(
            session, frame_id=frame_id, instances=[moved], base_versions=base
        )
    with (
        pytest.raises(
            ConflictError, match=f"frame {frame_id}: changed by someone else"
        ),
        store.session() as session,
    ):
        save_frame_instances(
            session,
            frame_id=frame_id,
            instances=[_instance(9.0, id=inst_id, version=1)],
            base_versions=base,
        )
    with store.session() as session:
        (current,) = load_frame_instances(session, frame_id)
    assert current.version == 2
    assert current.keypoints[0, 0] == 5.0


def test_save_deletes_instances_not_named(store: Store) -> None:
    frame_id = _frame(store)
    with store.session() as session:
        saved = save_frame_instances(
            session,
            frame_id=frame_id,
            instances=[_instance(1.0), _instance(2.0)],
            base_versions={},
        )
    base = {s.id: s.version for s in saved if s.id is not None}
    with store.session() as session:
        save_frame_instances(
            session, frame_id=frame_id, instances=[saved[1]], base_versions=base
        )
        remaining = load_frame_instances(session, frame_id)
    assert [r.id for r in remaining] == [saved[1].id]
    assert remaining[0].version == 1  # unchanged content keeps its version


def test_deleting_a_video_cascades(store: Store) -> None:
    frame_id = _frame(store)
    with store.session() as session:
        save_frame_instances(
            session, frame_id=frame_id, instances=[_instance(1.0)], base_versions={}
        )
    with store.session() as session:
        session.execute(text("DELETE FROM videos"))
    with store.session() as session:
        assert session.scalars(select(InstanceRow)).all() == []


def test_unreachable_database_is_a_store_error(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "missing-dir" / "labels.db")
    with pytest.raises(StoreError, match="cannot open the label store"):
        Store(url)
    with pytest.raises(StoreError, match="not a usable database URL"):
        Store("nosuchdb://x")


_WRITER = textwrap.dedent(
    """
    import sys
    import time
    import numpy as np
    from etholoop.store import (
        Store, frame_versions, load_frame_instances, save_frame_instances
    )
    from etholoop.types import Instance

    store = Store(sys.argv[1])
    frame_id = int(sys.argv[2])
    for generation in (1, 2):
        with store.session() as session:
            batch = [
                Instance(keypoints=np.full((3, 2), float(generation)),
                         author=f"gen{generation}")
                for _ in range(40)
            ]
            save_frame_instances(
                session,
                frame_id=frame_id,
                instances=batch,
                base_versions=frame_versions(session, frame_id),
            )
            if generation == 2:  # written, not committed: wait to be killed
                mine = load_frame_instances(session, frame_id)
                print("open", *sorted({i.author for i in mine}), len(mine), flush=True)
                time.sleep(600)
        print("committed", generation, flush=True)
    """
)


def _authors(db: Path, frame_id: int) -> dict[str, int]:
    """Instances per author of a frame, as another connection sees them."""
    with closing(sqlite3.connect(db)) as conn:
        rows = conn.execute(
            "SELECT author, count(*) FROM instances WHERE frame_id = ? GROUP BY author",
            (frame_id,),
        )
        return dict(rows.fetchall())


def _write_locked(db: Path) -> bool:
    """Whether another connection holds the database's write lock."""
    with closing(sqlite3.connect(db, timeout=0, isolation_level=None)) as conn:
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            assert "locked" in str(exc), exc
            return True
        conn.execute("ROLLBACK")
        return False


def test_a_writer_killed_inside_its_transaction_leaves_the_last_save(
    tmp_path: Path,
) -> None:
    db = tmp_path / "labels.db"
    url = sqlite_url(db)
    store = Store(url)
    frame_id = _frame(store)
    store.close()
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, url, str(frame_id)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "committed 1\n"
        # The writer has written its second save and not committed it: it holds
        # the write lock, and its rows are visible to it alone.
        assert proc.stdout.readline() == "open gen2 40\n"
        assert _write_locked(db)
        assert _authors(db, frame_id) == {"gen1": 40}
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not _write_locked(db)
    store = Store(url)
    with store.session() as session:
        instances = load_frame_instances(session, frame_id)
        frame = session.get(Frame, frame_id)
        assert frame is not None and frame.n_instances == 40
    store.close()
    assert {inst.author for inst in instances} == {"gen1"}
    assert len(instances) == 40
    assert _authors(db, frame_id) == {"gen1": 40}


def test_frames_count_their_instances_on_every_save(store: Store) -> None:
    frame_id = _frame(store)
    box = [0.0, 0.0, 4.0, 4.0]
    full = np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])
    with store.session() as session:
        add_frame_instances(
            session,
            frame_id=frame_id,
            instances=[
                Instance(keypoints=full, box=box),
                Instance(keypoints=full, box=box, source="predicted"),
                _instance(1.0, box=box),  # a keypoint missing
            ],
        )
    with store.session() as session:
        frame = session.get(Frame, frame_id)
        assert (frame.n_instances, frame.n_predicted, frame.n_complete) == (3, 1, 1)
        saved = load_frame_instances(session, frame_id)
        save_frame_instances(
            session,
            frame_id=frame_id,
            instances=[saved[0], evolve(saved[1], source="manual")],
            base_versions=frame_versions(session, frame_id),
        )
    with store.session() as session:
        frame = session.get(Frame, frame_id)
        assert (frame.n_instances, frame.n_predicted, frame.n_complete) == (2, 0, 2)


def test_an_instance_is_complete_without_a_box(store: Store) -> None:
    frame_id = _frame(store)
    full = np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])
    with store.session() as session:
        add_frame_instances(
            session,
            frame_id=frame_id,
            instances=[
                Instance(keypoints=full, visibility=[2, 1, 2]),  # DLC/SLEAP: no box
                _instance(1.0),  # a keypoint not labeled
                Instance(keypoints=full, source="predicted"),
            ],
        )
    with store.session() as session:
        rows = session.scalars(select(InstanceRow).order_by(InstanceRow.id)).all()
        assert [row.complete for row in rows] == [True, False, False]
        assert session.get(Frame, frame_id).n_complete == 1
