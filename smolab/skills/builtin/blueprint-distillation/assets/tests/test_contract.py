"""What any distillation loss must do; they fail for a missing or stand-in method.py."""

from pathlib import Path

import torch
import yaml

from experiment import run
from method import DistillationLoss

CONFIG = yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yaml").read_text())
K = 4


def make() -> torch.nn.Module:
    return DistillationLoss(**(CONFIG.get("method") or {}))


def logits(seed: int, n: int = 32) -> torch.Tensor:
    return torch.randn(n, K, generator=torch.Generator().manual_seed(seed)) * 3


def test_a_finite_non_negative_scalar():
    teacher = logits(0)
    value = make()(logits(1), teacher, teacher.argmax(dim=-1))
    assert value.dim() == 0 and torch.isfinite(value) and float(value) >= 0


def test_gradients_reach_the_student_and_never_the_teacher():
    student, teacher = logits(1).requires_grad_(), logits(0).requires_grad_()
    make()(student, teacher, teacher.argmax(dim=-1)).backward()
    assert student.grad is not None and student.grad.abs().sum() > 0
    assert teacher.grad is None or float(teacher.grad.abs().sum()) == 0, "the teacher is being trained"


def test_lowest_when_the_student_matches_the_teacher():
    teacher = logits(0)
    labels = teacher.argmax(dim=-1)
    loss = make()
    assert float(loss(teacher.clone(), teacher, labels)) < float(loss(logits(1), teacher, labels))


def test_it_uses_the_teachers_soft_targets():
    """Two teachers that agree on every label but not on their confidences give different losses."""
    teacher = logits(0)
    labels = teacher.argmax(dim=-1)
    student = logits(1)
    loss = make()
    assert abs(float(loss(student, teacher, labels)) - float(loss(student, teacher * 0.3, labels))) > 1e-4


def test_the_student_learns():
    config = {**CONFIG, "data": {**CONFIG["data"], "n": 1024}, "train": {**CONFIG["train"], "steps": 150}}
    metrics = run(config)
    assert metrics["loss_end"] < metrics["loss_start"] * 0.9
