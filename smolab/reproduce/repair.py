"""Repair: failures go back to the model with the error and the code it points at, at the size a
small model handles: the failing function (from the traceback) when the error points into one,
spliced back in place; the whole file otherwise. A reply is applied only if the result parses
and differs; else the reason it was not is recorded. Fixes that need no model come first
(``fixes.py``)."""

from __future__ import annotations

import ast
import importlib.util
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass

from ..stack import stack_line
from .code import add_missing_imports, drop_repeats, extract_code, parse_error
from .verify import Failure, Verification

# Checks in the order their failures are fixed: a file that does not parse, or that cannot be
# imported, hides every other error; an undefined name deep in a function only fails when run.
PRIORITY = ("parse", "imports", "main", "ruff", "tests")
MAX_ERROR_CHARS = 2500
SAME_CODE = "the reply is the same code"


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
        text = "\n\n".join(condense(f.error) for f in failures)
        out.append(Failure(failures[0].check, name, text[:MAX_ERROR_CHARS]))
    return out


_SEPARATOR = re.compile(r"\n_ _ _[ _]*\n")


def condense(error: str) -> str:
    """A pytest report without the frames inside installed libraries (torch's autograd engine,
    pages of it), keeping their ``E`` lines: what was raised, without what a model cannot change."""
    if "site-packages" not in error:
        return error
    kept = []
    for block in _SEPARATOR.split(error):
        if "site-packages" not in block:
            kept.append(block.strip("\n"))
            continue
        raised = [ln for ln in block.splitlines() if ln.startswith("E ")]
        if raised:
            kept.append("\n".join(raised))
    return "\n".join(kept)


_TEST_ID = re.compile(r"^(tests[\w./]*)::(\w+)", re.M)


def failing_tests(error: str, read: Callable[[str], str | None], limit: int = 3) -> str:
    """The source of the tests the error names (``tests.test_contract::test_x``), read with
    ``read`` from the repository: what a test checks says more than its assertion message."""
    shown = []
    for module, test in dict.fromkeys(_TEST_ID.findall(error)):
        code = read(module.replace(".", "/") + ".py")
        try:
            tree = ast.parse(code or "")
        except SyntaxError:
            continue
        node = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == test), None)
        if node is not None and code:
            lines = code.splitlines()[node.lineno - 1 : node.end_lineno][:30]
            shown.append("\n".join(lines))
        if len(shown) == limit:
            break
    return "\n\n".join(shown)


_RAISED_LINE = re.compile(r"^(?:E\s+)?((?:\w+Error|AssertionError|assert)\b.*)$", re.M)


def failed_before(v: Verification, name: str, limit: int = 4) -> str:
    """What a first version of ``name`` failed, one line per failure (the test and what it
    raised), for a fresh attempt to avoid: the lesson without the code that taught it."""
    lines = []
    for f in v.failures[:limit]:
        head = f.error.strip().splitlines()[0] if f.error.strip() else f.check
        raised = _RAISED_LINE.findall(f.error)
        what = raised[0].strip() if raised else ""
        lines.append(f"- {head[:120]}" + (f": {what[:160]}" if what and what not in head else ""))
    if not lines:
        return ""
    shapes = next((x for f in v.failures if (x := explain_shapes(f.error))), "")
    return (
        f"\n\nA first version of {name} failed these checks; write it afresh so they pass:\n"
        + "\n".join(lines)
        + (f"\n{shapes}" if shapes else "")
    )


_MISSING = re.compile(r"No module named '([\w.]+)'")


def missing_packages(error: str, local: set[str]) -> list[str]:
    """Third-party packages the error says are missing and that cannot be imported here."""
    found = []
    for module in dict.fromkeys(_MISSING.findall(error)):
        top = module.split(".")[0]
        if top not in local and importlib.util.find_spec(top) is None:
            found.append(top)
    return found


def repair_ask(
    name: str,
    code: str,
    error: str,
    interfaces: str,
    local: set[str] | None = None,
    tests: str = "",
    again: bool = False,
) -> str:
    parts = [f"The repository fails a check. The error:\n{error}"]
    if tests:
        parts.append(f"The failing tests:\n```python\n{tests}\n```")
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
    if again:
        parts.append(
            f"A first reply returned {name} unchanged, and the tests still fail: change what they check."
        )
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


