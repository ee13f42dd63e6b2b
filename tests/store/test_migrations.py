"""Migrations: the models match them; 0003 and 0004 fill progress of old stores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from etholoop.store import Store, sqlite_url
from etholoop.store.engine import _alembic_config
from etholoop.store.models import Base, Frame, InstanceRow


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "old.db")
    return str(request.getfixturevalue("postgres_url"))


def _engine(url: str):
    return create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))


def test_models_match_the_migrations(url: str) -> None:
    Store(url).close()
    with _engine(url).connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


ROWS = [  # frame, source, box, visibility
    (1, "manual", 1.0, [2, 1]),
    (1, "manual", 1.0, [2, 0]),
    (1, "predicted", 1.0, [2, 2]),
    (2, "manual", None, [2, 2]),
    (2, "manual", None, [1, 0]),
]


def _old_store(url: str, revision: str) -> None:
    """A store at `revision` (0002 or later) holding two frames and `ROWS`."""
    config = _alembic_config()
    engine = _engine(url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        connection.execute(
            text(
                "INSERT INTO videos (id, path, kind, sha256, n_frames, width, height,"
                " codec, pix_fmt, added_at) VALUES (1, 'v.mp4', 'file', 'ab', 9, 4, 4,"
                " 'h264', 'yuv420p', CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO frames (id, video_id, frame_idx, added_at)"
                " VALUES (1, 1, 0, CURRENT_TIMESTAMP), (2, 1, 1, CURRENT_TIMESTAMP)"
            )
        )
        for frame_id, source, x1, visibility in ROWS:
            connection.execute(
                text(
                    "INSERT INTO instances (frame_id, source, x1, y1, x2, y2,"
                    " keypoints, visibility, version, created_at, updated_at) VALUES"
                    " (:f, :s, :x, :x, :x, :x, '[]', :v, 1, CURRENT_TIMESTAMP,"
                    " CURRENT_TIMESTAMP)"
                ),
                {"f": frame_id, "s": source, "x": x1, "v": json.dumps(visibility)},
            )
    engine.dispose()


def _progress(url: str) -> tuple[list[bool], dict[int, tuple[int, int, int]]]:
    """Each instance's complete flag and each frame's counts, once at head."""
    store = Store(url)  # migrates to head
    with store.session() as session:
        frames = {f.id: f for f in session.query(Frame)}
        complete = [
            row.complete for row in session.query(InstanceRow).order_by(InstanceRow.id)
        ]
        counts = {
            i: (f.n_instances, f.n_predicted, f.n_complete) for i, f in frames.items()
        }
    store.close()
    return complete, counts


def test_old_stores_get_their_labeling_progress(url: str) -> None:
    _old_store(url, "0002")  # 0003 adds and fills the columns, 0004 recounts
    assert _progress(url) == (
        [True, False, False, True, False],
        {1: (3, 1, 1), 2: (2, 0, 1)},
    )


def test_0004_counts_instances_without_a_box_as_complete(url: str) -> None:
    _old_store(url, "0003")  # counted by 0003's rule: a box was needed
    engine = _engine(url)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE instances SET complete = (x1 IS NOT NULL AND id = 1)")
        )
        connection.execute(text("UPDATE frames SET n_complete = id % 2"))
    engine.dispose()
    complete, counts = _progress(url)
    assert complete == [True, False, False, True, False]
    assert {f: c[2] for f, c in counts.items()} == {1: 1, 2: 1}


def test_0006_keeps_videos_frames_and_behaviors_and_allows_tracks_sessions(
    url: str,
) -> None:
    from etholoop.store import add_video
    from etholoop.store.models import BehaviorLabel, Video
    from etholoop.types import VideoInfo

    _old_store(url, "0005")  # 0006 copies `videos` to change its kind check
    engine = _engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO behavior_labels (video_id, individual, behavior,"
                " start_frame, stop_frame, source, version, created_at, updated_at)"
                " VALUES (1, 0, 'walk', 2, 5, 'manual', 1, CURRENT_TIMESTAMP,"
                " CURRENT_TIMESTAMP)"
            )
        )
        if url.startswith("postgresql"):  # the rows above were given their ids
            connection.execute(
                text("SELECT setval(pg_get_serial_sequence('videos', 'id'), 1)")
            )
    engine.dispose()
    store = Store(url)  # migrates to head
    info = VideoInfo("t.nc", "cd", 30.0, 90, 10, 10, "", "", 3.0)
    with store.session() as session:
        assert [(v.id, v.path, v.kind) for v in session.query(Video)] == [
            (1, "v.mp4", "file")
        ]
        assert [(f.video_id, f.frame_idx) for f in session.query(Frame)] == [
            (1, 0),
            (1, 1),
        ]
        assert session.query(InstanceRow).count() == len(ROWS)
        assert [
            (b.video_id, b.behavior, b.start_frame, b.stop_frame)
            for b in session.query(BehaviorLabel)
        ] == [(1, "walk", 2, 5)]
        add_video(session, info, path="session-a", kind="tracks")
    with store.session() as session:
        kinds = sorted((v.path, v.kind) for v in session.query(Video))
    store.close()
    assert kinds == [("session-a", "tracks"), ("v.mp4", "file")]
