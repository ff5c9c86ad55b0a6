"""Records and the protocol every sandbox backend shares."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

Status = Literal["ok", "error", "timeout", "out_of_memory", "killed", "output_truncated"]

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Per-call and per-session limits. ``None`` leaves a limit off."""

    timeout: float = 60.0
    """Wall-clock seconds per call."""
    cpu_seconds: float | None = 60.0
    """CPU seconds per call (all threads together)."""
    session_cpu_seconds: float | None = 3600.0
    memory_bytes: int | None = 4096 * MiB
    """Memory for the whole session (address space per process where cgroups are unavailable)."""
    max_processes: int | None = 64
    output_bytes: int = 1 * MiB
    """Bytes of stdout and of stderr kept per call; past it the call stops with output_truncated."""
    disk_bytes: int | None = 1024 * MiB
    """Largest file the code may write, and the workspace's total size checked after each call."""
    session_seconds: float | None = None
    """Wall-clock seconds for the whole session."""
    network: bool = False


@dataclass
class RunResult:
    """What one call did. ``exit_code`` is the code's own (1 for an uncaught exception)."""

    status: Status
    exit_code: int
    stdout: str = ""
    stderr: str = ""
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    message: str = ""
    """Why the status is not ok, in one line (empty when ok)."""
    files_changed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class HostHandler(Protocol):
    """Answers a tool call the sandboxed code makes to the host (``__host_call__(name, args, kwargs)``).

    Returns the frame sent back: ``{"result": value}``, ``{"error": "one line"}`` (raised inside as
    ``HostError``), or ``{"stop": True}`` to end the running cell cleanly."""

    def __call__(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> dict[str, Any]: ...


CELL = "<cell>"
"""What a traceback calls code run with ``run_python`` unless the caller names it."""


class Sandbox(Protocol):
    """A session bound to a workspace folder. Python state persists between ``run_python`` calls."""

    workspace: Path
    limits: Limits

    def run_python(self, code: str, timeout: float | None = None, name: str = CELL) -> RunResult: ...

    def run_shell(self, command: str, timeout: float | None = None) -> RunResult: ...

    def put_file(self, path: str, data: bytes) -> None: ...

    def get_file(self, path: str) -> bytes: ...

    def close(self) -> None: ...