@dataclass
class Unit:
    """A function or method of a file: where it is, and its source."""

    qualname: str
    start: int
    """First line (1-based), its decorators included."""
    end: int
    source: str


def _lines_in(error: str, name: str) -> list[int]:
    """Line numbers the error points at in file ``name``, outermost first."""
    found = []
    for m in re.finditer(r'File "([^"]+)", line (\d+)', error):
        if m.group(1) == name or m.group(1).endswith("/" + name):
            found.append(int(m.group(2)))
    for m in re.finditer(rf"(?:^|[\s/]){re.escape(name)}:(\d+):", error, re.M):
        found.append(int(m.group(1)))
    return found


def _unit_at(code: str, line: int) -> Unit | None:
    """The innermost function or method of ``code`` holding ``line``."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    best: tuple[ast.FunctionDef | ast.AsyncFunctionDef, str] | None = None

    def visit(node: ast.AST, prefix: str) -> None:
        nonlocal best
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                qual = f"{prefix}{child.name}"
                if isinstance(child, ast.ClassDef):
                    visit(child, qual + ".")
                elif child.lineno <= line <= (child.end_lineno or child.lineno):
                    best = (child, qual)
                    visit(child, qual + ".")

    visit(tree, "")
    if best is None:
        return None
    node, qual = best
    start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    end = node.end_lineno or node.lineno
    source = "\n".join(code.splitlines()[start - 1 : end]) + "\n"
    return Unit(qual, start, end, source)


def failing_unit(code: str, name: str, error: str) -> Unit | None:
    """The innermost function or method of ``code`` holding the last line the error points at."""
    lines = _lines_in(error, name)
    return _unit_at(code, lines[-1]) if lines else None


def calling_unit(code: str, name: str, error: str) -> Unit | None:
    """The function of ``code`` that called the failing one, where the traceback passes through
    one: an error raised in a callee is often its caller's (a block handed a tensor of the wrong
    width raises inside the block)."""
    lines = _lines_in(error, name)
    inner = failing_unit(code, name, error)
    if inner is None:
        return None
    for line in reversed(lines):
        if not inner.start <= line <= inner.end:
            return _unit_at(code, line)
    return None


def _call_line(code: str, unit: Unit, name: str, error: str) -> str:
    """ ", at line N: `x = self.block(x)`" for the line of ``unit`` the traceback passes through."""
    source = code.splitlines()
    for line in reversed(_lines_in(error, name)):
        if unit.start <= line <= unit.end and 0 < line <= len(source):
            return f", at line {line}: `{source[line - 1].strip()}`"
    return ""


_RAISED = re.compile(r"^(?:E\s+)?([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt)\b.*)$", re.M)


def pinpoint(code: str, name: str, error: str) -> str:
    """The one line of ``name`` the error was raised from and what was raised, e.g. "line 15,
    `loss = F.mse(a, b)`, raises ValueError: ...": a small model fixes a line it is shown far more
    often than one it has to find in a page of traceback."""
    lines = _lines_in(error, name)
    raised = _RAISED.findall(error)
    if not lines or not raised:
        return ""
    source = code.splitlines()
    n = lines[-1]
    text = source[n - 1].strip() if 0 < n <= len(source) else ""
    return f"Line {n} of {name}, `{text}`, raises {raised[-1].strip()[:300]}"


_MATMUL = re.compile(r"mat1 and mat2 shapes cannot be multiplied \((\d+)x(\d+) and (\d+)x(\d+)\)")


def explain_shapes(error: str) -> str:
    """What a matrix-shape error says in a layer's terms: a Linear that maps ``c`` features
    meets an input whose last axis has ``b``. Small models read the raw message as a cue to
    change sizes at random; told which axis a Linear reads, they pool or reshape."""
    m = _MATMUL.search(error)
    if m is None:
        return ""
    rows, last, wanted, out = (int(g) for g in m.groups())
    if last == wanted:
        return ""
    return (
        f"The layer there maps {wanted} features to {out}, but its input's last axis has {last} "
        f"(the input is {rows} rows of {last}). An nn.Linear reads only the last axis: give it a "
        f"tensor whose last axis is {wanted}; on an (N, C, H, W) feature map that means pooling "
        "over H and W first (x.mean(dim=(2, 3))) or a 1x1 nn.Conv2d, and reshaping a per-channel "
        "result to (N, C, 1, 1) before it scales the map."
    )


def constructs_itself(code: str, qualname: str) -> str:
    """The class that ``qualname`` (a method) creates an instance of while being one ("Block"
    calling ``Block(...)`` in its ``__init__``), else "": a recursion a small model does not see."""
    cls = qualname.split(".")[0] if "." in qualname else ""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return ""
    node = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls), None)
    if node is None:
        return ""
    called = {c.func.id for c in ast.walk(node) if isinstance(c, ast.Call) and isinstance(c.func, ast.Name)}
    return cls if cls in called else ""


def unit_ask(
    name: str,
    unit: Unit,
    error: str,
    interfaces: str,
    context: str,
    code: str = "",
    again: bool = False,
    tests: str = "",
    raised_in: str = "",
) -> str:
    """``raised_in``: where ``unit`` is the caller of the function that raised, that function's
    name; the ask then points at the call."""
    parts = [f"`{unit.qualname}` in {name} fails. The error:\n{error}"]
    if tests:
        parts.append(f"The failing tests:\n```python\n{tests}\n```")
    if code and (where := pinpoint(code, name, error)):
        parts.append(where)
    if raised_in:
        call = _call_line(code, unit, name, error)
        parts.append(
            f"It is raised inside `{raised_in}`, which `{unit.qualname}` calls{call}; `{raised_in}` "
            f"came back unchanged when asked, so what `{unit.qualname}` hands it is what is wrong. "
            f"Fix what `{unit.qualname}` passes it."
        )
    if shapes := explain_shapes(error):
        parts.append(shapes)
    if code and (cls := constructs_itself(code, unit.qualname)):
        parts.append(
            f"`{cls}` creates a `{cls}` inside itself, which creates another, without end: "
            f"remove that; `{cls}` is one {cls}, built from torch layers."
        )
    if interfaces:
        parts.append(f"The other files (their interfaces):\n{interfaces}")
    if context:
        parts.append(f"{name} around it (its interface):\n{context}")
    parts.append(f"The failing `{unit.qualname}`:\n```python\n{textwrap.dedent(unit.source)}```")
    if again:
        parts.append(
            "A first reply returned this code unchanged, and the error stays: change the line that fails."
        )
    parts.append(
        f"Fix `{unit.qualname}` so the error goes away; keep its name and what works. Reply with the "
        "corrected definition only (the complete def, nothing else) in one ```python block."
    )
    return "\n\n".join(parts)


def splice(code: str, unit: Unit, reply: str) -> tuple[str | None, str]:
    """``code`` with the unit replaced by the reply's definition of it; (None, why) when the reply
    cannot be applied."""
    new = extract_code(reply)
    try:
        tree = ast.parse(textwrap.dedent(new))
    except SyntaxError as err:
        return None, f"the reply does not parse (line {err.lineno}: {err.msg})"
    short = unit.qualname.rsplit(".", 1)[-1]
    found = next(
        (
            n
            for n in ast.walk(tree)
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == short
        ),
        None,
    )
    if found is None:
        return None, f"the reply has no `def {short}`"
    body = textwrap.dedent(new).splitlines()
    start = min([found.lineno, *(d.lineno for d in found.decorator_list)])
    segment = textwrap.dedent("\n".join(body[start - 1 : found.end_lineno]))
    lines = code.splitlines()
    first = lines[unit.start - 1]
    indent = first[: len(first) - len(first.lstrip())]
    placed = textwrap.indent(segment, indent).splitlines()
    out = "\n".join([*lines[: unit.start - 1], *placed, *lines[unit.end :]]) + "\n"
    if out == code:
        return None, SAME_CODE
    if parse_error(out):
        return None, f"spliced in, {out and parse_error(out)}"
    return out, ""


def why_rejected(old: str, reply: str) -> str:
    """Why :func:`apply_reply` did not apply a whole-file reply."""
    new = drop_repeats(extract_code(reply))
    if not new.strip():
        return "the reply holds no code"
    if new == old or add_missing_imports(new)[0] == old:
        return SAME_CODE
    return f"the reply does not parse ({parse_error(new)})"
