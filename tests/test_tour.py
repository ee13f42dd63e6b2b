"""The README's tour for a DeepLabCut user, command by command, on generated data.

A lab's `labeled-data/<video>/` folder (a `CollectedData_<scorer>.csv` with missing
values and no boxes, and its images) is imported next to a video, then
sample -> split -> train 1 epoch -> predict -> export dlc, as the README says.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from etholoop.cli import app
from etholoop.io import load_labels
from etholoop.project import Project
from etholoop.store import latest_cycle, load_instances_by_frame, load_split_members
from etholoop.store.frame_list import list_frames
from etholoop.synth import make_arena, write_arena

runner = CliRunner()
DLC_NAMES = ("snout", "leftear", "rightear", "tailbase")
PROJECT_NAMES = ("nose", "earL", "earR", "tailB")
KEYPOINT_MAP = ",".join(
    f"{d}={p}" for d, p in zip(DLC_NAMES, PROJECT_NAMES, strict=True)
)
N_LABELED = 30
# (row, keypoint) cells left empty, as a lab's table has them
MISSING = {(1, 3), (4, 0), (4, 1), (9, 2), (17, 3), (22, 0)}


def _run(*args: str | Path) -> str:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


def _write_labeled_data(root: Path, arena_frames: int) -> Path:
    """A DLC project's labeled-data/<video>/ folder made from a synthetic arena."""
    arena = make_arena(
        n_animals=1, n_frames=arena_frames, width=160, height=128, seed=3
    )
    folder = root / "labeled-data" / "arena"
    folder.mkdir(parents=True)
    rows = [
        ["scorer"] + ["Lab"] * (2 * len(DLC_NAMES)),
        ["bodyparts"] + [name for name in DLC_NAMES for _ in "xy"],
        ["coords"] + ["x", "y"] * len(DLC_NAMES),
    ]
    xy = arena.tracks.xy
    for row, t in enumerate(range(0, 2 * N_LABELED, 2)):
        name = f"img{t:04d}.png"
        Image.fromarray(arena.render(t)).save(folder / name)
        cells = []
        for k in range(len(DLC_NAMES)):
            missing = (row, k) in MISSING
            cells += ["", ""] if missing else [repr(float(v)) for v in xy[t, 0, k]]
        rows.append([f"labeled-data/arena/{name}", *cells])
    with (folder / "CollectedData_Lab.csv").open("w", newline="") as f:
        csv.writer(f).writerows(rows)
    return folder


def _label_table(path: Path) -> dict[str, list[float]]:
    """Image name -> keypoint coordinates (NaN where missing) of a labels folder."""
    labels = load_labels(path)
    table = {}
    for frame in labels.frames:
        video = labels.videos[frame.video]
        name = Path(video.image_files[frame.frame_idx]).name
        (inst,) = frame.instances
        table[name] = [float(v) for v in inst.keypoints.reshape(-1)]
    return table


@pytest.mark.slow
def test_readme_tour_for_a_deeplabcut_user(tmp_path: Path) -> None:
    labeled = _write_labeled_data(tmp_path / "dlc", arena_frames=2 * N_LABELED)
    arena = make_arena(n_animals=1, n_frames=300, width=160, height=128, seed=4)
    video = write_arena(arena, tmp_path / "arena")["video"]
    proj = tmp_path / "proj"

    _run(
        "init",
        proj,
        "--animals",
        "1",
        "--keypoints",
        ",".join(PROJECT_NAMES),
        "--symmetry",
        "earL-earR",
    )
    _run("add-videos", proj, video)
    _run("import", proj, labeled, "--keypoint-map", KEYPOINT_MAP)
    _run("sample", proj, "--n", "20", "--strategy", "stratified")
    _run("split", proj, "--test", "0.2", "--train-val", "30", "--predict", "10")
    _run("train", proj, "--epochs", "1", "--batch", "8")  # the heatmap backend
    _run("predict", proj, "--subset", "predict")
    out = tmp_path / "export"
    _run("export", proj, out, "--format", "dlc")

    with Project.open(proj) as project, project.store.session() as session:
        cycle = latest_cycle(session)
        assert cycle is not None
        split_of = {m.frame_id: m.split for m in load_split_members(session, cycle.id)}
        manual = load_instances_by_frame(session, sources=["manual"])
        predicted = load_instances_by_frame(session, sources=["predicted"])
        _, listing = list_frames(
            session, animals=1, cycle_id=cycle.id, limit=1000, offset=0
        )
    assert len(manual) == N_LABELED
    assert {split_of[f] for f in manual} <= {"test", "trainval"}
    assert any(split_of[f] == "test" for f in manual)
    complete_rows = N_LABELED - len({row for row, _ in MISSING})
    status = {f.id: f.status for f in listing}
    assert sum(status[f] == "green" for f in manual) == complete_rows
    assert all(len(instances) <= 1 for instances in predicted.values())

    (exported,) = (out / "labeled-data").iterdir()
    assert exported.name == "arena"
    assert (exported / "CollectedData_Lab.csv").is_file()
    assert (exported / "CollectedData_Lab.h5").is_file()
    before, after = _label_table(labeled), _label_table(exported)
    assert before.keys() == after.keys()
    for name, values in before.items():
        np.testing.assert_allclose(after[name], values, atol=1e-6, equal_nan=True)
        assert sum(math.isnan(v) for v in values) == sum(
            math.isnan(v) for v in after[name]
        )
