"""Import into and export from a project, on the real DeepLabCut open-field labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from attrs import evolve

from etholoop.config import ProjectConfig, SkeletonConfig
from etholoop.errors import FormatError, SkeletonMismatchError
from etholoop.io import load_labels, save_labels
from etholoop.label_files import export_labels, import_labels, project_label_set
from etholoop.project import Project
from etholoop.status import project_status
from etholoop.store import load_frame_instances
from etholoop.types import FrameLabels, LabelSet, VideoRef

MOUSE = SkeletonConfig(
    keypoints=["nose", "earL", "earR", "tailB"],
    edges=[("nose", "earL"), ("nose", "earR"), ("nose", "tailB")],
    symmetry=[("earL", "earR")],
)
DLC_MAP = {"snout": "nose", "leftear": "earL", "rightear": "earR", "tailbase": "tailB"}


def _project(root: Path) -> Project:
    return Project.create(
        root, ProjectConfig(name=root.name, animals=1, skeleton=MOUSE)
    )


@pytest.fixture
def dlc_csv(shared_data: Path) -> Path:
    return (
        shared_data / "dlc_openfield_mouse/labeled-data/m4s1/CollectedData_Pranav.csv"
    )


def _by_image(project: Project) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Keypoints and visibility of each labeled frame, keyed by image file name."""
    labels = project_label_set(project, with_images=False).labels
    out = {}
    for frame in labels.frames:
        (inst,) = frame.instances
        name = Path(labels.videos[frame.video].image_files[frame.frame_idx]).name
        out[name] = (inst.keypoints, inst.visibility)
    return out


def test_dlc_import_counts_and_cache(tmp_path: Path, dlc_csv: Path) -> None:
    with _project(tmp_path / "a") as project:
        report = import_labels(project, dlc_csv, keypoint_map=DLC_MAP)
        assert (report.n_frames, report.n_instances) == (116, 116)
        again = import_labels(project, dlc_csv, keypoint_map=DLC_MAP)
        assert (again.n_instances, again.n_skipped) == (0, 116)
        summary = project_status(project).to_dict()
        assert summary["frames"]["unassigned"] == 116
        assert summary["labels"]["unassigned"]["manual"]["instances"] == 116
        (video,) = summary["videos"]
        assert (video["kind"], video["frames"], video["size"]) == (
            "images",
            116,
            [640, 480],
        )
        cached = sorted(p.name for p in project.frames_dir.glob("*/*.png"))
        assert cached[:2] == ["img0000.png", "img0001.png"] and len(cached) == 116


@pytest.mark.parametrize(
    ("format", "name"),
    [("coco", "labels.json"), ("slp", "labels.slp"), ("yolo", "yolo")],
)
def test_export_and_reimport_is_exact(
    tmp_path: Path, dlc_csv: Path, format: str, name: str
) -> None:
    with _project(tmp_path / "a") as source:
        import_labels(source, dlc_csv, keypoint_map=DLC_MAP)
        original = _by_image(source)
        out = tmp_path / "export" / name
        report = export_labels(source, out, format=format)
        assert report.n_instances == 116
    with _project(tmp_path / "b") as target:
        import_labels(target, out, format=format)
        again = _by_image(target)
    assert again.keys() == original.keys()
    for image, (xy, vis) in original.items():
        np.testing.assert_allclose(
            again[image][0], xy, atol=1e-6, rtol=0, err_msg=image
        )
        np.testing.assert_array_equal(again[image][1], vis, err_msg=image)


