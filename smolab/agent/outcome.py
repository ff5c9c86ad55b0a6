"""How a run ended: what the loop returns and what the summary and the CLI report."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .guards import Spend

Status = Literal["done", "unverified", "stuck", "budget", "format_error", "interrupted", "error"]
"""``unverified``: the model gave an answer, but it still failed its checks after the retries."""


@dataclass
class Outcome:
    status: Status
    reason: str
    answer: Any = None
    steps: int = 0
    spend: Spend = field(default_factory=Spend)
    run_dir: Path | None = None
