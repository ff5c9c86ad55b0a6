"""Working with generated Python: pulling code out of a reply, interfaces, imports, and the
cheap fixes small models need most often (a missing ``import torch``)."""

from __future__ import annotations

import ast
import builtins
import importlib.metadata
import re
import sys

from ..stack import distribution

FENCE = re.compile(r"```(?:python|py)?[ \t]*\n(.*?)(?:```|\Z)", re.S)


def extract_code(reply: str) -> str:
    """The code of a reply: the longest fenced block, else the reply itself."""
    blocks = FENCE.findall(reply)
    code = max(blocks, key=len) if blocks else reply
    return code.strip("\n") + "\n"


def parse_error(code: str) -> str | None:
    try:
        ast.parse(code)
    except SyntaxError as err:
        return f"line {err.lineno}: {err.msg}"
    return None


def _signature(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    args = ast.unparse(node.args)
    ret = f" -> {ast.unparse(node.returns)}" if node.returns else ""
    return f"def {node.name}({args}){ret}"


def _doc(node: ast.AST) -> str:
    doc = (
        ast.get_docstring(node)
        if isinstance(node, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef)
        else None
    )
    return f'  """{doc.strip().splitlines()[0][:100]}"""' if doc else ""


def interface(name: str, code: str) -> str:
    """What other files need to know of a module: its classes, methods and functions with their
    signatures and first docstring lines, and its constants; no bodies."""
    module = name.removesuffix(".py").replace("/", ".")
    try:
        tree = ast.parse(code)
    except SyntaxError:
        heads = [ln for ln in code.splitlines() if re.match(r"\s*(class|def) ", ln)]
        return f"# {name} (module {module}; does not parse yet)\n" + "\n".join(heads[:30])
    lines = [f"# {name} (import as: from {module} import ...)"]
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            bases = ", ".join(ast.unparse(b) for b in node.bases)
            lines.append(f"class {node.name}({bases}):{_doc(node)}")
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and (
                    not item.name.startswith("_") or item.name in ("__init__", "__call__")
                ):
                    lines.append(f"    {_signature(item)}{_doc(item)}")
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not node.name.startswith("_"):
            lines.append(f"{_signature(node)}{_doc(node)}")
        elif isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) for t in node.targets):
            names = [t.id for t in node.targets if isinstance(t, ast.Name) and t.id.isupper()]
            if names:
                lines.append(f"{', '.join(names)} = ...")
    return "\n".join(lines)


def imported_modules(code: str) -> set[str]:
    """Top-level names of the modules ``code`` imports (absolute imports only)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return set()
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


# Import names whose distribution is named differently, for modules not installed here.
DISTRIBUTIONS = {"yaml": "pyyaml", "sklearn": "scikit-learn", "PIL": "pillow", "cv2": "opencv-python"}


def requirements(codes: dict[str, str]) -> list[str]:
    """requirements.txt lines for the third-party modules the files import, pinned to the versions
    installed here (the ones the checks ran with); unknown modules are listed unpinned."""
    local = {n.removesuffix(".py").split("/")[0] for n in codes}
    third = set().union(*(imported_modules(c) for c in codes.values())) - local - set(sys.stdlib_module_names)
    third.discard("__future__")
    third.discard("pytest")  # a test dependency, listed by the README
    out = []
    for mod in sorted(third):
        dist = distribution(mod) if distribution(mod) != mod else DISTRIBUTIONS.get(mod, mod)
        try:
            out.append(f"{dist}=={importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            out.append(dist)
    return out


# Names small models use without importing them, and the import that defines each.
KNOWN_IMPORTS = {
    "torch": "import torch",
    "nn": "import torch.nn as nn",
    "F": "import torch.nn.functional as F",
    "optim": "import torch.optim as optim",
    "np": "import numpy as np",
    "math": "import math",
    "yaml": "import yaml",
    "os": "import os",
    "sys": "import sys",
    "random": "import random",
    "argparse": "import argparse",
    "json": "import json",
    "time": "import time",
    "copy": "import copy",
    "Path": "from pathlib import Path",
    "Optional": "from typing import Optional",
    "List": "from typing import List",
    "Dict": "from typing import Dict",
    "Tuple": "from typing import Tuple",
    "Any": "from typing import Any",
    "DataLoader": "from torch.utils.data import DataLoader",
    "Dataset": "from torch.utils.data import Dataset",
    "TensorDataset": "from torch.utils.data import TensorDataset",
}


def bound_names(tree: ast.AST) -> set[str]:
    """Every name ``tree`` binds anywhere (assignments, imports, defs, arguments), and the builtins."""
    bound: set[str] = set(dir(builtins))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bound.add(node.id)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return bound


def undefined_names(code: str) -> set[str]:
    """Names read but never bound anywhere in ``code`` (a rough, cheap F821)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return set()
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return used - bound_names(tree)


