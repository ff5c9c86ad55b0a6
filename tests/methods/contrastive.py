import torch
from torch import nn
from torch.nn import functional as F


class ContrastiveLoss(nn.Module):
    """NT-Xent: each view's positive among the 2N - 1 others, at a temperature."""

    def __init__(self, temperature: float = 0.5):
        super().__init__()
        self.temperature = temperature

    def forward(self, z1, z2):
        z = F.normalize(torch.cat([z1, z2]), dim=1)
        sim = z @ z.T / self.temperature
        sim = sim.masked_fill(torch.eye(len(z), dtype=torch.bool), float("-inf"))
        n = len(z1)
        targets = torch.cat([torch.arange(n, 2 * n), torch.arange(n)])
        return F.cross_entropy(sim, targets)
