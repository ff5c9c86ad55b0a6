import torch
from torch import nn
from torch.nn import functional as F


class Loss(nn.Module):
    """Softmax cross-entropy plus lambda times the center loss."""

    def __init__(self, num_classes: int, feat_dim: int, lam: float = 0.003):
        super().__init__()
        self.lam = lam
        self.centers = nn.Parameter(torch.zeros(num_classes, feat_dim))

    def forward(self, features, logits, labels):
        softmax_term = F.cross_entropy(logits, labels)
        center_term = 0.5 * (features - self.centers[labels]).pow(2).sum(dim=1).mean()
        return softmax_term + self.lam * center_term