def test_visibility_one_survives_slp_round_trip(tmp_path: Path, dlc_csv: Path) -> None:
    from attrs import evolve

    from etholoop.store import (
        frame_versions,
        load_frame_instances,
        save_frame_instances,
    )

    with _project(tmp_path / "a") as source:
        import_labels(source, dlc_csv, keypoint_map=DLC_MAP)
        with source.store.session() as session:
            (inst,) = load_frame_instances(session, 1)
            vis = inst.visibility.copy()
            vis[1] = 1
            save_frame_instances(
                session,
                frame_id=1,
                instances=[evolve(inst, visibility=vis)],
                base_versions=frame_versions(session, 1),
            )
        original = _by_image(source)
        export_labels(source, tmp_path / "x.slp", format="slp")
    with _project(tmp_path / "b") as target:
        import_labels(target, tmp_path / "x.slp")
        again = _by_image(target)
    assert sum((v[1] == 1).sum() for v in again.values()) == 1
    for image, (_, vis) in original.items():
        np.testing.assert_array_equal(again[image][1], vis)


def _nothing_written(project: Project) -> None:
    summary = project_status(project).to_dict()
    assert summary["videos"] == []
    assert sum(summary["frames"].values()) == 0
    assert not project.frames_dir.exists() or not any(project.frames_dir.iterdir())


def test_mismatched_keypoints_are_refused_and_nothing_written(
    tmp_path: Path, dlc_csv: Path
) -> None:
    with _project(tmp_path / "a") as project:
        with pytest.raises(SkeletonMismatchError) as info:
            import_labels(project, dlc_csv)
        message = str(info.value)
        assert message.startswith(str(dlc_csv))
        assert "['snout', 'leftear', 'rightear', 'tailbase']" in message
        assert "['nose', 'earL', 'earR', 'tailB']" in message
        assert "\n" not in message
        _nothing_written(project)


