"""The adapter's forward against a reference written separately from the paper's equations,
with the same layers and random weights on both sides (a new adapter starts as the identity,
which any formula matches)."""

from pathlib import Path

import torch
import yaml

from method import Adapter
from reference import reference

CONFIG = yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yaml").read_text())


@torch.no_grad()
def test_the_adapter_computes_the_papers_equations():
    torch.manual_seed(0)
    adapter = Adapter(16, **(CONFIG.get("method") or {})).eval()
    for p in adapter.parameters():
        p.copy_(torch.randn_like(p) * 0.5)
    h = torch.randn(4, 16)
    got, want = adapter(h), reference(h, adapter)
    gap = float((got - want).abs().max())
    assert got.shape == want.shape and torch.allclose(got, want, rtol=1e-3, atol=1e-4), (
        f"largest difference {gap:.4g}"
    )
