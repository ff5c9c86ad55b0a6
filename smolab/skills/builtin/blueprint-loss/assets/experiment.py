"""A feature extractor and a linear classifier trained with the paper's loss, on synthetic data."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from common import batches, summary, synthetic, train
from method import Loss


class Net(nn.Module):
    def __init__(self, features: int, hidden: int, feat_dim: int, classes: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(features, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, feat_dim),
        )
        self.head = nn.Linear(feat_dim, classes)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = self.body(x)
        return f, self.head(f)


def run(config: dict[str, Any]) -> dict[str, float]:
    data, arch, opt = config["data"], config["model"], config["train"]
    seed = config.get("seed", 0)
    x, y = synthetic(data, seed)
    net = Net(data["features"], arch["hidden"], arch["feat_dim"], data["classes"])
    loss = Loss(data["classes"], arch["feat_dim"], **(config.get("method") or {}))
    optimizer = torch.optim.Adam([*net.parameters(), *loss.parameters()], lr=opt["lr"])
    split = int(0.8 * len(x))
    losses = train(
        net,
        batches(x[:split], y[:split], opt["batch_size"], seed),
        lambda out, labels: loss(out[0], out[1], labels),
        optimizer,
        opt["steps"],
    )
    net.eval()
    with torch.no_grad():
        accuracy = float((net(x[split:])[1].argmax(dim=-1) == y[split:]).float().mean())
    return {**summary(losses), "test_accuracy": accuracy}
