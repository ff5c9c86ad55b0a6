"""Shared by every experiment: config, seeding, a training loop and metrics."""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` laid over ``base``, section by section."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def load_config(path: str | Path = "config.yaml", smoke: bool = False) -> dict[str, Any]:
    """The config, with its ``smoke`` section laid over it when ``smoke`` is set."""
    config = yaml.safe_load(Path(path).read_text()) or {}
    smoke_part = config.pop("smoke", None) or {}
    return merge(config, smoke_part) if smoke else config


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def synthetic(data: dict[str, Any], seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Learnable classification data of ``data["input"]``'s shape, generated, never downloaded:
    ``vector`` (n, features) labelled by a fixed random network; ``image`` (n, 3, size, size)
    labelled by the colour of a square set anywhere; ``sequence`` (n, length) tokens labelled by
    the most frequent of the first ``classes`` tokens."""
    g = torch.Generator().manual_seed(seed)
    n, classes, kind = data["n"], data["classes"], data.get("input", "vector")
    if kind == "image":
        size = data["size"]
        x = torch.randn(n, 3, size, size, generator=g) * 0.5
        y = torch.randint(0, classes, (n,), generator=g)
        colours = torch.eye(3).repeat(classes // 3 + 1, 1)[:classes] + torch.arange(classes)[:, None].ge(3)
        side = max(2, size // 4)
        for i in range(n):
            r, c = torch.randint(0, size - side, (2,), generator=g).tolist()
            x[i, :, r : r + side, c : c + side] += 2 * colours[y[i]][:, None, None]
        return x, y
    if kind == "sequence":
        x = torch.randint(0, data["vocab"], (n, data["length"]), generator=g)
        counts = torch.stack([(x == t).sum(dim=1) for t in range(classes)], dim=1)
        return x, counts.argmax(dim=1)
    x = torch.randn(n, data["features"], generator=g)
    w1, w2 = torch.randn(data["features"], 32, generator=g), torch.randn(32, classes, generator=g)
    return x, (torch.tanh(x @ w1) @ w2).argmax(dim=-1)


def mlp(features: int, hidden: int, depth: int, classes: int) -> torch.nn.Module:
    """A plain ReLU MLP classifier, for the kinds whose part is not inside the network."""
    layers: list[torch.nn.Module] = []
    width = features
    for _ in range(depth):
        layers += [torch.nn.Linear(width, hidden), torch.nn.ReLU()]
        width = hidden
    return torch.nn.Sequential(*layers, torch.nn.Linear(width, classes))


def batches(
    x: torch.Tensor, y: torch.Tensor, batch_size: int, seed: int = 0
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Shuffled mini-batches, epoch after epoch, for as long as they are asked for."""
    g = torch.Generator().manual_seed(seed)
    while True:
        order = torch.randperm(len(x), generator=g)
        for start in range(0, len(x) - batch_size + 1, batch_size):
            idx = order[start : start + batch_size]
            yield x[idx], y[idx]


def train(
    model: torch.nn.Module,
    data: Iterator[tuple[torch.Tensor, torch.Tensor]],
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    steps: int,
    scheduler: Any = None,
) -> list[float]:
    """``steps`` steps of gradient descent; the loss of each step."""
    model.train()
    losses = []
    for _ in range(steps):
        x, y = next(data)
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"the loss became {loss.item()} after {len(losses)} steps")
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        losses.append(float(loss.detach()))
    return losses


@torch.no_grad()
def accuracy(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()
    return float((model(x).argmax(dim=-1) == y).float().mean())


def summary(losses: list[float]) -> dict[str, float]:
    """The mean loss over the first and the last tenth of the steps."""
    k = max(1, len(losses) // 10)
    return {"loss_start": sum(losses[:k]) / k, "loss_end": sum(losses[-k:]) / k}


def fit_classifier(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    steps: int,
    batch_size: int,
    seed: int = 0,
    scheduler: Any = None,
) -> dict[str, float]:
    """Train on the first 80% of (x, y) with cross-entropy; the mean loss over the first and the
    last tenth of the steps, and the accuracy on the other 20%."""
    split = int(0.8 * len(x))
    data = batches(x[:split], y[:split], batch_size, seed)
    losses = train(model, data, torch.nn.functional.cross_entropy, optimizer, steps, scheduler)
    return {**summary(losses), "test_accuracy": accuracy(model, x[split:], y[split:])}
