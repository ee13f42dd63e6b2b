"""Property tests: any keypoints and visibility survive a round trip."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from PIL import Image

from etholoop.io import load_labels, save_labels
from etholoop.types import FrameLabels, Instance, LabelSet, Skeleton, VideoRef

SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@st.composite
def frames(draw: st.DrawFn) -> tuple[tuple[int, int], list[Instance]]:
    """An image size and 1-3 instances with keypoints in or near the image."""
    width = draw(st.integers(1, 1920))
    height = draw(st.integers(1, 1080))
    k = draw(st.integers(1, 6))
    instances = []
    for _ in range(draw(st.integers(1, 3))):
        xs = draw(st.lists(coord(width), min_size=k, max_size=k))
        ys = draw(st.lists(coord(height), min_size=k, max_size=k))
        vis = np.array(
            draw(st.lists(st.sampled_from([0, 1, 2]), min_size=k, max_size=k))
        )
        xy = np.column_stack([xs, ys]).astype(float)
        xy[vis == 0] = np.nan
        instances.append(Instance(keypoints=xy, visibility=vis))
    return (width, height), instances


def coord(size: int) -> st.SearchStrategy[float]:
    return st.floats(-0.1 * size, 1.1 * size, allow_nan=False, allow_infinity=False)


def one_image_labels(
    folder: Path, size: tuple[int, int], instances: list[Instance]
) -> LabelSet:
    folder.mkdir(parents=True)
    image = folder / "frame.png"
    Image.new("L", size).save(image)
    k = instances[0].n_keypoints
    return LabelSet(
        Skeleton(tuple(f"kp{i}" for i in range(k))),
        [VideoRef(str(folder), [str(image)])],
        [FrameLabels(0, 0, instances)],
    )


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("properties")


@pytest.mark.parametrize(
    ("fmt", "target", "keeps_visibility"),
    [
        ("yolo", "yolo", True),
        ("coco", "coco/labels.json", True),
        ("dlc", "labeled-data/v/CollectedData_x.csv", False),
    ],
)
@SETTINGS
@given(frame=frames())
def test_round_trip_keeps_keypoints(
    fmt: str,
    target: str,
    keeps_visibility: bool,
    frame: tuple[tuple[int, int], list[Instance]],
    workdir: Path,
) -> None:
    size, instances = frame
    case = Path(tempfile.mkdtemp(dir=workdir))
    labels = one_image_labels(case / "src", size, instances)
    if fmt == "dlc":
        # a single-animal table holds one instance; a row without any labeled
        # keypoint is dropped (DLC cannot tell it from an unlabeled frame)
        instances = instances[:1]
        labels = LabelSet(
            labels.skeleton, labels.videos, [FrameLabels(0, 0, instances)]
        )
        assume(instances[0].labeled.any())
    save_labels(labels, case / target, fmt)
    (got,) = load_labels(case / target).frames
    want = labels.frames[0].instances
    assert len(got.instances) == len(want)
    for a, b in zip(got.instances, want, strict=True):
        np.testing.assert_allclose(a.keypoints, b.keypoints, atol=1e-6, rtol=0)
        vis = b.visibility if keeps_visibility else np.where(b.visibility > 0, 2, 0)
        np.testing.assert_array_equal(a.visibility, vis)
