"""The method against a reference written separately from the paper's equations alone."""

from pathlib import Path

import torch
import yaml

from method import ContrastiveLoss
from reference import reference

CONFIG = yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yaml").read_text())


@torch.no_grad()
def test_the_method_computes_the_papers_equations():
    g = torch.Generator().manual_seed(0)
    z1, z2 = torch.randn(12, 16, generator=g), torch.randn(12, 16, generator=g)
    got = ContrastiveLoss(**(CONFIG.get("method") or {}))(z1, z2)
    want = reference(z1, z2)
    assert torch.allclose(got, want, rtol=1e-3, atol=1e-4), f"{float(got):.5g} vs {float(want):.5g}"
