"""`etholoop behavior import/export` on a real project: round trips, errors."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from etholoop.io.behavior_files import read_behavior_file
from etholoop.project import Project
from etholoop.store.behaviors import load_behavior_ranges
from tests.fixtures.cli import run_cli

N_FRAMES, FPS = 48, 25


@pytest.fixture
def project(tmp_path: Path, make_video: Callable[..., Path]) -> Path:
    """Two animals, behaviors rest/walk/groom, one 48-frame 25 fps video."""
    proj = tmp_path / "proj"
    code, out = run_cli(
        "init", proj, "--animals", "2", "--keypoints", "nose,tail",
        "--behaviors", "rest,walk,groom",
    )  # fmt: skip
    assert code == 0, out
    code, out = run_cli("add-videos", proj, make_video("behaviors.mp4"))
    assert code == 0, out
    return proj


def _stored(proj: Path) -> list[tuple[int, str, int, int, str]]:
    with Project.open(proj) as project, project.store.session() as session:
        ranges = load_behavior_ranges(session, 1)
    return sorted((r.individual, r.behavior, r.start, r.stop, r.source) for r in ranges)


def _frame_action_file(path: Path) -> Path:
    actions = ["none"] * 10 + ["walk"] * 20 + ["rest"] * 8 + ["groom"] * 10
    path.write_text(
        "Frame,Action\n" + "".join(f"{t},{a}\n" for t, a in enumerate(actions))
    )
    return path


def _labels(path: Path, fmt: str) -> dict[str, np.ndarray]:
    read = read_behavior_file(path, fmt, n_frames=N_FRAMES, fps=FPS)  # type: ignore[arg-type]
    order = ["rest", "walk", "groom"]
    out = {}
    for name, labels in read.animals.items():
        full = np.zeros((N_FRAMES, 3), bool)
        for j, b in enumerate(read.behaviors):
            full[:, order.index(b)] = labels[:, j]
        out[name] = full
    return out


@pytest.mark.parametrize("session", ["behaviors.mp4", "behaviors"])
def test_frame_action_round_trip(project: Path, tmp_path: Path, session: str) -> None:
    src = _frame_action_file(tmp_path / "in.csv")
    code, out = run_cli(
        "behavior", "import", project, src, "--session", session,
        "--format", "frame-action", "--animal", "1",
    )  # fmt: skip
    assert code == 0, out
    assert (1, "walk", 10, 30, "manual") in _stored(project)
    dst = tmp_path / "out.csv"
    code, out = run_cli(
        "behavior", "export", project, "--session", session,
        "--format", "frame-action", "--animal", "1", "--out", dst,
    )  # fmt: skip
    assert code == 0, out
    assert dst.read_text() == src.read_text()


def test_frame_action_class_ids_as_the_3dcnn_reference_writes_them(
    project: Path, tmp_path: Path
) -> None:
    src = tmp_path / "ids.csv"
    actions = [0] * 10 + [2] * 20 + [3] * 5 + [1] * 13  # 1 = flinch, merged
    src.write_text(
        "Frame,Action\n" + "".join(f"{t},{a}\n" for t, a in enumerate(actions))
    )
    code, out = run_cli(
        "behavior", "import", project, src, "--session", "behaviors",
        "--format", "frame-action",
    )  # fmt: skip
    assert code == 1 and "class id" in out and "--classes" in out
    classes = "none,flinch,walk,groom"
    code, out = run_cli(
        "behavior", "import", project, src, "--session", "behaviors",
        "--format", "frame-action", "--classes", classes, "--merge", "flinch=rest",
    )  # fmt: skip
    assert code == 0, out
    stored = {(b, start, stop) for _, b, start, stop, _ in _stored(project)}
    assert stored == {("walk", 10, 30), ("groom", 30, 35), ("rest", 35, 48)}
    dst = tmp_path / "out.csv"
    code, out = run_cli(
        "behavior", "export", project, "--session", "behaviors",
        "--format", "frame-action", "--classes", "none,rest,walk,groom", "--out", dst,
    )  # fmt: skip
    assert code == 0, out
    assert dst.read_text() == src.read_text()
    code, out = run_cli(
        "behavior", "import", project, src, "--session", "behaviors",
        "--format", "frame-action", "--classes", "none,flinch",
    )  # fmt: skip
    assert code == 1 and "class id 2" in out


def test_onehot_and_boris_round_trips(project: Path, tmp_path: Path) -> None:
    onehot = tmp_path / "onehot.csv"
    rows = [[int(t % 7 < 3), int(t >= 20), int(10 <= t < 30)] for t in range(N_FRAMES)]
    onehot.write_text(
        "rest,walk,groom\n" + "".join(",".join(map(str, r)) + "\n" for r in rows)
    )
    common = ("--session", "behaviors.mp4")
    code, out = run_cli(
        "behavior", "import", project, onehot, *common, "--format", "onehot"
    )
    assert code == 0, out
    again = tmp_path / "again.csv"
    code, out = run_cli(
        "behavior", "export", project, *common, "--format", "onehot", "--out", again
    )
    assert code == 0, out
    np.testing.assert_array_equal(_labels(again, "onehot")[""], np.array(rows, bool))

    boris = tmp_path / "boris.csv"
    code, out = run_cli(
        "behavior", "export", project, *common, "--format", "boris", "--animal", "0",
        "--out", boris,
    )  # fmt: skip
    assert code == 0, out
    # Into the other animal: the BORIS file's one subject goes where --animal says.
    code, out = run_cli(
        "behavior", "import", project, boris, *common, "--format", "boris",
        "--animal", "animal1",
    )  # fmt: skip
    assert code == 0, out
    both = tmp_path / "both.csv"
    code, out = run_cli(
        "behavior", "export", project, *common, "--format", "boris", "--out", both
    )
    assert code == 0, out
    code, out = run_cli(
        "behavior", "import", project, both, *common, "--format", "boris"
    )
    assert code != 0 and "--animal" in out
    exported = _labels(both, "boris")
    np.testing.assert_array_equal(exported["animal0"], np.array(rows, bool))
    np.testing.assert_array_equal(exported["animal1"], np.array(rows, bool))


def test_import_replaces_that_animals_manual_ranges_of_the_files_behaviors(
    project: Path, tmp_path: Path
) -> None:
    long = tmp_path / "long.csv"
    long.write_text(
        "frame,individual,behavior\n"
        + "".join(
            f"{t},mouse0,{'walk' if t < 24 else 'groom'}\n{t},mouse1,rest\n"
            for t in range(N_FRAMES)
        )
    )
    common = ("--session", "behaviors.mp4", "--format")
    assert run_cli("behavior", "import", project, long, *common, "long")[0] == 0
    assert _stored(project) == [
        (0, "groom", 24, 48, "manual"),
        (0, "walk", 0, 24, "manual"),
        (1, "rest", 0, 48, "manual"),
    ]
    src = tmp_path / "fa.csv"
    src.write_text(
        "Frame,Action\n"
        + "".join(f"{t},{'walk' if t < 5 else 'none'}\n" for t in range(N_FRAMES))
    )
    assert run_cli("behavior", "import", project, src, *common, "frame-action")[0] == 0
    assert _stored(project) == [
        (0, "groom", 24, 48, "manual"),
        (0, "walk", 0, 5, "manual"),
        (1, "rest", 0, 48, "manual"),
    ]
    out = tmp_path / "long-out.csv"
    code, text = run_cli("behavior", "export", project, *common, "long", "--out", out)
    assert code == 0, text
    assert out.read_text().splitlines()[:3] == [
        "frame,individual,behavior",
        "0,animal0,walk",
        "0,animal1,rest",
    ]


def test_merge_maps_names_before_the_check(project: Path, tmp_path: Path) -> None:
    src = tmp_path / "cnn.csv"
    actions = ["paw_guard"] * 10 + ["flinch"] * 10 + ["none"] * 28
    src.write_text(
        "Frame,Action\n" + "".join(f"{t},{a}\n" for t, a in enumerate(actions))
    )
    args = ("behavior", "import", project, src, "--session", "behaviors", "--format")
    code, out = run_cli(*args, "frame-action")
    assert code == 1 and "paw_guard" in out and "--merge" in out
    assert _stored(project) == []
    code, out = run_cli(*args, "frame-action", "--merge", "paw_guard,flinch=walk")
    assert code == 0, out
    assert _stored(project) == [(0, "walk", 0, 20, "manual")]


@pytest.mark.parametrize(
    ("fmt", "text", "session", "message"),
    [
        (
            "frame-action",
            "Frame,Action\n0,walk\n",
            "behaviors",
            "1 frames; the video has 48",
        ),
        ("frame-action", "", "nosuch.mp4", "is not a session of the project"),
        (
            "boris",
            "Time,Subject,Behavior,Status\n0.0,a,walk,START\n0.5,a,walk,START\n"
            "0.8,a,walk,STOP\n",
            "behaviors",
            "overlapping START/STOP pairs",
        ),
        (
            "long",
            "frame,individual,behavior\n"
            + "".join(f"{t},m,jump\n" for t in range(N_FRAMES)),
            "behaviors",
            "not the project's",
        ),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    project: Path, tmp_path: Path, fmt: str, text: str, session: str, message: str
) -> None:
    src = tmp_path / "bad.csv"
    src.write_text(text)
    proc = subprocess.run(
        [sys.executable, "-m", "etholoop.cli", "behavior", "import", str(project),
         str(src), "--session", session, "--format", fmt],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), proc.stderr
    named = project if session == "nosuch.mp4" else src
    assert message in lines[0] and str(named) in lines[0]
    assert _stored(project) == []
