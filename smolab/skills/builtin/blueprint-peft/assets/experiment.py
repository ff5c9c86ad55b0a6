"""Pretrain a small network on one task, freeze it, and fine-tune the paper's adapters (and a new
head) on another; report the accuracy beside that of training the new head alone."""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

from common import fit_classifier, synthetic
from method import Adapter


class Residual(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.LayerNorm(dim), nn.Linear(dim, 4 * dim), nn.ReLU(), nn.Linear(4 * dim, dim)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.net(x)


class Network(nn.Module):
    def __init__(self, features: int, dim: int, depth: int, classes: int) -> None:
        super().__init__()
        self.embed = nn.Linear(features, dim)
        self.blocks = nn.ModuleList([Residual(dim) for _ in range(depth)])
        self.adapters = nn.ModuleList()
        self.head = nn.Linear(dim, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.embed(x)
        for i, block in enumerate(self.blocks):
            h = block(h)
            if self.adapters:
                h = self.adapters[i](h)
        return self.head(h)


def adapt(base: Network, classes: int, method: dict[str, Any]) -> Network:
    """The pretrained network frozen, with an adapter after each block and a new head."""
    net = copy.deepcopy(base)
    for p in net.parameters():
        p.requires_grad_(False)
    dim = net.embed.out_features
    net.adapters = nn.ModuleList([Adapter(dim, **method) for _ in net.blocks])
    net.head = nn.Linear(dim, classes)
    return net


def run(config: dict[str, Any]) -> dict[str, float]:
    data, arch, pre, opt = config["data"], config["model"], config["pretrain"], config["train"]
    seed = config.get("seed", 0)
    x_a, y_a = synthetic(data, seed)  # the pretraining task
    x_b, y_b = synthetic(data, seed + 1)  # the downstream task: other inputs, other labels
    base = Network(data["features"], arch["dim"], arch["depth"], data["classes"])
    adam = torch.optim.Adam(base.parameters(), lr=pre["lr"])
    fit_classifier(base, x_a, y_a, adam, pre["steps"], opt["batch_size"], seed)

    head_only = adapt(base, data["classes"], config.get("method") or {})
    head_only.adapters = nn.ModuleList()
    probe = fit_classifier(
        head_only,
        x_b,
        y_b,
        torch.optim.Adam(head_only.head.parameters(), lr=opt["lr"]),
        opt["steps"],
        opt["batch_size"],
        seed,
    )
    net = adapt(base, data["classes"], config.get("method") or {})
    trainable = [p for p in net.parameters() if p.requires_grad]
    metrics = fit_classifier(
        net, x_b, y_b, torch.optim.Adam(trainable, lr=opt["lr"]), opt["steps"], opt["batch_size"], seed
    )
    frozen = sum(p.numel() for p in base.parameters())
    return {
        **metrics,
        "head_only_test_accuracy": probe["test_accuracy"],
        "adapter_parameters": float(sum(p.numel() for p in net.adapters.parameters())),
        "adapter_share": sum(p.numel() for p in net.adapters.parameters()) / frozen,
    }
