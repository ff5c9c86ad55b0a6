"""The paper's block stacked in a classifier, on synthetic vectors, images or token sequences."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from common import fit_classifier, synthetic
from method import Block


class Classifier(nn.Module):
    def __init__(self, data: dict[str, Any], dim: int, depth: int, method: dict[str, Any]) -> None:
        super().__init__()
        self.input = data["input"]
        if self.input == "image":
            self.embed: nn.Module = nn.Conv2d(3, dim, 3, padding=1)
        elif self.input == "sequence":
            self.embed = nn.Embedding(data["vocab"], dim)
        else:
            self.embed = nn.Linear(data["features"], dim)
        self.blocks = nn.Sequential(*[Block(dim, **method) for _ in range(depth)])
        self.head = nn.Linear(dim, data["classes"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.blocks(self.embed(x))
        if self.input == "image":
            h = h.mean(dim=(2, 3))
        elif self.input == "sequence":
            h = h.mean(dim=1)
        return self.head(h)


def run(config: dict[str, Any]) -> dict[str, float]:
    data, arch, opt = config["data"], config["model"], config["train"]
    x, y = synthetic(data, config.get("seed", 0))
    model = Classifier(data, arch["dim"], arch["depth"], config.get("method") or {})
    optimizer = torch.optim.Adam(model.parameters(), lr=opt["lr"])
    return fit_classifier(model, x, y, optimizer, opt["steps"], opt["batch_size"], config.get("seed", 0))
