"""`etholoop tracks import` on real files and a real store: sessions without video.

The real DeepLabCut, SLEAP and BORIS files come from `../shared/data`; the
movement netCDF is built with xarray the way movement lays it out and saves it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from etholoop.behavior_ranges import one_hot
from etholoop.errors import EtholoopError, FormatError
from etholoop.io.tracks import read_tracks, write_tracks
from etholoop.project import Project
from etholoop.sessions import get_session, load_session_tracks
from etholoop.store import list_videos
from etholoop.store.behaviors import load_behavior_ranges
from etholoop.store.session_tracks import imported_tracks_of
from etholoop.tracks_import import default_session_name, file_sha256, import_tracks
from etholoop.types import Skeleton, Tracks
from tests.fixtures.cli import run_cli

ETHOME = "ethome_two_mice_interaction"
ETHOME_POSE = (
    f"{ETHOME}/pose/e3v813a-20210610T122332-122642DLC_dlcrnetms5_pilot_study"
    "Sep24shuffle1_100000_el_filtered.csv"
)
ETHOME_BORIS = f"{ETHOME}/boris/e3v813a-20210610T122332-122642_reencode.csv"
ETHOME_SESSION = "e3v813a-20210610T122332-122642"
ETHOME_KEYPOINTS = "nose,leftear,rightear,neck,lefthip,righthip,tail"
OPENFIELD = f"{ETHOME}/openfield_predictions/openfield_dlc_inference_example.csv"
OPENFIELD_MAP = "snout=nose,leftear=earL,rightear=earR,tailbase=tailB"
FLIES = "sleap_two_flies_tracks/clip.predictions.slp"


def _init(root: Path, keypoints: str, *, animals: int = 2, behaviors: str = "") -> Path:
    args = ["init", root, "--animals", str(animals), "--keypoints", keypoints]
    code, out = run_cli(*args, *(["--behaviors", behaviors] if behaviors else []))
    assert code == 0, out
    return root


def _dlc_values(path: Path, n_individuals: int, n_keypoints: int) -> np.ndarray:
    """A DLC CSV's numbers, shape (frames, individuals, keypoints, [x, y, p])."""
    n_header = 4 if n_individuals > 1 else 3
    table = np.loadtxt(path, delimiter=",", skiprows=n_header, dtype=np.float64)
    return table[:, 1:].reshape(len(table), n_individuals, n_keypoints, 3)


def _imports(root: Path) -> tuple[list[tuple[str, str, int]], int, list[Path]]:
    """Sessions (path, kind, frames), imported rows and copies of a project."""
    with Project.open(root) as project, project.store.session() as session:
        videos = list_videos(session)
        sessions = [(v.path, v.kind, v.n_frames) for v in videos]
        n_rows = sum(len(imported_tracks_of(session, v.id)) for v in videos)
    folder = root / "tracks" / "imported"
    copies = sorted(folder.iterdir()) if folder.is_dir() else []
    return sessions, n_rows, copies


def _session_tracks(root: Path, name: str) -> tuple[Tracks, dict[str, object]]:
    """The tracks a session reads back, and its row's values."""
    with Project.open(root) as project, project.store.session() as session:
        video = get_session(session, project, name)
        tracks = load_session_tracks(session, project, video)
        row = {
            key: getattr(video, key)
            for key in ("kind", "fps", "n_frames", "width", "height", "sha256")
        }
        row |= {"codec": video.codec, "duration_s": video.duration_s}
    return tracks, row


def test_real_ethome_tracks_become_a_session_that_takes_boris_labels(
    shared_data: Path, tmp_path: Path
) -> None:
    root = _init(tmp_path / "proj", ETHOME_KEYPOINTS, behaviors="interact")
    pose = shared_data / ETHOME_POSE
    code, out = run_cli("tracks", "import", root, pose, "--fps", "30")
    assert code == 0, out
    assert "5700 frames of 2 animal(s) (0=adult, 1=juvenile)" in out
    assert f"new tracks-only session '{ETHOME_SESSION}'" in out
    tracks, row = _session_tracks(root, ETHOME_SESSION)
    values = _dlc_values(pose, 2, 7)
    assert row == {
        "kind": "tracks",
        "fps": 30.0,
        "n_frames": 5700,
        "width": int(np.ceil(values[..., 0].max())),
        "height": int(np.ceil(values[..., 1].max())),
        "sha256": file_sha256(pose),
        "codec": "",
        "duration_s": 190.0,
    }
    assert tracks.individuals == ("adult", "juvenile")
    assert tracks.skeleton.keypoints == tuple(ETHOME_KEYPOINTS.split(","))
    np.testing.assert_array_equal(tracks.xy, values[..., :2].astype(np.float32))
    # likelihoods are kept as scores, low ones included (cleaned at feature time)
    np.testing.assert_array_equal(tracks.scores, values[..., 2].astype(np.float32))
    assert tracks.scores.min() < 0.05
    _, n_rows, [copy] = _imports(root)
    assert n_rows == 1 and copy.name == f"{ETHOME_SESSION}-1-1.nc"

    adult = tracks.individuals.index("adult")
    code, out = run_cli(
        "behavior", "import", root, shared_data / ETHOME_BORIS,
        "--session", ETHOME_SESSION, "--format", "boris", "--animal", f"adult={adult}",
    )  # fmt: skip
    assert code == 0, out
    with Project.open(root) as project, project.store.session() as session:
        ranges = load_behavior_ranges(session, 1)
    labels = one_hot(ranges, ["interact"], n_frames=5700, individual=adult)
    assert int(labels.sum()) == 662