def init_of(tree: ast.Module, cls: str) -> ast.FunctionDef | None:
    """The ``__init__`` of top-level class ``cls``."""
    return next(
        (
            item
            for node in tree.body
            if isinstance(node, ast.ClassDef) and node.name == cls
            for item in node.body
            if isinstance(item, ast.FunctionDef) and item.name == "__init__"
        ),
        None,
    )


def insert_imports(code: str, added: list[str]) -> str:
    """``code`` with the ``added`` import lines after its docstring and ``__future__`` imports."""
    at = 0
    try:
        for node in ast.parse(code).body:
            is_doc = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            if is_doc or (isinstance(node, ast.ImportFrom) and node.module == "__future__"):
                at = node.end_lineno or at
            else:
                break
    except SyntaxError:
        pass
    lines = code.splitlines()
    return "\n".join([*lines[:at], *added, *lines[at:]]) + "\n"


def add_missing_imports(code: str) -> tuple[str, list[str]]:
    """``code`` with imports added for well-known names it uses undefined; and the lines added."""
    missing = sorted(n for n in undefined_names(code) if n in KNOWN_IMPORTS)
    if not missing:
        return code, []
    added = [KNOWN_IMPORTS[n] for n in missing]
    return insert_imports(code, added), added


def repeating(text: str, window: int = 8) -> bool:
    """True when a reply has fallen into a loop: its last complete line four times in a row, or
    its last block of 2 to ``window`` lines three times in a row (small models do this until
    their token limit)."""
    lines = [ln.strip() for ln in text.split("\n")[:-1] if ln.strip()]
    for size in range(1, window + 1):
        times = 4 if size == 1 else 3
        if len(lines) < size * times:
            break
        block = lines[-size:]
        if sum(len(x) for x in block) < 12:
            continue  # closing brackets and the like repeat legitimately
        if all(lines[len(lines) - size * (i + 1) : len(lines) - size * i] == block for i in range(times)):
            return True
    return False


def drop_repeats(code: str) -> str:
    """Undo a repetition loop: repeated import lines kept once, runs of one line kept once."""
    out: list[str] = []
    imports: set[str] = set()
    for line in code.splitlines():
        s = line.strip()
        if s.startswith(("import ", "from ")) and " import " in f" {s}":
            if s in imports:
                continue
            imports.add(s)
        if out and s and line == out[-1] and not s.startswith(("#", ")", "]", "}")):
            continue
        out.append(line)
    return "\n".join(out) + "\n"


# Distribution names small models import as if they were modules.
MODULE_NAMES = {"pyyaml": "yaml", "scikit_learn": "sklearn", "pillow": "PIL", "opencv": "cv2"}


def defined_names(code: str) -> set[str]:
    """Names a module binds at top level (classes, functions, assignments, imports)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return set(re.findall(r"^(?:class|def)\s+(\w+)", code, re.M))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def fix_imports(files: dict[str, str]) -> dict[str, list[str]]:
    """Imports that cannot work, pointed at what exists: ``import pyyaml`` → ``import yaml``, and
    ``from transformers import Encoder`` → ``from transformer import Encoder`` when no such
    package is installed and a module of this repository defines those names. Returns the
    changes per file."""
    import importlib.util

    local = {n.removesuffix(".py"): defined_names(c) for n, c in files.items() if "/" not in n}
    changes: dict[str, list[str]] = {}
    for name, code in files.items():
        lines = code.splitlines()
        for i, line in enumerate(lines):
            m = re.match(r"^(\s*)import (\w+)(\s+as\s+\w+)?\s*$", line)
            if m and m.group(2) in MODULE_NAMES:
                real = MODULE_NAMES[m.group(2)]
                lines[i] = f"{m.group(1)}import {real}{m.group(3) or ''}"
                if not m.group(3) and f"{m.group(2)}." in code:  # used under the wrong name too
                    lines[i] += f"\n{m.group(1)}import {real} as {m.group(2)}"
                changes.setdefault(name, []).append(f"{line.strip()} -> {lines[i].strip()}")
                continue
            m = re.match(r"^(\s*)from ([\w.]+) import (.+)$", line)
            if not m or m.group(2).split(".")[0] in local or m.group(2).startswith("."):
                continue
            module = m.group(2)
            try:
                found = importlib.util.find_spec(module.split(".")[0]) is not None
            except (ImportError, ValueError):
                found = False
            if found:
                continue
            wanted = {w.split(" as ")[0].strip(" ()") for w in m.group(3).split(",")} - {""}
            best = max(local, key=lambda mod: len(wanted & local[mod]), default=None)
            if best and wanted and wanted <= local[best] and best != name.removesuffix(".py"):
                lines[i] = f"{m.group(1)}from {best} import {m.group(3)}"
                changes.setdefault(name, []).append(f"{line.strip()} -> {lines[i].strip()}")
        if name in changes:
            files[name] = "\n".join(lines) + "\n"
    return changes
