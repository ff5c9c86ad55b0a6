"""The method against a reference written separately from the paper's equations alone."""

from pathlib import Path

import torch
import yaml

from method import Loss
from reference import reference

CONFIG = yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yaml").read_text())


@torch.no_grad()
def test_the_method_computes_the_papers_equations():
    g = torch.Generator().manual_seed(0)
    features, logits = torch.randn(16, 8, generator=g) * 2, torch.randn(16, 4, generator=g) * 2
    labels = torch.randint(0, 4, (16,), generator=g)
    loss = Loss(4, 8, **(CONFIG.get("method") or {}))
    state = [p for p in loss.parameters() if p.shape == (4, 8)]
    for p in state:  # the learnable per-class vectors, set to known values both sides see
        p.copy_(torch.randn(4, 8, generator=g))
    got = loss(features, logits, labels)
    want = reference(features, logits, labels, state[0].clone() if state else None)
    assert torch.allclose(got, want, rtol=1e-3, atol=1e-4), f"{float(got):.5g} vs {float(want):.5g}"
