"""A benchmark task: its prompt, the files it starts with, a check of the result on disk or by
running something, and a reference solution that shows the check can pass."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Check = Callable[[Any, Path], bool]


@dataclass
class Task:
    name: str
    tier: str
    """questions, files, or ml."""
    prompt: str
    files: dict[str, str] = field(default_factory=dict)
    check: Check = lambda answer, ws: False
    solution: str = ""
    """Python run in the workspace that does the task; it sets ``answer`` when the task asks for one."""


def number(x: Any) -> float | None:
    try:
        return float(str(x).strip().rstrip("."))
    except (TypeError, ValueError):
        return None


def close(x: Any, want: float, tol: float = 1e-6) -> bool:
    v = number(x)
    return v is not None and math.isclose(v, want, rel_tol=tol, abs_tol=tol)


def read_json(ws: Path, name: str) -> Any:
    try:
        return json.loads((ws / name).read_text())
    except (OSError, ValueError):
        return None


def lines(ws: Path, name: str) -> list[str] | None:
    path = ws / name
    return path.read_text().splitlines() if path.is_file() else None


def runs(ws: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``python ARGS`` in the workspace (the benchmark's interpreter, which has the ML stack)."""
    return subprocess.run(
        [sys.executable, *args], cwd=ws, capture_output=True, text=True, timeout=timeout, check=False
    )


def tests_pass(ws: Path, untouched: dict[str, str]) -> bool:
    """pytest passes in the workspace, and the test files are as the task gave them."""
    if any((ws / name).read_text() != text for name, text in untouched.items()):
        return False
    return runs(ws, "-m", "pytest", "-q", "-p", "no:cacheprovider").returncode == 0
