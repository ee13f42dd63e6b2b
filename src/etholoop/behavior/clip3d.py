"""A 3D CNN that names the behavior at the centre frame of a short grayscale clip.

The network sees a clip of `clip_length` frames around a frame, resized to an
`imsize` square and normalized by its video's pixel mean and standard
deviation (`clips.py` prepares it), and gives one score per class: the classes
are exclusive (softmax), one of them the background. Blocks of 3x3x3
convolutions (BatchNorm, ReLU) end in a max pooling; the first pools space
only (1x2x2), so the short temporal extent survives to the deeper blocks, the
others pool time and space (2x2x2, `ceil_mode`, so a side of 1 stays 1 and any
clip length works). Global average pooling makes a feature vector, and two
fully connected layers with dropout give the class scores.

Variants (parameters at 8 classes, whatever the input size; multiply-adds of one
16 x 112 x 112 clip):

- "standard": blocks of 32, 64, 128 and 256 channels, the last with two 3x3x3
  convolutions; FC 256 -> 512 -> classes. 3,068,712 parameters, 6.4 G.
- "light": blocks of 32, 64 and 128 channels, the last adding a spatial-only
  1x3x3 convolution; FC 128 -> 1280 -> classes. 600,872 parameters, 5.3 G:
  most of the compute is in the first two blocks, which both variants share,
  so "light" saves parameters (and checkpoint size), not much time.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from attrs import asdict, field, frozen
from attrs.validators import in_
from torch import Tensor, nn

from etholoop.types import at_least

Variant = Literal["standard", "light"]
VARIANTS: tuple[Variant, ...] = ("standard", "light")

Kernel = tuple[int, int, int]
_FULL: Kernel = (3, 3, 3)
_SPATIAL: Kernel = (1, 3, 3)
_BLOCKS: dict[str, tuple[tuple[int, tuple[Kernel, ...]], ...]] = {
    "standard": ((32, (_FULL,)), (64, (_FULL,)), (128, (_FULL,)), (256, (_FULL,) * 2)),
    "light": ((32, (_FULL,)), (64, (_FULL,)), (128, (_FULL, _SPATIAL))),
}
"""(channels, kernel of each convolution) of each block, by variant."""
_HIDDEN = {"standard": 512, "light": 1280}
"""Units of the hidden fully connected layer, by variant."""


def _dropout(instance: object, attribute: Any, value: float) -> None:
    if not 0.0 <= value < 1.0:
        raise ValueError(f"Clip3dParams.dropout: want 0 <= dropout < 1, got {value}")


@frozen
class Clip3dParams:
    """The shape of a clip network and of the clips it reads.

    Attributes:
        n_classes: Exclusive classes, the background class included (>= 2).
        variant: "standard" (~3M parameters) or "light" (~600K).
        clip_length: Frames per clip (16: about 0.5 s at 30 fps).
        imsize: Side in px of the square each frame is resized to.
        dropout: Dropout probability before each fully connected layer.
    """

    n_classes: int = field(validator=at_least(2))
    variant: Variant = field(default="standard", validator=in_(VARIANTS))
    clip_length: int = field(default=16, validator=at_least(1))
    imsize: int = field(default=112, validator=at_least(8))
    dropout: float = field(default=0.5, converter=float, validator=_dropout)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form, for checkpoints and run configs."""
        return asdict(self)


def _conv(in_channels: int, out_channels: int, kernel: Kernel) -> list[nn.Module]:
    """A convolution (same size out), BatchNorm and ReLU."""
    padding = (kernel[0] // 2, kernel[1] // 2, kernel[2] // 2)
    return [
        nn.Conv3d(in_channels, out_channels, kernel, padding=padding, bias=False),
        nn.BatchNorm3d(out_channels),
        nn.ReLU(inplace=True),
    ]


class Clip3dNet(nn.Module):
    """Class scores of clips: (N, 1, T, H, W) normalized gray -> (N, n_classes).

    Args:
        params: Variant, number of classes and dropout; the input size is free.
    """

    def __init__(self, params: Clip3dParams) -> None:
        super().__init__()
        self.params = params
        layers: list[nn.Module] = []
        channels = 1
        for block, (width, kernels) in enumerate(_BLOCKS[params.variant]):
            for kernel in kernels:
                layers += _conv(channels, width, kernel)
                channels = width
            pool = (1, 2, 2) if block == 0 else (2, 2, 2)
            layers.append(nn.MaxPool3d(pool, ceil_mode=True))
        self.features = nn.Sequential(*layers)
        hidden = _HIDDEN[params.variant]
        self.classifier = nn.Sequential(
            nn.Dropout(params.dropout),
            nn.Linear(channels, hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(params.dropout),
            nn.Linear(hidden, params.n_classes),
        )

    def forward(self, clips: Tensor) -> Tensor:
        """Logits (N, n_classes) of clips (N, 1, T, H, W)."""
        x = self.features(clips)
        x = torch.flatten(x.mean(dim=(2, 3, 4)), 1)
        out: Tensor = self.classifier(x)
        return out
