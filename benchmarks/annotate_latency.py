"""Latency of "next frame" in the annotation app's pose view, in a real Chromium.

Builds (once, cached in benchmarks/output/annotate-latency/) a project of one
synthetic 3-mouse arena video, 1280x1024, with 200 frames sampled and its ground
truth imported as labels; serves it with uvicorn on 127.0.0.1; opens the pose view
in headless Chromium and presses the "next frame" key 200 times (`D`, turning back
with `A` at the last frame). Each latency is measured inside the page: from the
keydown event (a capture listener takes performance.now()) to the app's
`performance.mark("frame-drawn-<id>")`, set once the frame's image and labels are
drawn. Prints p50, p95 and max in ms (target: p95 < 100 ms) and the load average.

    .venv/bin/python benchmarks/annotate_latency.py [--presses 200] [--pause-ms 0]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

import httpx

from etholoop.annotate import serve_in_background
from etholoop.config import ProjectConfig, SkeletonConfig
from etholoop.ingest import add_videos
from etholoop.label_files import import_labels
from etholoop.project import Project
from etholoop.sampling import sample_frames
from etholoop.synth import make_arena, write_arena

OUTPUT = Path(__file__).resolve().parent / "output" / "annotate-latency"
N_FRAMES, WIDTH, HEIGHT, ANIMALS = 200, 1280, 1024, 3
KEYPOINTS = ["nose", "earL", "earR", "tailB"]
EDGES = [("nose", "earL"), ("nose", "earR"), ("earL", "tailB"), ("earR", "tailB")]

# Runs in the page before the app handles the key: time of the last keydown.
PRESS_CLOCK = """
window.__pressAt = null;
window.addEventListener(
  "keydown", () => { window.__pressAt = performance.now(); }, true
);
"""


def build_project(root: Path) -> Project:
    """The benchmark project: arena video, 200 sampled frames, imported labels."""
    if (root / "project" / "etholoop.yaml").exists():
        return Project.open(root / "project")
    shutil.rmtree(root, ignore_errors=True)
    started = time.perf_counter()
    arena = make_arena(
        n_animals=ANIMALS, n_frames=N_FRAMES, width=WIDTH, height=HEIGHT, seed=0
    )
    files = write_arena(arena, root / "arena")
    config = ProjectConfig(
        name="annotate-latency",
        animals=ANIMALS,
        skeleton=SkeletonConfig(keypoints=KEYPOINTS, edges=EDGES),
        behaviors=["rest", "walk", "groom"],
    )
    project = Project.create(root / "project", config)
    add_videos(project, [files["video"]])
    sample_frames(project, n=N_FRAMES, strategy="uniform")
    report = import_labels(project, files["labels"])
    print(
        f"built project in {time.perf_counter() - started:.1f} s: "
        f"{report.n_frames} labeled frames, {report.n_instances} instances"
    )
    return project


def measure(url: str, presses: int, pause_ms: float) -> list[float]:
    """Milliseconds from keydown to the frame-drawn mark, one per key press."""
    from playwright.sync_api import sync_playwright

    ids = [f["id"] for f in httpx.get(f"{url}/api/frames?limit=1000").json()["items"]]
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        sys.exit("needs Chromium: no `chromium` on PATH")
    latencies: list[float] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.add_init_script(PRESS_CLOCK)
        page.goto(f"{url}/?frame={ids[0]}")
        page.wait_for_selector(f'body[data-drawn-frame="{ids[0]}"]', timeout=30_000)
        position, step = 0, 1
        for _ in range(presses):
            if not 0 <= position + step < len(ids):
                step = -step
            position += step
            target = ids[position]
            if pause_ms:
                page.wait_for_timeout(pause_ms)
            page.keyboard.press("d" if step > 0 else "a")
            page.wait_for_selector(f'body[data-drawn-frame="{target}"]')
            latencies.append(
                page.evaluate(
                    """(id) => performance.getEntriesByName(`frame-drawn-${id}`)
                        .at(-1).startTime - window.__pressAt""",
                    target,
                )
            )
        browser.close()
    return latencies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presses", type=int, default=200)
    parser.add_argument(
        "--pause-ms",
        type=float,
        default=0,
        help="wait between a frame drawn and the next key press (an annotator's "
        "look at the frame); 0 = press as soon as the frame is drawn",
    )
    parser.add_argument("--rebuild", action="store_true", help="rebuild the project")
    args = parser.parse_args()
    if args.rebuild:
        shutil.rmtree(OUTPUT, ignore_errors=True)
    print(f"{os.cpu_count()} CPUs, load average before: {os.getloadavg()[0]:.2f}")
    project = build_project(OUTPUT)
    try:
        with serve_in_background(project) as url:
            latencies = measure(url, args.presses, args.pause_ms)
    finally:
        project.close()
    print(
        f"{len(latencies)} frame changes ({N_FRAMES} frames {WIDTH}x{HEIGHT}, "
        f"{ANIMALS} animals labeled), pause {args.pause_ms:g} ms between presses"
    )
    print(
        f"key press -> frame drawn: p50 {percentile(latencies, 50):.1f} ms, "
        f"p95 {percentile(latencies, 95):.1f} ms, max {max(latencies):.1f} ms, "
        f"mean {statistics.fmean(latencies):.1f} ms  (target: p95 < 100 ms)"
    )
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
