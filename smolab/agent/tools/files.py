"""Reading, writing, editing and deleting files. Paths are relative to the workspace
(``/workspace/...``, as the sandbox sees it, means the same); anything outside it needs approval."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from ..policy import Action
from .base import Tool, ToolError, make_tool

MAX_READ = 20_000
"""Characters a read returns at most; the model gives ``start`` to read on."""
INSIDE = "/workspace"


class Workspace:
    def __init__(self, root: Path):
        self.root = root.resolve()

    def resolve(self, path: str) -> Path:
        p = os.path.expanduser(str(path).strip())
        if p == INSIDE or p.startswith(INSIDE + "/"):
            p = str(self.root) + p[len(INSIDE) :]
        full = Path(p) if os.path.isabs(p) else self.root / p
        return Path(os.path.realpath(full))

    def inside(self, path: Path) -> bool:
        return path == self.root or self.root in path.parents

    def show(self, path: Path) -> str:
        return str(path.relative_to(self.root)) if self.inside(path) else str(path)


def file_tools(ws: Workspace) -> list[Tool]:
    def outside(kind: str, key: str = "path"):  # type: ignore[no-untyped-def]
        def classify(args: dict[str, Any]) -> Action | None:
            path = ws.resolve(args[key])
            return None if ws.inside(path) else Action(kind, "", str(path))  # type: ignore[arg-type]

        return classify

    def read_file(path: str, start: int = 0) -> str:
        """Read a text file (up to 20,000 characters from character `start`)."""
        p = ws.resolve(path)
        if not p.is_file():
            raise ToolError(f"{ws.show(p)} does not exist" if not p.exists() else f"{ws.show(p)} is a folder")
        text = p.read_text(errors="replace")
        part = text[start : start + MAX_READ]
        if start + MAX_READ < len(text):
            rest = len(text) - start - MAX_READ
            part += f"\n[... {rest} more characters; read_file(path, start={start + MAX_READ})]"
        return part

    def write_file(path: str, content: str) -> str:
        """Write a text file, creating its folders; replaces what was there."""
        p = ws.resolve(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content)
        return f"wrote {len(content)} characters to {ws.show(p)}"

    def edit_file(path: str, old: str, new: str) -> str:
        """Replace the one occurrence of `old` in a file with `new`."""
        p = ws.resolve(path)
        if not p.is_file():
            raise ToolError(f"{ws.show(p)} does not exist")
        text = p.read_text()
        n = text.count(old)
        if n != 1:
            raise ToolError(
                f"`old` occurs {n} times in {ws.show(p)}; give a longer, unique piece of the file"
            )
        p.write_text(text.replace(old, new, 1))
        return f"edited {ws.show(p)}"

    def list_files(path: str = ".") -> list[str]:
        """The files under a folder of the workspace (at most 200), relative to it."""
        p = ws.resolve(path)
        if not p.is_dir():
            raise ToolError(f"{ws.show(p)} is not a folder")
        found: list[str] = []
        for dirpath, dirs, files in os.walk(p):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for f in sorted(files):
                found.append(os.path.relpath(os.path.join(dirpath, f), p))
                if len(found) >= 200:
                    return found
        return found

    def delete_file(path: str) -> str:
        """Delete a file or a folder."""
        p = ws.resolve(path)
        if p == ws.root:
            raise ToolError("refusing to delete the whole workspace")
        if not p.exists():
            raise ToolError(f"{ws.show(p)} does not exist")
        if p.is_dir():
            shutil.rmtree(p)
        else:
            p.unlink()
        return f"deleted {ws.show(p)}"

    def classify_delete(args: dict[str, Any]) -> Action:
        path = ws.resolve(args["path"])
        kind = "delete" if ws.inside(path) else "write_outside"
        return Action(kind, "delete_file", ws.show(path))  # type: ignore[arg-type]

    return [
        make_tool(read_file, classify=outside("read_outside")),
        make_tool(write_file, classify=outside("write_outside")),
        make_tool(edit_file, classify=outside("write_outside")),
        make_tool(list_files, classify=outside("read_outside")),
        make_tool(delete_file, classify=classify_delete),
    ]
