"""The paper's statements about its method as checks a test can run: its fingerprint.

A numerical reference checks a method only where the model can write one; everywhere else a
generic stand-in (a plain MLP for a gated residual block) passed every contract test. The
fingerprint is read from the paper deterministically, from the equations' single-operation steps
and the sentences around them, so no model can get it wrong:

* **operations**: each named function the steps apply (LayerNorm, GELU, σ, softmax, ...),
  in the steps' order, each with the torch operations that compute it;
* **learned**: each symbol the paper calls learned with the value it says it starts at
  ("α is a learned scalar initialised to 0"), which must be a parameter that starts there and
  takes part in the output;
* **residual**: a step that adds the chain's input back (``y = x + α h``);
* **identity**: where every other term of that step is scaled by a learned value that starts
  at 0, the method at initialisation returns its input;
* **linear maps**: the weight matrices the steps apply from the first named operation to the
  residual step (``t_2 = W_1 t_1 + b_1``), each with its own weights, as often as the steps
  apply it, with the bias the step adds: a block that reuses one Linear for two of the paper's
  matrices, or adds maps the paper does not have, computes another function.

``tests/test_paper.py`` (blueprint-common) traces the method's forward with a torch function
mode and checks each criterion; a failed one is one precise line that names the step or the
sentence it came from.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from ..paper.context import learned_starts, symbol_name

# A named function of the readers' notation -> the ways torch computes it: alternatives, each a
# set of traced operation names that must all occur. Keys are lower case without punctuation.
OPERATIONS: dict[str, list[list[str]]] = {
    "layernorm": [["layer_norm"], ["mean", "var"], ["mean", "std"]],
    "ln": [["layer_norm"], ["mean", "var"], ["mean", "std"]],
    "batchnorm": [["batch_norm"], ["mean", "var"]],
    "bn": [["batch_norm"], ["mean", "var"]],
    "groupnorm": [["group_norm"], ["mean", "var"]],
    "instancenorm": [["instance_norm"], ["mean", "var"]],
    "rmsnorm": [["rms_norm"], ["rsqrt"], ["sqrt"], ["norm"]],
    "gelu": [["gelu"]],
    "relu": [["relu"], ["relu_"], ["clamp"], ["clamp_min"]],
    "sigmoid": [["sigmoid"]],
    "tanh": [["tanh"]],
    "softmax": [["softmax"], ["_softmax"]],
    "logsoftmax": [["log_softmax"]],
    "softplus": [["softplus"]],
    "silu": [["silu"], ["sigmoid"]],
    "swish": [["silu"], ["sigmoid"]],
    "elu": [["elu"]],
    "selu": [["selu"]],
    "leakyrelu": [["leaky_relu"]],
    "exp": [["exp"], ["softmax"]],
    "log": [["log"], ["log_softmax"], ["cross_entropy"], ["nll_loss"]],
    "sqrt": [["sqrt"], ["rsqrt"], ["pow"], ["__pow__"], ["norm"]],
    "cos": [["cos"]],
    "sin": [["sin"]],
}
# A Greek letter applied as a function is, by the common convention, sigmoid (σ); others only
# where the paper says what they are ("where δ refers to the ReLU").
CONVENTIONS = {"σ": "sigmoid", "sigma": "sigmoid"}
_SAYS = r"(?:refers?\s+to|denotes?|is|represents?|stands?\s+for)\s+(?:the\s+|a\s+)?"
_CALL = re.compile(r"(?<![\w])([A-Za-z\u0370-\u03ff]\w*)\s?\(")
_TERM_SPLIT = re.compile(r"\s[+]\s")
_WEIGHT = re.compile(r"^(?:W|w|b|U|V)(?:_|$)")
# A weight matrix applied to what follows it (``W_1 t_1``, ``W_2·h``, ``U(x)``), and a bias term.
# A bound or a size (``∑_{j=1}^W``, ``H × W``) is no matrix.
_APPLIED = re.compile(
    r"(?<![\w\u0370-\u03ff^_{])(?<!× )(?<!×)([WUV](?:_\{?\w+\}?)?)\s*[·⋅]?\s*(?=[A-Za-z\u0370-\u03ff(])"
)
_BIAS = re.compile(r"(?<![\w\u0370-\u03ff])(b(?:_\{?\w+\}?)?)(?![\w\u0370-\u03ff(])")


@dataclass(frozen=True)
class Operation:
    name: str
    """As the paper writes it (``GELU``, ``σ``)."""
    ops: list[list[str]]
    step: str


@dataclass(frozen=True)
class LearnedStart:
    symbol: str
    start: float
    scalar: bool
    sentence: str


@dataclass(frozen=True)
class LinearMap:
    weight: str
    bias: str
    """The bias symbol the step adds to this map's output, "" when it adds none."""
    step: str
    rows: int | None = None
    """Its output features, where the paper states its shape and the value of that size."""
    cols: int | None = None
    """Its input features, likewise (never the block's input width, which the data sets)."""
    shape: str = ""
    """What the paper says of its size (``W_1 ∈ ℝ^{d_h × d}, d_h = 128``), "" when nothing."""


