"""Labels follow their video: labels on a raw video move onto its normalized copy.

The raw video is a synthetic one whose frames show their own number, so a test
can check that copy frame k really shows the raw frame whose labels it got; the
labels are random keypoints written to a file by `etholoop.io`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from etholoop.cli import app
from etholoop.config import ProjectConfig, SkeletonConfig, StoreConfig
from etholoop.ingest import add_videos, preprocess_videos
from etholoop.io import save_labels
from etholoop.label_files import import_labels
from etholoop.project import Project
from etholoop.sampling import sample_frames, split_frames
from etholoop.store import (
    Frame,
    SplitMember,
    Video,
    add_frame_instances,
    get_or_add_cycle,
    get_or_add_frame,
    load_frame_instances,
    replace_split_members,
)
from etholoop.store.splits import Membership
from etholoop.synth import make_arena, write_arena
from etholoop.types import FrameLabels, Instance, LabelSet, VideoRef
from etholoop.video import PreprocessParams, open_video
from etholoop.video.preprocess import plan_output_size, plan_source_frames
from tests.fixtures.videos import WriteVideo, decode_frame_number

SKELETON = SkeletonConfig(keypoints=["nose", "earL", "earR", "tailB"])
CONFIG = ProjectConfig(name="p", animals=2, skeleton=SKELETON)
N_RAW, RAW_FPS, RAW_W, RAW_H = 48, 24, 96, 64
# 10 fps from 0.5 s: raw frames 12, 14, 16, 19, ... are shown, the others are not;
# longest side 40 px: 40 x 26, scaled by (40 / 96, 26 / 64).
PARAMS = PreprocessParams(fps=10, size=40, start_s=0.5)
TOL = 1e-6

Truth = dict[int, np.ndarray]  # raw frame -> keypoints (individuals, keypoints, 2)


def _random_labels(video: Path, rng: np.random.Generator) -> tuple[LabelSet, Truth]:
    """Two tracked animals on every raw frame; some keypoints unlabeled."""
    truth: Truth = {}
    frames = []
    for frame_idx in range(N_RAW):
        xy = rng.uniform((0, 0), (RAW_W, RAW_H), size=(2, 4, 2))
        xy[rng.random((2, 4)) < 0.2] = np.nan
        xy[:, 0] = rng.uniform((0, 0), (RAW_W, RAW_H), size=(2, 2))  # one labeled
        truth[frame_idx] = xy
        instances = [Instance(keypoints=xy[i], track_id=i) for i in range(2)]
        frames.append(FrameLabels(0, frame_idx, instances))
    skeleton = CONFIG.skeleton.to_skeleton()
    return LabelSet(skeleton, [VideoRef(str(video))], frames, ("m1", "m2")), truth


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def config(request: pytest.FixtureRequest) -> ProjectConfig:
    """The project's config, its store in SQLite or in PostgreSQL."""
    if request.param == "sqlite":
        return CONFIG
    url = request.getfixturevalue("postgres_url")
    return CONFIG.model_copy(update={"store": StoreConfig(url=url)})


@pytest.fixture
def raw_video(tmp_path: Path, make_video: WriteVideo) -> Path:
    """The synthetic raw video, in a folder of its own (label files go beside it)."""
    src = make_video(
        "follow.mp4", n_frames=N_RAW, fps=RAW_FPS, width=RAW_W, height=RAW_H
    )
    folder = tmp_path / "data"
    folder.mkdir()
    return Path(shutil.copy(src, folder / "raw.mp4"))


def _label_file(video: Path, format: str) -> Path:
    # DLC: a table named after the video, beside it, rows labeled by frame number.
    return video.parent / {"slp": "raw.slp", "dlc": "rawDLC_test.csv"}[format]


def _write_label_file(video: Path, format: str, rng: np.random.Generator) -> Truth:
    labels, truth = _random_labels(video, rng)
    save_labels(labels, _label_file(video, format), format)
    return truth


def _keypoints_by_frame(project: Project, video_id: int) -> dict[int, np.ndarray]:
    """Stored keypoints (individuals by track, keypoints, 2) of a video's frames."""
    with project.store.session() as session:
        rows = session.scalars(select(Frame).where(Frame.video_id == video_id))
        out = {}
        for frame in rows:
            instances = load_frame_instances(session, frame.id)
            if instances:
                instances.sort(key=lambda inst: inst.track_id or 0)
                out[frame.frame_idx] = np.stack([i.keypoints for i in instances])
        return out


def _videos(project: Project) -> tuple[Video, Video]:
    with project.store.session() as session:
        raw, copy = session.scalars(select(Video).order_by(Video.id))
        session.expunge_all()
    return raw, copy


