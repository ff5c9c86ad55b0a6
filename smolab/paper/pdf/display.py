"""A display equation, set in two dimensions, read as one line of text.

TeX sets a fraction's numerator above the row and its denominator below, the limits of a sum
over and under the sign, and scripts small beside their base; PyMuPDF reports each of those as
a line of its own, so a display read line by line comes out scrambled ("H ∑ W ∑ 1 zc = Fsq(uc)
= H × W uc(i, j)"). The positions tell the structure. A row is a baseline with text above and
below it, or with the most text; full-size text above and below a row over the same stretch is
a fraction; small text over or under a large operator is its limits; other small text is a
script of what stands before it, above the baseline a superscript, else a subscript. The result
is written as equations are quoted in plain text: z_c = F_{sq}(u_c) = 1/(H × W) ∑_{i=1}^{H}
∑_{j=1}^{W} u_c(i, j).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

FULL = 0.85
"""Text at least this share of the display's size is full size; smaller text is a script."""
ON_ROW = 0.25
"""Full-size text within this many ems of a baseline sits on it."""
SATELLITE = 1.05
"""A fraction's numerator and denominator sit within this many ems of their row."""
LIMIT_TAKERS = set("∑∏∐⋃⋂⨁⨂⨀")
OPERATORS = LIMIT_TAKERS | set("∫∮")
"""Large operators belong to the row, numerator or denominator their middle sits in; large
delimiters, radicals and accents are read on the row."""
ACCENTS = set("\u0302\u0303")
COMBINING = {"ˆ": "\u0302", "˜": "\u0303", "¯": "\u0304"}
TOKEN = re.compile(r"^[\w.′]+$")


@dataclass
class Atom:
    text: str
    x0: float
    x1: float
    base: float
    size: float
    big: bool = False
    """Set in an extension font: a large operator or delimiter, placed by its axis, not its baseline."""
    lead: bool = False
    trail: bool = False
    """The span starts or ends with a space: the producer marked a gap there."""


@dataclass
class _Item:
    x0: float
    x1: float
    text: str
    script: str = ""
    """"_" or "^" for a script group, else ""."""
    parts: list[Atom] = field(default_factory=list)
    lead: bool = False
    trail: bool = False


def atoms(spans: list[dict[str, Any]]) -> list[Atom]:
    out = []
    for s in spans:
        text = " ".join(s["text"].split())
        if not text:
            continue
        big = re.match(r"^CM(EX|BEX)\d|MathExtension|Extension", s["font"].split("+")[-1], re.I) is not None
        raw = s["text"]
        # An extension font's glyph hangs from its origin; its middle sits on the math axis, a
        # quarter em over the baseline of the row it belongs to.
        base = s["origin"][1] + (0.75 * s["size"] if big and text[:1] in OPERATORS else 0.0)
        atom = Atom(text, s["bbox"][0], s["bbox"][2], base, s["size"], big)
        atom.lead, atom.trail = raw[:1].isspace(), raw[-1:].isspace()
        out.append(atom)
    return out


def linearize(spans: list[dict[str, Any]]) -> str:
    """The display's spans (PyMuPDF "dict" spans: text, bbox, origin, size, font) as one line."""
    parts = atoms(spans)
    if not parts:
        return ""
    size = max((a.size for a in parts if not a.big), default=parts[0].size)
    full = [a for a in parts if not a.big and a.size >= FULL * size]
    if not full:
        return " ".join(a.text for a in sorted(parts, key=lambda a: a.x0))
    rows = _rows(full, size)
    groups: dict[float, list[Atom]] = {r: [] for r in rows}
    for a in parts:
        groups[min(rows, key=lambda r: abs(a.base - r))].append(a)
    text = " ".join(_row(groups[r], r, size) for r in sorted(rows) if groups[r])
    return _text_accents(text)


def _text_accents(text: str) -> str:
    """Accents set as characters of their own (x ˆ, ˜x) combine with the letter they sit on."""
    text = re.sub(r"([^\W\d_])([ˆ˜¯])", lambda m: m.group(1) + COMBINING[m.group(2)], text)
    return re.sub(r"([ˆ˜¯]) ?([^\W\d_])", lambda m: m.group(2) + COMBINING[m.group(1)], text)


def _rows(full: list[Atom], size: float) -> list[float]:
    """The baselines of the display's rows (numerators and denominators are not rows)."""
    levels: list[list[float]] = []  # [baseline, characters]
    for a in sorted(full, key=lambda a: a.base):
        if levels and a.base - levels[-1][0] <= ON_ROW * size:
            levels[-1][1] += len(a.text)
        else:
            levels.append([a.base, len(a.text)])
    rows: list[float] = []
    chain: list[list[float]] = []
    for lv in levels + [[float("inf"), 0]]:
        if chain and lv[0] - chain[-1][0] > SATELLITE * size:
            rows += _mains(chain, size)
            chain = []
        chain.append(lv)
    return rows


