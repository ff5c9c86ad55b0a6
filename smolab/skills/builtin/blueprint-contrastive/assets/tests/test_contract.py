"""What any two-view representation objective must do; they fail for a missing or stand-in
method.py."""

from pathlib import Path

import torch
import yaml

from experiment import run
from method import ContrastiveLoss

CONFIG = yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yaml").read_text())


def make() -> torch.nn.Module:
    return ContrastiveLoss(**(CONFIG.get("method") or {}))


def embeddings(seed: int, n: int = 32, d: int = 16) -> torch.Tensor:
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed))


def test_a_finite_scalar():
    value = make()(embeddings(0), embeddings(1))
    assert value.dim() == 0 and torch.isfinite(value)


def test_differentiable_in_both_views():
    z1, z2 = embeddings(0).requires_grad_(), embeddings(1).requires_grad_()
    make()(z1, z2).backward()
    for z in (z1, z2):
        assert z.grad is not None and torch.isfinite(z.grad).all() and z.grad.abs().sum() > 0


def test_lower_for_matching_views_than_for_mismatched_ones():
    z = embeddings(0)
    near = z + 0.05 * embeddings(1)
    loss = make()
    assert float(loss(z, near)) < float(
        loss(z, near[torch.randperm(len(z), generator=torch.Generator().manual_seed(2))])
    )


def test_an_encoder_trained_with_it_learns():
    config = {**CONFIG, "data": {**CONFIG["data"], "n": 1024}, "train": {**CONFIG["train"], "steps": 150}}
    metrics = run(config)
    assert metrics["loss_end"] < metrics["loss_start"] * 0.95