@pytest.mark.parametrize("format", ["slp", "dlc"])
@pytest.mark.parametrize("order", ["import-then-preprocess", "preprocess-then-import"])
def test_labeled_moments_are_labeled_in_the_copy_at_scaled_positions(
    tmp_path: Path,
    raw_video: Path,
    format: str,
    order: str,
    rng: np.random.Generator,
) -> None:
    truth = _write_label_file(raw_video, format, rng)
    label_file = _label_file(raw_video, format)
    with Project.create(tmp_path / "proj", CONFIG) as project:
        add_videos(project, [raw_video])
        if order == "import-then-preprocess":
            import_labels(project, label_file)
            preprocess_videos(project, PARAMS)
        else:
            preprocess_videos(project, PARAMS)
            import_labels(project, label_file)
        sample_frames(project, n=10, strategy="uniform", seed=0)
        split_frames(project, test=0.2, n_trainval=8, n_predict=0, seed=0)

        raw, copy = _videos(project)
        shown = plan_source_frames(N_RAW, RAW_FPS, PARAMS)
        width, height = plan_output_size(RAW_W, RAW_H, PARAMS.size)
        assert (copy.width, copy.height) == (width, height) == (40, 26)
        scale = np.array([width / RAW_W, height / RAW_H])

        on_copy = _keypoints_by_frame(project, copy.id)
        assert sorted(on_copy) == list(range(len(shown)))
        with open_video(project.resolve(copy.path)) as reader:
            for k, j in enumerate(shown.tolist()):
                assert decode_frame_number(reader.read_frame(k)) == j
                np.testing.assert_allclose(
                    on_copy[k], truth[j] * scale, atol=TOL, rtol=0
                )
        # The other moments stay on the raw video, unscaled; none is in both.
        on_raw = _keypoints_by_frame(project, raw.id)
        assert sorted(on_raw) == sorted(set(range(N_RAW)) - set(shown.tolist()))
        for j, xy in on_raw.items():
            np.testing.assert_allclose(xy, truth[j], atol=TOL, rtol=0)

        # Every train+val frame shown from the copy is labeled.
        with project.store.session() as session:
            trainval = session.execute(
                select(Frame.video_id, Frame.n_instances)
                .join(SplitMember, SplitMember.frame_id == Frame.id)
                .where(SplitMember.split == "trainval")
            ).all()
        assert any(video_id == copy.id for video_id, _ in trainval)
        assert all(n == 2 for _, n in trainval)


def test_importing_twice_after_the_move_adds_nothing(
    tmp_path: Path, raw_video: Path, config: ProjectConfig, rng: np.random.Generator
) -> None:
    _write_label_file(raw_video, "slp", rng)
    label_file = _label_file(raw_video, "slp")
    with Project.create(tmp_path / "proj", config) as project:
        add_videos(project, [raw_video])
        preprocess_videos(project, PARAMS)
        first = import_labels(project, label_file)
        again = import_labels(project, label_file)
        assert (first.n_frames, first.n_skipped) == (N_RAW, 0)
        assert (again.n_frames, again.n_instances, again.n_skipped) == (0, 0, N_RAW)
        assert again.moves[0].n_moved == 0
        raw, copy = _videos(project)
        n_shown = len(plan_source_frames(N_RAW, RAW_FPS, PARAMS))
        assert len(_keypoints_by_frame(project, copy.id)) == n_shown
        assert len(_keypoints_by_frame(project, raw.id)) == N_RAW - n_shown


def _instance(x: float, y: float) -> Instance:
    keypoints = [[x, y], [x + 8, y], [np.nan, np.nan], [x, y + 8]]
    return Instance(keypoints=keypoints, box=[x - 4, y - 4, x + 12, y + 12])


def test_a_labeled_copy_frame_keeps_its_labels_and_an_empty_one_takes_them(
    tmp_path: Path, raw_video: Path, config: ProjectConfig
) -> None:
    """Copy frames 0 and 1 show raw frames 12 and 14: one labeled, one empty."""
    with Project.create(tmp_path / "proj", config) as project:
        add_videos(project, [raw_video])
        preprocess_videos(project, PARAMS)
        raw, copy = _videos(project)
        with project.store.session() as session:
            labeled = get_or_add_frame(session, video_id=copy.id, frame_idx=0)
            add_frame_instances(
                session, frame_id=labeled.id, instances=[_instance(5, 5)]
            )
            empty = get_or_add_frame(
                session, video_id=copy.id, frame_idx=1, image_path="frames/x/1.png"
            )
            labeled_raw = get_or_add_frame(session, video_id=raw.id, frame_idx=14)
            add_frame_instances(
                session, frame_id=labeled_raw.id, instances=[_instance(40, 30)]
            )
            cycle = get_or_add_cycle(session)
            replace_split_members(
                session, cycle.id, [Membership(labeled_raw.id, "test")]
            )
            empty_id, raw_14 = empty.id, labeled_raw.id
        # The file labels raw frames 12 (shown at the labeled copy frame 0) and
        # 15 (not shown in the copy).
        skeleton = CONFIG.skeleton.to_skeleton()
        frames = [FrameLabels(0, j, [_instance(40, 30)]) for j in (12, 15)]
        label_file = _label_file(raw_video, "slp")
        save_labels(LabelSet(skeleton, [VideoRef(str(raw_video))], frames), label_file)
        report = import_labels(project, label_file)
        (move,) = report.moves
        assert (move.n_moved, move.n_unshown, move.n_occupied) == (1, 1, 1)

        scale = np.array([40 / RAW_W, 26 / RAW_H])
        with project.store.session() as session:
            (moved,) = load_frame_instances(session, empty_id)
            assert session.get(Frame, raw_14) is None
            assert set(_keypoints_by_frame(project, raw.id)) == {12, 15}
            (member,) = session.scalars(
                select(SplitMember).where(SplitMember.frame_id == empty_id)
            )
            assert member.split == "test"
            empty_row = session.get(Frame, empty_id)
            assert empty_row is not None and empty_row.n_instances == 1
            assert empty_row.image_path == "frames/x/1.png"
        (kept,) = _keypoints_by_frame(project, copy.id)[0]
        np.testing.assert_array_equal(kept, _instance(5, 5).keypoints)
        expected = _instance(40, 30)
        np.testing.assert_allclose(
            moved.keypoints, expected.keypoints * scale, atol=TOL, rtol=0
        )
        assert moved.box is not None and expected.box is not None
        np.testing.assert_allclose(
            moved.box, expected.box * np.tile(scale, 2), atol=TOL, rtol=0
        )


