"""Arenas composed from real single-mouse labeled frames (`etholoop.synth.compose`)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from etholoop.cli import app
from etholoop.config import ProjectConfig, SkeletonConfig
from etholoop.errors import EtholoopError, FormatError
from etholoop.io import save_labels
from etholoop.label_files import import_labels
from etholoop.project import Project
from etholoop.status import project_status
from etholoop.synth import (
    ArenaSpec,
    load_source_mice,
    make_arena,
    make_composed_arena,
    write_arena,
)
from etholoop.synth.compose import SourceMice, rename_keypoints
from etholoop.types import FrameLabels, Instance, LabelSet, Skeleton, VideoRef

DLC_NAMES = ("snout", "leftear", "rightear", "tailbase")
SPEC = ArenaSpec(
    n_animals=3,
    n_frames=60,
    width=320,
    height=240,
    fps=15.0,
    behaviors=("rest", "walk", "chase"),
    min_contacts=1,
    seed=3,
)
SKELETON = SkeletonConfig(
    keypoints=["nose", "earL", "earR", "tailB"], symmetry=[("earL", "earR")]
)


def _draw_mice(
    rng: np.random.Generator, n_frames: int
) -> tuple[np.ndarray, np.ndarray]:
    """Frames 320x240 of one dark mouse on a light, shaded floor, and its keypoints.

    The mouse is a body and a head ellipse at a random place and heading; snout,
    left ear, right ear and tail base lie inside it.
    """
    yy, xx = np.mgrid[0:240, 0:320]
    floor = (210 + 20 * np.sin(xx / 40) * np.cos(yy / 30)).astype(np.uint8)
    images = np.repeat(floor[None, ..., None], n_frames, axis=0).repeat(3, axis=3)
    keypoints = np.empty((n_frames, 4, 2))
    for t in range(n_frames):
        center = rng.uniform((60, 60), (260, 180))
        angle = rng.uniform(-np.pi, np.pi)
        ahead = np.array([np.cos(angle), np.sin(angle)])
        left = np.array([np.sin(angle), -np.cos(angle)])
        head = center + 22 * ahead
        deg = float(np.degrees(angle))
        for c, axes in ((center, (24, 12)), (head, (11, 8))):
            c_int = tuple(int(v) for v in np.rint(c))
            cv2.ellipse(images[t], c_int, axes, deg, 0, 360, (40, 38, 36), -1)
        keypoints[t] = [
            head + 8 * ahead,
            head - 3 * ahead + 5 * left,
            head - 3 * ahead - 5 * left,
            center - 20 * ahead,
        ]
    return images, keypoints


@pytest.fixture(scope="module")
def source() -> SourceMice:
    """Twelve drawn single-mouse frames with DeepLabCut keypoint names, in memory."""
    images, keypoints = _draw_mice(np.random.default_rng(5), 12)
    return SourceMice(
        images=images,
        keypoints=keypoints,
        visibility=np.full(keypoints.shape[:2], 2, np.uint8),
        skeleton=rename_keypoints(Skeleton(DLC_NAMES)),
    )


@pytest.fixture(scope="module")
def label_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same kind of frames as PNG files with a DeepLabCut CSV beside them."""
    folder = tmp_path_factory.mktemp("dlc") / "labeled-data" / "drawn"
    folder.mkdir(parents=True)
    images, keypoints = _draw_mice(np.random.default_rng(6), 8)
    files = []
    for t, image in enumerate(images):
        files.append(str(folder / f"img{t:03d}.png"))
        cv2.imwrite(files[-1], image[..., ::-1])
    labels = LabelSet(
        Skeleton(DLC_NAMES),
        [VideoRef(str(folder), files)],
        [FrameLabels(0, t, [Instance(xy)]) for t, xy in enumerate(keypoints)],
    )
    path = folder / "CollectedData_test.csv"
    save_labels(labels, path, "dlc")
    return path


