"""LaTeX math in the notation the PDF reader writes and papers are quoted in.

``h = W_2\\, \\mathrm{GELU}(W_1\\, \\mathrm{LayerNorm}(x) + b_1) + b_2`` reads as
``h = W_2 GELU(W_1 LayerNorm(x) + b_1) + b_2``: font and spacing commands are markup a small
model copies into code or stumbles over, and both readers then hand it the same notation.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

# Commands whose argument is kept as it is (fonts, text, operator names).
_UNWRAP = re.compile(
    r"\\(?:mathrm|mathbf|mathit|mathsf|mathtt|mathcal|mathbb|mathfrak|boldsymbol|bm|text|textrm|"
    r"textit|textbf|operatorname\*?|mbox|hat|tilde|bar|vec|widehat|widetilde|overline)\s*\{([^{}]*)\}"
)
_ACCENT = {"hat": "\u0302", "widehat": "\u0302", "tilde": "\u0303", "widetilde": "\u0303", "bar": "\u0304"}
_SYMBOLS = {
    "cdot": "·",
    "times": "×",
    "in": "∈",
    "sum": "∑",
    "prod": "∏",
    "int": "∫",
    "odot": "⊙",
    "otimes": "⊗",
    "oplus": "⊕",
    "leq": "≤",
    "le": "≤",
    "geq": "≥",
    "ge": "≥",
    "neq": "≠",
    "approx": "≈",
    "sim": "∼",
    "infty": "∞",
    "partial": "∂",
    "nabla": "∇",
    "top": "⊤",
    "to": "→",
    "rightarrow": "→",
    "leftarrow": "←",
    "mid": "|",
    "lVert": "‖",
    "rVert": "‖",
    "|": "‖",
    "ell": "ℓ",
    "forall": "∀",
    "exists": "∃",
    "pm": "±",
    "circ": "∘",
    "propto": "∝",
    "langle": "⟨",
    "rangle": "⟩",
    "lfloor": "⌊",
    "rfloor": "⌋",
    "lceil": "⌈",
    "rceil": "⌉",
    "varepsilon": "ε",
    "epsilon": "ϵ",
    "vartheta": "ϑ",
    "varphi": "φ",
    "ldots": "…",
    "cdots": "⋯",
}
_SPACING = re.compile(r"\\(?:[,;:!> ]|quad|qquad|enspace|thinspace|displaystyle|textstyle|nonumber|notag)")
_SIZING = re.compile(r"\\(?:left|right|big|Big|bigg|Bigg)[lr]?(?=[^A-Za-z])")


def _braced(text: str, start: int) -> tuple[str, int] | None:
    """The group opening at ``text[start] == "{"`` and the index after it."""
    if start >= len(text) or text[start] != "{":
        return None
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[start + 1 : i], i + 1
    return None


def _group(text: str) -> str:
    """A fraction's part: bare when it is one symbol or number, else in parentheses."""
    return text if re.fullmatch(r"\s*[\w.]+\s*", text) else f"({text})"


def _commands(text: str, command: str, groups: int, render: Callable[..., str]) -> str:
    """``\\frac{a}{b}`` (or ``\\sqrt{x}``) rendered from its groups, nested ones included."""
    out, i = [], 0
    pattern = re.compile(r"\\" + command + r"\s*(?=\{)")
    while m := pattern.search(text, i):
        parts, at = [], m.end()
        for _ in range(groups):
            found = _braced(text, at)
            if found is None:
                break
            parts.append(_commands(found[0], command, groups, render))
            at = found[1]
        if len(parts) < groups:
            break
        out += [text[i : m.start()], render(*parts)]
        i = at
    out.append(text[i:])
    return "".join(out)


def _greek(name: str) -> str | None:
    for case in ("SMALL", "CAPITAL"):
        try:
            if name[0].isupper() == (case == "CAPITAL"):
                return unicodedata.lookup(f"GREEK {case} LETTER {name.upper()}")
        except KeyError:
            return None
    return None


def readable(tex: str) -> str:
    """One display of LaTeX math as one line in the readers' common notation."""
    t = re.sub(r"\\label\{[^}]*\}", "", tex)
    t = re.sub(r"\\(?:tag)\{[^}]*\}", "", t)
    t = _commands(t, r"[dt]?frac", 2, lambda a, b: f"{_group(a)}/{_group(b)}")
    t = _commands(t, "sqrt", 1, lambda a: f"√{_group(a)}")
    for _ in range(3):  # nested font commands unwrap from the inside out
        t = _UNWRAP.sub(lambda m: _accented(m), t)
    t = _SPACING.sub(" ", t)
    t = _SIZING.sub("", t)
    t = t.replace("\\\\", "; ").replace("&", "")

    def command(m: re.Match[str]) -> str:
        name = m.group(1)
        found = _SYMBOLS.get(name) or _greek(name) or name  # \log, \exp, \max read as their names
        # "T_i\pi" is T_i times π, not a symbol named "T_iπ".
        glued = m.start() > 0 and (m.string[m.start() - 1].isalnum() or m.string[m.start() - 1] == "}")
        return f" {found}" if glued and found[0].isalnum() else found

    t = re.sub(r"\\([A-Za-z]+|\|)", command, t)
    t = re.sub(r"\{\s*([^{}\s])\s*\}", r"\1", t)  # {x} around one symbol is markup
    return " ".join(t.split())


def _accented(m: re.Match[str]) -> str:
    name = m.group(0)[1:].split("{", 1)[0].strip()
    body = m.group(1)
    mark = _ACCENT.get(name)
    return f"{body}{mark}" if mark and len(body) == 1 else body
