"""The heatmap network: a small encoder-decoder trained from scratch.

Four strided stages of two 3x3 convolutions (BatchNorm + ReLU) take the input
down to stride 16; a light feature-pyramid decoder (1x1 laterals, upsampling,
one 3x3 convolution per level) comes back up to stride 2 through skip
connections, and a 1x1 head gives one heatmap per output channel. About 1M
parameters at the default width, no pretrained weights, nothing downloaded.

Input: RGB in 0..1, shape (N, 3, H, W) with H and W multiples of 16; it is
normalized inside (`PIXEL_MEAN`, `PIXEL_STD`), so callers never do. Output:
(N, out_channels, H / 2, W / 2) heatmaps (`STRIDE`). The keypoint model has one
channel per keypoint on 160 px crops; the centroid model (`out_channels=1`) is
the same class on a downscaled full frame.
"""

from __future__ import annotations

import numpy as np
import torch
from numpy.typing import NDArray
from torch import Tensor, nn
from torch.nn import functional

from etholoop.pose.backend import training_device

INFERENCE_BATCH = 32
"""Images per forward pass at prediction time."""
STRIDE = 2
"""Input px per output heatmap cell."""
MULTIPLE = 16
"""Input sides must be multiples of this (four stride-2 stages)."""
HEAD_INIT_STD = 1e-3
"""Standard deviation of the output layer's initial weights."""
PIXEL_MEAN = 0.45
PIXEL_STD = 0.25
"""Normalization of 0..1 pixels: rodent videos are mostly gray, one value each."""


def _conv(in_channels: int, out_channels: int, *, stride: int = 1) -> nn.Sequential:
    """A 3x3 convolution, BatchNorm and ReLU."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


def _stage(in_channels: int, out_channels: int) -> nn.Sequential:
    """Halve the resolution, then one more convolution at the new one."""
    return nn.Sequential(
        _conv(in_channels, out_channels, stride=2), _conv(out_channels, out_channels)
    )


class HeatmapNet(nn.Module):
    """Encoder (strides 2, 4, 8, 16) and decoder back to stride 2.

    Args:
        out_channels: Heatmaps out: keypoints, or 1 for the centroid model.
        width: Channels of the first stage; later stages have 2, 4 and 6 times
            as many. The decoder has 2 * `width` channels down to stride 4 and
            `width` at stride 2, where most of the pixels are.
    """

    def __init__(self, out_channels: int, *, width: int = 32) -> None:
        super().__init__()
        channels = (width, 2 * width, 4 * width, 6 * width)
        decoder = (width, 2 * width, 2 * width, 2 * width)
        self.out_channels = out_channels
        self.width = width
        self.stages = nn.ModuleList(
            _stage(a, b) for a, b in zip((3, *channels[:-1]), channels, strict=True)
        )
        self.laterals = nn.ModuleList(
            nn.Conv2d(c, d, 1) for c, d in zip(channels, decoder, strict=True)
        )
        self.reduce = nn.ModuleList(
            nn.Conv2d(a, b, 1) for a, b in zip(decoder[1:], decoder[:-1], strict=True)
        )
        self.smooth = nn.ModuleList(_conv(d, d) for d in decoder[:-1])
        # No bias, weights near zero: training starts from (almost) all-zero
        # heatmaps, the background's value, instead of random ones that a
        # from-scratch network first spends its steps undoing.
        self.head = nn.Conv2d(width, out_channels, 1, bias=False)
        nn.init.normal_(self.head.weight, std=HEAD_INIT_STD)

    def forward(self, images: Tensor) -> Tensor:
        """Heatmaps of (N, 3, H, W) images in 0..1: (N, out_channels, H/2, W/2)."""
        x = (images - PIXEL_MEAN) / PIXEL_STD
        features = []
        for stage in self.stages:
            x = stage(x)
            features.append(x)
        y = self.laterals[-1](features[-1])
        for level in range(len(features) - 2, -1, -1):
            skip = self.laterals[level](features[level])
            y = self.reduce[level](y)
            y = functional.interpolate(y, size=skip.shape[-2:], mode="nearest") + skip
            y = self.smooth[level](y)
        out: Tensor = self.head(y)
        return out


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters of `model`."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def pick_device(requested: str | None) -> torch.device:
    """The torch device of `training_device`: a GPU index becomes "cuda:<index>"."""
    name = training_device(requested)
    return torch.device(f"cuda:{name}" if name.isdigit() else name)


def run_model(
    model: nn.Module, inputs: NDArray[np.uint8], device: torch.device
) -> NDArray[np.float32]:
    """Heatmaps of uint8 images (N, S, S, 3), in batches: (N, C, S/2, S/2)."""
    model.eval()
    out = []
    with torch.inference_mode():
        for start in range(0, len(inputs), INFERENCE_BATCH):
            chunk = torch.from_numpy(inputs[start : start + INFERENCE_BATCH])
            chunk = chunk.to(device).permute(0, 3, 1, 2).float() / 255.0
            out.append(model(chunk).float().cpu().numpy())
    channels = getattr(model, "out_channels", 1)
    return np.concatenate(out) if out else np.zeros((0, channels, 0, 0), np.float32)
