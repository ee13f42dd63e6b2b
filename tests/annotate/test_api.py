"""The annotation API on a real server: lists, saves, conflicts, token, bad input."""

from __future__ import annotations

import io
import re

import httpx
import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select

from etholoop.project import Project
from etholoop.store import load_frame_instances
from etholoop.store.models import Frame, Video
from etholoop.video import open_video
from tests.annotate.conftest import (
    BEHAVIORS,
    IMAGE_FOLDER_LABELS,
    IMAGE_SIZE,
    KEYPOINTS,
)


def _instance(x: float = 50, source: str = "manual") -> dict[str, object]:
    return {
        "source": source,
        "box": [x, 40, x + 60, 120],
        "keypoints": [[x + 10, 50], [x + 5, 45], [x + 15, 45], [x + 30, 110]],
        "visibility": [2, 2, 1, 2],
    }


@pytest.fixture
def client(live_server: str) -> httpx.Client:
    with httpx.Client(base_url=live_server, timeout=10) as client:
        yield client


def test_project_describes_skeleton_behaviors_and_cycle(client):
    body = client.get("/api/project").json()
    assert body["keypoints"] == KEYPOINTS and body["behaviors"] == BEHAVIORS
    assert body["edges"] == [[0, 1], [0, 2], [1, 3], [2, 3]]
    assert body["animals"] == 2 and body["cycle"] == body["cycles"][0]["id"]


def test_frame_list_pages_filters_and_counts(client, annotation_project: Project):
    with annotation_project.store.session() as session:
        n_frames = len(session.scalars(select(Frame.id)).all())
    first = client.get("/api/frames", params={"limit": 5}).json()
    second = client.get("/api/frames", params={"limit": 5, "offset": 5}).json()
    assert first["total"] == second["total"] == n_frames >= 10
    ids = [f["id"] for f in first["items"] + second["items"]]
    assert ids == sorted(ids) and len(set(ids)) == 10
    test = client.get("/api/frames", params={"split": "test", "limit": 100}).json()
    assert test["total"] >= 2 and {f["split"] for f in test["items"]} == {"test"}
    progress = client.get("/api/progress").json()["splits"]
    assert sum(s["total"] for s in progress.values()) == n_frames
    assert progress["test"] == {
        **{"gray": test["total"], "orange": 0, "blue": 0, "green": 0},
        "total": test["total"],
    }


def test_status_follows_labels_and_sorts(client, predicted_frame_id):
    frames = client.get("/api/frames", params={"limit": 100}).json()["items"]
    other = next(f["id"] for f in frames if f["id"] != predicted_frame_id)
    one = client.put(
        f"/api/frames/{other}/instances", json={"instances": [_instance()]}
    )
    assert one.status_code == 200 and one.json()["status"] == "orange"  # 1 of 2 mice
    saved = one.json()["instances"]
    two = client.put(
        f"/api/frames/{other}/instances",
        json={
            "instances": [*saved, _instance(150)],
            "base_versions": {str(saved[0]["id"]): saved[0]["version"]},
        },
    )
    assert two.json()["status"] == "green"
    by_status = client.get(
        "/api/frames", params={"sort": "status", "order": "desc", "limit": 2}
    ).json()["items"]
    assert [f["status"] for f in by_status] == ["green", "blue"]
    blue = client.get("/api/frames", params={"status": "blue"}).json()
    assert [f["id"] for f in blue["items"]] == [predicted_frame_id]


