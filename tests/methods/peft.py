import torch
from torch import nn


class Adapter(nn.Module):
    """A bottleneck adapter with a skip connection, initialised near the identity."""

    def __init__(self, dim: int, bottleneck: int = 16):
        super().__init__()
        self.down, self.up = nn.Linear(dim, bottleneck), nn.Linear(bottleneck, dim)
        for layer in (self.down, self.up):
            nn.init.normal_(layer.weight, std=1e-3)
            nn.init.zeros_(layer.bias)

    def forward(self, h):
        return h + self.up(torch.relu(self.down(h)))
