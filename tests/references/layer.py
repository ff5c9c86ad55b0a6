import torch


def reference(x, block):
    channels_first = x.dim() == 4
    h = block.norm(x.movedim(1, -1) if channels_first else x)
    branch = block.down(torch.relu(block.up(h)))
    gate = torch.sigmoid(block.gate(h))
    out = branch * gate
    return x + (out.movedim(-1, 1) if channels_first else out)
