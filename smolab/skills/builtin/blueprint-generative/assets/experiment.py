"""A small generator and critic trained with the paper's objective on a ring of Gaussians."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from common import summary
from method import Objective


def mlp(inputs: int, hidden: int, outputs: int) -> nn.Module:
    return nn.Sequential(
        nn.Linear(inputs, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, outputs)
    )


def modes(data: dict[str, Any]) -> torch.Tensor:
    angles = torch.arange(data["modes"]) * 2 * math.pi / data["modes"]
    return data["radius"] * torch.stack([angles.cos(), angles.sin()], dim=1)


def sample(centres: torch.Tensor, n: int, std: float, g: torch.Generator) -> torch.Tensor:
    idx = torch.randint(0, len(centres), (n,), generator=g)
    return centres[idx] + std * torch.randn(n, 2, generator=g)


@torch.no_grad()
def distance_to_data(generator: nn.Module, centres: torch.Tensor, noise: int, n: int = 1000) -> float:
    """Mean distance from a generated point to its nearest mode."""
    fake = generator(torch.randn(n, noise))
    return float(torch.cdist(fake, centres).min(dim=1).values.mean())


def run(config: dict[str, Any]) -> dict[str, float]:
    data, arch, opt = config["data"], config["model"], config["train"]
    g = torch.Generator().manual_seed(config.get("seed", 0))
    centres = modes(data)
    generator, critic = mlp(data["noise"], arch["hidden"], 2), mlp(2, arch["hidden"], 1)
    objective = Objective(**(config.get("method") or {}))
    betas = tuple(opt["betas"])
    opt_g = torch.optim.Adam(generator.parameters(), lr=opt["lr"], betas=betas)
    opt_c = torch.optim.Adam(critic.parameters(), lr=opt["lr"], betas=betas)
    start = distance_to_data(generator, centres, data["noise"])
    losses = []
    for _ in range(opt["steps"]):
        for _ in range(opt["critic_steps"]):
            real = sample(centres, opt["batch_size"], data["std"], g)
            fake = generator(torch.randn(opt["batch_size"], data["noise"])).detach()
            opt_c.zero_grad()
            loss_c = objective.critic_loss(critic, real, fake)
            if not torch.isfinite(loss_c):
                raise FloatingPointError(f"the critic's loss became {float(loss_c)}")
            loss_c.backward()
            opt_c.step()
        opt_g.zero_grad()
        loss_g = objective.generator_loss(critic, generator(torch.randn(opt["batch_size"], data["noise"])))
        if not torch.isfinite(loss_g):
            raise FloatingPointError(f"the generator's loss became {float(loss_g)}")
        loss_g.backward()
        opt_g.step()
        losses.append(float(loss_g.detach()))
    end = distance_to_data(generator, centres, data["noise"])
    first_last = summary(losses)
    return {
        "generator_loss_start": first_last["loss_start"],
        "generator_loss_end": first_last["loss_end"],
        "distance_start": start,
        "distance_end": end,
    }
