"""A small CNN with the paper's normalization after each convolution, on synthetic images."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from common import fit_classifier
from method import Norm


def make_data(n: int, size: int, classes: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Noisy RGB images; the class is the quadrant that holds a bright square."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, size, size, generator=g) * 0.5
    y = torch.randint(0, classes, (n,), generator=g)
    half = size // 2
    for i in range(n):
        q = int(y[i]) % 4
        r, c = (q // 2) * half, (q % 2) * half
        x[i, :, r + 2 : r + half - 2, c + 2 : c + half - 2] += 2.0
    return x, y


def build(channels: int, classes: int, method: dict[str, Any]) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, channels, 3, padding=1),
        Norm(channels, **method),
        nn.ReLU(),
        nn.Conv2d(channels, 2 * channels, 3, padding=1, stride=2),
        Norm(2 * channels, **method),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(2),
        nn.Flatten(),
        nn.Linear(8 * channels, classes),
    )


def run(config: dict[str, Any]) -> dict[str, float]:
    data, arch, opt = config["data"], config["model"], config["train"]
    x, y = make_data(data["n"], data["size"], data["classes"], config.get("seed", 0))
    model = build(arch["channels"], data["classes"], config.get("method") or {})
    optimizer = torch.optim.SGD(model.parameters(), lr=opt["lr"], momentum=0.9)
    return fit_classifier(model, x, y, optimizer, opt["steps"], opt["batch_size"], config.get("seed", 0))
