"""Isolated code execution: a persistent Python session in Linux namespaces (``process``),
or CPython on WebAssembly under Node in the same jail (``wasm``, pure Python only)."""

from .errors import SandboxError, SandboxPathError, SandboxUnavailableError
from .process import ProcessSandbox
from .types import HostHandler, Limits, RunResult, Sandbox, Status
from .wasm import UNAVAILABLE as WASM_UNAVAILABLE
from .wasm import WasmSandbox

__all__ = [
    "HostHandler",
    "Limits",
    "ProcessSandbox",
    "RunResult",
    "Sandbox",
    "SandboxError",
    "SandboxPathError",
    "SandboxUnavailableError",
    "Status",
    "WASM_UNAVAILABLE",
    "WasmSandbox",
]