def test_a_moved_frame_keeps_its_split_and_loses_its_raw_image(
    tmp_path: Path, raw_video: Path, config: ProjectConfig
) -> None:
    with Project.create(tmp_path / "proj", config) as project:
        add_videos(project, [raw_video])
        with project.store.session() as session:
            (raw,) = session.scalars(select(Video))
            row = get_or_add_frame(
                session, video_id=raw.id, frame_idx=19, image_path="frames/r/19.png"
            )
            row.stratum = f"video={raw.id}|time=1"
            add_frame_instances(session, frame_id=row.id, instances=[_instance(9, 9)])
            cycle = get_or_add_cycle(session)
            replace_split_members(session, cycle.id, [Membership(row.id, "trainval")])
            frame_id = row.id
        report = preprocess_videos(project, PARAMS)
        (move,) = report.moves
        assert (move.n_moved, move.n_unshown, move.n_occupied) == (1, 0, 0)
        _, copy = _videos(project)
        with project.store.session() as session:
            frame = session.get(Frame, frame_id)
            assert frame is not None
            assert (frame.video_id, frame.frame_idx) == (copy.id, 3)
            assert (frame.image_path, frame.stratum) == (None, None)
            (member,) = session.scalars(
                select(SplitMember).where(SplitMember.frame_id == frame_id)
            )
            assert member.split == "trainval"


def test_cli_says_what_moved(tmp_path: Path, raw_video: Path) -> None:
    runner = CliRunner()
    proj = str(tmp_path / "cli")
    keypoints = ",".join(SKELETON.keypoints)
    result = runner.invoke(
        app, ["init", proj, "--animals", "2", "--keypoints", keypoints]
    )
    assert result.exit_code == 0, result.output
    _write_label_file(raw_video, "slp", np.random.default_rng(1))
    assert runner.invoke(app, ["add-videos", proj, str(raw_video)]).exit_code == 0
    result = runner.invoke(app, ["import", proj, str(_label_file(raw_video, "slp"))])
    assert result.exit_code == 0, result.output
    assert "moved onto" not in result.output
    result = runner.invoke(
        app, ["preprocess", proj, "--fps", "10", "--size", "40", "--start", "0.5"]
    )
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "15 labeled frame(s) moved onto the 10 fps copy of raw.mp4" in output
    assert (
        "33 labeled frame(s) fall between frames of the 10 fps copy or outside its "
        "time range and stay on the raw video"
    ) in output


def test_demo_steps_leave_the_arena_labels_on_the_copy(tmp_path: Path) -> None:
    """`make demo` steps 1-7 on a small arena: synth, preprocess, import, sample."""
    arena = make_arena(n_animals=3, n_frames=60, width=320, height=240, seed=0)
    files = write_arena(arena, tmp_path / "arena")
    with Project.create(
        tmp_path / "proj",
        ProjectConfig(name="demo", animals=3, skeleton=SKELETON),
    ) as project:
        add_videos(project, [files["video"]])
        preprocess_videos(project, PreprocessParams(fps=15, size=160, gray=True))
        report = import_labels(project, files["labels"])
        (move,) = report.moves
        assert (move.n_moved, move.n_unshown, move.n_occupied) == (30, 30, 0)
        sample_frames(project, n=12, strategy="stratified", seed=0)
        split_frames(project, test=0.15, n_trainval=10, n_predict=10, seed=0)
        raw, copy = _videos(project)
        with project.store.session() as session:
            rows = session.execute(
                select(Frame.id, Frame.video_id, Frame.frame_idx)
                .join(SplitMember, SplitMember.frame_id == Frame.id)
                .where(SplitMember.split == "trainval", Frame.video_id == copy.id)
            ).all()
            assert rows
            truth = np.load(files["truth"])["xy"]
            for frame_id, _, k in rows:
                instances = load_frame_instances(session, frame_id)
                assert len(instances) == 3
                xy = np.stack(
                    [i.keypoints for i in sorted(instances, key=lambda i: i.track_id)]
                )
                np.testing.assert_allclose(xy, truth[2 * k] / 2, atol=1e-4, rtol=0)
