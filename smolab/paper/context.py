"""The prose around a display equation: the sentence that leads into it and the one that says
what its symbols are ("where T_cur counts the epochs since the last restart").

An equation alone is hard to implement: its symbols are defined in the sentences around it,
and a small model given only ``η_t = η_min + ½(η_max − η_min)(1 + cos(T_cur/T_i π))`` guesses
what ``T_cur`` is. Both readers keep these sentences, verbatim, beside each display.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Sentences end at a full stop followed by a capital (or math); "e.g." and "Fig. 2" do not end one.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z($\[])")
_ABBREVIATION = re.compile(r"(?:\b(?:e\.g|i\.e|Fig|Figs|Eq|Eqs|Sec|al|cf|vs|resp)\.|\b[A-Z]\.)$")
# A sentence that goes on after the display, or defines its symbols.
_CONTINUES = re.compile(
    r"^(?:where|here|with|in which|for which|and|for|i\.e\.|that is|such that|s\.t\.|wherein|"
    r"in this|the (?:symbol|term|variable|parameter|constant|function|operator)s?)\b",
    re.I,
)
# A sentence that introduces the display: it ends with a colon or an opening verb or preposition.
_LEADS = re.compile(r"(?::|\b(?:as|by|is|are|computes?|gives?|follows|defined|becomes?|reads|=))\s*$", re.I)
SENTENCE_CHARS = 240
"""At most this much of each sentence: a definition is short, a longer sentence is cut there."""


def sentences(text: str) -> list[str]:
    """The text's sentences, each on one line of single spaces."""
    found: list[str] = []
    for piece in _SENTENCE_END.split(" ".join(text.split())):
        if found and _ABBREVIATION.search(found[-1]):
            found[-1] = f"{found[-1]} {piece}"
        elif piece.strip():
            found.append(piece.strip())
    return found


def _cut(sentence: str) -> str:
    return sentence if len(sentence) <= SENTENCE_CHARS else sentence[: SENTENCE_CHARS - 1].rstrip() + "…"


def lead_in(before: str) -> str:
    """The last sentence of the prose before a display, when it introduces the display."""
    found = sentences(before)
    if not found:
        return ""
    last = found[-1]
    return _cut(last) if _LEADS.search(last) else ""


def follow_up(after: str, most: int = 2) -> str:
    """The first sentences of the prose after a display when they continue it or define its
    symbols ("where ...", "Here x is ...", "with ε a small constant"): at most ``most``, and
    each following one only while it still speaks of the display's symbols ("G is the number
    of groups")."""
    found = sentences(after)
    if not found or not (_CONTINUES.match(found[0]) or found[0][:1].islower()):
        return ""
    kept = [_cut(found[0])]
    for s in found[1 : most + 1]:
        if len(kept) >= most or not _defines(s):
            break
        kept.append(_cut(s))
    return " ".join(kept)


def _defines(sentence: str) -> bool:
    """A sentence that says what a symbol is: "S_i is the set of ...", "C/G is the number of ..."."""
    if _PRONOUN.match(sentence):
        return False
    return bool(re.match(r"^\S{1,12}(?:\s\S{1,6})?\s(?:is|are|denotes?|represents?)\b", sentence)) or bool(
        _CONTINUES.match(sentence)
    )


_PRONOUN = re.compile(r"^(?:it|this|that|these|those|they|we|our|its|there)\b", re.I)


def around(before: str, after: str) -> str:
    """The lead-in and the follow-up of one display, as one line ("" when neither is there)."""
    parts = [p for p in (lead_in(before), follow_up(after)) if p]
    return " … ".join(parts)


# "α is a learned scalar", "γ and β are trainable scale and shift", "$\\alpha$ is learnable".
_SYMBOL = r"(?<![\w\\])\$?(?:\\[A-Za-z]+|[\u0370-\u03ff]|[A-Za-z])(?:_\{?\w{1,3}\}?)?\$?(?!\w)"
_LEARNED = re.compile(
    rf"((?:{_SYMBOL}\s*(?:,|and)\s*)*{_SYMBOL})\s+(?:is|are)\s+(?:a\s+|an\s+|the\s+)?"
    r"(?:[\w-]+\s+){0,2}?(?:learned|learnable|trainable)\b"
)


_NUMBER_WORDS = {"zero": 0.0, "one": 1.0}
_STARTS = re.compile(
    r"(?:initiali[sz]ed|initiated|set|starts?|starting)\s+(?:to|at|as|from|with)\s+"
    r"\$?(-?\d+(?:\.\d+)?|zero|one)\b",
    re.I,
)


@dataclass(frozen=True)
class Learned:
    """A symbol the paper calls learned, with where it starts when the sentence says so."""

    symbol: str
    """As the paper writes it (``α``, ``\\alpha``)."""
    start: float | None
    scalar: bool
    sentence: str


def learned_starts(text: str) -> list[Learned]:
    """The learned symbols of ``text`` with their stated start: "where α is a learned scalar
    initialised to 0" gives α, 0.0, scalar. Only the clause after the symbol is read, up to the
    sentence's end, so a start stated for another symbol is not taken."""
    found = []
    for m in _LEARNED.finditer(text):
        rest = re.split(r"(?<=[.;])\s", text[m.end() :], maxsplit=1)[0]
        said = text[m.start() : m.end()] + rest
        start = _STARTS.search(rest)
        value = None
        if start:
            word = start.group(1).lower()
            value = _NUMBER_WORDS.get(word) if word in _NUMBER_WORDS else float(word)
        scalar = bool(re.search(r"\bscalar\b", said, re.I))
        for sym in re.split(r"\s*(?:,|and)\s*", m.group(1)):
            if sym.strip():
                found.append(Learned(sym.strip("$ "), value, scalar, said.strip()))
    return found


def symbol_name(symbol: str) -> str:
    """``α``, ``\\alpha`` and ``$\\alpha$`` all as ``alpha``; ``W_1`` as ``w1``."""
    s = symbol.strip("$ ").lstrip("\\")
    if len(s) == 1 and "GREEK" in unicodedata.name(s, ""):
        s = unicodedata.name(s).split()[-1]
    return re.sub(r"[^a-z0-9]", "", s.lower())


def learned_symbols(text: str) -> set[str]:
    """The symbols the text says are learned ("where α is a learned scalar initialised to 0"):
    their stated value is where training starts, not a setting."""
    found = set()
    for m in _LEARNED.finditer(text):
        for sym in re.split(r"\s*(?:,|and)\s*", m.group(1)):
            if sym.strip() and (name := symbol_name(sym)):
                found.add(name)
    return found
