"""A wide teacher trained on synthetic data, then a narrow student trained from it with the
paper's distillation loss."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from common import accuracy, batches, fit_classifier, summary, synthetic, train
from method import DistillationLoss


def mlp(features: int, hidden: int, classes: int) -> nn.Module:
    return nn.Sequential(
        nn.Linear(features, hidden),
        nn.ReLU(),
        nn.Linear(hidden, hidden),
        nn.ReLU(),
        nn.Linear(hidden, classes),
    )


class Pair(nn.Module):
    """The student's logits beside the frozen teacher's, so the loss sees both."""

    def __init__(self, student: nn.Module, teacher: nn.Module) -> None:
        super().__init__()
        self.student, self.teacher = student, teacher

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.no_grad():
            t = self.teacher(x)
        return self.student(x), t


def run(config: dict[str, Any]) -> dict[str, float]:
    data, arch, opt = config["data"], config["model"], config["train"]
    seed = config.get("seed", 0)
    x, y = synthetic(data, seed)
    teacher = mlp(data["features"], arch["teacher_hidden"], data["classes"])
    taught = fit_classifier(
        teacher,
        x,
        y,
        torch.optim.Adam(teacher.parameters(), lr=opt["lr"]),
        opt["steps"],
        opt["batch_size"],
        seed,
    )
    teacher.eval()
    student = mlp(data["features"], arch["student_hidden"], data["classes"])
    loss = DistillationLoss(**(config.get("method") or {}))
    split = int(0.8 * len(x))
    pair = Pair(student, teacher)
    losses = train(
        pair,
        batches(x[:split], y[:split], opt["batch_size"], seed),
        lambda out, labels: loss(out[0], out[1], labels),
        torch.optim.Adam(student.parameters(), lr=opt["lr"]),
        opt["steps"],
    )
    return {
        **summary(losses),
        "teacher_test_accuracy": taught["test_accuracy"],
        "student_test_accuracy": accuracy(student, x[split:], y[split:]),
    }
