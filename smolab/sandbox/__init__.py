"""Isolated code execution: a persistent Python session in Linux namespaces (``process``)."""

from .errors import SandboxError, SandboxPathError, SandboxUnavailableError
from .process import ProcessSandbox
from .types import Limits, RunResult, Sandbox, Status

__all__ = [
    "Limits",
    "ProcessSandbox",
    "RunResult",
    "Sandbox",
    "SandboxError",
    "SandboxPathError",
    "SandboxUnavailableError",
    "Status",
]
