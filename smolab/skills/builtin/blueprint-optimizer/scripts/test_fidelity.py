"""The method against a reference written separately from the paper's equations alone."""

from pathlib import Path

import torch
import yaml

from method import Optimizer
from reference import reference

CONFIG = yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yaml").read_text())


def test_the_method_computes_the_papers_update_rule():
    g = torch.Generator().manual_seed(0)
    start = torch.randn(6, 5, generator=g)
    grads = [torch.randn(6, 5, generator=g) for _ in range(5)]
    w = torch.nn.Parameter(start.clone())
    opt = Optimizer([w], **{**(CONFIG.get("method") or {}), "lr": 0.01})
    for grad in grads:
        w.grad = grad.clone()
        opt.step()
    want = reference(start.clone(), [grad.clone() for grad in grads], 0.01)
    gap = float((w.detach() - want).abs().max())
    assert torch.allclose(w.detach(), want, rtol=1e-4, atol=1e-6), f"largest difference {gap:.4g}"
