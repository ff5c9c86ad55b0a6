import torch
from torch.nn import functional as F


def reference(features, logits, labels, state=None):
    centers = state if state is not None else torch.zeros(logits.shape[1], features.shape[1])
    return F.cross_entropy(logits, labels) + 0.003 / 2 * ((features - centers[labels]) ** 2).sum(dim=1).mean()