@dataclass
class Fingerprint:
    operations: list[Operation] = field(default_factory=list)
    learned: list[LearnedStart] = field(default_factory=list)
    residual: str = ""
    """The step that adds the chain's input back, "" when none does."""
    input_symbol: str = ""
    identity: str = ""
    """Why the method is the identity at initialisation ("α starts at 0 in y = x + α h"), or ""."""
    linear: list[LinearMap] = field(default_factory=list)
    """The maps applied from the first operation's step to the residual step, in order, or in
    every step where no step adds the input back."""
    chain: list[str] = field(default_factory=list)
    """That stretch as the named operations and weight matrices in the order the steps apply
    them (``LayerNorm, W_1, GELU, W_2``); empty unless each step there applies one at most."""
    whole: bool = False
    """The stretch is every step (no residual bounds it): the block's whole forward pass."""

    def empty(self) -> bool:
        return not (self.operations or self.learned or self.residual)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def criteria(self) -> list[str]:
        """One line per statement, for REPORT.md."""
        lines = [f"applies {o.name} (`{o.step}`)" for o in self.operations]
        if len(self.operations) > 1:
            lines.append("in the order " + " → ".join(o.name for o in self.operations))
        lines += [f'{x.symbol} is learned and starts at {x.start:g} ("{x.sentence}")' for x in self.learned]
        if self.residual:
            lines.append(f"adds its input back (`{self.residual}`)")
        if self.identity:
            lines.append(f"is the identity at initialisation ({self.identity})")
        if self.linear:
            maps = ", ".join(f"{m.weight}" + (f" + {m.bias}" if m.bias else "") for m in self.linear)
            lines.append(f"applies {len(self.linear)} linear maps, each with its own weights ({maps})")
        sized = {m.weight: m for m in self.linear if m.shape}
        lines += [f"{m.weight} has the size the paper states ({m.shape})" for m in sized.values()]
        return lines


def _said_functions(context: str) -> dict[str, str]:
    """Greek function symbols the paper names ("δ refers to the ReLU") -> the known name."""
    out = {}
    names = "|".join(sorted(OPERATIONS, key=len, reverse=True))
    for m in re.finditer(rf"([\u0370-\u03ff])\s+{_SAYS}({names})\b", context, re.I):
        out[m.group(1)] = m.group(2).lower()
    return out


def _known(name: str, said: dict[str, str]) -> str | None:
    key = re.sub(r"[^a-z]", "", name.lower())
    if key in OPERATIONS:
        return key
    if name in said:
        return said[name]
    return CONVENTIONS.get(name) or CONVENTIONS.get(key)


_SYMBOL = re.compile(
    r"(?<![\w\u0370-\u03ff])([A-Za-z\u0370-\u03ff][\u0300-\u036f]*(?:_\{?[\w,]+\}?)?)(?![\w\u0370-\u03ff(])"
)


