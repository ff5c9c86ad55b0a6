import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, dim: int, hidden: int = 128):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.up, self.down, self.gate = nn.Linear(dim, hidden), nn.Linear(hidden, dim), nn.Linear(dim, dim)

    def forward(self, x):
        channels_first = x.dim() == 4
        h = x.movedim(1, -1) if channels_first else x
        h = self.norm(h)
        out = self.down(torch.relu(self.up(h))) * torch.sigmoid(self.gate(h))
        return x + (out.movedim(-1, 1) if channels_first else out)
