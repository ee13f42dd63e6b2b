"""Store functions of tracking runs, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from etholoop.runs import resume_run
from etholoop.store import Store
from etholoop.store.runs import add_model_run, end_model_run, get_model_run
from etholoop.store.tracking import (
    TRACK_STAGE,
    find_track_run,
    finish_tracked_video,
    start_tracked_video,
    tracked_videos,
)
from tests.store.conftest import add_test_video

KEY = {"pose_run": 3, "tracker": {"max_ids": 2, "alpha": 0.5}}


def test_a_tracking_run_is_found_by_its_pose_run_and_parameters(store: Store) -> None:
    with store.session() as session:
        add_model_run(session, stage="pose-train", config=KEY, cycle_id=None)
        first = add_model_run(session, stage=TRACK_STAGE, config=KEY, cycle_id=None).id
        other = {**KEY, "tracker": {"max_ids": 3, "alpha": 0.5}}
        add_model_run(session, stage=TRACK_STAGE, config=other, cycle_id=None)
    with store.session() as session:
        found = find_track_run(session, KEY)
        assert found is not None and found.id == first
        assert find_track_run(session, {**KEY, "pose_run": 4}) is None


def test_each_video_of_a_run_keeps_its_last_attempt(store: Store) -> None:
    good, bad = add_test_video(store, "good"), add_test_video(store, "bad")
    with store.session() as session:
        run_id = add_model_run(session, stage=TRACK_STAGE, config=KEY, cycle_id=None).id
        start_tracked_video(session, run_id, good)
        start_tracked_video(session, run_id, bad)
    with store.session() as session:
        finish_tracked_video(
            session, run_id, good, status="done", outputs={"slp": "a.slp"}, quality={}
        )
        finish_tracked_video(session, run_id, bad, status="failed", error="broken")
    with store.session() as session:
        rows = tracked_videos(session, run_id)
        assert (rows[good].status, rows[good].outputs) == ("done", {"slp": "a.slp"})
        assert (rows[bad].status, rows[bad].error) == ("failed", "broken")
        assert rows[good].finished_at is not None
        start_tracked_video(session, run_id, bad)  # tried again: the old error goes
    with store.session() as session:
        row = tracked_videos(session, run_id)[bad]
        assert (row.status, row.error, row.finished_at) == ("running", None, None)


def test_a_video_is_in_a_run_once_and_a_status_is_one_of_three(store: Store) -> None:
    video = add_test_video(store, "v")
    with store.session() as session:
        run_id = add_model_run(session, stage=TRACK_STAGE, config=KEY, cycle_id=None).id
        start_tracked_video(session, run_id, video)
    with pytest.raises(IntegrityError), store.session() as session:
        finish_tracked_video(session, run_id, video, status="half-done")


def test_a_resumed_run_is_running_again_in_this_process(store: Store) -> None:
    with store.session() as session:
        run_id = add_model_run(session, stage=TRACK_STAGE, config=KEY, cycle_id=None).id
        end_model_run(session, run_id, status="interrupted")
    with store.session() as session:
        resume_run(session, run_id)
    with store.session() as session:
        run = get_model_run(session, run_id)
        assert run is not None
        assert (run.status, run.finished_at) == ("running", None)
        assert (
            run.config["tracker"] == KEY["tracker"] and "pid" in run.config["process"]
        )
