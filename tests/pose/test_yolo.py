"""The YOLO backend passes every training setting on to Ultralytics."""

from __future__ import annotations

from pathlib import Path

from etholoop.pose.backend import TrainParams
from etholoop.pose.yolo import NO_AUGMENTATION, train_arguments
from etholoop.pose.yolo_env import load_ultralytics

AUGMENTATION = ("fliplr", "degrees", "scale", "translate")


def _arguments(params: TrainParams) -> dict[str, object]:
    return train_arguments(
        params, data_yaml=Path("data.yaml"), run_dir=Path("run"), device="cpu"
    )


def test_defaults_keep_ultralytics_augmentation() -> None:
    arguments = _arguments(TrainParams())
    assert [arguments[k] for k in AUGMENTATION] == [0.5, 0.0, 0.5, 0.1]
    assert "mosaic" not in arguments  # Ultralytics' default stays
    assert arguments["device"] == "cpu" and arguments["data"] == "data.yaml"


def test_augmentation_settings_reach_ultralytics() -> None:
    params = TrainParams(flip=False, rotate=180.0, scale=0.2, translate=0.05)
    arguments = _arguments(params)
    assert [arguments[k] for k in AUGMENTATION] == [0.0, 180.0, 0.2, 0.05]
    recorded = params.to_dict()
    assert [recorded[k] for k in ("flip", "rotate", "scale", "translate")] == [
        False,
        180.0,
        0.2,
        0.05,
    ]


def test_no_augmentation_turns_every_augmentation_off() -> None:
    arguments = _arguments(TrainParams(augment=False, rotate=90.0))
    assert {k: arguments[k] for k in NO_AUGMENTATION} == dict.fromkeys(
        NO_AUGMENTATION, 0.0
    )
    assert {"mosaic", "hsv_v"} <= NO_AUGMENTATION.keys()


def test_every_argument_is_one_ultralytics_knows() -> None:
    load_ultralytics()
    from ultralytics.cfg import DEFAULT_CFG_DICT

    arguments = _arguments(TrainParams(augment=False))
    assert set(arguments) <= set(DEFAULT_CFG_DICT)
