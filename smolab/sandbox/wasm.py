"""The ``wasm`` sandbox: CPython compiled to WebAssembly (Pyodide, from npm) under Node.

For pure-Python snippets. The interpreter persists between calls; its files live in
an in-memory file system (the host workspace is not mounted: files cross only
through put_file / get_file). Packages with C extensions that Pyodide would fetch
from its CDN (numpy, pandas, ...) are unavailable offline; the standard library is
there. Node itself runs under its permission model (no file access beyond Pyodide's
own files, no child processes) inside the same bubblewrap jail as the process
backend, since JavaScript reachable from Python can otherwise reach Node's APIs.
"""

from __future__ import annotations

import base64
import os
import shutil
from pathlib import Path
from typing import Any

from .errors import SandboxError, SandboxPathError, SandboxUnavailableError
from .paths import workspace_parts
from .process import ProcessSandbox, jail_argv
from .types import CELL, RunResult

WASM_DIR = Path(__file__).with_name("wasm")
UNAVAILABLE = (
    "numpy, pandas, torch and every package with C extensions (no network to fetch Pyodide's builds)"
)


def pyodide_dir() -> Path:
    return Path(os.environ.get("SMOLAB_PYODIDE", WASM_DIR / "node_modules" / "pyodide"))


class WasmSandbox(ProcessSandbox):
    backend = "wasm"
    limit_address_space = False  # V8 reserves many GB of address space for wasm memories
    interruptible = False  # a busy interpreter blocks Node's event loop; a timeout restarts it

    def _node(self) -> tuple[str, Path]:
        node = shutil.which("node")
        if node is None:
            raise SandboxUnavailableError("the wasm sandbox needs Node.js (18 or newer) on PATH")
        pyo = pyodide_dir()
        if not (pyo / "pyodide.mjs").is_file():
            raise SandboxUnavailableError(
                f"Pyodide is not installed at {pyo}; run ./install.sh (or npm ci --prefix {WASM_DIR})"
            )
        return node, pyo

    def _command(self, runner: str, pyo: str) -> list[str]:
        node, _ = self._node()
        return [
            node,
            "--experimental-permission",
            f"--allow-fs-read={pyo}/*",
            f"--allow-fs-read={runner}",
            "--no-warnings",
            runner,
            pyo,
        ]

    def _jailed_argv(self, info_fd: int) -> list[str]:
        _, pyo = self._node()
        inside_pyo, inside_runner = "/opt/smolab/pyodide", "/opt/smolab/runner.mjs"
        binds = [(str(pyo.resolve()), inside_pyo), (str(WASM_DIR / "runner.mjs"), inside_runner)]
        return jail_argv(self.limits, info_fd, self._command(inside_runner, inside_pyo), binds, None)

    def _plain_argv(self) -> list[str]:
        _, pyo = self._node()
        return self._command(str(WASM_DIR / "runner.mjs"), str(pyo.resolve()))

    def run_python(self, code: str, timeout: float | None = None, name: str = CELL) -> RunResult:
        result = super().run_python(code, timeout, name)
        if result.status == "error" and "ModuleNotFoundError" in result.stderr:
            result.message = f"the wasm sandbox has the standard library only; unavailable: {UNAVAILABLE}"
        return result

    def _op(self, req: dict[str, Any]) -> dict[str, Any]:
        self.start()
        self._calls += 1
        req["call"] = self._calls
        try:
            self._write_frame(req)
            reply = self._receive(30.0)
        except (EOFError, OSError) as err:
            self._kill()
            raise SandboxError("the wasm sandbox stopped while moving a file; its state is lost") from err
        if reply is None or reply.get("call") != self._calls:
            self._kill()
            raise SandboxError("the wasm sandbox did not answer a file request; its state is lost")
        if not reply.get("ok"):
            raise SandboxPathError(f"{req['path']}: {reply.get('error', 'failed')}")
        return reply

    def put_file(self, path: str, data: bytes) -> None:
        target = "/workspace/" + "/".join(workspace_parts(path))
        self._op({"kind": "put", "path": target, "data": base64.b64encode(data).decode()})

    def get_file(self, path: str) -> bytes:
        target = "/workspace/" + "/".join(workspace_parts(path))
        return base64.b64decode(self._op({"kind": "get", "path": target})["data"])
