import torch


def reference(x: torch.Tensor) -> torch.Tensor:
    return x * torch.sigmoid(1.0 * x)
