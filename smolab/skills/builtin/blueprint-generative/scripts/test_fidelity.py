"""The method's two losses against a reference written separately from the paper's equations.

A penalty may be taken at random points, so each loss is averaged over many draws on both
sides; a critic with steep, uneven gradients makes a penalty on them count."""

from pathlib import Path

import torch
import yaml
from torch import nn

from method import Objective
from reference import reference

CONFIG = yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yaml").read_text())
DRAWS = 32


def setting():
    torch.manual_seed(0)
    critic = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 1))
    with torch.no_grad():
        for p in critic.parameters():
            p.mul_(3.0)
    g = torch.Generator().manual_seed(0)
    real = torch.randn(256, 2, generator=g)
    fake = torch.randn(256, 2, generator=g) * 0.5 + 1.0
    return critic, real, fake


def test_the_methods_losses_are_the_papers():
    critic, real, fake = setting()
    objective = Objective(**(CONFIG.get("method") or {}))
    torch.manual_seed(0)
    got_critic = sum(float(objective.critic_loss(critic, real, fake.detach())) for _ in range(DRAWS)) / DRAWS
    got_generator = sum(float(objective.generator_loss(critic, fake)) for _ in range(DRAWS)) / DRAWS
    torch.manual_seed(1)
    pairs = [reference(critic, real, fake.detach()) for _ in range(DRAWS)]
    want_critic = sum(float(c) for c, _ in pairs) / DRAWS
    want_generator = sum(float(g) for _, g in pairs) / DRAWS
    wrong = [
        f"the {name} loss averages {got:.4g}, the paper's {want:.4g}"
        for name, got, want in (
            ("critic's", got_critic, want_critic),
            ("generator's", got_generator, want_generator),
        )
        if abs(got - want) > 1e-3 + 0.03 * abs(want)
    ]
    assert not wrong, "; ".join(wrong)
