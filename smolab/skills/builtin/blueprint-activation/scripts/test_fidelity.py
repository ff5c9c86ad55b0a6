"""The method against a reference written separately from the paper's equation alone."""

from pathlib import Path

import torch
import yaml

from method import Activation
from reference import reference

CONFIG = yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yaml").read_text())


@torch.no_grad()
def test_the_method_computes_the_papers_equation():
    x = torch.linspace(-6, 6, 241)
    got, want = Activation(**(CONFIG.get("method") or {}))(x), reference(x)
    gap = float((got - want).abs().max())
    assert torch.allclose(got, want, rtol=1e-3, atol=1e-4), f"largest difference {gap:.4g}"
