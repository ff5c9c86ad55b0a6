"""Exponential backoff with full jitter for transient backend failures."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from .errors import TransientAPIError

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` counts the first try. Delays grow as base * 2**n, capped at max_delay.

    A server's Retry-After wins over the computed delay (capped at max_delay too),
    so a rate-limited provider is waited out the way it asked.
    """

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    jitter: bool = True

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None and retry_after >= 0:
            return min(retry_after, self.max_delay)
        ceiling = min(self.max_delay, self.base_delay * (2**attempt))
        return random.uniform(0, ceiling) if self.jitter else ceiling


NO_RETRY = RetryPolicy(attempts=1)


def call_with_retry(
    fn: Callable[[], T],
    policy: RetryPolicy,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[TransientAPIError, float], None] | None = None,
) -> T:
    """Run ``fn``; on TransientAPIError wait and try again, up to ``policy.attempts`` times."""
    for attempt in range(policy.attempts):
        try:
            return fn()
        except TransientAPIError as err:
            if attempt + 1 >= policy.attempts:
                raise
            wait = policy.delay(attempt, err.retry_after)
            if on_retry is not None:
                on_retry(err, wait)
            sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds (the HTTP-date form is rare for APIs; treat it as absent)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