def _mains(chain: list[list[float]], size: float) -> list[float]:
    """Within levels each close to the next, the rows: a level with a neighbour above and one
    below is a row with its fraction parts; otherwise the level with the most text."""
    left = list(chain)
    mains = []
    while left:
        middle = [
            lv
            for i, lv in enumerate(left)
            if 0 < i < len(left) - 1
            and lv[0] - left[i - 1][0] <= SATELLITE * size
            and left[i + 1][0] - lv[0] <= SATELLITE * size
        ]
        best = max(middle or left, key=lambda lv: lv[1])
        mains.append(best[0])
        i = left.index(best)
        left = [lv for j, lv in enumerate(left) if abs(j - i) > 1 or not _close(lv, best, size)]
    return mains


def _close(a: list[float], b: list[float], size: float) -> bool:
    return abs(a[0] - b[0]) <= SATELLITE * size


def _row(group: list[Atom], base: float, size: float) -> str:
    group = _attach_accents(group)
    on: list[Atom] = []
    up: list[Atom] = []
    down: list[Atom] = []
    small: list[Atom] = []
    for a in group:
        if (a.big and a.text[:1] not in OPERATORS) or (
            abs(a.base - base) <= (0.45 if a.big else ON_ROW) * size and (a.big or a.size >= FULL * size)
        ):
            on.append(a)
        elif a.big or a.size >= FULL * size:
            (up if a.base < base else down).append(a)
        else:
            small.append(a)
    items: list[_Item] = []
    brace = next((a for a in on if a.big and a.text.startswith("{")), None)
    if brace is not None and any(a.x0 > brace.x0 for a in up) and any(a.x0 > brace.x0 for a in down):
        # Cases: the rows right of a large brace are alternatives, not a fraction.
        right = [a for a in up + down + small if a.x0 > brace.x0 and abs(a.base - base) > 0.45 * size]
        top = [a for a in right if a.base < base]
        bottom = [a for a in right if a.base > base]
        text = "{" + _row(top, _level(top, size), size) + "; " + _row(bottom, _level(bottom, size), size)
        items.append(_Item(brace.x0, max(a.x1 for a in right), text, lead=brace.lead))
        taken = {id(a) for a in right} | {id(brace)}
        on, up, down, small = ([a for a in g if id(a) not in taken] for g in (on, up, down, small))
    # The limits of a large operator on the row: small text well over or under it, and what
    # runs on from there (a text-size sum takes its limits as scripts to its right instead).
    limits: dict[int, dict[str, list[Atom]]] = {id(op): {"_": [], "^": []} for op in on if _takes_limits(op)}
    ops = [op for op in on if _takes_limits(op)]
    rest = []
    for a in small:
        op = next((op for op in ops if a.x0 < op.x1 and a.x1 > op.x0), None)
        if op is None or abs(a.base - base) <= 0.45 * size:
            rest.append(a)
        else:
            limits[id(op)]["^" if a.base < base else "_"].append(a)
    changed = True
    while changed:
        changed = False
        for a in [a for a in rest if abs(a.base - base) > 0.45 * size]:
            got = next(
                (
                    got
                    for lim in limits.values()
                    for got in lim.values()
                    if any(abs(a.base - b.base) < 0.2 * size and _gap(a, b) <= 0.3 * size for b in got)
                ),
                None,
            )
            if got is not None:
                got.append(a)
                rest.remove(a)
                changed = True
    # Small text far above or below the row belongs to a numerator or denominator (a fraction
    # of exponentials is mostly superscripts); near the row it is a script.
    far = [a for a in rest if abs(a.base - base) > 0.45 * size]
    near = [a for a in rest if abs(a.base - base) <= 0.45 * size]
    above = up + [a for a in far if a.base < base]
    below = down + [a for a in far if a.base > base]
    fractions = [
        (num, den)
        for num, den in _fractions(_runs(above, on, size), _runs(below, on, size))
        if any(_is_full(a, size) for a in num + den)
    ]
    levels = [(_level(num, size), _level(den, size)) for num, den in fractions]
    for num, den in fractions:
        items.append(_Item(min(a.x0 for a in num + den), max(a.x1 for a in num + den), ""))
    used = {id(a) for f in fractions for a in f[0] + f[1]}
    scripts: list[tuple[str, Atom]] = []
    for a in near + [a for a in far if id(a) not in used]:
        k = next((k for k, f in enumerate(fractions) if _inside(a, f, size)), None)
        if k is not None:
            # Scripts inside a fraction's stretch belong to its numerator or denominator.
            (num, den), (nb, db) = fractions[k], levels[k]
            (num if abs(a.base - nb) <= abs(a.base - db) else den).append(a)
            continue
        scripts.append(("^" if a.base < base - 0.1 * size else "_", a))
    for i, ((num, den), (nb, db)) in enumerate(zip(fractions, levels, strict=True)):
        items[i].text = f"{_wrap(_row(num, nb, size))}/{_wrap(_row(den, db, size))}"
    loose = [a for a in up + down if id(a) not in used]
    for a in on + loose:
        text = a.text
        if id(a) in limits:
            lim = limits[id(a)]
            for where in "_^":
                if lim[where]:
                    text += where + _braced(_join(lim[where], size))
        # A sum with limits is followed by a space, as "∑_{i=1}^N x" is read.
        items.append(_Item(a.x0, a.x1, text, lead=a.lead, trail=a.trail or text != a.text))
    items += _script_items(scripts, size)
    return _join_items(sorted(items, key=lambda it: (it.x0, it.script)), size)


