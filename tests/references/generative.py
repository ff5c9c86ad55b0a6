import torch


def reference(critic, real, fake):
    d_real, d_fake = critic(real).mean(), critic(fake).mean()
    eps = torch.rand(real.shape[0], 1)
    between = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(between).sum(), between, create_graph=True)
    penalty = ((grad.norm(2, dim=1) - 1) ** 2).mean()
    return d_fake - d_real + 10.0 * penalty, -d_fake
