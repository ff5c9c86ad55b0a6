"""An MLP classifier trained with the paper's optimizer, on synthetic data."""

from __future__ import annotations

from typing import Any

from torch import nn

from common import fit_classifier, synthetic
from method import Optimizer


def build(features: int, hidden: int, depth: int, classes: int) -> nn.Module:
    layers: list[nn.Module] = []
    width = features
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), nn.ReLU()]
        width = hidden
    return nn.Sequential(*layers, nn.Linear(width, classes))


def run(config: dict[str, Any]) -> dict[str, float]:
    data, arch, opt = config["data"], config["model"], config["train"]
    x, y = synthetic(data, config.get("seed", 0))
    model = build(data["features"], arch["hidden"], arch["depth"], data["classes"])
    # The paper's lr was tuned for its own models; the synthetic run has its own.
    optimizer = Optimizer(model.parameters(), **{**(config.get("method") or {}), "lr": opt["lr"]})
    return fit_classifier(model, x, y, optimizer, opt["steps"], opt["batch_size"], config.get("seed", 0))
