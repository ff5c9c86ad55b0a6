"""The paper's block stacked in a classifier, on synthetic vectors, images or token sequences."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from common import fit_classifier
from method import Block


def make_data(data: dict[str, Any], seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    n, classes = data["n"], data["classes"]
    if data["input"] == "image":  # the class is the colour of a square set anywhere
        size = data["size"]
        x = torch.randn(n, 3, size, size, generator=g) * 0.5
        y = torch.randint(0, classes, (n,), generator=g)
        colours = torch.eye(3).repeat(classes // 3 + 1, 1)[:classes] + torch.arange(classes)[:, None].ge(3)
        for i in range(n):
            r, c = torch.randint(0, size - 4, (2,), generator=g).tolist()
            x[i, :, r : r + 4, c : c + 4] += 2 * colours[y[i]][:, None, None]
        return x, y
    if data["input"] == "sequence":  # the class is the most frequent of the first few tokens
        x = torch.randint(0, data["vocab"], (n, data["length"]), generator=g)
        counts = torch.stack([(x == t).sum(dim=1) for t in range(classes)], dim=1)
        return x, counts.argmax(dim=1)
    x = torch.randn(n, data["features"], generator=g)  # labels from a fixed random network
    w1, w2 = torch.randn(data["features"], 32, generator=g), torch.randn(32, classes, generator=g)
    return x, (torch.tanh(x @ w1) @ w2).argmax(dim=-1)


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
    x, y = make_data(data, config.get("seed", 0))
    model = Classifier(data, arch["dim"], arch["depth"], config.get("method") or {})
    optimizer = torch.optim.Adam(model.parameters(), lr=opt["lr"])
    return fit_classifier(model, x, y, optimizer, opt["steps"], opt["batch_size"], config.get("seed", 0))
