"""A step that defines, in the Python session, a function, class or top-level variable a
workspace file defines, while the file stays as it was: small models "implement" a file's
function or "fix" a script's variable this way, see it work in the session, and end the run
believing the file was changed."""

from __future__ import annotations

import ast
import re
from pathlib import Path

MOST_FILES = 50

UNSAVED = (
    "({names} {verb} set in this Python session only; {file} on disk still has its old "
    "version. To change the file, write it: write_file('{file}', ...) or edit_file.)"
)


def _defines(name: str) -> re.Pattern[str]:
    """A definition of ``name`` in a file: a def or class at any depth, an assignment at the top."""
    n = re.escape(name)
    return re.compile(rf"^\s*(?:async\s+)?(?:def|class)\s+{n}\b|^{n}\s*(?::[^=\n]+)?=(?!=)", re.M)


def defined(code: str) -> list[str]:
    """Top-level functions, classes and variables ``code`` defines (none where it does not parse)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names += [t.id for t in targets if isinstance(t, ast.Name)]
    return list(dict.fromkeys(names))


def python_files(workspace: Path) -> dict[str, str]:
    """The workspace's Python files and their text, a bounded number of them."""
    out: dict[str, str] = {}
    for path in sorted(workspace.rglob("*.py")):
        rel = path.relative_to(workspace)
        if any(part.startswith(".") for part in rel.parts):
            continue
        try:
            out[str(rel)] = path.read_text()
        except (UnicodeDecodeError, OSError):
            continue
        if len(out) >= MOST_FILES:
            break
    return out


def unsaved(code: str, before: dict[str, str], after: dict[str, str]) -> dict[str, str]:
    """A note for each file that defines what the step's code redefined and that the step left
    unchanged, by file; empty when there is none."""
    names = defined(code)
    notes: dict[str, str] = {}
    for file, text in after.items() if names else ():
        if before.get(file) != text:
            continue  # the step wrote it
        own = [n for n in names if _defines(n).search(text)]
        if own:
            shown = ", ".join(own)
            notes[file] = UNSAVED.format(names=shown, verb="is" if len(own) == 1 else "are", file=file)
    return notes


def still_unsaved(notes: dict[str, str], when: dict[str, str], now: dict[str, str]) -> str:
    """The notes whose file is still as it was when the note was made, one a line."""
    return "\n".join(note for file, note in notes.items() if now.get(file) == when.get(file))
