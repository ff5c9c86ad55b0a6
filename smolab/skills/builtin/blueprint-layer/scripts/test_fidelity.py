"""The block's forward against a reference written separately from the paper's equations, with
the same sub-layers and random weights on both sides."""

from pathlib import Path

import torch
import yaml

from method import Block
from reference import reference

CONFIG = yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yaml").read_text())
SHAPES = {"vector": (4, 16), "image": (2, 16, 5, 5), "sequence": (2, 6, 16)}


@torch.no_grad()
def test_the_block_computes_the_papers_equations():
    torch.manual_seed(0)
    block = Block(16, **(CONFIG.get("method") or {})).eval()
    for p in block.parameters():  # away from the initialisation (a gate that starts at zero, say)
        p.copy_(torch.randn_like(p) * 0.5)
    x = torch.randn(SHAPES[CONFIG["data"]["input"]])
    got, want = block(x), reference(x, block)
    gap = float((got - want).abs().max())
    assert got.shape == want.shape and torch.allclose(got, want, rtol=1e-3, atol=1e-4), (
        f"largest difference {gap:.4g}"
    )
