"""Guards on a run: the doom-loop detector and the budgets."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from ..models import Usage

_STEP_NAME = re.compile(r"<step \d+>")


def _norm(code: str) -> str:
    return "\n".join(line.rstrip() for line in code.strip().splitlines() if line.strip())


class DoomLoop:
    """Watches (action, result) pairs. Fires on the same pair ``repeats`` times in a row, or on a
    cycle of 2 to ``max_cycle`` steps seen twice running (ABAB, ABCABC, ...). The action is the
    step's code and, separately, its tool calls with their results: code reworded around the
    same failing call is the same action."""

    def __init__(self, repeats: int = 3, max_cycle: int = 5):
        self.repeats = repeats
        self.max_cycle = max_cycle
        self.history: list[str] = []
        self.calls: list[str] = []
        self.warned = False

    def observe(self, action: str, result: str, calls: str | None = None) -> str | None:
        """Record a step; the reason it looks stuck, or None. ``calls``: its tool calls and their
        results, serialised (None when it made none)."""
        same = _STEP_NAME.sub("<step>", result.strip())  # a traceback names the step that ran it
        h = hashlib.sha1(f"{_norm(action)}\0{same}".encode()).hexdigest()
        self.history.append(h)
        reason = self._stuck(self.history, "the same code gave the same result")
        if reason is None and calls:
            self.calls.append(hashlib.sha1(calls.encode()).hexdigest())
            reason = self._stuck(self.calls, "the same tool calls gave the same results")
        elif not calls:
            self.calls.append(h)  # a step without tool calls breaks a run of identical calls
        return reason

    def _stuck(self, history: list[str], what: str) -> str | None:
        tail = history[-self.repeats :]
        if len(tail) == self.repeats and len(set(tail)) == 1:
            return f"{what} {self.repeats} times in a row"
        for n in range(2, self.max_cycle + 1):
            last = history[-2 * n :]
            if len(last) == 2 * n and last[:n] == last[n:] and len(set(last[:n])) > 1:
                return f"the last {n} steps repeat the {n} before them"
        return None


CORRECTION = (
    "Stop: {reason}. Repeating it will not help. If the output already answers the task, call "
    "final_answer with it now; if not, do something different."
)


@dataclass(frozen=True)
class Budget:
    """Limits of a run; None leaves one off."""

    max_steps: int | None = 30
    max_tokens: int | None = None
    """Prompt plus completion tokens over the whole run."""
    max_seconds: float | None = None
    max_cost: float | None = None
    """US dollars, at the hosted model's prices."""


@dataclass
class Spend:
    steps: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    cost: float = 0.0

    def add(self, usage: Usage, price: Callable[[Usage], float]) -> None:
        self.prompt_tokens += usage.prompt_tokens
        self.completion_tokens += usage.completion_tokens
        self.cost += price(usage)

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


def exceeded(budget: Budget, spend: Spend) -> str | None:
    """Which budget is spent, in words, or None."""
    if budget.max_steps is not None and spend.steps >= budget.max_steps:
        return f"step budget reached ({spend.steps} of {budget.max_steps} steps)"
    if budget.max_tokens is not None and spend.tokens >= budget.max_tokens:
        return f"token budget reached ({spend.tokens:,} of {budget.max_tokens:,} tokens)"
    if budget.max_seconds is not None and spend.seconds >= budget.max_seconds:
        return f"time budget reached ({spend.seconds:.0f} of {budget.max_seconds:.0f} s)"
    if budget.max_cost is not None and spend.cost >= budget.max_cost:
        return f"money budget reached (${spend.cost:.4f} of ${budget.max_cost:.2f})"
    return None


def free(usage: Usage) -> float:
    """Local models cost nothing per token."""
    return 0.0


def litellm_price(model: str) -> Callable[[Usage], float] | None:
    """The hosted model's price per call, from litellm's bundled price list; None when the list
    does not have the model (a money budget could then never be reached)."""
    try:
        import litellm

        litellm.cost_per_token(model=model, prompt_tokens=1, completion_tokens=1)
    except Exception:
        return None

    def price(usage: Usage) -> float:
        p, c = litellm.cost_per_token(
            model=model, prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens
        )
        return float(p + c)

    return price
