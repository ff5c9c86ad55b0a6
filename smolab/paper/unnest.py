"""A nested equation as a chain of single-operation steps.

``h = W_2 GELU(W_1 LayerNorm(x) + b_1) + b_2`` asks a small model to get four operations and
their order right in one line; measured on the project's example, the 1.5B coder model wrote
that block wrongly in 4 of 4 tries (LayerNorm after W_1, the bias inside the GELU), and right in
3 of 4 once given the same equation as::

    t_1 = LayerNorm(x)
    t_2 = W_1 t_1 + b_1
    t_3 = GELU(t_2)
    h = W_2 t_3 + b_2

The parser reads the readers' common notation (``notation.readable``): symbols with subscripts
and primes, juxtaposition and ``·`` ``×`` ``*`` ``/`` as products, ``+`` ``-``, and function
applications ``GELU(...)``, ``σ(...)``. Anything else (sums, sets, norms, cases) is not
unnested: ``steps`` answers None and the equation is shown as the paper wrote it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

_SCRIPT = r"(?:[_^](?:\{[^{}]*\}|[A-Za-z0-9]+|[′'*]))"
_TOKEN = re.compile(
    rf"""
    (?P<word>[A-Za-z]{{2,}}{_SCRIPT}*)                  # GELU, LayerNorm, sigmoid, exp
  | (?P<symbol>[A-Za-z\u00b5\u0370-\u03ff][\u0300-\u036f]*[′']*{_SCRIPT}*[′']*)  # x, W_1, α, x̃_c, b^{{(l)}}
  | (?P<number>\d+(?:\.\d+)?)
  | (?P<op>[-+−·×*/(),])
  | (?P<space>\s+)
    """,
    re.X,
)
# The equation's number and what follows it: ", (3) where ..." or " (4)".
_NUMBER = re.compile(r"[,.]?\s*\(\d{1,3}[a-z]?\)(?:\s.*)?$")


@dataclass
class _Node:
    kind: str  # "atom", "call", "product", "sum", "neg", "group"
    text: str = ""
    parts: list[_Node] = field(default_factory=list)
    ops: list[str] = field(default_factory=list)


class _Unparsable(Exception):
    pass


def _tokens(text: str) -> list[tuple[str, str]]:
    """(kind, text) pairs; an opening bracket after a space is "( " so that "σ_i (x − µ)"
    reads as a product and "σ(x)" as an application."""
    found: list[tuple[str, str]] = []
    pos = 0
    spaced = False
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise _Unparsable(text[pos:])
        kind = m.lastgroup or ""
        if kind == "space":
            spaced = True
        else:
            found.append((kind, "( " if m.group(0) == "(" and spaced else m.group(0)))
            spaced = False
        pos = m.end()
    return found


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]):
        self.tokens = tokens
        self.i = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.i] if self.i < len(self.tokens) else ("end", "")

    def take(self, op: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if op is not None and tok[1] != op:
            raise _Unparsable(f"expected {op}")
        self.i += 1
        return tok

    def expression(self) -> _Node:
        terms = [self.term()]
        ops: list[str] = []
        while self.peek()[1] in ("+", "-", "−"):
            ops.append(self.take()[1].replace("−", "-"))
            terms.append(self.term())
        return terms[0] if len(terms) == 1 else _Node("sum", parts=terms, ops=ops)

    def term(self) -> _Node:
        factors = [self.factor()]
        ops: list[str] = []
        while True:
            kind, text = self.peek()
            if text in ("·", "×", "*", "/"):
                ops.append(self.take()[1])
            elif kind in ("word", "symbol", "number") or text in ("(", "( "):
                ops.append(" ")  # juxtaposition: W x, α h
            else:
                break
            factors.append(self.factor())
        return factors[0] if len(factors) == 1 else _Node("product", parts=factors, ops=ops)

    def factor(self) -> _Node:
        kind, text = self.take()
        if text in ("-", "−"):
            return _Node("neg", parts=[self.factor()])
        if text in ("(", "( "):
            inner = self.expression()
            self.take(")")
            return _Node("group", parts=[inner])
        if kind in ("word", "symbol"):
            if self.peek()[1] == "(":
                self.take("(")
                args = [self.expression()]
                while self.peek()[1] == ",":
                    self.take(",")
                    args.append(self.expression())
                self.take(")")
                return _Node("call", text=text, parts=args)
            return _Node("atom", text=text)
        if kind == "number":
            return _Node("atom", text=text)
        raise _Unparsable(text or "the end")


class _Writer:
    """Renders a parsed right-hand side, a fresh name for every function application that is
    not the whole side and for every compound argument."""

    def __init__(self, taken: set[str]):
        self.steps: list[str] = []
        self.taken = taken
        self.base = next(b for b in ("t", "u", "v", "q", "tmp") if b not in taken)

    def fresh(self, value: str) -> str:
        name = f"{self.base}_{len(self.steps) + 1}"
        self.steps.append(f"{name} = {value}")
        return name

    def render(self, node: _Node, top: bool = False) -> str:
        if node.kind == "atom":
            return node.text
        if node.kind == "neg":
            return "-" + self.render(node.parts[0])
        if node.kind == "group":
            inner = node.parts[0]
            text = self.render(inner, top)
            return text if inner.kind in ("atom", "call") or top else self.fresh(text)
        if node.kind == "call":
            args = []
            for arg in node.parts:
                text = self.render(arg)
                args.append(text if arg.kind in ("atom", "call", "group") else self.fresh(text))
            text = f"{node.text}({', '.join(args)})"
            return text if top else self.fresh(text)
        pieces = [self.render(node.parts[0])]
        for op, part, before in zip(node.ops, node.parts[1:], node.parts[:-1], strict=True):
            # "1/2", "T_cur/T_i" stay together, so "1/2 t_1 t_2" still reads as a half of a product
            tight = op == "/" and before.kind == "atom" and part.kind == "atom"
            joint = " " if op == " " else op if tight else f" {op} "
            pieces.append(joint + self.render(part))
        return "".join(pieces)


def _outer_equals(body: str) -> list[str]:
    """``body`` split at each ``=`` outside brackets and braces (``∑_{i=1}^n`` holds one)."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(body):
        if ch in "({[":
            depth += 1
        elif ch in ")}]":
            depth -= 1
        near = body[i - 1 : i] + body[i + 1 : i + 2]
        if ch == "=" and depth <= 0 and not set(near) & set("<>=!"):
            parts.append(body[start:i])
            start = i + 1
    return [*parts, body[start:]]


