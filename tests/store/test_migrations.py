"""Migrations: the models match them, and 0003 fills progress counts of old stores."""

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


@pytest.fixture(params=["sqlite", "postgres"])
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


def test_0003_counts_the_instances_of_existing_frames(url: str) -> None:
    config = _alembic_config()
    engine = _engine(url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
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
        rows = [  # frame, source, box, visibility
            (1, "manual", 1.0, [2, 1]),
            (1, "manual", 1.0, [2, 0]),
            (1, "predicted", 1.0, [2, 2]),
            (2, "manual", None, [2, 2]),
        ]
        for frame_id, source, x1, visibility in rows:
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
    assert complete == [True, False, False, False]
    assert counts == {1: (3, 1, 1), 2: (1, 0, 0)}
