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
    unpaired_side_keypoints,
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
        (
            ["nose", "L_ear", "R_ear", "L_hip", "R_hip"],
            [("L_ear", "R_ear"), ("L_hip", "R_hip")],
        ),
        (["ear_left", "ear_right", "tail"], [("ear_left", "ear_right")]),
        (
            ["LeftEar", "RightEar", "earTipL", "earTipR"],
            [("LeftEar", "RightEar"), ("earTipL", "earTipR")],
        ),
        (["nose", "lefthip", "right_hip"], [("lefthip", "right_hip")]),
        (["snout", "Ear_L", "Ear_R"], [("Ear_L", "Ear_R")]),
        # lightning-pose's mirror-mouse: the paw number differs between the sides
        (
            [
                "paw1LH_top",
                "paw2LF_top",
                "paw3RF_top",
                "paw4RH_top",
                "tailBase_top",
                "obsLow_bot",
                "paw1LH_bot",
                "paw4RH_bot",
            ],
            [
                ("paw1LH_top", "paw4RH_top"),
                ("paw2LF_top", "paw3RF_top"),
                ("paw1LH_bot", "paw4RH_bot"),
            ],
        ),
        (["paw1LH_top", "paw2RH_top"], [("paw1LH_top", "paw2RH_top")]),
        # two left ears for one right ear: ambiguous, nothing paired
        (["L_ear", "leftEar", "R_ear"], []),
        (["earL", "tailL1"], []),
    ],
)
def test_guess_symmetry(names: list[str], pairs: list[tuple[str, str]]) -> None:
    assert guess_symmetry(names) == pairs


@pytest.mark.parametrize(
    ("names", "unpaired"),
    [
        (["nose", "earL", "earR", "tailB"], []),
        (["head", "thorax", "Lower", "tailB"], []),
        (["L_ear", "leftEar", "R_ear", "nose"], ["L_ear", "leftEar", "R_ear"]),
        (["nose", "earL", "hip_right"], ["earL", "hip_right"]),
        (["paw1LH_top", "paw2LF_top", "paw4RH_top"], ["paw2LF_top"]),
    ],
)
def test_keypoints_marked_left_or_right_that_found_no_pair(
    names: list[str], unpaired: list[str]
) -> None:
    assert unpaired_side_keypoints(names, guess_symmetry(names)) == unpaired


def test_config_is_frozen() -> None:
    config = ProjectConfig(
        name="x", animals=1, skeleton=SkeletonConfig(keypoints=["a"])
    )
    with pytest.raises(ValueError, match="frozen"):
        config.animals = 2  # type: ignore[misc]
