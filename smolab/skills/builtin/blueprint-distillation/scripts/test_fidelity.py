"""The method against a reference written separately from the paper's equations alone."""

from pathlib import Path

import torch
import yaml

from method import DistillationLoss
from reference import reference

CONFIG = yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yaml").read_text())


@torch.no_grad()
def test_the_method_computes_the_papers_equations():
    g = torch.Generator().manual_seed(0)
    student, teacher = torch.randn(16, 5, generator=g) * 2, torch.randn(16, 5, generator=g) * 2
    labels = torch.randint(0, 5, (16,), generator=g)
    got = DistillationLoss(**(CONFIG.get("method") or {}))(student, teacher, labels)
    want = reference(student, teacher, labels)
    assert torch.allclose(got, want, rtol=1e-3, atol=1e-4), f"{float(got):.5g} vs {float(want):.5g}"
