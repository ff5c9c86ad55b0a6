"""What any classifier architecture must do; they fail for a missing or stand-in method.py."""

from pathlib import Path

import torch
import yaml

from common import synthetic
from experiment import build, run

CONFIG = yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yaml").read_text())
DATA = CONFIG["data"]


def inputs(n: int) -> torch.Tensor:
    return synthetic({**DATA, "n": n})[0]


def probe() -> tuple[torch.nn.Module, tuple[torch.Tensor, ...]]:
    """The method and an input, for the checks against the paper's statements (test_paper.py)."""
    return build(DATA, CONFIG.get("method") or {}), (inputs(4),)


def test_class_scores_for_any_batch_size():
    model = build(DATA, CONFIG.get("method") or {}).eval()
    for n in (1, 5):
        with torch.no_grad():
            out = model(inputs(n))
        assert out.shape == (n, DATA["classes"]) and torch.isfinite(out).all()


def test_every_parameter_gets_a_gradient():
    model = build(DATA, CONFIG.get("method") or {}).train()
    x, y = synthetic({**DATA, "n": 8})
    torch.nn.functional.cross_entropy(model(x), y).backward()
    missing = [name for name, p in model.named_parameters() if p.requires_grad and p.grad is None]
    assert not missing, f"parameters that never take part: {missing[:5]}"


def test_small_enough_to_train_on_a_cpu():
    model = build(DATA, CONFIG.get("method") or {})
    assert sum(p.numel() for p in model.parameters()) < 5_000_000


def test_it_learns():
    config = {**CONFIG, "data": {**DATA, "n": 512}, "train": {**CONFIG["train"], "steps": 120}}
    metrics = run(config)
    assert metrics["loss_end"] < metrics["loss_start"] * 0.9