def _takes_limits(a: Atom) -> bool:
    return a.big and a.text[:1] in LIMIT_TAKERS


def _gap(a: Atom, b: Atom) -> float:
    return max(a.x0 - b.x1, b.x0 - a.x1)


def _is_full(a: Atom, size: float) -> bool:
    return a.big or a.size >= FULL * size


def _level(atoms_: list[Atom], size: float) -> float:
    """The baseline of a numerator or denominator: its full-size text's, else its text's."""
    bases = sorted(a.base for a in atoms_ if _is_full(a, size)) or sorted(a.base for a in atoms_)
    return bases[len(bases) // 2]


def _inside(a: Atom, frac: tuple[list[Atom], list[Atom]], size: float) -> bool:
    every = frac[0] + frac[1]
    return min(b.x0 for b in every) - 0.1 * size <= a.x0 <= max(b.x1 for b in every) + 0.1 * size


def _runs(atoms_: list[Atom], on: list[Atom], size: float) -> list[list[Atom]]:
    """Atoms side by side with no row text between them."""
    runs: list[list[Atom]] = []
    for a in sorted(atoms_, key=lambda a: a.x0):
        if runs:
            end = max(b.x1 for b in runs[-1])
            between = any(end <= b.x0 and b.x1 <= a.x0 and not b.big for b in on)
            if a.x0 - end <= 0.6 * size and not between:
                runs[-1].append(a)
                continue
        runs.append([a])
    return runs


def _fractions(ups: list[list[Atom]], downs: list[list[Atom]]) -> list[tuple[list[Atom], list[Atom]]]:
    """A run above and the runs below it over the same stretch."""
    out = []
    taken: set[int] = set()
    for num in ups:
        x0, x1 = min(a.x0 for a in num), max(a.x1 for a in num)
        den = [a for i, run in enumerate(downs) if i not in taken and _overlaps(run, x0, x1) for a in run]
        if den:
            taken |= {i for i, run in enumerate(downs) if _overlaps(run, x0, x1)}
            out.append((list(num), den))
    return out


def _overlaps(run: list[Atom], x0: float, x1: float) -> bool:
    return min(a.x0 for a in run) < x1 and max(a.x1 for a in run) > x0


def _script_items(scripts: list[tuple[str, Atom]], size: float) -> list[_Item]:
    """Small atoms side by side at the same height make one script; a subscript and a
    superscript set under one another interleave in x and are grouped apart."""
    items: list[_Item] = []
    for where in "_^":
        group: list[_Item] = []
        for a in sorted((a for w, a in scripts if w == where), key=lambda a: a.x0):
            if group and a.x0 - group[-1].x1 <= 0.3 * size:
                group[-1].parts.append(a)
                group[-1].x1 = max(group[-1].x1, a.x1)
            else:
                group.append(_Item(a.x0, a.x1, "", where, [a]))
        items += group
    for it in items:
        it.text = it.script + _braced(_join(it.parts, size))
    return items


def _join(parts: list[Atom], size: float) -> str:
    out = ""
    prev: Atom | None = None
    for a in sorted(parts, key=lambda a: a.x0):
        if prev is not None and (a.x0 - prev.x1 > 0.15 * size or a.lead or prev.trail):
            out += " "
        out += a.text
        prev = a
    return out


def _join_items(items: list[_Item], size: float) -> str:
    out = ""
    prev: _Item | None = None
    for it in items:
        if prev is not None and not it.script:
            gap = it.x0 - prev.x1
            if gap > 0.15 * size or it.lead or prev.trail or (prev.script and it.text[:1].isalnum()):
                out += " "
        out += it.text
        prev = it
    return re.sub(r"\s+", " ", out).strip()


def _attach_accents(group: list[Atom]) -> list[Atom]:
    """A wide accent is an atom of its own over its base: it joins the base's first letter (x̃)."""
    accents = [a for a in group if a.text in ACCENTS]
    rest = [a for a in group if a.text not in ACCENTS]
    for acc in accents:
        base = max(rest, key=lambda b: min(b.x1, acc.x1) - max(b.x0, acc.x0), default=None)
        if base is not None and min(base.x1, acc.x1) > max(base.x0, acc.x0):
            base.text = base.text[:1] + acc.text + base.text[1:]
    return rest


def _braced(text: str) -> str:
    return text if len(text) == 1 else "{" + text + "}"


def _wrap(text: str) -> str:
    return text if TOKEN.match(text) else f"({text})"
