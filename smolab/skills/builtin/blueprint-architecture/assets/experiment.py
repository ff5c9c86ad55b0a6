"""The paper's network trained on synthetic vectors, images or token sequences."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from common import fit_classifier, synthetic
from method import Model


def in_channels(data: dict[str, Any]) -> int:
    return {"image": 3, "sequence": data["vocab"]}.get(data["input"], data["features"])


def build(data: dict[str, Any], method: dict[str, Any]) -> nn.Module:
    return Model(in_channels(data), data["classes"], **method)


def run(config: dict[str, Any]) -> dict[str, float]:
    data, opt = config["data"], config["train"]
    x, y = synthetic(data, config.get("seed", 0))
    model = build(data, config.get("method") or {})
    optimizer = torch.optim.Adam(model.parameters(), lr=opt["lr"])
    metrics = fit_classifier(model, x, y, optimizer, opt["steps"], opt["batch_size"], config.get("seed", 0))
    return {**metrics, "parameters": float(sum(p.numel() for p in model.parameters()))}