def test_save_is_refused_when_the_frame_changed_meanwhile(
    client, predicted_frame_id, annotation_project: Project
):
    loaded = client.get(f"/api/frames/{predicted_frame_id}").json()
    base = {str(i["id"]): i["version"] for i in loaded["instances"]}
    confirmed = {**loaded["instances"][0], "source": "manual"}
    first = client.put(
        f"/api/frames/{predicted_frame_id}/instances",
        json={"instances": [confirmed], "base_versions": base},
    )
    assert first.status_code == 200
    assert first.json()["instances"][0]["source"] == "manual"
    stale = client.put(
        f"/api/frames/{predicted_frame_id}/instances",
        json={"instances": [], "base_versions": base},
    )
    assert stale.status_code == 409
    assert "changed by someone else" in stale.json()["detail"]
    with annotation_project.store.session() as session:
        kept = load_frame_instances(session, predicted_frame_id)
    assert [i.source for i in kept] == ["manual"]  # the stale delete did nothing


def test_frame_image_is_the_cached_png(client, annotation_project: Project):
    with annotation_project.store.session() as session:
        frame = session.scalars(select(Frame).order_by(Frame.id)).first()
        path = annotation_project.resolve(frame.image_path)
        frame_id = frame.id
    response = client.get(f"/api/frames/{frame_id}/image")
    assert response.status_code == 200
    assert response.content == path.read_bytes()


