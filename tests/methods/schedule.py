import math


class Schedule:
    """Cosine annealing with warm restarts."""

    def __init__(
        self, base_lr: float, total_steps: int, t_0: int = 100, t_mult: int = 2, eta_min: float = 0.0
    ):
        self.base_lr, self.total_steps = base_lr, total_steps
        self.t_0, self.t_mult, self.eta_min = t_0, t_mult, eta_min

    def __call__(self, step: int) -> float:
        t_i, t_cur = self.t_0, step
        while t_cur >= t_i:
            t_cur -= t_i
            t_i *= self.t_mult
        return self.eta_min + 0.5 * (self.base_lr - self.eta_min) * (1 + math.cos(math.pi * t_cur / t_i))