def _symbols(text: str) -> list[str]:
    """The one-letter symbols of a step (``x``, ``W_1``, ``α``), not function names."""
    return _SYMBOL.findall(text)


def _applied(rhs: str) -> list[str]:
    """The functions a step applies, in the order they are evaluated: an inner application
    (its closing bracket first) before the one around it."""
    found = []
    for m in _CALL.finditer(rhs):
        depth, end = 0, len(rhs)
        for i in range(m.end() - 1, len(rhs)):
            depth += {"(": 1, ")": -1}.get(rhs[i], 0)
            if depth == 0:
                end = i
                break
        found.append((end, m.group(1)))
    return [name for _, name in sorted(found)]


def _defined(step: str) -> str:
    return step.split("=", 1)[0].strip() if "=" in step else ""


def fingerprint(steps: Sequence[str], context: str, text: str = "") -> Fingerprint:
    """The checks ``steps`` (the proposal's single-operation steps, in order) and the paper's
    sentences around them (``context``) support; ``text`` (the whole paper, readable) is where
    the values of the weight matrices' sizes are looked up."""
    fp = _fingerprint(steps, context)
    fp.linear = sized(fp.linear, fp.input_symbol, f"{context} {text}")
    return fp


def _fingerprint(steps: Sequence[str], context: str) -> Fingerprint:
    fp = Fingerprint()
    said = _said_functions(context)
    seen: set[str] = set()
    for step in steps:
        rhs = step.split("=", 1)[1] if "=" in step else step
        for name in _applied(rhs):
            key = _known(name, said)
            if key and key not in seen:
                seen.add(key)
                fp.operations.append(Operation(name, OPERATIONS[key], step.strip()))
    learned = {symbol_name(x.symbol): x for x in learned_starts(context)}
    fp.learned = [
        LearnedStart(x.symbol, x.start, x.scalar, x.sentence) for x in learned.values() if x.start is not None
    ]
    defined = {_defined(s) for s in steps}
    calls = {m.group(1) for s in steps for m in _CALL.finditer(s)}
    for step in steps:
        rhs = step.split("=", 1)[1] if "=" in step else ""
        inputs = [
            s
            for s in _symbols(rhs)
            if s not in defined and s not in calls and not _WEIGHT.match(s) and symbol_name(s) not in learned
        ]
        if inputs:
            fp.input_symbol = inputs[0]
            break
    if not fp.input_symbol:
        stretch = _stretch(steps, fp)
        fp.linear = [m for step in stretch for m in step_maps(step)]
        fp.chain = _chain(stretch, said) if fp.linear else []
        fp.whole = bool(fp.linear)
        return fp
    zero = {name for name, x in learned.items() if x.start == 0}
    for step in steps:
        rhs = step.split("=", 1)[1].strip() if "=" in step else ""
        terms = [t.strip() for t in _TERM_SPLIT.split(rhs)]
        if len(terms) > 1 and fp.input_symbol in terms:
            fp.residual = step.strip()
            others = [t for t in terms if t != fp.input_symbol]
            gates = [next((s for s in _symbols(t) if symbol_name(s) in zero), None) for t in others]
            if all(gates):
                fp.identity = (
                    f"{', '.join(dict.fromkeys(g for g in gates if g))} starts at 0 in `{step.strip()}`"
                )
            break
    stretch = _stretch(steps, fp)
    fp.linear = [m for step in stretch for m in step_maps(step)]
    fp.chain = _chain(stretch, said) if fp.linear else []
    fp.whole = bool(fp.linear) and not fp.residual
    return fp


def _stretch(steps: Sequence[str], fp: Fingerprint) -> list[str]:
    """The steps the linear-map checks cover: from the first named operation's step to the
    residual step; without a residual, every step (the block's whole forward pass)."""
    names = [s.strip() for s in steps]
    if fp.residual and fp.operations:
        start, end = names.index(fp.operations[0].step), names.index(fp.residual)
        return names[start : end + 1] if start <= end else []
    return [] if fp.residual else names


