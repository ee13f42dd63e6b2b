from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import av
import numpy as np
import pandas as pd
import pytest

from etholoop.synth import make_arena, write_arena

SMALL = {"width": 320, "height": 240, "n_frames": 45, "fps": 15.0, "min_contacts": 1}


def _decode(path: Path, fmt: str) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format=fmt) for f in container.decode(video=0)]


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """One small arena written twice with the same seed, once with another seed."""
    root = tmp_path_factory.mktemp("synth")
    arena = make_arena(**SMALL, seed=11)
    first = write_arena(arena, root / "first")
    again = write_arena(make_arena(**SMALL, seed=11), root / "again")
    other = write_arena(make_arena(**SMALL, seed=12), root / "other")
    return arena, first, again, other


def test_writes_every_file_beside_the_video(written):
    _, paths, _, _ = written
    assert set(paths) == {"video", "truth", "behaviors", "contacts", "labels"}
    assert {p.name for p in paths.values()} == {
        "arena.mp4",
        "truth.npz",
        "behaviors.csv",
        "contacts.csv",
        "arena.slp",
    }
    assert all(
        p.is_file() and p.parent == paths["video"].parent for p in paths.values()
    )
    assert not list(paths["video"].parent.glob("*.partial"))


def test_video_has_every_frame_at_the_right_size_and_rate(written):
    arena, paths, _, _ = written
    with av.open(str(paths["video"])) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (320, 240)
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert float(stream.average_rate) == pytest.approx(15.0)
        frames = list(container.decode(stream))
    assert len(frames) == arena.n_frames
    assert [f.key_frame for f in frames].count(True) == 3  # one keyframe a second


def test_decoded_frames_match_the_rendered_ones(written):
    arena, paths, _, _ = written
    decoded = _decode(paths["video"], "rgb24")
    for t in (0, 20, 44):
        error = np.abs(decoded[t].astype(int) - arena.render(t).astype(int))
        assert error.mean() < 3


def test_gray_video_keeps_the_gray_levels(tmp_path):
    arena = make_arena(width=160, height=120, n_frames=10, gray=True)
    paths = write_arena(arena, tmp_path)
    decoded = _decode(paths["video"], "gray")
    error = np.abs(decoded[5].astype(int) - arena.render(5).astype(int))
    assert error.mean() < 3


def test_truth_npz_holds_the_ground_truth(written):
    arena, paths, _, _ = written
    with np.load(paths["truth"]) as truth:
        np.testing.assert_array_equal(truth["xy"], arena.tracks.xy)
        np.testing.assert_array_equal(truth["visibility"], arena.visibility)
        np.testing.assert_array_equal(truth["boxes"], arena.boxes)
        np.testing.assert_array_equal(
            truth["behavior"], arena.ethogram.values.argmax(-1)
        )
        assert truth["keypoints"].tolist() == ["nose", "earL", "earR", "tailB"]
        assert truth["individuals"].tolist() == ["mouse0", "mouse1", "mouse2"]
        assert truth["behaviors"].tolist() == list(arena.spec.behaviors)
        assert truth["edges"].tolist() == [list(e) for e in arena.tracks.skeleton.edges]
        assert float(truth["fps"]) == 15.0
        assert truth["size"].tolist() == [320, 240]
        expected = [[c.start, c.stop, *c.individuals] for c in arena.contacts]
        assert truth["contacts"].tolist() == expected
        assert len(truth["contact_min_distance"]) == len(arena.contacts)


def test_behavior_csv_has_one_row_per_frame_and_animal(written):
    arena, paths, _, _ = written
    table = pd.read_csv(paths["behaviors"])
    assert list(table.columns) == ["frame", "individual", "behavior"]
    assert len(table) == arena.n_frames * 3
    assert table["frame"].tolist()[:6] == [0, 0, 0, 1, 1, 1]
    assert table["individual"].tolist()[:3] == ["mouse0", "mouse1", "mouse2"]
    names = np.array(arena.spec.behaviors)[arena.ethogram.values.argmax(-1)]
    assert table["behavior"].tolist() == names.ravel().tolist()


def test_contacts_csv_lists_each_event(written):
    arena, paths, _, _ = written
    table = pd.read_csv(paths["contacts"])
    assert list(table.columns) == [
        "start",
        "stop",
        "individual_a",
        "individual_b",
        "min_distance",
    ]
    assert len(table) == len(arena.contacts) >= 1
    first = arena.contacts[0]
    row = table.iloc[0]
    assert (row["start"], row["stop"]) == (first.start, first.stop)
    assert row["individual_a"] == f"mouse{first.individuals[0]}"
    assert row["min_distance"] == pytest.approx(first.min_distance, abs=1e-3)


def test_same_seed_writes_the_same_files(written):
    _, first, again, other = written
    for key in ("behaviors", "contacts"):
        assert first[key].read_bytes() == again[key].read_bytes()
    with np.load(first["truth"]) as a, np.load(again["truth"]) as b:
        assert a.files == b.files
        for name in a.files:
            np.testing.assert_array_equal(a[name], b[name])
    same = _decode(first["video"], "rgb24")
    for x, y in zip(same, _decode(again["video"], "rgb24"), strict=True):
        np.testing.assert_array_equal(x, y)
    assert first["behaviors"].read_bytes() != other["behaviors"].read_bytes()
    assert not np.array_equal(same[0], _decode(other["video"], "rgb24")[0])


def test_progress_counts_every_frame(tmp_path):
    seen: list[tuple[str, int | None, int]] = []

    @contextmanager
    def reporter(description, total):
        counted = [0]

        def advance(n):
            counted[0] += n

        yield advance
        seen.append((description, total, counted[0]))

    write_arena(
        make_arena(width=160, height=120, n_frames=70), tmp_path, progress=reporter
    )
    assert seen == [("synthesizing video", 70, 70)]


def test_a_failed_write_leaves_no_video(tmp_path):
    @contextmanager
    def reporter(description, total):
        def advance(n):
            raise KeyboardInterrupt

        yield advance

    arena = make_arena(width=160, height=120, n_frames=100)
    with pytest.raises(KeyboardInterrupt):
        write_arena(arena, tmp_path, progress=reporter)
    assert list(tmp_path.iterdir()) == []


def test_slp_round_trip(written):
    """The SLEAP file reads back through `etholoop.io` (written by the io package)."""
    from etholoop.io import load_labels

    arena, paths, _, _ = written
    labels = load_labels(paths["labels"])
    assert Path(labels.videos[0].path).resolve() == paths["video"].resolve()
    assert labels.tracks == ("mouse0", "mouse1", "mouse2")
    assert labels.skeleton.keypoints == arena.tracks.skeleton.keypoints
    assert len(labels.frames) == arena.n_frames
    for frame in labels.frames:
        t = frame.frame_idx
        by_track = {inst.track_id: inst for inst in frame.instances}
        assert sorted(by_track) == [0, 1, 2]
        for i, inst in by_track.items():
            np.testing.assert_allclose(inst.keypoints, arena.tracks.xy[t, i], atol=1e-4)
            np.testing.assert_array_equal(inst.visibility, arena.visibility[t, i])


def test_a_render_error_stops_the_write(tmp_path):
    import attrs

    arena = make_arena(width=160, height=120, n_frames=100)
    painter = attrs.evolve(arena.painter, noise=arena.painter.noise[:40])
    broken = attrs.evolve(arena, painter=painter)  # frame 40 has no noise
    with pytest.raises(IndexError):
        write_arena(broken, tmp_path)
    assert list(tmp_path.iterdir()) == []