def _darkening_under_keypoints(arena, frame_inds) -> np.ndarray:
    """Per visible keypoint: how much darker than the background the darkest pixel
    of its 3x3 neighborhood is."""
    background = arena.painter.cutouts.background.astype(int)
    if arena.spec.gray:
        background = background[..., 0]
    out = []
    for t in frame_inds:
        frame = arena.render(t).astype(int)
        xy = np.rint(arena.tracks.xy[t]).astype(int)
        for i, k in zip(*np.nonzero(arena.visibility[t] == 2), strict=True):
            x, y = xy[i, k]
            diff = (
                background[y - 1 : y + 2, x - 1 : x + 2]
                - frame[y - 1 : y + 2, x - 1 : x + 2]
            )
            out.append(diff.reshape(9, -1).mean(axis=1).max())
    return np.array(out)


def test_keypoint_names_map_to_the_arena_skeleton():
    skeleton = rename_keypoints(Skeleton(DLC_NAMES))
    assert skeleton.keypoints == ("nose", "earL", "earR", "tailB")
    assert skeleton.symmetry_names == [("earL", "earR")]
    other = rename_keypoints(Skeleton(("Snout", "spine", "tail"), [(0, 1)]))
    assert other.keypoints == ("nose", "spine", "tail")
    assert other.edges == ((0, 1),)


def test_composed_arena_is_deterministic_for_a_seed(source):
    first = make_composed_arena(SPEC, source)
    again = make_composed_arena(SPEC, source)
    other = make_composed_arena(ArenaSpec(**{**_fields(SPEC), "seed": 4}), source)
    np.testing.assert_array_equal(first.tracks.xy, again.tracks.xy)
    np.testing.assert_array_equal(first.visibility, again.visibility)
    np.testing.assert_array_equal(first.boxes, again.boxes)
    for t in (0, 30, 59):
        np.testing.assert_array_equal(first.render(t), again.render(t))
    assert not np.array_equal(first.tracks.xy, other.tracks.xy)
    frames = list(first.frames())
    assert len(frames) == SPEC.n_frames
    np.testing.assert_array_equal(frames[30], first.render(30))


def _fields(spec: ArenaSpec) -> dict:
    import attrs

    return attrs.asdict(spec)


@pytest.mark.parametrize("gray", [False, True])
def test_visible_keypoints_land_on_mouse_pixels(source, gray):
    arena = make_composed_arena(ArenaSpec(**{**_fields(SPEC), "gray": gray}), source)
    assert arena.render(0).ndim == (2 if gray else 3)
    darkening = _darkening_under_keypoints(arena, range(0, SPEC.n_frames, 3))
    assert len(darkening) > 100
    assert darkening.min() > 100  # mice 40 gray levels on a floor of 190 to 230


def test_mice_on_top_hide_keypoints_and_boxes_hold_them(source):
    arena = make_composed_arena(ArenaSpec(**{**_fields(SPEC), "n_frames": 200}), source)
    assert (arena.visibility == 1).any() and (arena.visibility == 2).all(axis=2).any()
    rank = np.argsort(np.argsort(arena.motion.posture.depth, axis=1, kind="stable"))
    for t, i, _ in zip(*np.nonzero(arena.visibility == 1), strict=True):
        assert rank[t, i] < rank[t].max()  # only a mouse below another is hidden
    xy, box = arena.tracks.xy, arena.boxes[:, :, None]
    inside = (xy >= box[..., :2] - 1) & (xy <= box[..., 2:] + 1)
    assert inside.all()


def test_behaviors_a_cutout_cannot_show_are_refused(source):
    spec = ArenaSpec(n_frames=10, behaviors=("walk", "groom"))
    with pytest.raises(ValueError, match="groom"):
        make_composed_arena(spec, source)


def _project(root: Path) -> Project:
    return Project.create(root, ProjectConfig(name="p", animals=3, skeleton=SKELETON))


@pytest.mark.parametrize("composed", [False, True], ids=["procedural", "composed"])
def test_written_arena_imports_and_shows_in_status(tmp_path, source, composed):
    if composed:
        arena = make_composed_arena(
            ArenaSpec(**{**_fields(SPEC), "n_frames": 20, "min_contacts": 0}), source
        )
    else:
        arena = make_arena(width=160, height=120, n_frames=20, seed=2)
    paths = write_arena(arena, tmp_path / "arena")
    with np.load(paths["truth"]) as truth:
        assert tuple(truth["keypoints"]) == ("nose", "earL", "earR", "tailB")
    project = _project(tmp_path / "proj")
    try:
        report = import_labels(project, paths["labels"])
        status = project_status(project).to_dict()
    finally:
        project.close()
    assert (report.n_frames, report.n_instances) == (20, 60)
    assert len(status["videos"]) == 1
    assert status["frames"]["unassigned"] == 20
    assert status["labels"]["unassigned"]["manual"] == {"instances": 60, "frames": 20}


