"""What any image augmentation must do; they fail for a missing or stand-in method.py."""

from pathlib import Path

import torch
import yaml
from torch.nn import functional as F

from experiment import run
from method import Augment

CONFIG = yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yaml").read_text())
SIZE = CONFIG["data"]["size"]
CLASSES = CONFIG["data"]["classes"]


def make() -> torch.nn.Module:
    return Augment(**(CONFIG.get("method") or {}))


def images(n: int = 8) -> torch.Tensor:
    return torch.rand(n, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(0)) + 0.1


def targets(n: int = 8) -> torch.Tensor:
    return F.one_hot(torch.arange(n) % CLASSES, CLASSES).float()


@torch.no_grad()
def test_keeps_the_shapes_and_returns_target_probabilities():
    x, y = images(), targets()
    out = make().train()(x, y)
    assert isinstance(out, tuple) and len(out) == 2, "forward(x, y) returns (images, targets)"
    xa, ya = out
    assert xa.shape == x.shape and xa.dtype == x.dtype and torch.isfinite(xa).all()
    assert ya.shape == y.shape, f"targets of shape {tuple(ya.shape)}, expected {tuple(y.shape)}"
    assert (ya >= 0).all() and torch.allclose(ya.sum(dim=1), torch.ones(len(y))), (
        "each row of the returned targets must be probabilities that sum to 1"
    )


@torch.no_grad()
def test_test_images_and_targets_are_left_alone():
    x, y = images(), targets()
    xa, ya = make().eval()(x, y)
    assert torch.equal(xa, x) and torch.equal(ya, y)


@torch.no_grad()
def test_training_images_change_at_random_and_the_inputs_are_kept():
    aug, x, y = make().train(), images(16), targets(16)
    original, labels = x.clone(), y.clone()
    a, _ = aug(x, y)
    b, _ = aug(x, y)
    assert torch.equal(x, original) and torch.equal(y, labels), "the input batch was changed in place"
    changed = [not torch.equal(a[i], x[i]) for i in range(len(x))]
    assert sum(changed) >= len(x) // 4, "most training images came out unchanged"
    assert not torch.equal(a, b), "two calls gave the same batch"


def test_a_network_trained_with_it_learns():
    config = {**CONFIG, "data": {**CONFIG["data"], "n": 512}, "train": {**CONFIG["train"], "steps": 120}}
    metrics = run(config)
    assert metrics["loss_end"] < metrics["loss_start"] * 0.95