def test_single_animal_dlc_csv_and_h5_with_a_keypoint_map(
    shared_data: Path, tmp_path: Path
) -> None:
    import pandas as pd

    root = _init(tmp_path / "proj", "nose,earL,earR,tailB,tailtip")
    csv = shared_data / OPENFIELD
    # as DeepLabCut writes a video's predictions: <video stem>DLC_<scorer>.h5
    h5 = tmp_path / "mouse7DLC_resnet50_openfieldOct30shuffle1_6000.h5"
    table = pd.read_csv(csv, header=[0, 1, 2], index_col=0)
    table.to_hdf(h5, key="df_with_missing", format="table", mode="w")
    values = _dlc_values(csv, 1, 4)
    for file, name in ((csv, csv.stem), (h5, "mouse7")):
        args = ("tracks", "import", root, file, "--keypoint-map", OPENFIELD_MAP)
        code, out = run_cli(*args)
        assert code == 0, out
        assert f"session '{name}'" in out and "lacks: ['tailtip']" in out
        tracks, row = _session_tracks(root, name)
        assert row["fps"] is None and row["duration_s"] is None
        assert row["n_frames"] == len(values) == 2330
        assert tracks.individuals == ("individual_0",)
        np.testing.assert_array_equal(
            tracks.xy[:, :, :4], values[..., :2].astype(np.float32)
        )
        np.testing.assert_array_equal(
            tracks.scores[:, :, :4], values[..., 2].astype(np.float32)
        )
        assert np.isnan(tracks.xy[:, :, 4]).all()
        assert np.isnan(tracks.scores[:, :, 4]).all()


def test_sleap_predictions(shared_data: Path, tmp_path: Path) -> None:
    root = _init(tmp_path / "proj", "abdomen,thorax,head")
    with Project.open(root) as project:
        result = import_tracks(project, shared_data / FLIES, fps=150)
    assert (result.session, result.new_session) == ("clip.predictions", True)
    assert result.keypoints == ("thorax", "head")
    assert result.missing_keypoints == ("abdomen",)
    assert result.individuals == ("female", "male")
    original = read_tracks(shared_data / FLIES)  # head, thorax
    tracks, row = _session_tracks(root, "clip.predictions")
    assert row["n_frames"] == original.n_frames == 1500 and row["fps"] == 150
    np.testing.assert_array_equal(tracks.xy[:, :, [2, 1]], original.xy)
    np.testing.assert_array_equal(tracks.scores[:, :, [2, 1]], original.scores)
    assert np.isnan(tracks.xy[:, :, 0]).all()


def _movement_netcdf(path: Path, rng: np.random.Generator) -> np.ndarray:
    """A poses netCDF laid out and saved as movement does; returns its positions.

    Positions are (time, space, keypoints, individuals), float32 as movement's
    DeepLabCut loader gives them; times in s; the attributes movement sets.
    """
    import xarray as xr

    n, fps = 12, 25.0
    position = rng.uniform(0, 200, (n, 2, 3, 2)).astype(np.float32)
    position[4, :, 1, 0] = np.nan
    confidence = rng.uniform(0, 1, (n, 3, 2)).astype(np.float32)
    confidence[4, 1, 0] = np.nan
    ds = xr.Dataset(
        data_vars={
            "position": (("time", "space", "keypoints", "individuals"), position),
            "confidence": (("time", "keypoints", "individuals"), confidence),
        },
        coords={
            "time": np.arange(n) / fps,
            "space": ["x", "y"],
            "keypoints": ["tail", "snout", "neck"],
            "individuals": ["mouse_a", "mouse_b"],
        },
        attrs={
            "fps": fps,
            "time_unit": "seconds",
            "source_software": "DeepLabCut",
            "source_file": "/data/session1DLC_resnet50.h5",
            "ds_type": "poses",
        },
    )
    ds.to_netcdf(path)
    return position


