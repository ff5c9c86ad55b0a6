"""An MLP with the paper's regularizer after each hidden layer, on synthetic data."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from common import fit_classifier, synthetic
from method import Regularizer


def build(features: int, hidden: int, depth: int, classes: int, method: dict[str, Any]) -> nn.Module:
    layers: list[nn.Module] = []
    width = features
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), nn.ReLU(), Regularizer(**method)]
        width = hidden
    return nn.Sequential(*layers, nn.Linear(width, classes))


def run(config: dict[str, Any]) -> dict[str, float]:
    data, arch, opt = config["data"], config["model"], config["train"]
    x, y = synthetic(data, config.get("seed", 0))
    model = build(
        data["features"], arch["hidden"], arch["depth"], data["classes"], config.get("method") or {}
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=opt["lr"])
    return fit_classifier(model, x, y, optimizer, opt["steps"], opt["batch_size"], config.get("seed", 0))
