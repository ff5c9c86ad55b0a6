"""What any normalization layer must do; they fail for a missing or stand-in method.py."""

from pathlib import Path

import torch
import yaml

from experiment import run
from method import Norm

CONFIG = yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yaml").read_text())
C = 32


def make() -> torch.nn.Module:
    return Norm(C, **(CONFIG.get("method") or {}))


def skewed(n: int = 8) -> torch.Tensor:
    """Activations far from normalized: every channel with its own offset and scale."""
    g = torch.Generator().manual_seed(0)
    scale = torch.rand(1, C, 1, 1, generator=g) * 5 + 0.5
    shift = torch.randn(1, C, 1, 1, generator=g) * 10
    return torch.randn(n, C, 8, 8, generator=g) * scale + shift


def test_output_has_the_input_shape_and_is_finite():
    x = skewed()
    y = make()(x)
    assert y.shape == x.shape and torch.isfinite(y).all()


@torch.no_grad()
def test_output_is_normalized():
    y = make().train()(skewed())
    assert abs(float(y.mean())) < 0.1 and abs(float(y.std()) - 1) < 0.1


@torch.no_grad()
def test_invariant_to_the_scale_and_shift_of_its_input():
    norm, x = make().train(), skewed()
    assert torch.allclose(norm(x), norm(3 * x + 5), atol=1e-3)


def test_differentiable_with_learnable_parameters():
    norm = make().train()
    x = skewed().requires_grad_()
    (norm(x) * torch.randn(x.shape)).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    params = [p for p in norm.parameters() if p.requires_grad]
    assert params and all(p.grad is not None for p in params)


def test_works_in_eval_mode_on_one_example():
    norm = make()
    norm.train()(skewed())
    y = norm.eval()(skewed(1))
    assert y.shape == (1, C, 8, 8) and torch.isfinite(y).all()


def test_a_network_with_it_learns():
    config = {**CONFIG, "data": {**CONFIG["data"], "n": 512}, "train": {**CONFIG["train"], "steps": 120}}
    metrics = run(config)
    assert metrics["loss_end"] < metrics["loss_start"] * 0.9