def test_source_mice_load_from_a_label_file_and_a_project(tmp_path, label_file):
    mice = load_source_mice(label_file)
    assert mice.images.shape == (8, 240, 320, 3)
    assert mice.skeleton.keypoints == ("nose", "earL", "earR", "tailB")
    project = _project(tmp_path / "proj")
    try:
        import_labels(
            project,
            label_file,
            keypoint_map=dict(zip(DLC_NAMES, SKELETON.keypoints, strict=True)),
        )
    finally:
        project.close()
    from_project = load_source_mice(tmp_path / "proj")
    np.testing.assert_array_equal(from_project.images, mice.images)
    np.testing.assert_allclose(from_project.keypoints, mice.keypoints)


def _invoke(*args: str) -> tuple[int, str]:
    """Exit code and output of `etholoop synth ARGS`, or the user error's message
    (which `etholoop.cli.main` prints as one line)."""
    result = CliRunner().invoke(app, ["synth", *args])
    if isinstance(result.exception, EtholoopError):
        return 1, str(result.exception)
    return result.exit_code, result.output


def test_cli_composes_from_a_label_file(tmp_path, label_file):
    out = tmp_path / "out"
    code, output = _invoke(
        str(out),
        "--from-labeled",
        str(label_file),
        "--frames",
        "15",
        "--size",
        "320x240",
    )
    assert code == 0, output
    assert {p.name for p in out.iterdir()} == {
        "arena.mp4",
        "arena.slp",
        "truth.npz",
        "behaviors.csv",
        "contacts.csv",
    }
    with np.load(out / "truth.npz") as truth:
        assert set(truth["behaviors"]) == {"rest", "walk", "chase"}


def _slp_without_images(tmp_path: Path, n_instances: int, video: Path) -> Path:
    inst = Instance(np.array([[10.0, 10], [12, 8], [12, 12], [30, 10]]))
    labels = LabelSet(
        Skeleton(DLC_NAMES),
        [VideoRef(str(video))],
        [FrameLabels(0, 0, [inst] * n_instances)],
    )
    path = tmp_path / f"labels{n_instances}.slp"
    save_labels(labels, path, "slp")
    return path


def test_cli_refuses_bad_sources_and_writes_nothing(tmp_path, label_file):
    # A video that exists, so that only the instance count is wrong.
    video = make_arena(width=64, height=64, n_frames=2)
    paths = write_arena(video, tmp_path / "video")
    cases = [
        (tmp_path / "missing.csv", "no such label file"),
        (_slp_without_images(tmp_path, 1, tmp_path / "gone.mp4"), "do not exist"),
        (_slp_without_images(tmp_path, 2, paths["video"]), "2 instances"),
    ]
    for source, message in cases:
        out = tmp_path / "out"
        code, output = _invoke(str(out), "--from-labeled", str(source))
        assert code == 1, output
        assert message in output and str(source) in output and "\n" not in output
        assert not out.exists()
    code, output = _invoke(
        str(tmp_path / "out"), "--from-labeled", str(label_file), "--behaviors", "rear"
    )
    assert code == 1 and "cannot be shown" in output, output


def test_dlc_mice_keypoints_land_on_dark_pixels(shared_data):
    path = (
        shared_data / "dlc_openfield_mouse/labeled-data/m4s1/CollectedData_Pranav.csv"
    )
    mice = load_source_mice(path)
    assert mice.images.shape == (116, 480, 640, 3)
    arena = make_composed_arena(
        ArenaSpec(n_frames=90, behaviors=("rest", "walk", "chase"), min_contacts=1),
        mice,
    )
    darkening = _darkening_under_keypoints(arena, range(0, 90, 3))
    assert len(darkening) > 200
    assert darkening.min() > 50  # a black mouse on a white floor
    with pytest.raises(FormatError, match="no such"):
        load_source_mice(path.with_name("nothing.csv"))
