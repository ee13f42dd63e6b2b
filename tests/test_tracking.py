"""`etholoop track`: a trained heatmap model over whole generated videos.

One project is trained once (a 300-frame, two-mouse arena; one YOLO epoch at
64 px on the CPU, so the model is poor but real: it is asked for every box,
`--min-score 0`, so that each frame has detections) and copied for each test.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import sleap_io as sio
import torch
from typer.testing import CliRunner

from etholoop.cli import app
from etholoop.io.tracks import TRACK_FORMATS, read_tracks
from etholoop.project import Project
from etholoop.store.tracking import tracked_videos
from etholoop.synth import make_arena, write_arena

pytestmark = pytest.mark.slow

runner = CliRunner()
INIT = ["init", "--animals", "2", "--keypoints", "nose,earL,earR,tailB"]
N_FRAMES = 300
TRACK = ("track", "--min-score", "0")


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "etholoop.cli", *args], capture_output=True, text=True
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with a finished heatmap pose run and its arena video."""
    out = tmp_path_factory.mktemp("tracking")
    arena = write_arena(
        make_arena(n_animals=2, n_frames=N_FRAMES, width=96, height=64, seed=3),
        out / "arena",
    )
    proj = out / "proj"
    threads = torch.get_num_threads()
    try:
        for args in (
            [*INIT, str(proj)],
            ["import", str(proj), str(arena["labels"])],
            [
                "split",
                str(proj),
                "--test",
                "0.05",
                "--train-val",
                "12",
                "--predict",
                "0",
            ],
            [
                *("train", str(proj), "--backend", "yolo", "--imgsz", "64"),
                *("--epochs", "1", "--batch", "8", "--device", "cpu"),
            ],
        ):
            code, output = _run(*args)
            assert code == 0, output
    finally:
        torch.set_num_threads(threads)
    return proj


@pytest.fixture
def project_copy(trained: Path, tmp_path: Path) -> Path:
    """A fresh copy of the trained project (its video stays where it is)."""
    return Path(shutil.copytree(trained, tmp_path / "proj"))


def _outputs(proj: Path) -> dict[str, dict[str, str]]:
    with Project.open(proj) as project, project.store.session() as session:
        (run_dir,) = (proj / "tracks").iterdir()
        run_id = int(run_dir.name)
        return {
            str(video_id): dict(row.outputs or {}, status=row.status)
            for video_id, row in tracked_videos(session, run_id).items()
        }


def test_track_writes_every_format_and_the_slp_keeps_track_names(
    project_copy: Path,
) -> None:
    proc = _cli(*TRACK, str(project_copy), "--overlay")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (video,) = _outputs(project_copy).values()
    assert video["status"] == "done"
    assert set(video) >= {*TRACK_FORMATS, "quality", "overlay"}
    files = {fmt: project_copy / video[fmt] for fmt in (*TRACK_FORMATS, "quality")}
    assert all(path.is_file() for path in files.values())
    reference = read_tracks(files["nc"])
    assert reference.xy.shape[:3] == (N_FRAMES, 2, 4)
    labels = sio.load_slp(str(files["slp"]))
    assert [t.name for t in labels.tracks] == list(reference.individuals)
    from_slp = labels.numpy()  # (frames, tracks, nodes, 2), NaN where none
    np.testing.assert_allclose(
        from_slp[:N_FRAMES], reference.xy[: len(from_slp)], atol=1e-6
    )
    for fmt in ("csv", "nwb"):
        other = read_tracks(files[fmt])
        np.testing.assert_allclose(other.xy, reference.xy, atol=1e-6)
    quality = json.loads(files["quality"].read_text())
    assert quality  # the summary names what it counts
    assert "Traceback" not in proc.stderr


def test_a_corrupt_video_is_recorded_and_the_others_finish(
    project_copy: Path, tmp_path: Path
) -> None:
    with Project.open(project_copy) as project, project.store.session() as session:
        from etholoop.store.videos import list_videos

        (video,) = list_videos(session)
        source = project.resolve(video.path)
    other = make_arena(n_animals=2, n_frames=30, width=96, height=64, seed=4)
    broken = write_arena(other, tmp_path / "other")["video"].rename(
        tmp_path / "broken.mp4"
    )
    code, output = _run("add-videos", str(project_copy), str(broken))
    assert code == 0 and "Added 1 video" in output, output
    data = broken.read_bytes()
    broken.write_bytes(data[: len(data) // 3])  # cut after it was added
    proc = _cli(*TRACK, str(project_copy))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    statuses = {v["status"] for v in _outputs(project_copy).values()}
    assert statuses == {"done", "failed"}
    assert "failed" in proc.stderr and "broken.mp4" in proc.stderr
    again = _cli(*TRACK, str(project_copy), str(source))
    assert again.returncode == 0, again.stderr
    assert "skipped" in again.stdout  # the good video is not tracked twice
    (done,) = [v for v in _outputs(project_copy).values() if v["status"] == "done"]
    (project_copy / done["nc"]).unlink()  # a user deletes a file to track it again
    third = _cli(*TRACK, str(project_copy), str(source))
    assert third.returncode == 0, third.stderr
    assert "skipped" not in third.stdout
    assert (project_copy / done["nc"]).is_file()


def test_killed_mid_video_then_rerun_matches_an_uninterrupted_run(
    project_copy: Path, tmp_path: Path
) -> None:
    uninterrupted = Path(shutil.copytree(project_copy, tmp_path / "whole"))
    assert _cli(*TRACK, str(uninterrupted)).returncode == 0
    process = subprocess.Popen(
        [sys.executable, "-m", "etholoop.cli", *TRACK, str(project_copy)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not (project_copy / "tracks").exists():
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    time.sleep(1.0)  # inside the video's inference
    assert process.poll() is None, "track finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert _cli(*TRACK, str(project_copy)).returncode == 0
    (whole,) = _outputs(uninterrupted).values()
    (resumed,) = _outputs(project_copy).values()
    assert resumed["status"] == "done"
    for fmt in ("csv", "nc"):
        first = (uninterrupted / whole[fmt]).read_bytes()
        assert (project_copy / resumed[fmt]).read_bytes() == first
    for fmt in ("slp", "nwb"):
        np.testing.assert_array_equal(
            read_tracks(project_copy / resumed[fmt]).xy,
            read_tracks(uninterrupted / whole[fmt]).xy,
        )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--run", "99"], "no finished pose model run with id 99"),
        (["--max-ids", "0"], "max_ids must be at least 1, got 0"),
        (["elsewhere.mp4"], "elsewhere.mp4: not a video of this project"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    project_copy: Path, args: list[str], message: str
) -> None:
    proc = _cli(*TRACK, str(project_copy), *args)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr
    assert not (project_copy / "tracks").exists()
