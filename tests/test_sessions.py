"""Session names: short, and unique where two videos share a file name."""

from pathlib import Path

import pytest

from etholoop.errors import ProjectError
from etholoop.sessions import find_session, list_sessions, session_name
from tests.fixtures.videos import write_video


def test_videos_sharing_a_stem_get_names_with_their_ids(
    tmp_path: Path, make_project
) -> None:
    for day in ("day1", "day2"):
        (tmp_path / day).mkdir()
    day1 = write_video(tmp_path / "day1" / "m1.mp4", n_frames=8)
    day2 = write_video(tmp_path / "day2" / "m1.mp4", n_frames=9)
    other = write_video(tmp_path / "day2" / "m2.mp4", n_frames=10)
    project = make_project(day1, day2, other)
    with project.store.session() as session:
        videos = list_sessions(session)
        names = [session_name(session, v) for v in videos]
        ids = [v.id for v in videos]
        assert names == [f"m1-{ids[0]}", f"m1-{ids[1]}", "m2"]
        # The unique name finds its session; the shared stem is ambiguous.
        for video, name in zip(videos, names, strict=True):
            assert find_session(session, project, name).id == video.id
        with pytest.raises(ProjectError, match="names several"):
            find_session(session, project, "m1")
