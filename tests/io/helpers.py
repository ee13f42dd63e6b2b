"""Building small label sets and comparing label sets frame by frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from etholoop.types import FrameLabels, Instance, LabelSet, Skeleton, VideoRef

SKELETON = Skeleton.from_names(
    ["nose", "earL", "earR", "tailbase"],
    edges=[("nose", "earL"), ("nose", "earR"), ("earL", "tailbase")],
    symmetry=[("earL", "earR")],
)
TRACKS = ("mouseA", "mouseB")
# Two videos whose images share names, and differ in size.
VIDEO_SIZES = {"vidA": (64, 48), "vidB": (80, 60)}
N_IMAGES = 4


def write_images(folder: Path, size: tuple[int, int], n: int) -> list[Path]:
    """Write `n` small PNGs `img0000.png ...` of `size` (w, h) into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for i in range(n):
        pixels = np.full((size[1], size[0], 3), 40 * i, dtype=np.uint8)
        path = folder / f"img{i:04d}.png"
        Image.fromarray(pixels).save(path)
        files.append(path)
    return files


def random_instance(
    rng: np.random.Generator, size: tuple[int, int], track_id: int | None
) -> Instance:
    """An instance with many-digit coordinates inside the image and mixed visibility."""
    k = SKELETON.n_keypoints
    xy = rng.uniform([0, 0], size, size=(k, 2))
    vis = rng.choice([0, 1, 2], size=k)
    vis[rng.integers(k)] = 2  # at least one labeled keypoint
    xy[vis == 0] = np.nan
    return Instance(keypoints=xy, visibility=vis, track_id=track_id)


def make_labels(tmp_path: Path, rng: np.random.Generator) -> LabelSet:
    """Two image-sequence videos, frames 0, 1 and 3 labeled, 2 tracked instances."""
    videos = []
    frames = []
    for v, (name, size) in enumerate(VIDEO_SIZES.items()):
        files = write_images(tmp_path / "src" / name, size, N_IMAGES)
        videos.append(VideoRef(path=str(files[0].parent), image_files=map(str, files)))
        for frame_idx in (0, 1, 3):
            instances = [random_instance(rng, size, t) for t in range(len(TRACKS))]
            frames.append(
                FrameLabels(video=v, frame_idx=frame_idx, instances=instances)
            )
    # every visibility level occurs
    vis = np.concatenate([i.visibility for f in frames for i in f.instances])
    assert set(vis.tolist()) == {0, 1, 2}
    return LabelSet(skeleton=SKELETON, videos=videos, frames=frames, tracks=TRACKS)


def image_of(labels: LabelSet, frame: FrameLabels) -> str:
    """The image file of a frame of an image-sequence video."""
    return labels.videos[frame.video].image_files[frame.frame_idx]


def by_image(labels: LabelSet, key: str = "path") -> dict[str, FrameLabels]:
    """Frames keyed by image path ("path") or image file name ("name")."""
    out = {}
    for frame in labels.frames:
        image = image_of(labels, frame)
        out[str(Path(image).resolve()) if key == "path" else Path(image).name] = frame
    return out


def assert_same_instances(
    got: FrameLabels,
    want: FrameLabels,
    got_labels: LabelSet,
    want_labels: LabelSet,
    *,
    tracks: bool = True,
    visibility: bool = True,
    where: str = "",
) -> None:
    """Same instances in the same order: keypoints within 1e-6 px, same visibility.

    With `visibility=False` (formats without it), labeled keypoints must read
    back as visible (2) and unlabeled ones as 0.
    """
    assert len(got.instances) == len(want.instances), where
    for a, b in zip(got.instances, want.instances, strict=True):
        np.testing.assert_allclose(a.keypoints, b.keypoints, atol=1e-6, err_msg=where)
        want_vis = b.visibility if visibility else np.where(b.visibility > 0, 2, 0)
        np.testing.assert_array_equal(a.visibility, want_vis, err_msg=where)
        if tracks:
            name_a = None if a.track_id is None else got_labels.tracks[a.track_id]
            name_b = None if b.track_id is None else want_labels.tracks[b.track_id]
            assert name_a == name_b, where