def test_movement_netcdf(tmp_path: Path, rng: np.random.Generator) -> None:
    root = _init(tmp_path / "proj", "nose,neck,tail")
    nc = tmp_path / "session1.nc"
    position = _movement_netcdf(nc, rng)
    code, out = run_cli(
        "tracks", "import", root, nc, "--keypoint-map", "snout=nose", "--fps", "25"
    )
    assert code == 0, out
    tracks, row = _session_tracks(root, "session1")
    assert tracks.individuals == ("mouse_a", "mouse_b")
    # movement's (time, space, keypoints, individuals) in the project's order
    expected = position.transpose(0, 3, 2, 1)[:, :, [1, 2, 0]]
    np.testing.assert_array_equal(tracks.xy, expected)
    assert np.isnan(tracks.scores[4, 0, 0]) and not np.isnan(tracks.scores).all()
    assert row["n_frames"] == 12 and row["fps"] == 25


def test_default_session_name_cuts_deeplabcut_scorers() -> None:
    assert default_session_name(Path("v1DLC_resnet50_xShuffle1_500.csv")) == "v1"
    assert default_session_name(Path("a/clip.predictions.slp")) == "clip.predictions"
    assert default_session_name(Path("DLC_only.h5")) == "DLC_only"


def _tracks(n_frames: int, keypoints: list[str], n_individuals: int = 2) -> Tracks:
    rng = np.random.default_rng(1)
    shape = (n_frames, n_individuals, len(keypoints))
    return Tracks(
        rng.uniform(0, 60, (*shape, 2)).astype(np.float32),
        rng.uniform(0, 1, shape).astype(np.float32),
        [f"animal{i}" for i in range(n_individuals)],
        Skeleton(keypoints),
    )


@pytest.fixture
def video_project(tmp_path: Path, make_video: Callable[..., Path]) -> Path:
    """Two animals (nose, tail), behavior walk, one 48-frame 25 fps video."""
    root = _init(tmp_path / "proj", "nose,tail", behaviors="walk")
    code, out = run_cli("add-videos", root, make_video("behaviors.mp4"))
    assert code == 0, out
    return root


def test_tracks_attach_to_a_video_of_the_project(
    video_project: Path, tmp_path: Path
) -> None:
    short = write_tracks(_tracks(40, ["tail", "nose"]), tmp_path / "t.nc", "nc")
    for _ in range(2):  # a second import is the newest tracks of the video
        code, out = run_cli(
            "tracks", "import", video_project, short,
            "--session", "behaviors", "--fps", "25",
        )  # fmt: skip
        assert code == 0, out
        assert "onto session 'behaviors' (video 1)" in out
    sessions, n_rows, copies = _imports(video_project)
    assert [(Path(p).name, k, n) for p, k, n in sessions] == [
        ("behaviors.mp4", "file", 48)
    ]  # no new session
    assert n_rows == 2
    assert [c.name for c in copies] == ["behaviors-1-1.nc", "behaviors-1-2.nc"]
    tracks, _ = _session_tracks(video_project, "behaviors.mp4")
    assert tracks.n_frames == 48 and np.isnan(tracks.xy[40:]).all()  # padded
    np.testing.assert_array_equal(tracks.xy[:40], read_tracks(short).xy[:, :, [1, 0]])
    with Project.open(video_project) as project, project.store.session() as session:
        stored = imported_tracks_of(session, 1)[0]
        assert stored.path == "tracks/imported/behaviors-1-2.nc"
        assert stored.source_path == str(short.resolve())


def _bad_inputs(root: Path, tmp: Path) -> dict[str, tuple[list[str | Path], str]]:
    """Command arguments that must fail, and what the message says."""
    ok = write_tracks(_tracks(20, ["nose", "tail"]), tmp / "ok.nc", "nc")
    assert run_cli("tracks", "import", root, ok)[0] == 0  # session "ok", 20 frames
    unknown = write_tracks(_tracks(20, ["nose", "paw"]), tmp / "paw.nc", "nc")
    crowd = write_tracks(_tracks(20, ["nose"], 3), tmp / "crowd.nc", "nc")
    long = write_tracks(_tracks(60, ["nose"]), tmp / "long.nc", "nc")
    odd = tmp / "tracks.json"
    odd.write_text("{}")
    return {
        "unknown keypoint": (
            [unknown],
            r"keypoints \['paw'\] are not the project's \(\['nose', 'tail'\]\); "
            "map them with --keypoint-map a=b",
        ),
        "map of a keypoint the file lacks": (
            [ok, "--keypoint-map", "snout=nose"],
            r"--keypoint-map names keypoints \['snout'\] the file lacks",
        ),
        "too many individuals": ([crowd], r"3 individuals .* has 2 animal"),
        "more frames than the video": (
            [long, "--session", "behaviors"],
            "60 frames of tracks, but session 'behaviors' has 48",
        ),
        "fps of another video": (
            [ok, "--session", "behaviors", "--fps", "30"],
            "--fps 30 differs from the 25 fps of session 'behaviors'",
        ),
        "unknown suffix": ([odd], r"unknown track file suffix '\.json'"),
        "same file twice as a new session": (
            [ok, "--session", "again"],
            "already imported as session 'ok'; pass --session ok",
        ),
        "default name taken": ([ok], "has a session named 'ok'"),
        "a path as a new session's name": (
            [ok, "--session", "a/b"],
            "'a/b' cannot name a session",
        ),
    }


