import torch
from torch import nn


class Augment(nn.Module):
    """Cutout: one square of each training image set to zero, its centre anywhere in the image."""

    def __init__(self, size: int = 8):
        super().__init__()
        self.size = size

    def forward(self, x, y):
        if not self.training:
            return x, y
        x = x.clone()
        n, _, h, w = x.shape
        ys, xs = torch.randint(0, h, (n,)), torch.randint(0, w, (n,))
        for i in range(n):
            top, left = max(0, int(ys[i]) - self.size // 2), max(0, int(xs[i]) - self.size // 2)
            x[i, :, top : int(ys[i]) + self.size // 2, left : int(xs[i]) + self.size // 2] = 0
        return x, y
