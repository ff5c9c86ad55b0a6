"""What any optimizer must do; they fail for a missing or stand-in method.py."""

from pathlib import Path

import torch
import yaml

from experiment import run
from method import Optimizer

CONFIG = yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yaml").read_text())


def make(params, lr: float = 0.01) -> torch.optim.Optimizer:
    return Optimizer(params, **{**(CONFIG.get("method") or {}), "lr": lr})


def quadratic(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A well-conditioned least-squares problem: (A, b) with its minimum away from the start."""
    g = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(10, 10, generator=g))
    a = q @ torch.diag(torch.linspace(0.5, 2.0, 10)) @ q.T
    return a, a @ (torch.randn(10, generator=g) * 2)


def test_it_is_a_torch_optimizer():
    assert isinstance(make([torch.nn.Parameter(torch.randn(3))]), torch.optim.Optimizer)


def test_a_step_moves_the_parameters_against_the_gradient():
    w = torch.nn.Parameter(torch.randn(10, generator=torch.Generator().manual_seed(1)))
    opt = make([w])
    before = w.detach().clone()
    w.grad = torch.ones(10)
    opt.step()
    moved = w.detach() - before
    assert torch.isfinite(w).all() and moved.abs().sum() > 0
    assert float(moved.sum()) < 0, "the step went up the gradient"


def test_parameters_without_a_gradient_are_left_alone():
    used, unused = torch.nn.Parameter(torch.randn(4)), torch.nn.Parameter(torch.randn(4))
    opt = make([used, unused])
    before = unused.detach().clone()
    used.grad = torch.ones(4)
    opt.step()
    assert torch.equal(unused.detach(), before)


def test_step_returns_the_closure_loss():
    w = torch.nn.Parameter(torch.randn(3))
    opt = make([w])

    def closure():
        opt.zero_grad()
        loss = (w**2).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss is not None and torch.isfinite(torch.as_tensor(loss))


def test_it_minimises_a_quadratic():
    a, b = quadratic()
    w = torch.nn.Parameter(torch.randn(10, generator=torch.Generator().manual_seed(2)))
    opt = make([w], lr=0.01)
    start = float(0.5 * (a @ w - b).pow(2).sum())
    for _ in range(600):
        opt.zero_grad()
        loss = 0.5 * (a @ w - b).pow(2).sum()
        loss.backward()
        opt.step()
    end = float(0.5 * (a @ w - b).pow(2).sum())
    assert end < 0.2 * start, f"the quadratic went from {start:.3f} to {end:.3f}"


def test_a_network_trained_with_it_learns():
    config = {**CONFIG, "data": {**CONFIG["data"], "n": 1024}, "train": {**CONFIG["train"], "steps": 150}}
    metrics = run(config)
    assert metrics["loss_end"] < metrics["loss_start"] * 0.9