def _chain(stretch: Sequence[str], said: dict[str, str]) -> list[str]:
    chain: list[str] = []
    for step in stretch:
        rhs = step.split("=", 1)[1] if "=" in step else step
        ops = [n for n in _applied(rhs) if _known(n, said)]
        maps = [m.weight for m in step_maps(step)]
        if len(ops) + len(maps) > 1:
            return []  # nested: the order inside a step is not read here
        chain += ops + maps
    return chain


def step_maps(step: str) -> list[LinearMap]:
    """The weight matrices one step applies, each with the bias the step adds to it (with one
    map and one bias term, the bias is that map's; with several, none is assigned)."""
    rhs = step.split("=", 1)[1] if "=" in step else step
    weights = _APPLIED.findall(rhs)
    biases = _BIAS.findall(rhs)
    bias = biases[0] if len(weights) == 1 and len(biases) == 1 else ""
    return [LinearMap(w, bias, step.strip()) for w in weights]


_SHAPE = re.compile(r"([WUV](?:_\{?\w+\}?)?)\s*∈\s*(?:R|ℝ)\^\{?\s*([\w']+)\s*[×x]\s*([\w']+)\s*\}?")
# ``d_h = 128``: a symbol given a whole number (not ``α = 0.5``, not ``x_i = 2x``).
_VALUE = re.compile(r"(?<![\w\u0370-\u03ff\\])([A-Za-z](?:_\{?\w+\}?)?)\s*=\s*(\d+)(?![\w.,]\d|\w)")


def stated_shapes(context: str) -> dict[str, tuple[str, str]]:
    """``W_1 ∈ R^{d_h × d}`` in the paper's sentences -> {"W_1": ("d_h", "d")}: rows, columns."""
    return {m.group(1): (m.group(2), m.group(3)) for m in _SHAPE.finditer(context)}


def _plain(symbol: str) -> str:
    return symbol.replace("{", "").replace("}", "")


def stated_sizes(text: str) -> dict[str, int]:
    """``hidden width d_h = 128`` -> {"d_h": 128}. A symbol the paper gives two values (one
    per experiment, say) is left out: which one the method should have is not known."""
    values: dict[str, set[int]] = {}
    for m in _VALUE.finditer(text):
        values.setdefault(_plain(m.group(1)), set()).add(int(m.group(2)))
    return {name: next(iter(v)) for name, v in values.items() if len(v) == 1}


def _input_width(symbol: str, text: str) -> str | None:
    """The size the paper gives the block's input (``x ∈ ℝ^d``), if it says."""
    if not symbol:
        return None
    m = re.search(rf"(?<![\w]){re.escape(symbol)}\s*∈\s*(?:R|ℝ)\^\{{?\s*([\w']+)\s*\}}?(?![×x\w])", text)
    return _plain(m.group(1)) if m else None


def sized(maps: list[LinearMap], input_symbol: str, text: str) -> list[LinearMap]:
    """The maps with the sizes the paper states in numbers: ``W_1 ∈ ℝ^{d_h × d}`` and
    ``d_h = 128`` make W_1's output 128 features. The block's input width is never held (a
    blueprint's data sets it, not the paper): the size the paper gives its input, and the
    input size of the first map, which reads it."""
    shapes = {_plain(k): (_plain(r), _plain(c)) for k, (r, c) in stated_shapes(text).items()}
    sizes = stated_sizes(text)
    first = shapes.get(_plain(maps[0].weight)) if maps else None
    free = {w for w in (_input_width(input_symbol, text), first[1] if first else None) if w}
    out = []
    for m in maps:
        rows, cols = shapes.get(_plain(m.weight), ("", ""))
        r = sizes.get(rows) if rows not in free else None
        c = sizes.get(cols) if cols not in free else None
        said = [f"{name} = {sizes[name]}" for name, v in ((rows, r), (cols, c)) if v is not None]
        shape = f"{m.weight} ∈ ℝ^{{{rows} × {cols}}}, {', '.join(dict.fromkeys(said))}" if said else ""
        out.append(LinearMap(m.weight, m.bias, m.step, r, c, shape))
    return out
