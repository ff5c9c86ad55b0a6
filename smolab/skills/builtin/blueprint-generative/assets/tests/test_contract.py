"""What any adversarial objective must do; they fail for a missing or stand-in method.py."""

from pathlib import Path

import torch
import yaml

from experiment import mlp, run
from method import Objective

CONFIG = yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yaml").read_text())


def make() -> torch.nn.Module:
    return Objective(**(CONFIG.get("method") or {}))


def points(seed: int, shift: float = 0.0) -> torch.Tensor:
    return torch.randn(64, 2, generator=torch.Generator().manual_seed(seed)) + shift


def test_the_critic_loss_is_a_finite_scalar_that_trains_the_critic():
    torch.manual_seed(0)
    critic = mlp(2, 32, 1)
    loss = make().critic_loss(critic, points(0, 2.0), points(1))
    assert loss.dim() == 0 and torch.isfinite(loss)
    loss.backward()
    grads = [p.grad for p in critic.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert sum(float(g.abs().sum()) for g in grads) > 0


def test_the_generator_loss_reaches_the_generated_points():
    torch.manual_seed(0)
    critic = mlp(2, 32, 1)
    fake = points(1).requires_grad_()
    loss = make().generator_loss(critic, fake)
    assert loss.dim() == 0 and torch.isfinite(loss)
    loss.backward()
    assert fake.grad is not None and torch.isfinite(fake.grad).all() and fake.grad.abs().sum() > 0


def test_the_critic_learns_to_tell_real_from_fake():
    torch.manual_seed(0)
    critic, objective = mlp(2, 32, 1), make()
    opt = torch.optim.Adam(critic.parameters(), lr=1e-3)
    real, fake = points(0, 2.0), points(1, -2.0)
    for _ in range(200):
        opt.zero_grad()
        objective.critic_loss(critic, real, fake).backward()
        opt.step()
    with torch.no_grad():
        assert float(critic(real).mean()) > float(critic(fake).mean())


def test_the_generator_moves_towards_the_data():
    config = {**CONFIG, "train": {**CONFIG["train"], "steps": 150}}
    metrics = run(config)
    assert metrics["distance_end"] < 0.8 * metrics["distance_start"], metrics
