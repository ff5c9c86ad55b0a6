import torch
from torch import nn


class Regularizer(nn.Module):
    """Dropout: keep each unit with probability p at training time (inverted scaling)."""

    def __init__(self, p: float = 0.5):
        super().__init__()
        self.p = p

    def forward(self, x):
        if not self.training:
            return x
        mask = torch.bernoulli(torch.full_like(x, self.p))
        return x * mask / self.p
