"""Track files: every format round-trips `Tracks`, and real SLEAP files read."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from etholoop.errors import FormatError
from etholoop.io import save_labels
from etholoop.io.tracks import (
    TRACK_FORMATS,
    TRACK_SUFFIXES,
    labels_to_tracks,
    read_tracks,
    tracks_to_labels,
    write_tracks,
)
from etholoop.synth import ArenaSpec, make_arena
from etholoop.types import FrameLabels, Instance, LabelSet, Skeleton, Tracks, VideoRef

CLIP = "sleap_two_flies_tracks/clip.slp"
PREDICTIONS = "sleap_two_flies_tracks/clip.predictions.slp"


@pytest.fixture
def tracks(rng: np.random.Generator) -> Tracks:
    """Two named mice over 30 frames of a synthetic arena, with holes.

    Random scores; frame 5 lacks "female" entirely, frame 7 one keypoint of
    "male", and the last frame has no animal at all (so the frame count must
    come from the file, not from its last instance).
    """
    arena = make_arena(ArenaSpec(n_animals=2, n_frames=30, width=160, height=120))
    xy = arena.tracks.xy.copy()
    xy += rng.random(xy.shape).astype(np.float32)  # fractional px
    xy[5, 0] = np.nan
    xy[7, 1, 2] = np.nan
    xy[-1] = np.nan
    scores = rng.random(xy.shape[:-1]).astype(np.float32)
    return Tracks(xy, scores, ("female", "male"), arena.tracks.skeleton)


def assert_same_tracks(back: Tracks, tracks: Tracks) -> None:
    """Same names, keypoints, frames and coordinates; scores where present."""
    assert back.individuals == tracks.individuals
    assert back.skeleton.keypoints == tracks.skeleton.keypoints
    assert back.xy.shape == tracks.xy.shape
    assert back.xy.dtype == np.float32
    np.testing.assert_allclose(back.xy, tracks.xy, rtol=0, atol=1e-6)
    present = np.isfinite(tracks.xy).all(axis=-1)
    np.testing.assert_allclose(
        back.scores[present], tracks.scores[present], rtol=0, atol=1e-6
    )
    assert np.isnan(back.scores[~present]).all()


@pytest.mark.parametrize("fmt", TRACK_FORMATS)
def test_round_trip(fmt: str, tracks: Tracks, tmp_path: Path) -> None:
    path = tmp_path / f"tracks{TRACK_SUFFIXES[fmt]}"  # type: ignore[index]
    assert write_tracks(tracks, path, fmt, video_path="arena.mp4", fps=30.0) == path
    assert_same_tracks(read_tracks(path), tracks)
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no .partial


@pytest.mark.parametrize("fmt", ["slp", "nc", "nwb"])
def test_skeleton_edges_travel(fmt: str, tracks: Tracks, tmp_path: Path) -> None:
    path = write_tracks(tracks, tmp_path / f"t.{fmt}", fmt)
    assert read_tracks(path).skeleton.edges == tracks.skeleton.edges


def test_slp_opens_in_sleap_io(tracks: Tracks, tmp_path: Path) -> None:
    import sleap_io as sio

    path = write_tracks(tracks, tmp_path / "t.slp", "slp", video_path="arena.mp4")
    labels = sio.load_slp(str(path), open_videos=False)
    assert [t.name for t in labels.tracks] == ["female", "male"]
    assert labels.videos[0].filename == "arena.mp4"
    by_frame = {lf.frame_idx: lf for lf in labels.labeled_frames}
    assert set(by_frame) == set(range(tracks.n_frames - 1))  # the last is empty
    assert [i.track.name for i in by_frame[5].instances] == ["male"]
    for t, lf in by_frame.items():
        for inst in lf.instances:
            assert isinstance(inst, sio.PredictedInstance)
            i = tracks.individuals.index(inst.track.name)
            np.testing.assert_allclose(inst.numpy(), tracks.xy[t, i], rtol=0, atol=1e-6)
            present = np.isfinite(tracks.xy[t, i]).all(axis=1)
            np.testing.assert_allclose(
                inst.points["score"][present], tracks.scores[t, i][present], atol=1e-6
            )


def test_slp_rows_are_what_sleap_io_writes(tracks: Tracks, tmp_path: Path) -> None:
    """The array-built rows equal sleap-io's own writer's for the same labels."""
    import h5py
    import sleap_io as sio

    from etholoop.io.sleap_bridge import to_sleap

    ours = write_tracks(tracks, tmp_path / "ours.slp", "slp", video_path="arena.mp4")
    theirs = tmp_path / "theirs.slp"
    sio.save_slp(to_sleap(tracks_to_labels(tracks, "arena.mp4")), str(theirs))
    with h5py.File(ours) as a, h5py.File(theirs) as b:
        assert a["metadata"].attrs["format_id"] == b["metadata"].attrs["format_id"]
        for name in ("frames", "instances", "pred_points", "points"):
            mine, ref = a[name][:], b[name][:]
            assert mine.dtype == ref.dtype and mine.shape == ref.shape, name
            for field in ref.dtype.names:
                np.testing.assert_array_equal(mine[field], ref[field], err_msg=field)


def test_nc_has_movement_layout(tracks: Tracks, tmp_path: Path) -> None:
    import xarray as xr

    path = write_tracks(tracks, tmp_path / "t.nc", "nc", video_path="a.mp4", fps=25.0)
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        assert ds["position"].dims == ("time", "space", "keypoints", "individuals")
        assert ds["confidence"].dims == ("time", "keypoints", "individuals")
        assert ds["position"].dtype == np.float64
        assert list(ds["space"].values) == ["x", "y"]
        assert list(ds["individuals"].values) == ["female", "male"]
        assert list(ds["keypoints"].values) == list(tracks.skeleton.keypoints)
        np.testing.assert_allclose(ds["time"].values, np.arange(30) / 25.0)
        assert ds.attrs["fps"] == 25.0
        assert ds.attrs["source_software"] == "etholoop"
        assert ds.attrs["source_file"] == "a.mp4"
        assert ds.attrs["ds_type"] == "poses"
        x_male_nose = ds["position"].sel(space="x", individuals="male").values[:, 0]
    np.testing.assert_array_equal(x_male_nose, tracks.xy[:, 1, 0, 0])


def test_nc_without_fps_counts_frames(tracks: Tracks, tmp_path: Path) -> None:
    import xarray as xr

    path = write_tracks(tracks, tmp_path / "t.nc", "nc")
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        np.testing.assert_array_equal(ds["time"].values, np.arange(30))
        assert "fps" not in ds.attrs


def test_csv_is_a_multi_animal_dlc_table(tracks: Tracks, tmp_path: Path) -> None:
    path = write_tracks(tracks, tmp_path / "t.csv", "csv")
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    assert [r[0] for r in rows[:4]] == ["scorer", "individuals", "bodyparts", "coords"]
    n_k = tracks.skeleton.n_keypoints
    assert rows[1][1:] == ["female"] * 3 * n_k + ["male"] * 3 * n_k
    assert rows[3][1:4] == ["x", "y", "likelihood"]
    assert [r[0] for r in rows[4:]] == [str(t) for t in range(30)]
    assert float(rows[4][1]) == tracks.xy[0, 0, 0, 0]
    assert set(rows[-1][1:]) == {""}  # the empty last frame


def test_write_unknown_format(tracks: Tracks, tmp_path: Path) -> None:
    with pytest.raises(FormatError, match=r"t\.txt: unknown track format 'txt'"):
        write_tracks(tracks, tmp_path / "t.txt", "txt")
    assert not list(tmp_path.iterdir())


def test_nwb_names_that_clash(tmp_path: Path) -> None:
    skeleton = Skeleton(("a",))
    tracks = Tracks(
        np.zeros((2, 2, 1, 2), np.float32),
        np.ones((2, 2, 1), np.float32),
        ("a/b", "a:b"),
        skeleton,
    )
    with pytest.raises(FormatError, match="repeat as NWB names"):
        write_tracks(tracks, tmp_path / "t.nwb", "nwb")
    assert not list(tmp_path.iterdir())


def _labels(instances: list[Instance], tracks: tuple[str, ...]) -> LabelSet:
    return LabelSet(
        skeleton=Skeleton(("head", "tail")),
        videos=[VideoRef("v.mp4")],
        frames=[FrameLabels(0, 2, instances)],
        tracks=tracks,
    )


def test_labels_to_tracks_prefers_manual_and_drops_untracked() -> None:
    predicted = Instance(
        keypoints=[[1.0, 1.0], [2.0, 2.0]],
        keypoint_scores=[0.5, 0.25],
        source="predicted",
        track_id=0,
    )
    manual = Instance(keypoints=[[5.0, 5.0], [np.nan, np.nan]], track_id=0)
    untracked = Instance(keypoints=[[9.0, 9.0], [9.0, 9.0]])
    other = Instance(keypoints=[[3.0, 3.0], [4.0, 4.0]], source="predicted", track_id=1)
    labels = _labels([predicted, manual, untracked, other], ("female", "male"))
    tracks = labels_to_tracks(labels, n_frames=4)
    assert tracks.individuals == ("female", "male")
    assert tracks.xy.shape == (4, 2, 2, 2)
    np.testing.assert_array_equal(tracks.xy[2, 0], [[5.0, 5.0], [np.nan, np.nan]])
    np.testing.assert_array_equal(tracks.scores[2, 0], [1.0, np.nan])
    np.testing.assert_array_equal(tracks.xy[2, 1], [[3.0, 3.0], [4.0, 4.0]])
    assert np.isnan(tracks.scores[2, 1]).all()  # predicted without scores
    assert np.isnan(tracks.xy[[0, 1, 3]]).all()
    with pytest.raises(ValueError, match="frame 2 is labeled, but the video has 2"):
        labels_to_tracks(labels, n_frames=2)


def test_tracks_to_labels_skips_missing_animals(tracks: Tracks) -> None:
    labels = tracks_to_labels(tracks, "arena.mp4")
    assert labels.tracks == ("female", "male")
    assert [f.frame_idx for f in labels.frames] == list(range(29))
    assert [i.track_id for i in labels.frames[5].instances] == [1]
    inst = labels.frames[7].instances[1]
    assert inst.source == "predicted"
    assert inst.visibility.tolist() == [2, 2, 0, 2]
    assert inst.box_score == pytest.approx(np.mean(tracks.scores[7, 1, [0, 1, 3]]))


def test_read_errors(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match=r"nope\.slp: no such file"):
        read_tracks(tmp_path / "nope.slp")
    (tmp_path / "t.json").write_text("{}")
    with pytest.raises(FormatError, match=r"t\.json: unknown track file suffix"):
        read_tracks(tmp_path / "t.json")
    (tmp_path / "t.nc").write_bytes(b"not a netCDF")
    with pytest.raises(FormatError, match=r"t\.nc: cannot read poses netCDF"):
        read_tracks(tmp_path / "t.nc")
    (tmp_path / "t.nwb").write_bytes(b"not HDF5")
    with pytest.raises(FormatError, match=r"t\.nwb: not an NWB file"):
        read_tracks(tmp_path / "t.nwb")


def test_read_a_file_without_tracks(tmp_path: Path) -> None:
    untracked = _labels([Instance(keypoints=[[1.0, 2.0], [3.0, 4.0]])], ())
    save_labels(untracked, tmp_path / "u.slp", "slp")
    with pytest.raises(FormatError, match=r"u\.slp: no tracks in the file"):
        read_tracks(tmp_path / "u.slp")


def test_read_a_labeled_data_csv(tmp_path: Path) -> None:
    path = tmp_path / "CollectedData_me.csv"
    path.write_text(
        "scorer,me,me\nbodyparts,nose,nose\ncoords,x,y\n"
        "labeled-data/v/img0.png,1.0,2.0\n"
    )
    with pytest.raises(FormatError, match="rows are not frame numbers"):
        read_tracks(path)


def test_read_a_single_animal_dlc_table(tmp_path: Path) -> None:
    path = tmp_path / "vDLC_resnet50.csv"
    path.write_text(
        "scorer,s,s,s,s,s,s\nbodyparts,nose,nose,nose,tail,tail,tail\n"
        "coords,x,y,likelihood,x,y,likelihood\n"
        "0,1.5,2.5,0.9,3.0,4.0,0.8\n1,,,0.1,5.0,6.0,0.7\n"
    )
    tracks = read_tracks(path)
    assert tracks.individuals == ("individual_0",)
    assert tracks.skeleton.keypoints == ("nose", "tail")
    np.testing.assert_array_equal(
        tracks.xy[:, 0], [[[1.5, 2.5], [3.0, 4.0]], [[np.nan, np.nan], [5.0, 6.0]]]
    )
    np.testing.assert_allclose(tracks.scores[:, 0], [[0.9, 0.8], [np.nan, 0.7]])


def test_real_sleap_ground_truth(shared_data: Path) -> None:
    tracks = read_tracks(shared_data / CLIP)
    assert tracks.individuals == ("female", "male")
    assert tracks.xy.shape == (1500, 2, 13, 2)
    assert tracks.skeleton.keypoints[:2] == ("head", "thorax")
    found = np.isfinite(tracks.xy).all(axis=-1)
    assert found.any(axis=2).all()  # both flies in every frame
    assert (tracks.scores[found] == 1.0).all()


def test_real_sleap_predictions(shared_data: Path) -> None:
    tracks = read_tracks(shared_data / PREDICTIONS)
    assert tracks.individuals == ("female", "male")
    assert tracks.xy.shape == (1500, 2, 2, 2)
    found = np.isfinite(tracks.xy).all(axis=-1).any(axis=2)
    assert found.sum(axis=0).tolist() == [1500, 1448]
    import sleap_io as sio

    first = sio.load_slp(str(shared_data / PREDICTIONS), open_videos=False)[0]
    for inst in first.instances:
        i = tracks.individuals.index(inst.track.name)
        np.testing.assert_allclose(tracks.xy[first.frame_idx, i], inst.numpy())
        np.testing.assert_allclose(
            tracks.scores[first.frame_idx, i], inst.points["score"], rtol=1e-6
        )


@pytest.mark.parametrize("fmt", TRACK_FORMATS)
def test_real_clip_round_trips(fmt: str, shared_data: Path, tmp_path: Path) -> None:
    tracks = read_tracks(shared_data / CLIP)
    path = tmp_path / f"clip{TRACK_SUFFIXES[fmt]}"  # type: ignore[index]
    write_tracks(tracks, path, fmt, video_path=str(shared_data / CLIP), fps=150.0)
    assert_same_tracks(read_tracks(path), tracks)
