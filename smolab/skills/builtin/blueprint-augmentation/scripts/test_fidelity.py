"""The method against a reference written separately from the paper's description alone.

Both are random, so what is compared is what the paper fixes about the randomness, over one
large batch: how many images and pixels it changes, how many it sets to zero, how it moves the
pixels' mean, and how it changes the targets."""

from pathlib import Path

import torch
import yaml

from method import Augment
from reference import reference

CONFIG = yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yaml").read_text())


def statistics(x, y, out, targets) -> dict[str, float]:
    changed = out != x
    return {
        "share of images changed": float(changed.flatten(1).any(1).float().mean()),
        "share of pixel values changed": float(changed.float().mean()),
        "share of pixel values set to 0": float((out == 0).float().mean()),
        "mean pixel value / the input's": float(out.mean() / x.mean()),
        "share of images whose targets changed": float((targets != y).any(1).float().mean()),
        "mean largest target probability": float(targets.max(1).values.mean()),
    }


def batch():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(512, 3, 32, 32, generator=g) * 0.5 + 0.5  # no pixel is 0 before
    y = torch.nn.functional.one_hot(torch.randint(0, 10, (512,), generator=g), 10).float()
    return x, y


@torch.no_grad()
def test_the_methods_transform_has_the_papers_statistics():
    x, y = batch()
    torch.manual_seed(0)
    out, targets = Augment(**(CONFIG.get("method") or {})).train()(x.clone(), y.clone())
    got = statistics(x, y, out, targets)
    torch.manual_seed(1)
    want = statistics(x, y, *reference(x.clone(), y.clone()))
    wrong = [
        f"{k}: {got[k]:.3g}, the paper's {want[k]:.3g}"
        for k in want
        if abs(got[k] - want[k]) > 0.02 + 0.1 * abs(want[k])
    ]
    assert not wrong, "; ".join(wrong)
