"""An encoder trained on synthetic data with the paper's objective over two views of each
example, then judged by a linear probe on its frozen embeddings."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from common import batches, fit_classifier, summary
from method import ContrastiveLoss


def make_data(data: dict[str, Any], seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Clusters in a low-dimensional subspace, spread into ``features`` dimensions."""
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(data["classes"], 4, generator=g) * 2
    y = torch.randint(0, data["classes"], (data["n"],), generator=g)
    latent = centres[y] + torch.randn(data["n"], 4, generator=g) * 0.5
    return torch.tanh(latent @ torch.randn(4, data["features"], generator=g)), y


def view(x: torch.Tensor, noise: float, mask: float) -> torch.Tensor:
    """A random view: Gaussian noise and a random share of features masked out."""
    return (x + noise * torch.randn_like(x)) * (torch.rand_like(x) > mask)


class Pair(nn.Module):
    def __init__(self, encoder: nn.Module, noise: float, mask: float) -> None:
        super().__init__()
        self.encoder, self.noise, self.mask = encoder, noise, mask

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.encoder(view(x, self.noise, self.mask)), self.encoder(view(x, self.noise, self.mask))


def probe(encoder: nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int, seed: int) -> float:
    with torch.no_grad():
        z = encoder.eval()(x)
    head = nn.Linear(z.shape[1], int(y.max()) + 1)
    return fit_classifier(head, z, y, torch.optim.Adam(head.parameters(), lr=0.01), steps, 64, seed)[
        "test_accuracy"
    ]


def run(config: dict[str, Any]) -> dict[str, float]:
    data, arch, opt = config["data"], config["model"], config["train"]
    seed = config.get("seed", 0)
    x, y = make_data(data, seed)
    encoder = nn.Sequential(
        nn.Linear(data["features"], arch["hidden"]), nn.ReLU(), nn.Linear(arch["hidden"], arch["embedding"])
    )
    before = probe(encoder, x, y, opt["probe_steps"], seed)
    loss = ContrastiveLoss(**(config.get("method") or {}))
    pair = Pair(encoder, data["noise"], data["mask"])
    optimizer = torch.optim.Adam(encoder.parameters(), lr=opt["lr"])
    pair.train()
    losses = []
    for xb, _ in batches(x, y, opt["batch_size"], seed):  # labels are never used in training
        if len(losses) == opt["steps"]:
            break
        optimizer.zero_grad()
        value = loss(*pair(xb))
        if not torch.isfinite(value):
            raise FloatingPointError(f"the loss became {float(value)} after {len(losses)} steps")
        value.backward()
        optimizer.step()
        losses.append(float(value.detach()))
    return {
        **summary(losses),
        "probe_accuracy_untrained": before,
        "probe_accuracy": probe(encoder, x, y, opt["probe_steps"], seed),
    }
