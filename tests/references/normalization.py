import torch


def reference(x: torch.Tensor) -> torch.Tensor:
    n, c, h, w = x.shape
    g = x.reshape(n, 32, -1)
    mean = g.mean(dim=-1, keepdim=True)
    var = ((g - mean) ** 2).mean(dim=-1, keepdim=True)
    return ((g - mean) / torch.sqrt(var + 1e-5)).reshape(n, c, h, w)
