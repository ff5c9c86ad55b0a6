"""What any activation function must do; they fail for a missing or stand-in method.py."""

from pathlib import Path

import torch
import yaml

from experiment import run
from method import Activation

CONFIG = yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yaml").read_text())


def make() -> torch.nn.Module:
    return Activation(**(CONFIG.get("method") or {}))


def test_it_is_a_module_built_from_the_config():
    assert isinstance(make(), torch.nn.Module)


def test_output_has_the_input_shape_and_is_finite():
    f = make()
    for shape in [(7,), (4, 5), (2, 3, 4, 5)]:
        x = torch.randn(shape)
        y = f(x)
        assert y.shape == x.shape and y.dtype == x.dtype and torch.isfinite(y).all()


def test_elementwise():
    f = make()
    x = torch.randn(64)
    perm = torch.randperm(64)
    assert torch.allclose(f(x[perm]), f(x)[perm], atol=1e-6)


def test_non_linear():
    y = make()(torch.linspace(-4, 4, 161))
    curvature = y[2:] - 2 * y[1:-1] + y[:-2]
    assert curvature.abs().max() > 1e-4, "the function is linear (or the identity)"


def test_differentiable():
    x = torch.randn(32, requires_grad=True)
    make()(x).pow(2).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_a_network_with_it_learns():
    config = {**CONFIG, "data": {**CONFIG["data"], "n": 1024}, "train": {**CONFIG["train"], "steps": 150}}
    metrics = run(config)
    assert metrics["loss_end"] < metrics["loss_start"] * 0.9
