"""The method against a reference written separately from the paper's equations alone.

Both are random in training, so what is compared is what the paper fixes about the randomness:
the share of units it zeroes, how much it spreads each unit, and how its expected training output
relates to its test-time output. Whether the training output or the test-time output carries
the rescaling is left free, since either keeps the two in the paper's ratio."""

from pathlib import Path

import torch
import yaml

from method import Regularizer
from reference import reference

CONFIG = yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yaml").read_text())
DRAWS = 512


def statistics(train: torch.Tensor, test: torch.Tensor, x: torch.Tensor) -> dict[str, float]:
    """train: DRAWS training outputs of the same x, stacked; test: the test-time output."""
    ratio = train / x
    return {
        "share of units set to 0 in training": float((train == 0).float().mean()),
        "mean training output / test-time output": float(train.mean(0).sum() / test.sum()),
        "spread of a unit in training (std / mean of output / input)": float(ratio.std() / ratio.mean()),
    }


@torch.no_grad()
def test_the_methods_randomness_and_test_time_rule_are_the_papers():
    x = torch.linspace(0.5, 1.5, 64).repeat(4, 1)  # positive and varied, so a zero is a dropped unit
    module = Regularizer(**(CONFIG.get("method") or {}))
    torch.manual_seed(0)
    got_train = torch.stack([module.train()(x.clone()) for _ in range(DRAWS)])
    got = statistics(got_train, module.eval()(x.clone()), x)
    torch.manual_seed(1)
    want_train = torch.stack([reference(x.clone(), True) for _ in range(DRAWS)])
    want = statistics(want_train, reference(x.clone(), False), x)
    wrong = [
        f"{k}: {got[k]:.3g}, the paper's {want[k]:.3g}"
        for k in want
        if abs(got[k] - want[k]) > 0.02 + 0.1 * abs(want[k])
    ]
    assert not wrong, "; ".join(wrong)
