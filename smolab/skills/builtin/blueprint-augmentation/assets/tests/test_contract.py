"""What any image augmentation must do; they fail for a missing or stand-in method.py."""

from pathlib import Path

import torch
import yaml

from experiment import run
from method import Augment

CONFIG = yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yaml").read_text())
SIZE = CONFIG["data"]["size"]


def make() -> torch.nn.Module:
    return Augment(**(CONFIG.get("method") or {}))


def images(n: int = 8) -> torch.Tensor:
    return torch.rand(n, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(0)) + 0.1


@torch.no_grad()
def test_keeps_the_batch_shape_and_type():
    x = images()
    y = make().train()(x)
    assert y.shape == x.shape and y.dtype == x.dtype and torch.isfinite(y).all()


@torch.no_grad()
def test_test_images_are_left_alone():
    x = images()
    assert torch.equal(make().eval()(x), x)


@torch.no_grad()
def test_training_images_change_at_random_and_the_input_is_kept():
    aug, x = make().train(), images(16)
    original = x.clone()
    a, b = aug(x), aug(x)
    assert torch.equal(x, original), "the input batch was changed in place"
    changed = [not torch.equal(a[i], x[i]) for i in range(len(x))]
    assert sum(changed) >= len(x) // 4, "most training images came out unchanged"
    assert not torch.equal(a, b), "two calls gave the same batch"


def test_a_network_trained_with_it_learns():
    config = {**CONFIG, "data": {**CONFIG["data"], "n": 512}, "train": {**CONFIG["train"], "steps": 120}}
    metrics = run(config)
    assert metrics["loss_end"] < metrics["loss_start"] * 0.95
