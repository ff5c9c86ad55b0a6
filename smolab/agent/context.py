"""The workspace files a task names, shown with the task: a small model told that `train.py`
diverges otherwise writes a training loop of its own, or lists the folder again and again,
without ever reading the file it was asked to fix."""

from __future__ import annotations

from pathlib import Path

from .checks import named_files as files_in

MOST_FILES = 4
MOST_LINES = 40
MOST_CHARS = 1600
"""Per file: enough for a short script or a CSV's header and first rows, at ~400 prompt tokens."""


def named_files(task: str, workspace: Path) -> list[str]:
    """Files ``task`` names (as the final checks read them) that exist inside ``workspace``."""
    root = workspace.resolve()
    found = []
    for name in files_in(task):
        path = (root / name).resolve()
        if path.is_relative_to(root) and path.is_file():
            found.append(name)
    return found[:MOST_FILES]


def preview(path: Path, most_lines: int = MOST_LINES, most_chars: int = MOST_CHARS) -> str | None:
    """The first lines of a text file, with how many were left out; None for a binary file."""
    try:
        text = path.read_text()
    except (UnicodeDecodeError, OSError):
        return None
    lines = text.splitlines()
    shown, size = [], 0
    for line in lines[:most_lines]:
        if size + len(line) > most_chars:
            break
        shown.append(line)
        size += len(line) + 1
    rest = len(lines) - len(shown)
    return "\n".join(shown) + (f"\n[... {rest} more lines ({len(lines)} in all)]" if rest else "")


def task_context(task: str, workspace: Path) -> str:
    """The named files' first lines, as a block to follow the task; empty when it names none."""
    parts = []
    for name in named_files(task, workspace):
        shown = preview(workspace / name)
        if shown is not None:
            parts.append(f"--- {name}\n{shown}")
    if not parts:
        return ""
    head = "Files the task names, as they are now (read them whole with code where this is cut):"
    return "\n".join([head, *parts])
