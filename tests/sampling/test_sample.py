"""`sample_frames` on real files: strata counts, determinism, one pass, bad input."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import func, select

from etholoop.errors import SamplingError
from etholoop.ingest import preprocess_videos
from etholoop.sampling import sample_frames
from etholoop.sampling.embed import embed_frame, mean_nearest_neighbour_distance
from etholoop.store.models import Frame, Video
from etholoop.video import PreprocessParams
from etholoop.video.reader import PyAVReader


def _frames(project) -> list[tuple[int, int, str | None, str | None]]:
    with project.store.session() as session:
        rows = session.execute(
            select(
                Frame.video_id, Frame.frame_idx, Frame.stratum, Frame.image_path
            ).order_by(Frame.video_id, Frame.frame_idx)
        )
        return list(rows)


def test_stratified_counts_are_within_one_of_equal_on_arenas(
    make_project, arena_videos
):
    project = make_project(*arena_videos)
    result = sample_frames(
        project,
        n=50,
        strata=["condition", "time"],
        n_time_bins=3,
        condition_from=r"arena-(\w+)\.mp4",
    )
    counts = list(result.per_stratum.values())
    assert result.n_chosen == result.n_added == 50 and len(counts) == 6
    assert max(counts) - min(counts) <= 1
    assert "condition=drug|time=2" in result.per_stratum
    frames = _frames(project)
    assert len(frames) == 50
    for _, _, stratum, image_path in frames:
        assert stratum in result.per_stratum
        assert project.resolve(image_path).is_file()
    with project.store.session() as session:
        conditions = session.scalars(select(Video.condition).order_by(Video.id))
        assert list(conditions) == ["saline", "drug"]


@pytest.mark.slow
def test_stratified_counts_on_the_real_dlc_video(make_project, shared_data):
    video = shared_data / "dlc_openfield_mouse" / "videos" / "m3v1mp4.mp4"
    project = make_project(video)
    result = sample_frames(project, n=30, n_time_bins=7)
    counts = list(result.per_stratum.values())
    assert sum(counts) == 30 and max(counts) - min(counts) <= 1


def test_same_seed_same_frames(make_project, arena_videos):
    first = make_project(*arena_videos, name="first")
    second = make_project(*arena_videos, name="second")
    other = make_project(*arena_videos, name="other")
    for project, seed in ((first, 3), (second, 3), (other, 4)):
        sample_frames(project, n=20, seed=seed)
    assert _frames(first)[0][:3] == _frames(second)[0][:3]
    picks = [[f[:2] for f in _frames(p)] for p in (first, second, other)]
    assert picks[0] == picks[1] != picks[2]
    again = sample_frames(first, n=20, seed=3)
    assert again.n_chosen == 20 and again.n_added == 0


def test_normalized_copies_are_sampled_when_present(make_project, arena_videos):
    project = make_project(arena_videos[0])
    preprocess_videos(project, PreprocessParams(fps=15, size=80, gray=True))
    sample_frames(project, n=10)
    assert {video_id for video_id, *_ in _frames(project)} == {2}


def test_each_video_is_opened_once_and_no_frame_is_decoded_twice(
    make_project, arena_videos, decoded_frames, monkeypatch
):
    project = make_project(*arena_videos)
    opened = []
    real_init = PyAVReader.__init__

    def counting_init(self, path):
        opened.append(path)
        real_init(self, path)

    monkeypatch.setattr(PyAVReader, "__init__", counting_init)
    for strategy in ("stratified", "uniform", "diverse"):
        opened.clear()
        decoded_frames.clear()
        sample_frames(project, n=60, strategy=strategy)
        assert sorted(map(str, opened)) == sorted(map(str, arena_videos))
        assert {path for path, _ in decoded_frames} == set(arena_videos)
        twice = [pair for pair, k in Counter(decoded_frames).items() if k > 1]
        assert not twice, f"{strategy} decoded {len(twice)} frames twice: {twice[:3]}"


def test_near_duplicates_are_replaced_by_later_frames(make_project, static_video):
    project = make_project(static_video)
    result = sample_frames(project, n=8, strategy="uniform")
    frame_inds = [f[1] for f in _frames(project)]
    assert result.n_chosen == 8 and result.n_duplicates > 0
    assert sum(i < 120 for i in frame_inds) == 1  # one picture of the static half
    assert all(i >= 120 for i in frame_inds[1:])


def test_a_still_video_s_shortfall_is_drawn_from_the_other_videos(
    make_project, arena_videos, still_video
):
    # 12 strata of 3 frames; the still video, added last, has one distinct frame
    project = make_project(*arena_videos, still_video)
    result = sample_frames(project, n=36)
    assert result.n_chosen == 36
    still = [k for name, k in result.per_stratum.items() if name.startswith("video=3")]
    assert sum(still) == 1
    arenas = [
        k
        for name, k in result.per_stratum.items()
        if name.startswith(("video=1|", "video=2|"))
    ]
    assert sum(arenas) == 35 and max(arenas) - min(arenas) <= 1


@pytest.mark.slow
def test_stratified_meets_n_over_the_real_videos(make_project, shared_data):
    # the 12 videos `add-videos shared/data/*/*.mp4` registers: the 11 B-SOiD clips
    # (slowed down: 66 distinct frames in all) and the flies (still for 993 frames,
    # then about 90 distinct ones); 120 needs most distinct frames behind the
    # readers too, which only the frames decoded on the way can stand in for
    videos = sorted(shared_data.glob("*/*.mp4"))
    assert len(videos) == 12
    project = make_project(*videos)
    result = sample_frames(project, n=120, strategy="stratified", seed=0)
    assert result.n_chosen == 120
    first = _frames(project)
    again = sample_frames(project, n=120, strategy="stratified", seed=0)
    assert again.n_chosen == 120 and again.n_added == 0 and _frames(project) == first


@pytest.mark.slow
def test_diverse_is_more_spread_than_uniform_on_the_real_video(
    make_project, shared_data
):
    video = shared_data / "dlc_openfield_mouse" / "videos" / "m3v1mp4.mp4"
    spread = {}
    for strategy in ("uniform", "diverse"):
        project = make_project(video, name=strategy)
        sample_frames(project, n=12, strategy=strategy, strata=["video"])
        embeddings = np.stack(
            [
                embed_frame(np.asarray(Image.open(project.resolve(path)).convert("L")))
                for *_, path in _frames(project)
            ]
        )
        spread[strategy] = mean_nearest_neighbour_distance(embeddings)
    assert spread["diverse"] > 1.2 * spread["uniform"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 601}, "asked for 601 frames but the 2 video.s. have only 600"),
        ({"n": 5, "strategy": "psychic"}, "unknown sampling strategy 'psychic'"),
        ({"n": 5, "strata": ["day"]}, "unknown stratum factor 'day'"),
        ({"n": 5, "condition_from": "mouse"}, "matches nothing in video file arena"),
        ({"n": 5, "condition_from": "("}, "bad regex"),
        ({"n": 0}, "must be at least 1"),
    ],
)
def test_bad_input_is_refused_before_anything_is_written(
    make_project, arena_videos, kwargs, message
):
    project = make_project(*arena_videos)
    with pytest.raises(SamplingError, match=message):
        sample_frames(project, **kwargs)
    with project.store.session() as session:
        assert session.scalar(select(func.count(Frame.id))) == 0
        assert set(session.scalars(select(Video.condition))) == {None}
    assert not project.frames_dir.exists()


def test_conditions_from_a_csv_file(make_project, arena_videos, tmp_path):
    project = make_project(*arena_videos)
    table = tmp_path / "conditions.csv"
    table.write_text("video,condition\narena-saline.mp4,ctrl\n")
    with pytest.raises(SamplingError, match="no condition for video arena-drug.mp4"):
        sample_frames(project, n=4, conditions_csv=table)
    table.write_text("video,condition\n/x/arena-saline.mp4,ctrl\narena-drug.mp4,cno\n")
    result = sample_frames(project, n=4, strata=["condition"], conditions_csv=table)
    assert result.per_stratum == {"condition=cno": 2, "condition=ctrl": 2}


def test_sampling_refuses_model_based_strategies(make_project, arena_videos):
    project = make_project(*arena_videos)
    with pytest.raises(SamplingError, match="use it with `etholoop cycle`"):
        sample_frames(project, n=5, strategy="uncertainty")
