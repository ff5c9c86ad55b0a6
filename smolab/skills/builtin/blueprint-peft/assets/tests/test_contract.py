"""What any parameter-efficient adapter must do; they fail for a missing or stand-in method.py."""

from pathlib import Path

import torch
import yaml

from experiment import Residual, run
from method import Adapter

CONFIG = yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yaml").read_text())
DIM = CONFIG["model"]["dim"]


def make() -> torch.nn.Module:
    return Adapter(DIM, **(CONFIG.get("method") or {}))


def test_keeps_the_shape_for_vectors_and_sequences():
    adapter = make()
    for shape in [(4, DIM), (2, 5, DIM)]:
        h = torch.randn(shape)
        out = adapter(h)
        assert out.shape == h.shape and torch.isfinite(out).all()


@torch.no_grad()
def test_a_new_adapter_keeps_the_pretrained_function():
    torch.manual_seed(0)
    h = torch.randn(16, DIM)
    change = (make()(h) - h).norm() / h.norm()
    assert change < 0.1, (
        f"a new adapter changes the block's output by {float(change):.0%}: initialise its last "
        "projection to zeros (nn.init.zeros_ on its weight and bias) so that it starts as the identity"
    )


def test_it_has_trainable_parameters_and_far_fewer_than_a_block():
    adapter = make()
    params = [p for p in adapter.parameters() if p.requires_grad]
    assert params, "nothing to train"
    block = sum(p.numel() for p in Residual(DIM).parameters())
    assert sum(p.numel() for p in params) < 0.5 * block


def test_gradients_reach_its_parameters():
    adapter = make()
    (adapter(torch.randn(8, DIM)) * torch.randn(8, DIM)).sum().backward()
    grads = [p.grad for p in adapter.parameters() if p.requires_grad]
    assert grads and all(g is not None and torch.isfinite(g).all() for g in grads)
    assert sum(float(g.abs().sum()) for g in grads) > 0


def test_fine_tuning_only_the_adapters_learns():
    config = {**CONFIG, "data": {**CONFIG["data"], "n": 1024}}
    config = {
        **config,
        "pretrain": {**CONFIG["pretrain"], "steps": 100},
        "train": {**CONFIG["train"], "steps": 150},
    }
    metrics = run(config)
    assert metrics["loss_end"] < metrics["loss_start"] * 0.9
