import math


def reference(step: int, base_lr: float, total_steps: int) -> float:
    period, t = 100, step
    while t >= period:
        t -= period
        period *= 2
    return 0.5 * base_lr * (1 + math.cos(math.pi * t / period))
