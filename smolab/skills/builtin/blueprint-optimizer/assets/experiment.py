"""An MLP classifier trained with the paper's optimizer, on synthetic data."""

from __future__ import annotations

from typing import Any

from common import fit_classifier, mlp, synthetic
from method import Optimizer


def run(config: dict[str, Any]) -> dict[str, float]:
    data, arch, opt = config["data"], config["model"], config["train"]
    x, y = synthetic(data, config.get("seed", 0))
    model = mlp(data["features"], arch["hidden"], arch["depth"], data["classes"])
    # The paper's lr was tuned for its own models; the synthetic run has its own.
    optimizer = Optimizer(model.parameters(), **{**(config.get("method") or {}), "lr": opt["lr"]})
    return fit_classifier(model, x, y, optimizer, opt["steps"], opt["batch_size"], config.get("seed", 0))
