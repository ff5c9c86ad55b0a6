"""Repair: failures go back to the model with the error and the code it points at; the fixed
file replaces the old one only if it parses. Cheap fixes that need no model come first."""

from __future__ import annotations

import importlib.util
import re

from ..stack import stack_line
from .code import add_missing_imports, drop_repeats, extract_code, fix_imports, parse_error
from .verify import Failure, Verification

# Checks in the order their failures are fixed: a file that does not parse, or that cannot be
# imported, hides every other error; an undefined name deep in a function only fails when run.
PRIORITY = ("parse", "imports", "main", "ruff", "tests")
MAX_ERROR_CHARS = 2500


def targets(
    v: Verification, fixed_files: set[str], editable: list[str], limit: int = 4, fallback: str = "main.py"
) -> list[Failure]:
    """The files to fix this round, most basic failure first; each with all its errors. A failing
    run or test that points at no editable file is ``fallback``'s."""
    chosen: dict[str, list[Failure]] = {}
    for check in PRIORITY:
        for f in v.failures:
            if f.check != check:
                continue
            name = f.file if f.file in editable else (fallback if check in ("main", "tests") else None)
            if name is None or name in fixed_files:
                continue
            if name not in chosen and len(chosen) == limit:
                continue
            chosen.setdefault(name, []).append(f)
    out = []
    for name, failures in chosen.items():
        text = "\n\n".join(f.error for f in failures)
        out.append(Failure(failures[0].check, name, text[:MAX_ERROR_CHARS]))
    return out


_MISSING = re.compile(r"No module named '([\w.]+)'")


def missing_packages(error: str, local: set[str]) -> list[str]:
    """Third-party packages the error says are missing and that cannot be imported here."""
    found = []
    for module in dict.fromkeys(_MISSING.findall(error)):
        top = module.split(".")[0]
        if top not in local and importlib.util.find_spec(top) is None:
            found.append(top)
    return found


def repair_ask(name: str, code: str, error: str, interfaces: str, local: set[str] | None = None) -> str:
    parts = [f"The repository fails a check. The error:\n{error}"]
    missing = missing_packages(error, local or set())
    if missing:
        # Small models keep the import and patch around it unless told it can never work.
        listed = ", ".join(f"`{m}`" for m in missing)
        parts.append(
            f"{listed} is not installed and cannot be: remove every use of it and write that part "
            f"with the standard library, this repository's own modules or what is installed: {stack_line()}."
        )
    if interfaces:
        parts.append(f"The other files (their interfaces):\n{interfaces}")
    parts.append(f"The current {name}:\n```python\n{code}```")
    parts.append(
        f"Fix {name} so the check passes. Keep what works. Reply with the complete corrected {name} "
        "in one ```python block."
    )
    return "\n\n".join(parts)


def apply_reply(old: str, reply: str) -> str | None:
    """The new file from a repair reply, or None when it would not be an improvement to apply
    (it does not parse while the old one did, or it is empty or unchanged)."""
    new = drop_repeats(extract_code(reply))
    new, _ = add_missing_imports(new)
    if not new.strip() or new == old:
        return None
    if parse_error(new) and not parse_error(old):
        return None
    return new


def quick_fixes(files: dict[str, str]) -> dict[str, list[str]]:
    """Fixes that need no model, per file: imports pointed at what exists (``import pyyaml``,
    a misspelt local module), and imports added for well-known names used undefined."""
    changed = fix_imports(files)
    for name, code in files.items():
        new, added = add_missing_imports(code)
        if added:
            files[name] = new
            changed.setdefault(name, []).extend(added)
    return changed
