"""The method against a reference written separately from the paper's equations alone."""

from pathlib import Path

import torch
import yaml

from method import Norm
from reference import reference

CONFIG = yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yaml").read_text())


@torch.no_grad()
def test_the_method_computes_the_papers_equations():
    x = torch.randn(4, 32, 6, 6, generator=torch.Generator().manual_seed(0)) * 3 + 1
    got, want = Norm(32, **(CONFIG.get("method") or {})).train()(x), reference(x)
    gap = float((got - want).abs().max())
    assert torch.allclose(got, want, rtol=1e-3, atol=1e-3), f"largest difference {gap:.4g}"
