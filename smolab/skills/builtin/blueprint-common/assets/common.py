"""Shared by every experiment: config, seeding, a training loop and metrics."""

from __future__ import annotations

import copy
import linecache
import random
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
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


ROOT = Path(__file__).resolve().parent
VALUES_HEADER = "Values on the failing line"
_NAME = re.compile(r"\b(?:self\.)?[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")


def _describe(value: Any) -> str | None:
    """A value as its shape says it: tensors by shape and type, layers by their one-line repr."""
    if isinstance(value, torch.Tensor):
        kind = "Parameter" if isinstance(value, torch.nn.Parameter) else "Tensor"
        return f"{kind} of shape {tuple(value.shape)}, {str(value.dtype).removeprefix('torch.')}"
    if isinstance(value, torch.nn.Module):
        text = repr(value)
        return text if "\n" not in text else f"{type(value).__name__}(...)"
    if isinstance(value, bool | int | float | str) or value is None:
        return repr(value)[:60]
    if isinstance(value, tuple | list) and len(value) <= 8 and all(isinstance(v, int) for v in value):
        return repr(value)
    return None


def failure_values(tb: TracebackType | None, limit: int = 10) -> str:
    """The names on the line of this repository's own code that raised (outside ``tests/``), with
    their shapes: "x: Tensor of shape (8, 64, 6, 6)" says at once why a layer cannot take it."""
    frame = None
    while tb is not None:
        path = Path(tb.tb_frame.f_code.co_filename).resolve()
        if path.is_relative_to(ROOT) and "tests" not in path.relative_to(ROOT).parts:
            frame = (tb.tb_frame, tb.tb_lineno, path.name)
        tb = tb.tb_next
    if frame is None:
        return ""
    f, line, name = frame
    source = linecache.getline(str(f.f_code.co_filename), line).strip()
    shown = []
    for expr in dict.fromkeys(_NAME.findall(source)):
        head, *attrs = expr.split(".")
        if head not in f.f_locals:
            continue
        # The deepest part of ``self.fc1.weight`` or ``x.view`` that is a value, not a method.
        value, best = f.f_locals[head], None
        for i in range(len(attrs) + 1):
            if i:
                value = getattr(value, attrs[i - 1], None)
            if value is None or (callable(value) and not isinstance(value, torch.nn.Module)):
                break
            if (text := _describe(value)) is not None and not (i == 0 and head == "self"):
                best = (".".join([head, *attrs[:i]]), text)
        if best is not None and all(not line.startswith(f"    {best[0]}:") for line in shown):
            shown.append(f"    {best[0]}: {best[1]}")
        if len(shown) == limit:
            break
    if not shown:
        return ""
    return f"{VALUES_HEADER} ({name}, line {line}: `{source}`):\n" + "\n".join(shown)


def explain_failure(kind: type[BaseException], err: BaseException, tb: TracebackType | None) -> None:
    """``sys.excepthook``: the usual traceback, then the values on the line that raised."""
    sys.__excepthook__(kind, err, tb)
    if text := failure_values(tb):
        print(text, file=sys.stderr)
