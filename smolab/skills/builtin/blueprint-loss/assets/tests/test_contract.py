"""What any training loss must do; they fail for a missing or stand-in method.py."""

from pathlib import Path

import torch
import yaml

from experiment import run
from method import Loss

CONFIG = yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yaml").read_text())
K, D = 4, 8


def make() -> torch.nn.Module:
    return Loss(K, D, **(CONFIG.get("method") or {}))


def batch(seed: int = 0, n: int = 32) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return (
        torch.randn(n, D, generator=g) * 3,
        torch.randn(n, K, generator=g) * 3,
        torch.randint(0, K, (n,), generator=g),
    )


def test_a_finite_non_negative_scalar():
    value = make()(*batch())
    assert value.dim() == 0 and torch.isfinite(value) and float(value) >= 0


def test_differentiable_in_what_the_network_outputs():
    features, logits, labels = batch()
    features.requires_grad_()
    logits.requires_grad_()
    make()(features, logits, labels).backward()
    grads = [t.grad for t in (features, logits) if t.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    assert sum(float(g.abs().sum()) for g in grads) > 0


def test_lower_for_a_good_fit_than_for_a_bad_one():
    torch.manual_seed(0)
    loss = make()
    _, _, labels = batch(1)
    prototypes = torch.eye(K, D) * 2
    good = loss(prototypes[labels], torch.eye(K)[labels] * 10, labels)
    wrong = (labels + 1) % K
    bad = loss(torch.randn(len(labels), D) * 5, torch.eye(K)[wrong] * 10, labels)
    assert float(good) < float(bad)


def test_a_network_trained_with_it_learns():
    config = {**CONFIG, "data": {**CONFIG["data"], "n": 1024}, "train": {**CONFIG["train"], "steps": 150}}
    metrics = run(config)
    assert metrics["loss_end"] < metrics["loss_start"] * 0.9
