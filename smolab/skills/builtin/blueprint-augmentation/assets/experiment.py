"""A small CNN trained on synthetic images with the paper's augmentation in front of it."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from common import fit_classifier, synthetic
from method import Augment


def build(channels: int, classes: int, method: dict[str, Any]) -> nn.Module:
    cnn = nn.Sequential(
        nn.Conv2d(3, channels, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(channels, 2 * channels, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(2 * channels, classes),
    )
    # In front of the network: training mode augments, eval mode (testing) does not.
    return nn.Sequential(Augment(**method), cnn)


def run(config: dict[str, Any]) -> dict[str, float]:
    data, arch, opt = config["data"], config["model"], config["train"]
    x, y = synthetic(data, config.get("seed", 0))
    model = build(arch["channels"], data["classes"], config.get("method") or {})
    optimizer = torch.optim.Adam(model.parameters(), lr=opt["lr"])
    return fit_classifier(model, x, y, optimizer, opt["steps"], opt["batch_size"], config.get("seed", 0))