def test_frame_image_outside_the_project_is_not_served(
    client, annotation_project: Project, tmp_path
):
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"not for the browser")
    with annotation_project.store.session() as session:
        frame = session.scalars(select(Frame).order_by(Frame.id)).first()
        frame.image_path = "../secret.png"
        frame_id = frame.id
    assert client.get(f"/api/frames/{frame_id}/image").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/static/..%2F..%2F..%2Fpyproject.toml",
        "/static/%2e%2e/%2e%2e/%2e%2e/pyproject.toml",
        "/static/../../etholoop.yaml",
        "/api/videos/1/frames/100000",
        "/api/videos/99/frames/0",
        "/api/frames/99999/image",
    ],
)
def test_requests_outside_the_project_get_404(live_server, path):
    raw = httpx.Request("GET", live_server + path)
    raw.url = httpx.URL(live_server + path)  # keep the dots and escapes as sent
    with httpx.Client(timeout=10) as client:
        response = client.send(raw)
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{not json", "JSON"),
        ('{"instances": [{"keypoints": [], "visibility": []}]}', "skeleton has 4"),
        ('{"instances": [{"keypoints": [[1, 2]], "visibility": [7]}]}', "visibility"),
        ('{"instances": "many"}', "instances"),
        ('{"instances": [], "extra": 1}', "extra"),
    ],
)
def test_malformed_saves_get_422_with_a_message(client, body, message):
    frame_id = client.get("/api/frames").json()["items"][0]["id"]
    response = client.put(
        f"/api/frames/{frame_id}/instances",
        content=body,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422
    assert message in response.json()["detail"]


def test_bad_query_parameters_get_422(client):
    assert client.get("/api/frames", params={"split": "holdout"}).status_code == 422
    assert client.get("/api/frames", params={"limit": 0}).status_code == 422
    assert client.get("/api/frames", params={"cycle": 99}).status_code == 404


def test_token_is_required_everywhere_when_set(live_server_with_token):
    url, token = live_server_with_token
    with httpx.Client(base_url=url, timeout=10) as client:
        for path in PAGES_AND_FILES:
            assert client.get(path).status_code == 401
        assert client.get("/api/project", params={"token": "wrong"}).status_code == 401
        assert client.get("/api/project", params={"token": token}).status_code == 200
        bearer = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/frames", headers=bearer).status_code == 200


PAGES_AND_FILES = (
    "/",
    "/timeline",
    "/api/project",
    "/api/frames",
    "/static/api.js",
    "/static/style.css",
)


def test_token_from_the_query_is_kept_in_an_httponly_cookie(live_server_with_token):
    url, token = live_server_with_token
    with httpx.Client(base_url=url, timeout=10) as client:
        first = client.get("/", params={"token": token, "frame": 3})
    assert first.status_code == 200
    cookie = first.headers["set-cookie"]
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/"} <= attributes
    name_value = cookie.split(";")[0]
    assert token in name_value
    with httpx.Client(base_url=url, timeout=10) as client:  # no cookie jar reuse
        for path in PAGES_AND_FILES:
            response = client.get(path, headers={"Cookie": name_value})
            assert response.status_code == 200, path
        wrong = name_value.replace(token, "wrong")
        assert client.get("/api/project", headers={"Cookie": wrong}).status_code == 401


@pytest.mark.parametrize("path", ["/", "/timeline"])
def test_pages_load_their_files_with_plain_tags(client, path):
    page = client.get(path)
    assert page.status_code == 200 and page.headers["content-type"].startswith(
        "text/html"
    )
    html = page.text
    assert "document.write" not in html and "importmap" not in html
    assert '<link rel="stylesheet" href="/static/style.css">' in html
    module = "pose" if path == "/" else "timeline"
    assert f'<script type="module" src="/static/{module}.js"></script>' in html
    for tag in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        assert client.get(tag).status_code == 200, tag


def test_behavior_ranges_save_merge_and_export(client):
    video = client.get("/api/videos").json()[0]
    assert video["n_frames"] == 90
    url = f"/api/videos/{video['id']}/behaviors"
    labels = [
        {"individual": 0, "behavior": "walk", "start": 10, "stop": 20},
        {"individual": 0, "behavior": "walk", "start": 20, "stop": 25},
        {"individual": 1, "behavior": "groom", "start": 0, "stop": 5},
    ]
    saved = client.put(url, json={"labels": labels}).json()["labels"]
    assert sorted(
        (r["individual"], r["behavior"], r["start"], r["stop"]) for r in saved
    ) == [
        (0, "walk", 10, 25),
        (1, "groom", 0, 5),
    ]
    stale = client.put(url, json={"labels": [], "base_versions": {}})
    assert stale.status_code == 409
    action = client.get(f"{url}.csv", params={"form": "action"}).text.splitlines()
    assert action[0] == "Frame,Action" and len(action) == 91
    assert action[11] == "10,walk" and action[26] == "25,none"
    onehot = client.get(f"{url}.csv", params={"form": "onehot", "individual": 1})
    assert onehot.text.splitlines()[:2] == ["frame,rest,walk,groom", "0,0,0,1"]


def test_behavior_ranges_outside_the_video_or_config_get_422(client):
    video_id = client.get("/api/videos").json()[0]["id"]
    url = f"/api/videos/{video_id}/behaviors"
    for label, message in (
        (
            {"individual": 0, "behavior": "fly", "start": 0, "stop": 5},
            "unknown behavior",
        ),
        ({"individual": 5, "behavior": "walk", "start": 0, "stop": 5}, "animal 5"),
        (
            {"individual": 0, "behavior": "walk", "start": 80, "stop": 95},
            "past the end",
        ),
        ({"individual": 0, "behavior": "walk", "start": 9, "stop": 3}, "start < stop"),
    ):
        response = client.put(url, json={"labels": [label]})
        assert response.status_code == 422 and message in response.json()["detail"]


def test_predicted_ranges_import_from_probabilities(client):
    video_id = client.get("/api/videos").json()[0]["id"]
    url = f"/api/videos/{video_id}/behaviors"
    client.put(
        url,
        json={"labels": [{"individual": 0, "behavior": "rest", "start": 0, "stop": 3}]},
    )
    rows = ["frame,rest,walk,groom"] + [
        f"{t},0.1,{0.9 if 5 <= t < 9 else 0.2},0.0" for t in range(90)
    ]
    files = {"file": ("probs.csv", "\n".join(rows).encode(), "text/csv")}
    body = client.post(f"{url}/predictions", files=files, data={"threshold": "0.5"})
    assert body.status_code == 200
    ranges = {
        (r["behavior"], r["start"], r["stop"], r["source"])
        for r in body.json()["labels"]
    }
    assert ranges == {("rest", 0, 3, "manual"), ("walk", 5, 9, "predicted")}
    bad = {"file": ("probs.csv", b"frame,rest\n0,2.0\n", "text/csv")}
    response = client.post(f"{url}/predictions", files=bad)
    assert response.status_code == 422 and "walk" in response.json()["detail"]


def test_video_frames_decode_exactly(client, arena_video):
    video_id = client.get("/api/videos").json()[0]["id"]
    response = client.get(f"/api/videos/{video_id}/frames/42")
    assert response.headers["content-type"] == "image/jpeg"
    served = np.asarray(Image.open(io.BytesIO(response.content)).convert("RGB"), float)
    with open_video(arena_video) as reader:
        errors = {
            t: np.abs(served - reader.read_frame(t)).mean() for t in range(38, 47)
        }
    assert min(errors, key=errors.__getitem__) == 42


@pytest.fixture
def image_client(image_server: str) -> httpx.Client:
    with httpx.Client(base_url=image_server, timeout=10) as client:
        yield client


def test_image_folder_frames_come_from_the_frame_cache(
    image_client, image_folder_project: Project
):
    [video] = image_client.get("/api/videos").json()
    assert video["n_frames"] == 5 and (video["width"], video["height"]) == IMAGE_SIZE
    with image_folder_project.store.session() as session:
        cache = image_folder_project.frame_dir(session.get(Video, video["id"]).sha256)
    for idx in (0, 3):  # a labeled and an unlabeled image
        response = image_client.get(f"/api/videos/{video['id']}/frames/{idx}")
        assert response.status_code == 200
        served = np.asarray(Image.open(io.BytesIO(response.content)), float)
        original = np.asarray(Image.open(cache / f"img{idx:04d}.png"), float)
        assert np.abs(served - original).mean() < 2  # JPEG of the cached PNG
    assert image_client.get(f"/api/videos/{video['id']}/frames/5").status_code == 404


def test_frame_list_names_the_images_of_an_image_folder(image_client, client):
    items = image_client.get("/api/frames").json()["items"]
    assert [(f["frame_idx"], f["image_name"]) for f in items] == [
        (idx, f"img{idx:04d}.png") for idx in sorted(IMAGE_FOLDER_LABELS)
    ]
    frame = image_client.get(f"/api/frames/{items[1]['id']}").json()
    assert frame["image_name"] == "img0002.png"
    assert frame["instances"][0]["box"] is None  # DLC has no boxes
    video_frames = client.get("/api/frames").json()["items"]
    assert {f["image_name"] for f in video_frames} == {None}  # frames of a video file


def test_a_tracks_session_is_listed_and_labeled_without_images(
    client, annotation_project: Project, tmp_path
):
    from etholoop.io.tracks import write_tracks
    from etholoop.tracks_import import import_tracks
    from etholoop.types import Skeleton, Tracks

    xy = np.random.default_rng(0).uniform(0, 100, (30, 2, 4, 2)).astype(np.float32)
    scores = np.ones(xy.shape[:-1], np.float32)
    tracks = Tracks(xy, scores, ["a", "b"], Skeleton(KEYPOINTS))
    path = write_tracks(tracks, tmp_path / "pose-only.nc", "nc")
    import_tracks(annotation_project, path, fps=30)
    videos = client.get("/api/videos").json()
    assert [v["kind"] for v in videos] == ["file", "tracks"]
    session = videos[1]
    shown = (session["name"], session["n_frames"], session["fps"])
    assert shown == ("pose-only", 30, 30.0)
    assert client.get(f"/api/videos/{session['id']}/frames/0").status_code == 404
    url = f"/api/videos/{session['id']}/behaviors"
    labels = [{"individual": 1, "behavior": "walk", "start": 3, "stop": 9}]
    saved = client.put(url, json={"labels": labels})
    assert saved.status_code == 200
    assert [(r["start"], r["stop"]) for r in saved.json()["labels"]] == [(3, 9)]
    action = client.get(f"{url}.csv", params={"individual": 1}).text.splitlines()
    assert len(action) == 31 and action[4] == "3,walk"
