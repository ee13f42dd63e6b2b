"""Import into and export from a project, on the real DeepLabCut open-field labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from etholoop.config import ProjectConfig, SkeletonConfig
from etholoop.errors import FormatError, SkeletonMismatchError
from etholoop.label_files import export_labels, import_labels, project_label_set
from etholoop.project import Project
from etholoop.status import project_status

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
    labels, _ = project_label_set(project, with_images=False)
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
        summary = project_status(project)
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
    summary = project_status(project)
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
