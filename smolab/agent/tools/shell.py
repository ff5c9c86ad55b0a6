"""Shell commands and package installs, each in a sandbox session of its own on the workspace.

Commands run jailed like the agent's code, offline unless the network was approved; a
command that installs packages counts as an install (and reaches the network)."""

from __future__ import annotations

import re
import shlex
from dataclasses import replace
from pathlib import Path
from typing import Any

from ...sandbox import Limits, ProcessSandbox
from ..policy import Action
from .base import Tool, ToolError, make_tool

PACKAGES = ".packages"
"""Where install_packages puts packages, inside the workspace; the agent's session imports from it."""
OUTPUT_CHARS = 8000

_INSTALL = re.compile(
    r"\b(pip3?|uv\s+pip|python3?\s+-m\s+pip|conda|mamba|apt(-get)?|npm|yarn|pnpm|cargo|gem)\b[^;&|]*\b(install|add)\b"
)
_NETWORK = re.compile(r"\b(curl|wget|git\s+(clone|fetch|pull)|ssh|scp|rsync|huggingface-cli|hf\s+download)\b")


def _clip(text: str) -> str:
    if len(text) <= OUTPUT_CHARS:
        return text
    half = OUTPUT_CHARS // 2
    return f"{text[:half]}\n[... {len(text) - OUTPUT_CHARS} characters cut ...]\n{text[-half:]}"


class Shells:
    """Two lazily started sessions on the workspace: offline, and online once approved."""

    def __init__(self, root: Path, limits: Limits, isolation: str = "bwrap"):
        self.root = root
        self.limits = limits
        self.isolation = isolation
        self._sessions: dict[bool, ProcessSandbox] = {}

    def run(self, command: str, timeout: float, network: bool) -> str:
        box = self._sessions.get(network)
        if box is None:
            limits = replace(self.limits, network=network)
            box = self._sessions[network] = ProcessSandbox(self.root, limits, self.isolation)
        r = box.run_shell(command, timeout=timeout)
        out = (r.stdout + (("\n" if r.stdout and r.stderr else "") + r.stderr if r.stderr else "")).strip()
        head = f"exit code {r.exit_code}" + (f" ({r.message})" if r.message else "")
        return f"{head}\n{_clip(out)}" if out else head

    def close(self) -> None:
        for box in self._sessions.values():
            box.close()
        self._sessions.clear()


def shell_tools(shells: Shells) -> list[Tool]:
    def classify_shell(args: dict[str, Any]) -> Action | None:
        cmd = str(args["command"])
        if _INSTALL.search(cmd):
            return Action("install", "shell", cmd)
        if args.get("network") or _NETWORK.search(cmd):
            return Action("network", "shell", cmd)
        return None

    def shell(command: str, timeout: int = 120, network: bool = False) -> str:
        """Run a shell command in the workspace; returns its exit code and output.

        Offline unless network=True (which needs approval)."""
        net = bool(network or _INSTALL.search(command) or _NETWORK.search(command))
        return shells.run(command, float(timeout), net)

    def install_packages(packages: list[str]) -> str:
        """pip-install Python packages into the workspace (needs approval); importable at once."""
        if not packages or not all(isinstance(p, str) and p.strip() for p in packages):
            raise ToolError("give the package names as a list of strings, e.g. ['scikit-learn==1.5.2']")
        names = " ".join(shlex.quote(p) for p in packages)
        cmd = f"python -m pip install --disable-pip-version-check -q --target {PACKAGES} {names}"
        return shells.run(cmd, 600.0, True)

    return [
        make_tool(shell, classify=classify_shell),
        make_tool(
            install_packages,
            classify=lambda a: Action("install", "install_packages", " ".join(map(str, a["packages"]))),
        ),
    ]