def test_bad_input_is_one_line_and_writes_nothing(
    video_project: Path, tmp_path: Path
) -> None:
    import re

    cases = _bad_inputs(video_project, tmp_path)
    before = _imports(video_project)
    assert len(before[0]) == 2 and before[1] == 1
    for case, (args, message) in cases.items():
        code, out = run_cli("tracks", "import", video_project, *args)
        assert code == 1, (case, out)
        assert re.search(message, out) and "\n" not in out.strip(), (case, out)
        assert _imports(video_project) == before, case


def test_cli_error_exits_1_with_one_line(video_project: Path, tmp_path: Path) -> None:
    bad = write_tracks(_tracks(5, ["nose", "paw"]), tmp_path / "paw.nc", "nc")
    done = subprocess.run(
        [sys.executable, "-m", "etholoop.cli", "tracks", "import", video_project, bad],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1
    assert "paw" in done.stderr


def test_a_failed_write_leaves_no_row_and_no_file(
    video_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import etholoop.tracks_import as module

    def broken(*args: object, **kwargs: object) -> None:
        raise module.ProjectError("disk full")

    # the copy is written, then recording its path fails: the copy goes again
    monkeypatch.setattr(module, "set_imported_tracks_path", broken)
    ok = write_tracks(_tracks(20, ["nose", "tail"]), tmp_path / "ok.nc", "nc")
    before = _imports(video_project)
    with Project.open(video_project) as project, pytest.raises(EtholoopError):
        import_tracks(project, ok)
    assert _imports(video_project) == before
    assert not list((video_project / "tracks" / "imported").glob("*"))


def test_python_errors_name_the_file(video_project: Path, tmp_path: Path) -> None:
    unknown = write_tracks(_tracks(5, ["nose", "paw"]), tmp_path / "paw.nc", "nc")
    with (
        Project.open(video_project) as project,
        pytest.raises(FormatError, match=r"paw\.nc: keypoints"),
    ):
        import_tracks(project, unknown)


def test_other_stages_leave_tracks_sessions_alone(
    video_project: Path, tmp_path: Path
) -> None:
    from etholoop.ingest import preprocess_videos
    from etholoop.sampling import sample_frames
    from etholoop.video.preprocess import PreprocessParams

    ok = write_tracks(_tracks(20, ["nose", "tail"]), tmp_path / "ok.nc", "nc")
    assert run_cli("tracks", "import", video_project, ok, "--fps", "25")[0] == 0
    with Project.open(video_project) as project:
        sampled = sample_frames(project, n=4, strategy="uniform")
        done = preprocess_videos(project, PreprocessParams(size=32))
        with project.store.session() as session:
            kinds = {v.id: v.kind for v in list_videos(session)}
    assert kinds[2] == "tracks" and sampled.n_added == 4
    assert done.written == [3] and not done.failed  # the copy of video 1 only
    code, out = run_cli("status", video_project, "--json")
    assert code == 0, out
    tracks = [v for v in json.loads(out)["videos"] if v["kind"] == "tracks"]
    assert [(v["path"], v["frames"], v["fps"]) for v in tracks] == [("ok", 20, 25.0)]
    code, out = run_cli("sample", video_project, "--n", "8", "--strategy", "uniform")
    assert code == 0, out
    with Project.open(video_project) as project, project.store.session() as session:
        assert {v.id for v in list_videos(session, normalized=True)} == {3}


def test_copies_live_in_the_project(video_project: Path, tmp_path: Path) -> None:
    ok = tmp_path / "x" / "ok.nc"
    write_tracks(_tracks(20, ["nose", "tail"]), ok, "nc")
    assert run_cli("tracks", "import", video_project, ok)[0] == 0
    ok.unlink()  # the source may go: the session reads the project's copy
    tracks, _ = _session_tracks(video_project, "ok")
    assert tracks.n_frames == 20