@pytest.mark.parametrize(
    ("name", "content", "format", "match"),
    [
        ("missing.csv", None, "dlc", "no such file"),
        ("labels.slp", b"not hdf5 at all", "slp", "labels.slp"),
        ("labels.json", b'{"images": 3}', "coco", "labels.json"),
        ("labels.csv", b"a,b\n1,2\n", "dlc", "labels.csv"),
    ],
)
def test_malformed_imports_write_nothing(
    tmp_path: Path, name: str, content: bytes | None, format: str, match: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with _project(tmp_path / "a") as project:
        with pytest.raises(FormatError, match=match):
            import_labels(project, path, format=format)
        _nothing_written(project)


def test_labels_of_a_missing_video_are_refused(
    tmp_path: Path, shared_data: Path
) -> None:
    csv = next((shared_data / "ethome_two_mice_interaction/pose").glob("*.csv"))
    skeleton = SkeletonConfig(
        keypoints=["nose", "leftear", "rightear", "neck", "lefthip", "righthip", "tail"]
    )
    config = ProjectConfig(name="two", animals=2, skeleton=skeleton)
    with Project.create(tmp_path / "two", config) as project:
        with pytest.raises(FormatError, match="does not exist"):
            import_labels(project, csv)
        _nothing_written(project)


def test_a_keypoint_map_may_import_a_subset(tmp_path: Path, dlc_csv: Path) -> None:
    subset = {k: v for k, v in DLC_MAP.items() if k != "tailbase"}
    with _project(tmp_path / "a") as project:
        report = import_labels(project, dlc_csv, keypoint_map=subset)
        assert (report.n_frames, report.dropped, report.unlabeled) == (
            116,
            ("tailbase",),
            ("tailB",),
        )
        for xy, vis in _by_image(project).values():
            np.testing.assert_array_equal(vis, [2, 2, 2, 0])
            assert np.isnan(xy[3]).all()


def test_cli_names_the_dropped_keypoints(tmp_path: Path, dlc_csv: Path) -> None:
    from typer.testing import CliRunner

    from etholoop.cli import app

    _project(tmp_path / "a").close()
    result = CliRunner().invoke(
        app,
        [
            "import",
            str(tmp_path / "a"),
            str(dlc_csv),
            "--keypoint-map",
            "snout=nose,leftear=earL,rightear=earR",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "dropped file keypoints not in the project: tailbase" in result.output
    assert "project keypoints not in the file, left unlabeled: tailB" in result.output


def test_a_labeled_data_folder_imports_with_format_dlc(
    tmp_path: Path, dlc_csv: Path
) -> None:
    with _project(tmp_path / "a") as project:
        report = import_labels(
            project, dlc_csv.parent, format="dlc", keypoint_map=DLC_MAP
        )
        assert (report.n_frames, report.n_instances) == (116, 116)


def _read_as_deeplabcut(csv: Path) -> pd.DataFrame:
    """A CollectedData CSV read the way DeepLabCut >= 2.3 reads it."""
    with csv.open() as f:
        head = [next(f) for _ in range(5)]
    header = [0, 1, 2, 3] if head[1].startswith("individuals") else [0, 1, 2]
    index_col = [0, 1, 2] if head[-1].split(",")[0] == "labeled-data" else 0
    return pd.read_csv(csv, header=header, index_col=index_col)


def test_dlc_export_to_a_folder_is_a_deeplabcut_project(
    tmp_path: Path, dlc_csv: Path
) -> None:
    original = _read_as_deeplabcut(dlc_csv)
    with _project(tmp_path / "a") as source:
        import_labels(source, dlc_csv, keypoint_map=DLC_MAP)
        labels = _by_image(source)
        out = tmp_path / "export"
        report = export_labels(source, out, format="dlc")
    assert (report.n_frames, report.n_instances, report.scorer) == (116, 116, "Pranav")
    folder = out / "labeled-data" / "m4s1"
    assert sorted(p.name for p in folder.glob("*.png")) == sorted(labels)
    csv = _read_as_deeplabcut(folder / "CollectedData_Pranav.csv")
    h5 = pd.read_hdf(folder / "CollectedData_Pranav.h5", "df_with_missing")
    assert pd.read_hdf(folder / "CollectedData_Pranav.h5").equals(h5)
    for table in (csv, h5):
        assert list(table.index) == [tuple(name.split("/")) for name in original.index]
        assert list(table.columns.names) == ["scorer", "bodyparts", "coords"]
        assert set(table.columns.get_level_values("scorer")) == {"Pranav"}
        assert list(table.columns.get_level_values("bodyparts")[::2]) == list(
            MOUSE.keypoints
        )
        np.testing.assert_allclose(
            table.to_numpy(), original.to_numpy(), atol=1e-6, rtol=0
        )
    with _project(tmp_path / "b") as target:
        import_labels(target, folder)
        again = _by_image(target)
        authors = {
            inst.author
            for frame in project_label_set(target, with_images=False).labels.frames
            for inst in frame.instances
        }
    assert authors == {"Pranav"}
    assert again.keys() == labels.keys()
    for image, (xy, vis) in labels.items():
        np.testing.assert_allclose(again[image][0], xy, atol=1e-6, rtol=0)
        np.testing.assert_array_equal(again[image][1], vis)


def test_dlc_export_of_a_single_animal_project_ignores_predictions(
    tmp_path: Path, dlc_csv: Path
) -> None:
    with _project(tmp_path / "a") as project:
        import_labels(project, dlc_csv, keypoint_map=DLC_MAP)
        import_labels(project, dlc_csv, keypoint_map=DLC_MAP, source="predicted")
        report = export_labels(project, tmp_path / "x", format="dlc", scorer="Alex")
        assert (report.n_frames, report.n_instances) == (116, 116)
        csv = tmp_path / "x/labeled-data/m4s1/CollectedData_Alex.csv"
        assert _read_as_deeplabcut(csv).shape == (116, 8)


def test_export_writes_manual_labels_unless_predictions_are_asked_for(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    from tests.io.helpers import SKELETON, random_instance, write_images

    files = write_images(tmp_path / "src" / "sess", (64, 48), 4)
    manual = random_instance(rng, (64, 48), None)
    predicted = evolve(random_instance(rng, (64, 48), None), source="predicted")
    sources = {0: [manual], 1: [predicted], 3: [manual, predicted]}
    labels = LabelSet(
        SKELETON,
        [VideoRef(str(files[0].parent), map(str, files))],
        [FrameLabels(0, i, insts) for i, insts in sources.items()],
    )
    save_labels(labels, tmp_path / "in.json")
    skeleton = SkeletonConfig(keypoints=list(SKELETON.keypoints))
    config = ProjectConfig(name="p", animals=1, skeleton=skeleton)
    with Project.create(tmp_path / "p", config) as project:
        import_labels(project, tmp_path / "in.json")
        cases = {False: (2, 2, {"manual"}), True: (3, 4, {"manual", "predicted"})}
        for include, (n_frames, n_instances, kinds) in cases.items():
            out = tmp_path / f"out-{include}"
            report = export_labels(
                project, out, format="coco", include_predictions=include
            )
            back = load_labels(out / "labels.json")
            assert (report.n_frames, report.n_instances) == (n_frames, n_instances)
            assert (len(back.frames), back.n_instances) == (n_frames, n_instances)
            assert {i.source for f in back.frames for i in f.instances} == kinds
        # no DLC scorer among the authors (import:in.json): the default one;
        # the video is named after the folder the COCO images came from
        assert export_labels(project, tmp_path / "d", format="dlc").scorer == "etholoop"
        assert (tmp_path / "d/labeled-data/images/CollectedData_etholoop.h5").is_file()


def test_project_label_set_names_the_stored_frame_of_each_frame(
    tmp_path: Path, dlc_csv: Path
) -> None:
    with _project(tmp_path / "a") as project:
        import_labels(project, dlc_csv, keypoint_map=DLC_MAP)
        some = [3, 1, 40, 7]
        found = project_label_set(project, with_images=False, frame_ids=some)
        assert sorted(found.frame_ids) == sorted(some)
        with project.store.session() as session:
            for frame, frame_id in zip(
                found.labels.frames, found.frame_ids, strict=True
            ):
                stored = load_frame_instances(session, frame_id)
                assert [i.id for i in stored] == [i.id for i in frame.instances]


def test_track_names_are_stored_and_come_back_on_export(tmp_path: Path) -> None:
    from etholoop.synth import make_arena, write_arena

    first = write_arena(
        make_arena(n_animals=2, n_frames=4, width=96, height=64, seed=1),
        tmp_path / "first",
    )["labels"]
    second_arena = write_arena(
        make_arena(n_animals=2, n_frames=4, width=96, height=64, seed=2),
        tmp_path / "second",
    )["labels"]
    # The second file names its tracks in the other order.
    labels = load_labels(second_arena)
    assert labels.tracks == ("mouse0", "mouse1")
    swapped = [
        evolve(
            frame,
            instances=[evolve(i, track_id=1 - i.track_id) for i in frame.instances],
        )
        for frame in labels.frames
    ]
    second = tmp_path / "second-swapped.slp"
    save_labels(
        LabelSet(labels.skeleton, labels.videos, swapped, tracks=("mouse1", "mouse0")),
        second,
        "slp",
    )
    config = ProjectConfig(name="p", animals=2, skeleton=MOUSE)
    with Project.create(tmp_path / "p", config) as project:
        import_labels(project, first)
        import_labels(project, second)
        stored = project_label_set(project, with_images=False).labels
        assert stored.tracks == ("mouse0", "mouse1")
        for frame in stored.frames:
            source = load_labels(first if frame.video == 0 else second)
            (original,) = [f for f in source.frames if f.frame_idx == frame.frame_idx]
            names = {
                tuple(np.round(i.keypoints[0], 3)): source.tracks[i.track_id]
                for i in original.instances
            }
            for inst in frame.instances:
                key = tuple(np.round(inst.keypoints[0], 3))
                assert stored.tracks[inst.track_id] == names[key]
        export_labels(project, tmp_path / "out.slp", format="slp")
    assert load_labels(tmp_path / "out.slp").tracks == ("mouse0", "mouse1")
