import torch
from torch import nn


class Objective(nn.Module):
    """WGAN with a gradient penalty."""

    def __init__(self, penalty: float = 10.0):
        super().__init__()
        self.penalty = penalty

    def critic_loss(self, critic, real, fake):
        eps = torch.rand(len(real), 1)
        mixed = (eps * real + (1 - eps) * fake).requires_grad_()
        grad = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)[0]
        gp = ((grad.norm(dim=1) - 1) ** 2).mean()
        return critic(fake).mean() - critic(real).mean() + self.penalty * gp

    def generator_loss(self, critic, fake):
        return -critic(fake).mean()
