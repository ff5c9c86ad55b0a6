"""What any shape-keeping block must do; they fail for a missing or stand-in method.py."""

from pathlib import Path

import torch
import yaml

from experiment import run
from method import Block

CONFIG = yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yaml").read_text())
DIM = CONFIG["model"]["dim"]
SHAPES = {"vector": (4, DIM), "image": (4, DIM, 6, 6), "sequence": (4, 7, DIM)}


def make() -> torch.nn.Module:
    return Block(DIM, **(CONFIG.get("method") or {}))


def sample() -> torch.Tensor:
    return torch.randn(SHAPES[CONFIG["data"]["input"]])


def probe() -> tuple[torch.nn.Module, tuple[torch.Tensor, ...]]:
    """The method and an input, for the checks against the paper's statements (test_paper.py)."""
    return make(), (sample(),)


def test_keeps_the_shape_of_its_input_and_is_finite():
    x = sample()
    y = make()(x)
    assert y.shape == x.shape and torch.isfinite(y).all()


def test_has_learnable_parameters_and_all_of_them_get_gradients():
    block = make()
    params = [p for p in block.parameters() if p.requires_grad]
    assert params, "a block without parameters learns nothing"
    (block(sample()) * torch.randn(sample().shape)).sum().backward()
    missing = [n for n, p in block.named_parameters() if p.requires_grad and p.grad is None]
    assert not missing, f"parameters never used in forward: {missing}"


def test_output_depends_on_the_input():
    block = make()
    x = sample()
    assert not torch.allclose(block(x), block(x + torch.randn(x.shape)), atol=1e-5)


def test_a_network_of_it_learns():
    config = {**CONFIG, "data": {**CONFIG["data"], "n": 512}, "train": {**CONFIG["train"], "steps": 150}}
    metrics = run(config)
    assert metrics["loss_end"] < metrics["loss_start"] * 0.9
