"""A small real project with something in every report section, and its report.

`report_project`: synthetic two-mouse arenas (etholoop.synth), 96x64 px. One
arena of 30 frames has its ground-truth poses imported as labels, split, a YOLO
pose model trained 2 epochs at 64 px on the CPU, evaluated, and the arena
tracked with it. Two arenas of 200 frames are behavior sessions with their
true poses imported as tracks: `session1`, a video file whose behaviors are
imported as manual labels, and `SESSION2`, a tracks-only session (30 fps)
with no labels. A behavior model is trained on session1, predicts every
session and is cross-validated. Conditions: the pose arena `drug`, session1
`saline`, SESSION2 none. The project's name and SESSION2 hold HTML.

`report_run`: `etholoop report` run once on it (the CLI's output, the HTML).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from attrs import frozen

from etholoop.synth import make_arena, write_arena
from tests.fixtures.cli import cli_ok

PROJECT_NAME = '<script>alert("mice")</script> & co'
SESSION2 = 'cage "B" <2>'
BEHAVIORS = ("rest", "walk", "groom", "rear", "chase")
N_FRAMES = 200
ARENA = {"n_animals": 2, "width": 96, "height": 64}


@frozen
class ReportRun:
    """The project, the paths of its synthetic inputs, the report and CLI output."""

    project: Path
    inputs: dict[str, dict[str, Path]]
    html: Path
    output: str


@pytest.fixture(scope="session")
def report_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("report")
    inputs = {
        "pose": write_arena(make_arena(**ARENA, n_frames=30, seed=3), root / "pose")
    }
    for seed in (1, 2):
        arena = make_arena(**ARENA, n_frames=N_FRAMES, seed=seed)
        files = write_arena(arena, root / f"a{seed}")
        video = files["video"].rename(files["video"].with_name(f"session{seed}.mp4"))
        inputs[f"session{seed}"] = {**files, "video": video}
    conditions = root / "conditions.csv"
    conditions.write_text("video,condition\narena.mp4,drug\nsession1.mp4,saline\n")
    proj = root / "proj"
    cli_ok(
        "init", proj, "--animals", "2", "--keypoints", "nose,earL,earR,tailB",
        "--behaviors", ",".join(BEHAVIORS), "--name", PROJECT_NAME,
    )  # fmt: skip
    with (proj / "etholoop.yaml").open("a") as config:
        config.write("behavior:\n  trees: 30\n")
    cli_ok("import", proj, inputs["pose"]["labels"])
    cli_ok("add-videos", proj, inputs["session1"]["video"])
    cli_ok("sample", proj, "--n", "6", "--conditions", conditions)
    cli_ok("split", proj, "--test", "0.2", "--train-val", "20", "--predict", "0")
    cli_ok(
        "train", proj, "--backend", "yolo", "--imgsz", "64", "--epochs", "2",
        "--batch", "8", "--device", "cpu",
    )  # fmt: skip
    cli_ok("evaluate", proj)
    cli_ok("track", proj, inputs["pose"]["video"], "--min-score", "0")
    cli_ok(
        "tracks", "import", proj, inputs["session1"]["labels"], "--session", "session1"
    )
    cli_ok(
        "tracks", "import", proj, inputs["session2"]["labels"], "--session", SESSION2,
        "--fps", "30",
    )  # fmt: skip
    cli_ok(
        "behavior", "import", proj, inputs["session1"]["behaviors"],
        "--session", "session1", "--format", "long",
    )  # fmt: skip
    cli_ok("behavior", "train", proj)
    cli_ok("behavior", "predict", proj)
    cli_ok("behavior", "evaluate", proj)
    return proj, inputs


@pytest.fixture(scope="session")
def report_run(report_project: tuple[Path, dict]) -> ReportRun:
    proj, inputs = report_project
    html = proj.parent / "out" / "report.html"
    output = cli_ok("report", proj, "--out", html)
    return ReportRun(proj, inputs, html, output)
