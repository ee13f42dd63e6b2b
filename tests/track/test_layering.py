"""`etholoop.track` stays pure: it imports no video, store, pose or torch code."""

import ast
from pathlib import Path

import etholoop.track

TRACK = Path(etholoop.track.__file__).parent
FORBIDDEN = ("etholoop.video", "etholoop.store", "etholoop.pose", "torch")


def imported_modules(path: Path) -> list[str]:
    """Absolute names of the modules a file under `etholoop/track/` imports."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ["etholoop", "track"][: 3 - node.level]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found += [module, *(f"{module}.{alias.name}" for alias in node.names)]
    return found


def forbidden_imports(path: Path) -> list[str]:
    """The forbidden modules `path` imports."""
    return [
        name
        for name in imported_modules(path)
        if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN)
    ]


def test_the_walk_finds_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "probe.py"
    module.write_text(
        "import torch.nn\nfrom etholoop import pose\nfrom ..video import reader\n"
        "import numpy\nfrom etholoop.types import Tracks\n"
    )
    assert forbidden_imports(module) == [
        "torch.nn",
        "etholoop.pose",
        "etholoop.video",
        "etholoop.video.reader",
    ]


def test_track_imports_no_video_store_pose_or_torch() -> None:
    modules = sorted(TRACK.rglob("*.py"))
    assert len(modules) >= 4
    found = [f"{p.name}: {m}" for p in modules for m in forbidden_imports(p)]
    assert not found, found
