import torch


def reference(x: torch.Tensor, training: bool) -> torch.Tensor:
    # Units kept with probability 0.5 in training; at test time the outputs are scaled by it.
    if not training:
        return x * 0.5
    return x * torch.bernoulli(torch.full_like(x, 0.5))
