"""What any regularizer of hidden units must do; they fail for a missing or stand-in method.py."""

from pathlib import Path

import torch
import yaml

from experiment import run
from method import Regularizer

CONFIG = yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yaml").read_text())


def make() -> torch.nn.Module:
    return Regularizer(**(CONFIG.get("method") or {}))


def hidden(n: int = 4) -> torch.Tensor:
    return torch.rand(n, 32, generator=torch.Generator().manual_seed(0)) + 0.5


@torch.no_grad()
def test_keeps_the_shape_and_is_finite_in_both_modes():
    reg, x = make(), hidden()
    for mode in (True, False):
        y = reg.train(mode)(x)
        assert y.shape == x.shape and torch.isfinite(y).all()


@torch.no_grad()
def test_random_in_training_and_deterministic_at_test_time():
    reg, x = make(), hidden()
    reg.train()
    assert not torch.equal(reg(x), reg(x)), "training mode gives the same output twice"
    reg.eval()
    assert torch.equal(reg(x), reg(x))
    assert reg(x).abs().sum() > 0


@torch.no_grad()
def test_its_expected_training_output_is_the_test_time_output():
    reg, x = make(), hidden()
    reg.train()
    mean = torch.stack([reg(x) for _ in range(3000)]).mean(dim=0)
    expected = reg.eval()(x)
    ratio = float(mean.abs().sum() / expected.abs().sum().clamp_min(1e-12))
    assert torch.allclose(mean, expected, atol=0.1 * float(x.abs().max())), (
        f"averaged over many training passes the output is {ratio:.2f} times the evaluation "
        "output; they must agree: scale what training keeps (divide by the probability of keeping "
        "a unit), or scale the evaluation output by that probability, as the paper does"
    )


def test_differentiable_in_training_mode():
    x = hidden().requires_grad_()
    make().train()(x).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_a_network_with_it_learns():
    config = {**CONFIG, "data": {**CONFIG["data"], "n": 1024}, "train": {**CONFIG["train"], "steps": 150}}
    metrics = run(config)
    assert metrics["loss_end"] < metrics["loss_start"] * 0.9
