"""An MLP trained with SGD under the paper's learning-rate schedule, on synthetic data."""

from __future__ import annotations

from typing import Any

import torch

from common import fit_classifier, mlp, synthetic
from method import Schedule


def run(config: dict[str, Any]) -> dict[str, float]:
    data, arch, opt = config["data"], config["model"], config["train"]
    x, y = synthetic(data, config.get("seed", 0))
    model = mlp(data["features"], arch["hidden"], arch["depth"], data["classes"])
    schedule = Schedule(opt["lr"], opt["steps"], **(config.get("method") or {}))
    optimizer = torch.optim.SGD(model.parameters(), lr=opt["lr"], momentum=0.9)
    # LambdaLR multiplies the optimizer's lr (train.lr) by the factor for each step.
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: schedule(step) / opt["lr"])
    metrics = fit_classifier(
        model, x, y, optimizer, opt["steps"], opt["batch_size"], config.get("seed", 0), scheduler
    )
    return {**metrics, "final_lr": float(schedule(opt["steps"] - 1))}
