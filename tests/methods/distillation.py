from torch import nn
from torch.nn import functional as F


class DistillationLoss(nn.Module):
    """Soft targets at a temperature, scaled by T^2, mixed with the true labels' cross-entropy."""

    def __init__(self, temperature: float = 4.0, alpha: float = 0.9):
        super().__init__()
        self.t, self.alpha = temperature, alpha

    def forward(self, student_logits, teacher_logits, labels):
        teacher = teacher_logits.detach()
        soft = F.kl_div(
            F.log_softmax(student_logits / self.t, dim=-1),
            F.softmax(teacher / self.t, dim=-1),
            reduction="batchmean",
        )
        hard = F.cross_entropy(student_logits, labels)
        return self.alpha * self.t**2 * soft + (1 - self.alpha) * hard
