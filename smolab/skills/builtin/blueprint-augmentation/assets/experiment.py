"""A small CNN trained on synthetic images, each training batch and its one-hot targets passed
through the paper's augmentation first (so a method that mixes examples mixes their labels)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from common import accuracy, batches, summary, synthetic, train
from method import Augment


def network(channels: int, classes: int) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, channels, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(channels, 2 * channels, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(2 * channels, classes),
    )


def augmented(
    augment: nn.Module, data: Iterator[tuple[torch.Tensor, torch.Tensor]], classes: int
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Training batches as the augmentation returns them: images and target probabilities."""
    augment.train()
    for x, y in data:
        with torch.no_grad():  # closed before the yield: the network's step needs gradients
            batch = augment(x, F.one_hot(y, classes).float())
        yield batch


def run(config: dict[str, Any]) -> dict[str, float]:
    data, arch, opt = config["data"], config["model"], config["train"]
    seed = config.get("seed", 0)
    x, y = synthetic(data, seed)
    split = int(0.8 * len(x))
    cnn = network(arch["channels"], data["classes"])
    augment = Augment(**(config.get("method") or {}))
    optimizer = torch.optim.Adam(cnn.parameters(), lr=opt["lr"])
    stream = augmented(augment, batches(x[:split], y[:split], opt["batch_size"], seed), data["classes"])
    # Cross-entropy against probabilities: a one-hot row is the usual loss, a mixed row mixes it.
    losses = train(cnn, stream, F.cross_entropy, optimizer, opt["steps"])
    return {**summary(losses), "test_accuracy": accuracy(cnn, x[split:], y[split:])}
