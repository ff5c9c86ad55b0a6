"""Fixes that need no model, applied before any repair call.

Small models make the same few mistakes that stop a file from running: they import a package
that is not installed (and often never use it), import a class from the module the plan
suggested rather than the one that defines it, use a name they never defined, or give the
method's constructor arguments that the skeleton cannot pass. Each is found from the code's
syntax tree and fixed in place, or, where only the model can fix it, located precisely (file,
line, name) so the repair prompt can say exactly what is wrong.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import sys
from collections import Counter
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

from .code import KNOWN_IMPORTS, bound_names, defined_names, fix_imports, init_of, insert_imports


@dataclass
class Fix:
    file: str
    what: str
    """One line: what was changed, or what is wrong and where when it could not be changed."""
    applied: bool = True


def _installed(module: str) -> bool:
    top = module.split(".")[0]
    if top in sys.stdlib_module_names:
        return True
    try:
        return importlib.util.find_spec(top) is not None
    except (ImportError, ValueError):
        return False


def _loads(tree: ast.AST) -> dict[str, list[int]]:
    """Lines on which each name is read."""
    out: dict[str, list[int]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            out.setdefault(node.id, []).append(node.lineno)
    return out


def drop_uninstalled_imports(name: str, code: str, local: set[str]) -> tuple[str, list[Fix]]:
    """Imports of packages that are neither installed nor this repository's: dropped when nothing
    they bind is used; otherwise located, with the lines that use them."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code, []
    reads = _loads(tree)
    lines = code.splitlines()
    drop: set[int] = set()
    fixes: list[Fix] = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            modules = [(a.name, (a.asname or a.name).split(".")[0]) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            modules = [(node.module, a.asname or a.name) for a in node.names]
        else:
            continue
        bad = [(m, bound) for m, bound in modules if m.split(".")[0] not in local and not _installed(m)]
        if not bad or len(bad) != len(modules):
            continue
        used = sorted({ln for _, bound in bad for ln in reads.get(bound, [])})
        package = bad[0][0].split(".")[0]
        if not used:
            drop.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
            fixes.append(
                Fix(name, f"{name}:{node.lineno}: dropped the unused import of `{package}` (not installed)")
            )
        else:
            where = ", ".join(map(str, used[:8]))
            fixes.append(
                Fix(name, f"{name}:{node.lineno}: `{package}` is not installed; used on lines {where}", False)
            )
    if not drop:
        return code, fixes
    kept = [ln for i, ln in enumerate(lines, 1) if i not in drop]
    return "\n".join(kept) + "\n", fixes


def repoint_local_imports(files: dict[str, str]) -> list[Fix]:
    """``from model import X`` where this repository's ``model`` does not define ``X`` but another
    of its modules does: re-pointed there. Also imports of uninstalled packages whose names a
    local module defines (see :func:`fix_imports`)."""
    fixes = [Fix(f, what) for f, changes in fix_imports(files).items() for what in changes]
    defs = {n.removesuffix(".py"): defined_names(c) for n, c in files.items() if "/" not in n}
    for name, code in files.items():
        lines = code.splitlines()
        changed = False
        for i, line in enumerate(lines):
            m = re.match(r"^(\s*)from (\w+) import ([\w\s,()]+)$", line)
            if not m or m.group(2) not in defs:
                continue
            wanted = {w.split(" as ")[0].strip(" ()") for w in m.group(3).split(",")} - {""}
            missing = wanted - defs[m.group(2)]
            if not missing:
                continue
            # Each missing name from the module that defines it; the rest stay where they are.
            home = {w: next((mod for mod in sorted(defs) if w in defs[mod]), None) for w in missing}
            if any(h is None or h == name.removesuffix(".py") for h in home.values()):
                continue
            keep = [w for w in m.group(3).split(",") if w.split(" as ")[0].strip(" ()") not in missing]
            new = (
                [f"{m.group(1)}from {m.group(2)} import {', '.join(k.strip() for k in keep)}"] if keep else []
            )
            for module in sorted({h for h in home.values() if h}):
                names = ", ".join(sorted(w for w, h in home.items() if h == module))
                new.append(f"{m.group(1)}from {module} import {names}")
            lines[i] = "\n".join(new)
            fixes.append(Fix(name, f"{name}:{i + 1}: {line.strip()} -> {' / '.join(s.strip() for s in new)}"))
            changed = True
        if changed:
            files[name] = "\n".join(lines) + "\n"
    return fixes


def import_undefined_names(files: dict[str, str]) -> list[Fix]:
    """Names a file uses but never binds: imported from the local module that defines them, or
    the well-known import added (``np``, ``F``, ``Path``); else located for the model."""
    defs = {n.removesuffix(".py"): defined_names(c) for n, c in files.items() if "/" not in n}
    fixes: list[Fix] = []
    for name, code in files.items():
        try:
            tree = ast.parse(code)
        except SyntaxError:
            continue
        reads = _loads(tree)
        undefined = sorted(set(reads) - bound_names(tree))
        added: list[str] = []
        for n in undefined:
            home = next((m for m in sorted(defs) if n in defs[m] and m != name.removesuffix(".py")), None)
            if n in KNOWN_IMPORTS:
                added.append(KNOWN_IMPORTS[n])
            elif home:
                added.append(f"from {home} import {n}")
            else:
                where = ", ".join(map(str, sorted(set(reads[n]))[:8]))
                fixes.append(Fix(name, f"{name}: `{n}` is used on lines {where} but never defined", False))
                continue
            fixes.append(Fix(name, f"{name}: `{n}` was undefined; added `{added[-1]}`"))
        if added:
            files[name] = insert_imports(code, added)
    return fixes


# Defaults for constructor arguments that papers rarely state but models often leave required.
USUAL_DEFAULTS: list[tuple[str, Any]] = [
    (r"drop(out)?(_?(rate|prob|p))?$|^p$", 0.1),
    (r"eps(ilon)?$", 1e-5),
    (r"(num_)?heads?$|n_?heads$", 4),
    (r"bias$", True),
    (r"momentum$", 0.1),
    (r"(reduction|ratio)$", 4),
    (r"(groups?|num_groups)$", 8),
    (r"(temperature|tau)$", 1.0),
    (r"(alpha|beta|gamma|lam(bda)?|scale|weight)$", 1.0),
    (r"(hidden|hidden_dim|d_ff|d_hidden|ffn_dim|bottleneck|rank|r|width|mlp_dim)$", 64),
    (r"(layers|depth|num_layers|blocks)$", 2),
]


def default_for(arg: str, stated: dict[str, Any]) -> Any | None:
    """The paper's value for ``arg`` (by normalised name), else a usual default for its name."""
    key = re.sub(r"[^a-z0-9]", "", arg.lower())
    if key in stated:
        return stated[key]
    for pattern, value in USUAL_DEFAULTS:
        if re.search(pattern, arg.lower()):
            return value
    return None


def default_required_args(
    name: str, code: str, cls: str, leading: int, stated: dict[str, Any]
) -> tuple[str, list[Fix]]:
    """Arguments of ``cls.__init__`` after the ``leading`` ones the skeleton passes that have no
    default: given the paper's value or a usual one, since the skeleton passes only the config's
    keyword arguments. One it cannot guess is located for the model."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code, []
    init = init_of(tree, cls)
    if init is None:
        return code, []
    a = init.args
    positional = [*a.posonlyargs, *a.args][1:]  # without self
    required = positional[: len(positional) - len(a.defaults)][leading:]
    required += [k for k, d in zip(a.kwonlyargs, a.kw_defaults, strict=True) if d is None]
    lines = code.splitlines()
    fixes: list[Fix] = []
    # Right to left, so earlier columns stay valid; positional ones become keyword-only with their
    # default only if every later one gets a default too (Python needs defaults at the end).
    edits: list[tuple[ast.arg, Any]] = []
    for arg in required:
        value = default_for(arg.arg, stated)
        if value is None:
            fixes.append(
                Fix(
                    name, f"{name}:{arg.lineno}: `{cls}.__init__` argument `{arg.arg}` needs a default", False
                )
            )
        else:
            edits.append((arg, value))
    if any(not f.applied for f in fixes):
        return code, fixes
    for arg, value in sorted(
        edits, key=lambda e: (e[0].end_lineno or 0, e[0].end_col_offset or 0), reverse=True
    ):
        row = (arg.end_lineno or arg.lineno) - 1
        col = arg.end_col_offset or 0
        lines[row] = f"{lines[row][:col]} = {value!r}{lines[row][col:]}"
        fixes.append(
            Fix(name, f"{name}:{arg.lineno}: `{cls}.__init__` argument `{arg.arg}` defaults to {value!r}")
        )
    new = "\n".join(lines) + "\n"
    try:
        ast.parse(new)
    except SyntaxError:
        return code, [
            Fix(name, f"{name}: `{cls}.__init__` has required arguments the skeleton cannot pass", False)
        ]
    return new, fixes


def _self_attributes(cls: ast.ClassDef, stored: bool) -> set[str]:
    """Attributes of ``self`` the class stores (assigns) or reads."""
    found = set()
    for node in ast.walk(cls):
        if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)):
            continue
        if node.value.id == "self" and isinstance(node.ctx, ast.Store) == stored:
            found.add(node.attr)
    return found


def store_init_arguments(name: str, code: str) -> tuple[str, list[Fix]]:
    """``self.eps`` read in a method while ``__init__`` takes ``eps`` and never stores it: the
    line that stores it is added after ``super().__init__()``."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code, []
    lines = code.splitlines()
    inserts: list[tuple[int, str]] = []
    fixes: list[Fix] = []
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        init = init_of(tree, cls.name)
        if init is None or not init.body:
            continue
        params = [a.arg for a in [*init.args.args[1:], *init.args.kwonlyargs]]
        defined = _self_attributes(cls, stored=True) | {
            n.name for n in cls.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        missing = [p for p in params if p in _self_attributes(cls, stored=False) - defined]
        if not missing:
            continue
        # After super().__init__() when it is there (nn.Module needs it first), else at the top.
        first = init.body[0]
        after = next(
            (st for st in init.body if isinstance(st, ast.Expr) and "super()" in ast.unparse(st)), None
        )
        anchor = after.end_lineno if after is not None and after.end_lineno else first.lineno - 1
        indent = " " * first.col_offset
        inserts.append((anchor, "\n".join(f"{indent}self.{p} = {p}" for p in missing)))
        fixes.append(
            Fix(name, f"{name}: `{cls.name}.__init__` now stores {', '.join(missing)} (read as self.X)")
        )
    for at, text in sorted(inserts, reverse=True):
        lines[at:at] = text.splitlines()
    return ("\n".join(lines) + "\n" if inserts else code), fixes


Store = tuple[ast.ClassDef, ast.FunctionDef, set[str], ast.Assign, str]


def _init_stores(tree: ast.Module) -> Iterator[Store]:
    """Each one-line ``self.<attr> = <value>`` in a class's ``__init__``: the class, its
    ``__init__``, that ``__init__``'s argument names, the statement and the attribute."""
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        init = init_of(tree, cls.name)
        if init is None:
            continue
        params = {a.arg for a in [*init.args.args[1:], *init.args.kwonlyargs]}
        for st in init.body:
            if (
                isinstance(st, ast.Assign)
                and len(st.targets) == 1
                and isinstance(t := st.targets[0], ast.Attribute)
                and ast.unparse(t.value) == "self"
                and st.lineno == st.end_lineno
            ):
                yield cls, init, params, st, t.attr


DROP = re.compile(r"drop", re.I)


def dropout_rates_called(name: str, code: str) -> tuple[str, list[Fix]]:
    """``self.dropout = dropout`` (a rate) and later ``self.dropout(h)``: a float is called (a
    small model's habit). Where every use of the attribute is a call, it becomes the layer the
    rate is for, ``nn.Dropout(dropout)``."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code, []
    aliases = module_aliases(tree)
    nn = next((a for a, m in aliases.items() if m == "torch.nn"), "torch.nn" if "torch" in aliases else "")
    if not nn:
        return code, []
    lines = code.splitlines()
    fixes: list[Fix] = []
    for cls, init, params, st, attr in _init_stores(tree):
        if not DROP.search(attr):
            continue
        value = st.value
        rate = (isinstance(value, ast.Name) and value.id in params) or (
            isinstance(value, ast.Constant) and isinstance(value.value, float)
        )
        uses = [
            n
            for fn in cls.body
            if isinstance(fn, ast.FunctionDef) and fn is not init
            for n in ast.walk(fn)
            if isinstance(n, ast.Attribute) and n.attr == attr and ast.unparse(n.value) == "self"
        ]
        called = {id(c.func) for c in ast.walk(cls) if isinstance(c, ast.Call)}
        if not rate or not uses or any(id(u) not in called for u in uses):
            continue
        line = lines[st.lineno - 1]
        indent = line[: len(line) - len(line.lstrip())]
        lines[st.lineno - 1] = f"{indent}self.{attr} = {nn}.Dropout({ast.unparse(value)})"
        fixes.append(Fix(name, f"{name}: `self.{attr}` held a dropout rate and was called; now {nn}.Dropout"))
    return ("\n".join(lines) + "\n" if fixes else code), fixes


# Where a function a model called on the wrong torch module lives instead (``F.log`` is
# ``torch.log``; ``torch.softplus`` is ``F.softplus``), in the order to try.
def learned_scalars_as_parameters(name: str, code: str, learned: Collection[str]) -> tuple[str, list[Fix]]:
    """``self.alpha = alpha`` (or ``= 0.0``) where the paper says α is learned: a plain number
    never trains, and a gate that should open stays shut. It becomes an ``nn.Parameter`` that
    starts at that value."""
    if not learned:
        return code, []
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code, []
    aliases = module_aliases(tree)
    nn = next((a for a, m in aliases.items() if m == "torch.nn"), "torch.nn" if "torch" in aliases else "")
    torch = next((a for a, m in aliases.items() if m == "torch"), "")
    if not nn or not torch:
        return code, []
    lines = code.splitlines()
    fixes: list[Fix] = []
    for _, _, params, st, attr in _init_stores(tree):
        value = st.value
        named = value.id if isinstance(value, ast.Name) and value.id in params else ""
        number = isinstance(value, ast.Constant) and type(value.value) in (int, float)
        if not (named or number) or not ({attr, named} & set(learned)):
            continue
        line = lines[st.lineno - 1]
        indent = line[: len(line) - len(line.lstrip())]
        start = ast.unparse(value)
        lines[st.lineno - 1] = f"{indent}self.{attr} = {nn}.Parameter({torch}.tensor(float({start})))"
        what = f"{name}: `self.{attr}` is learned in the paper; now an nn.Parameter from {start}"
        fixes.append(Fix(name, what))
    return ("\n".join(lines) + "\n" if fixes else code), fixes


def _defaults_keys(init: ast.FunctionDef) -> set[str]:
    """The keys of ``defaults = dict(lr=lr, beta1=beta1)`` (or a dict literal) in an optimizer's
    ``__init__``: what every param group carries."""
    keys: set[str] = set()
    for node in ast.walk(init):
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "dict":
            keys |= {k.arg for k in node.keywords if k.arg}
        elif isinstance(node, ast.Dict):
            keys |= {k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
    return keys


def group_values_by_name(name: str, code: str) -> tuple[str, list[Fix]]:
    """An optimizer's ``step`` that uses ``beta1`` bare inside ``for group in self.param_groups``
    where ``beta1`` is never bound but every group carries it: each such name is read from the
    group at the top of the loop (``beta1 = group["beta1"]``), as the torch convention has it."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code, []
    lines = code.splitlines()
    inserts: list[tuple[int, str]] = []
    fixes: list[Fix] = []
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        init = init_of(tree, cls.name)
        keys = _defaults_keys(init) if init is not None else set()
        for fn in (n for n in cls.body if isinstance(n, ast.FunctionDef) and n is not init):
            bound = bound_names(fn) | defined_names(code)
            for loop in ast.walk(fn):
                if not (
                    isinstance(loop, ast.For)
                    and isinstance(loop.target, ast.Name)
                    and ast.unparse(loop.iter) == "self.param_groups"
                ):
                    continue
                used = {
                    n.id
                    for n in ast.walk(loop)
                    if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id not in bound
                }
                missing = sorted(used & keys)
                if not missing:
                    continue
                first = loop.body[0]
                line = lines[first.lineno - 1]
                indent = line[: len(line) - len(line.lstrip())]
                group = loop.target.id
                inserts += [(first.lineno - 1, f'{indent}{m} = {group}["{m}"]') for m in reversed(missing)]
                fixes.append(
                    Fix(name, f"{name}: {', '.join(missing)} read from each param group in `{fn.name}`")
                )
    for at, text in sorted(inserts, key=lambda i: -i[0]):
        lines.insert(at, text)
    return ("\n".join(lines) + "\n" if fixes else code), fixes


def _inits(init: ast.FunctionDef) -> dict[str, ast.expr]:
    """``self.<name> = <value>`` in ``__init__``, by name."""
    found: dict[str, ast.expr] = {}
    for st in init.body:
        if isinstance(st, ast.Assign) and len(st.targets) == 1:
            t = st.targets[0]
            if isinstance(t, ast.Attribute) and ast.unparse(t.value) == "self":
                found[t.attr] = st.value
    return found


def _biased_linear(value: ast.expr) -> bool:
    return (
        isinstance(value, ast.Call)
        and ast.unparse(value.func).split(".")[-1] == "Linear"
        and not any(k.arg == "bias" for k in value.keywords)
    )


def _zero_parameter(value: ast.expr) -> bool:
    text = ast.unparse(value)
    return isinstance(value, ast.Call) and ast.unparse(value.func).endswith("Parameter") and "zeros" in text


def doubled_biases(name: str, code: str) -> tuple[str, list[Fix]]:
    """``self.w1(x) + self.b1`` where ``w1`` is an ``nn.Linear`` with its own bias and ``b1`` an
    extra zero ``nn.Parameter``: the paper's ``W_1 x + b_1`` written with two biases (a small
    model's habit). The extra one goes, where the sum is its only use."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code, []
    lines = code.splitlines()
    fixes: list[Fix] = []
    drop: list[int] = []
    edited: set[int] = set()
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        init = init_of(tree, cls.name)
        if init is None:
            continue
        made = _inits(init)
        uses = Counter(
            n.attr for n in ast.walk(cls) if isinstance(n, ast.Attribute) and ast.unparse(n.value) == "self"
        )
        for node in ast.walk(cls):
            if not isinstance(node, ast.BinOp) or not isinstance(node.op, ast.Add):
                continue
            if node.lineno != node.end_lineno:
                continue
            call, extra = node.left, node.right
            if not (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and ast.unparse(call.func.value) == "self"
                and _biased_linear(made.get(call.func.attr, ast.Constant(None)))
                and isinstance(extra, ast.Attribute)
                and ast.unparse(extra.value) == "self"
                and _zero_parameter(made.get(extra.attr, ast.Constant(None)))
                and uses[extra.attr] == 2  # made once, added once
            ):
                continue
            row = node.lineno - 1
            if row in edited:  # the offsets on an edited line no longer hold; the next round sees it
                continue
            edited.add(row)
            line = lines[row]
            lines[row] = line[: node.col_offset] + ast.unparse(call) + line[node.end_col_offset :]
            drop += [
                st.lineno - 1
                for st in init.body
                if isinstance(st, ast.Assign) and ast.unparse(st.targets[0]) == f"self.{extra.attr}"
            ]
            what = f"{name}: `self.{extra.attr}` doubled the bias of `self.{call.func.attr}`; removed"
            fixes.append(Fix(name, what))
    for row in sorted(set(drop), reverse=True):
        del lines[row]
    return ("\n".join(lines) + "\n" if fixes else code), fixes


def stated_biases(name: str, code: str) -> tuple[str, list[Fix]]:
    """``nn.Linear(..., bias=False)`` where every weight matrix of the paper's steps comes with
    its bias (``W_1 t_1 + b_1``): the bias is turned on, unless the class adds a bias of its own
    after a linear call (``self.w1(x) + self.b1``), which already is the paper's."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code, []
    lines = code.splitlines()
    fixes: list[Fix] = []
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        own_bias = any(
            isinstance(n, ast.BinOp)
            and isinstance(n.op, ast.Add)
            and isinstance(n.left, ast.Call)
            and isinstance(n.right, ast.Attribute)
            and ast.unparse(n.right.value) == "self"
            for n in ast.walk(cls)
        )
        if own_bias:
            continue
        for node in ast.walk(cls):
            if not (isinstance(node, ast.Call) and ast.unparse(node.func).split(".")[-1] == "Linear"):
                continue
            off = [k for k in node.keywords if k.arg == "bias" and ast.unparse(k.value) == "False"]
            if not off or node.lineno != node.end_lineno:
                continue
            row, k = node.lineno - 1, off[0]
            line = lines[row]
            lines[row] = line[: k.value.col_offset] + "True" + line[k.value.end_col_offset :]
            fixes.append(
                Fix(name, f"{name}: the paper adds a bias to each map; `{ast.unparse(node)}` gets one")
            )
    return ("\n".join(lines) + "\n" if fixes else code), fixes


def unused_sublayers(name: str, code: str) -> tuple[str, list[Fix]]:
    """``self.w1 = nn.Linear(...)`` built in ``__init__`` and never used: a small model declares
    ``linear1`` and ``w1`` for the same weight and uses one, and the parameters of the other never
    get a gradient. A module built on one line and never read again is removed."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code, []
    lines = code.splitlines()
    drop: list[int] = []
    fixes: list[Fix] = []
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        init = init_of(tree, cls.name)
        if init is None:
            continue
        read = Counter(
            n.attr
            for n in ast.walk(cls)
            if isinstance(n, ast.Attribute) and ast.unparse(n.value) == "self" and isinstance(n.ctx, ast.Load)
        )
        read.update(
            n.value for n in ast.walk(cls) if isinstance(n, ast.Constant) and isinstance(n.value, str)
        )  # getattr(self, "w1"), named_children lookups
        for st in init.body:
            if not (
                isinstance(st, ast.Assign)
                and len(st.targets) == 1
                and isinstance(t := st.targets[0], ast.Attribute)
                and ast.unparse(t.value) == "self"
                and isinstance(st.value, ast.Call)
                and ast.unparse(st.value.func).startswith(("nn.", "torch.nn."))
                and st.lineno == st.end_lineno
                and not read[t.attr]
            ):
                continue
            drop.append(st.lineno - 1)
            fixes.append(Fix(name, f"{name}: `self.{t.attr}` was built and never used; removed"))
    for row in sorted(drop, reverse=True):
        del lines[row]
    return ("\n".join(lines) + "\n" if fixes else code), fixes


def nll_of_logits(name: str, code: str) -> tuple[str, list[Fix]]:
    """``F.nll_loss(logits, y)`` on scores that never went through a log-softmax: ``nll_loss``
    expects log-probabilities, so this is not the softmax loss the paper writes (and it is
    unbounded below, so a loss blueprint's tests see a negative loss). Where the first argument
    is named as logits and the function never reassigns it, the call becomes ``cross_entropy``,
    which is the log-softmax and the NLL together."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code, []
    lines = code.splitlines()
    fixes: list[Fix] = []
    for fn in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)):
        assigned = {t.id for n in ast.walk(fn) for t in getattr(n, "targets", []) if isinstance(t, ast.Name)}
        for call in (n for n in ast.walk(fn) if isinstance(n, ast.Call)):
            func = call.func
            if not (isinstance(func, ast.Attribute) and func.attr == "nll_loss" and call.args):
                continue
            first = call.args[0]
            if not (isinstance(first, ast.Name) and "logit" in first.id.lower() and first.id not in assigned):
                continue
            row = func.end_lineno - 1 if func.end_lineno else func.lineno - 1
            line = lines[row]
            end = func.end_col_offset or len(line)
            if line[end - len("nll_loss") : end] != "nll_loss":
                continue
            lines[row] = line[: end - len("nll_loss")] + "cross_entropy" + line[end:]
            what = f"{name}:{row + 1}: `nll_loss` of raw `{first.id}` (it reads log-probabilities)"
            what += " is `cross_entropy`"
            fixes.append(Fix(name, what))
    return ("\n".join(lines) + "\n" if fixes else code), fixes


ELSEWHERE = {
    "torch.nn.functional": ("torch", "torch.special"),
    "torch": ("torch.nn.functional", "torch.special", "torch.linalg"),
    "torch.special": ("torch", "torch.nn.functional"),
}
MISSING_ATTRIBUTE = re.compile(r"module '([\w.]+)' has no attribute '(\w+)'")


def _has(module: str, attr: str) -> bool:
    try:
        return hasattr(importlib.import_module(module), attr)
    except ImportError:
        return False


def module_aliases(tree: ast.AST) -> dict[str, str]:
    """The module each imported name stands for: ``F`` for ``torch.nn.functional``."""
    out: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    out[a.asname] = a.name
                else:
                    out[a.name.split(".")[0]] = a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                out[a.asname or a.name] = f"{node.module}.{a.name}"
    return out


def repoint_missing_attributes(files: dict[str, str], errors: str) -> list[Fix]:
    """A call the errors say a torch module lacks (``module 'torch.nn.functional' has no
    attribute 'log'``), re-pointed to the torch module that has it, in every file."""
    fixes: list[Fix] = []
    for module, attr in sorted(set(MISSING_ATTRIBUTE.findall(errors))):
        home = next((m for m in ELSEWHERE.get(module, ()) if _has(m, attr)), None)
        if home is None:
            continue
        for name, code in files.items():
            try:
                tree = ast.parse(code)
            except SyntaxError:
                continue
            aliases = module_aliases(tree)

            def resolves(expr: ast.expr, target: str, aliases: dict[str, str] = aliases) -> bool:
                dotted = ast.unparse(expr)
                head = dotted.split(".")[0]
                return head in aliases and aliases[head] + dotted[len(head) :] == target

            wrong = [
                n
                for n in ast.walk(tree)
                if isinstance(n, ast.Attribute) and n.attr == attr and resolves(n.value, module)
            ]
            if not wrong:
                continue
            alias = next((a for a, m in aliases.items() if m == home), None)
            lines = code.splitlines()
            for n in sorted(wrong, key=lambda n: (n.lineno, n.col_offset), reverse=True):
                value = n.value
                if value.lineno != value.end_lineno or value.end_col_offset is None:
                    continue
                line = lines[value.lineno - 1]
                lines[value.lineno - 1] = (
                    line[: value.col_offset] + (alias or home) + line[value.end_col_offset :]
                )
            new = "\n".join(lines) + "\n"
            if alias is None:
                new = insert_imports(new, [f"import {home}"])
            files[name] = new
            fixes.append(Fix(name, f"{name}: `{module}.{attr}` does not exist; `{home}.{attr}` used instead"))
    return fixes


BOOL_SUBTRACTION = "with a bool tensor is not supported"
FRAME = re.compile(r'File "[^"]*?([\w./-]+\.py)", line (\d+)|^([\w./-]+\.py):(\d+): ', re.M)


def _frames(errors: str, files: dict[str, str]) -> set[tuple[str, int]]:
    """(file, line) of every traceback frame in ``errors`` that points into one of ``files``."""
    out = set()
    for m in FRAME.finditer(errors):
        path, line = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        name = next((n for n in files if path == n or path.endswith("/" + n)), None)
        if name is not None:
            out.add((name, int(line)))
    return out


BOOL_CALLS = {"bool", "logical_not", "logical_and", "logical_or", "logical_xor", "isnan", "isinf"}


def _bool_names(tree: ast.AST) -> set[str]:
    """Names and attributes (``keep``, ``self.mask``) assigned a comparison or a bool tensor."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Assign):
            continue
        value = node.value
        named = (
            value.func.attr if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) else ""
        )
        if isinstance(value, ast.Compare) or named in BOOL_CALLS:
            out.update(ast.unparse(t) for t in node.targets)
    return out


def bool_subtractions(files: dict[str, str], errors: str) -> list[Fix]:
    """``1 - mask`` on a bool mask, which torch refuses ("Subtraction ... with a bool tensor is
    not supported"), made ``1 - mask.float()`` on the lines the traceback names, for the names
    the code assigned a comparison or a bool tensor."""
    if BOOL_SUBTRACTION not in errors:
        return []
    fixes: list[Fix] = []
    for name, line_no in sorted(_frames(errors, files)):
        try:
            tree = ast.parse(files[name])
        except SyntaxError:
            continue
        masks = _bool_names(tree)
        subtracted = [
            n.right
            for n in ast.walk(tree)
            if isinstance(n, ast.BinOp)
            and isinstance(n.op, ast.Sub)
            and isinstance(n.left, ast.Constant)
            and isinstance(n.right, (ast.Name, ast.Attribute))
            and n.right.lineno == line_no == n.right.end_lineno
            and ast.unparse(n.right) in masks
        ]
        if not subtracted:
            continue
        lines = files[name].splitlines()
        raw = lines[line_no - 1].encode()  # ast offsets count UTF-8 bytes
        for r in sorted(subtracted, key=lambda r: r.col_offset, reverse=True):
            end = r.end_col_offset or 0
            raw = raw[:end] + b".float()" + raw[end:]
        lines[line_no - 1] = raw.decode()
        files[name] = "\n".join(lines) + "\n"
        shown = ", ".join(f"`{ast.unparse(r)}`" for r in subtracted)
        what = f"{name}:{line_no}: {shown} is a bool tensor, made float before it is subtracted"
        fixes.append(Fix(name, what))
    return fixes


def deterministic_fixes(
    files: dict[str, str],
    method: tuple[str, str, int] | None = None,
    stated: dict[str, Any] | None = None,
    errors: str = "",
    learned: Collection[str] = (),
    biased: bool = False,
) -> list[Fix]:
    """Every fix above on ``files`` (changed in place); ``method`` is (file, class, number of
    leading arguments the skeleton passes) for a blueprint's method module; ``errors`` the text of
    the failures, for the fixes that start from an error; ``learned`` the symbols the paper says
    are learned ("alpha"); ``biased``: every weight matrix in the paper's steps has its bias."""
    local = {n.removesuffix(".py").split("/")[0] for n in files}
    fixes: list[Fix] = []
    for name in list(files):
        files[name], found = drop_uninstalled_imports(name, files[name], local)
        fixes += found
    fixes += repoint_local_imports(files)
    fixes += import_undefined_names(files)
    fixes += repoint_missing_attributes(files, errors)
    fixes += bool_subtractions(files, errors)
    for name in list(files):
        files[name], found = store_init_arguments(name, files[name])
        fixes += found
        files[name], found = dropout_rates_called(name, files[name])
        fixes += found
        files[name], found = learned_scalars_as_parameters(name, files[name], learned)
        fixes += found
        files[name], found = group_values_by_name(name, files[name])
        fixes += found
        files[name], found = doubled_biases(name, files[name])
        fixes += found
        files[name], found = unused_sublayers(name, files[name])
        fixes += found
        files[name], found = nll_of_logits(name, files[name])
        fixes += found
    if biased and method and method[0] in files:
        files[method[0]], found = stated_biases(method[0], files[method[0]])
        fixes += found
    if method and method[0] in files:
        files[method[0]], found = default_required_args(
            method[0], files[method[0]], method[1], method[2], stated or {}
        )
        fixes += found
    return fixes
