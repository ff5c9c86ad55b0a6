"""An MLP whose non-linearity is the paper's activation, on synthetic classification data."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from common import fit_classifier
from method import Activation


def make_data(n: int, dim: int, classes: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Labels from a fixed random two-layer network: learnable, and not linearly separable."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, dim, generator=g)
    w1, w2 = torch.randn(dim, 32, generator=g), torch.randn(32, classes, generator=g)
    return x, (torch.tanh(x @ w1) @ w2).argmax(dim=-1)


def build(dim: int, hidden: int, depth: int, classes: int, method: dict[str, Any]) -> nn.Module:
    layers: list[nn.Module] = []
    width = dim
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), Activation(**method)]
        width = hidden
    return nn.Sequential(*layers, nn.Linear(width, classes))


def run(config: dict[str, Any]) -> dict[str, float]:
    data, arch, opt = config["data"], config["model"], config["train"]
    x, y = make_data(data["n"], data["dim"], data["classes"], config.get("seed", 0))
    model = build(data["dim"], arch["hidden"], arch["depth"], data["classes"], config.get("method") or {})
    optimizer = torch.optim.Adam(model.parameters(), lr=opt["lr"])
    return fit_classifier(model, x, y, optimizer, opt["steps"], opt["batch_size"], config.get("seed", 0))