def definitions(equation: str) -> list[str]:
    """One display that defines several symbols (``µ_i = 1/m ∑ x_k, σ_i = √(...)``) as one
    equation each, its number and prose dropped; a display of one definition is itself."""
    body = _NUMBER.sub("", unicodedata.normalize("NFC", equation)).strip().rstrip(".,;")
    cuts, depth = [], 0
    for i, ch in enumerate(body):
        if ch in "({[":
            depth += 1
        elif ch in ")}]":
            depth -= 1
        elif ch == "," and depth == 0:
            after = _outer_equals(body[i + 1 :])
            if len(after) > 1 and _one_symbol(after[0]):
                cuts.append(i)
    if not cuts:
        return [equation]
    bounds = [-1, *cuts, len(body)]
    return [body[a + 1 : b].strip() for a, b in zip(bounds, bounds[1:], strict=False)]


def _one_symbol(text: str) -> bool:
    try:
        found = _tokens(text.strip())
    except _Unparsable:
        return False
    return len(found) == 1 and found[0][0] == "symbol"


def _sides(equation: str) -> tuple[str, str] | None:
    body = _NUMBER.sub("", unicodedata.normalize("NFC", equation)).strip().rstrip(".,;")
    sides = [s.strip() for s in _outer_equals(body)]
    if len(sides) < 2 or not sides[0] or not sides[-1]:
        return None
    return sides[0], sides[-1]  # a chain "s = F(z) = σ(W_2 δ(W_1 z))": its last form is the explicit one


def steps(equation: str) -> list[str] | None:
    """The equation as single-operation steps, its own left side last; None where it cannot be
    read (the equation is then shown as it is). An equation that is already one operation is
    one step."""
    found = _sides(equation)
    if found is None:
        return None
    lhs, rhs = found
    try:
        tokens = _tokens(rhs)
        parser = _Parser(tokens)
        tree = parser.expression()
        if parser.i != len(tokens):
            raise _Unparsable(parser.peek()[1])
        _tokens(lhs)  # a left side the notation cannot hold ("L(θ)" is fine, "{x | ...}" is not)
    except _Unparsable:
        return None
    taken = {text.split("_")[0] for _, text in tokens} | {lhs.split("_")[0]}
    writer = _Writer(taken)
    last = writer.render(tree, top=True)
    return [*writer.steps, f"{lhs} = {last}"]


AS_WRITTEN_MOST = 90  # characters: a longer display is prose or a derivation, not one step


def _base(symbol: str) -> str:
    """``z_c`` and ``z^{(l)}`` are both ``z``: the name a later equation refers to."""
    return re.split(r"[_^]", symbol, maxsplit=1)[0]


def as_written(equation: str) -> str | None:
    """The equation's explicit form (``lhs = last form``) without its number and the prose after
    it, for an equation ``steps`` cannot unnest (a sum, a norm): still one line of the scaffold.
    None where its left side is not a symbol or the form is too long to be one statement."""
    found = _sides(equation)
    if found is None:
        return None
    lhs, rhs = found
    try:
        names = _tokens(lhs)
    except _Unparsable:
        return None
    line = f"{lhs} = {rhs}"
    if not names or names[0][0] not in ("symbol", "word") or len(line) > AS_WRITTEN_MOST:
        return None
    return line


def defines(equation: str) -> str | None:
    """The base name of what the equation defines (``z`` for ``z_c = ...``), None if unreadable."""
    found = _sides(equation)
    if found is None:
        return None
    try:
        names = _tokens(found[0])
    except _Unparsable:
        return None
    if not names or names[0][0] not in ("symbol", "word"):
        return None
    return _base(names[0][1])


def uses(equation: str) -> set[str]:
    """The base names of the symbols on the equation's explicit side, as far as they read."""
    found = _sides(equation)
    if found is None:
        return set()
    names: set[str] = set()
    for piece in re.split(r"\s+", found[1]):
        try:
            names |= {_base(text) for kind, text in _tokens(piece) if kind == "symbol"}
        except _Unparsable:
            continue  # a sum's limits or a set: the symbols around them still count
    # A sum over a set reads the set: "∑_{k∈S_i}" (or "k∈Si", the subscript lost) reads S.
    return names | set(re.findall(r"∈\s*([A-Za-z\u0370-\u03ff])", found[1]))
