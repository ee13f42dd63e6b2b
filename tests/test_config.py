"""etholoop.yaml: valid configs load, and every mistake is named with the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from etholoop.config import (
    ProjectConfig,
    SkeletonConfig,
    guess_symmetry,
    load_config,
    save_config,
)
from etholoop.errors import ConfigError

VALID = """\
name: demo
animals: 3
skeleton:
  keypoints: [nose, earL, earR, tailB]
  edges: [[nose, earL], [nose, earR]]
  symmetry: [[earL, earR]]
behaviors: [rest, walk]
"""


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "etholoop.yaml"
    path.write_text(VALID)
    config = load_config(path)
    assert config.skeleton.to_skeleton().flip_idx == [0, 2, 1, 3]
    save_config(config, tmp_path / "again.yaml")
    assert load_config(tmp_path / "again.yaml") == config


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (VALID + "colour: red\n", "unknown key 'colour'"),
        (VALID.replace("  edges:", "  edgez:"), "unknown key 'skeleton.edgez'"),
        (VALID.replace("animals: 3\n", ""), "missing key 'animals'"),
        (VALID.replace("animals: 3", "animals: 0"), "animals: Input should be greater"),
        (VALID.replace("[nose, earL], ", "[nose, tail], "), "unknown keypoint 'tail'"),
        (VALID + "behaviors: [a, a]\n", "behaviors repeat|not valid YAML"),
        ("name: [unclosed\n", r"not valid YAML \(line 2\)"),
        ("- just\n- a list\n", "expected a mapping"),
    ],
)
def test_bad_config_names_file_and_problem(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "etholoop.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        load_config(path)
    assert str(info.value).startswith(str(path))
    assert "\n" not in str(info.value)


def test_missing_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "etholoop.yaml")


@pytest.mark.parametrize(
    ("names", "pairs"),
    [
        (["nose", "earL", "earR", "tailB"], [("earL", "earR")]),
        (["snout", "leftear", "rightear", "tailbase"], [("leftear", "rightear")]),
        (
            ["left_ear", "right_ear", "hip_l", "hip_r"],
            [("left_ear", "right_ear"), ("hip_l", "hip_r")],
        ),
        (["head", "thorax"], []),
    ],
)
def test_guess_symmetry(names: list[str], pairs: list[tuple[str, str]]) -> None:
    assert guess_symmetry(names) == pairs


def test_config_is_frozen() -> None:
    config = ProjectConfig(
        name="x", animals=1, skeleton=SkeletonConfig(keypoints=["a"])
    )
    with pytest.raises(ValueError, match="frozen"):
        config.animals = 2  # type: ignore[misc]
