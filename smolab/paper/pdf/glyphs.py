"""Math symbols that some PDF producers map to the wrong characters, put back.

TeX's Computer Modern math fonts place Greek letters and operators at codes below 32. Some
producers (PDFs re-saved on macOS are the usual source) give those codes the Unicode of Apple's
"Mac OS Keyboard" character set instead, so θ reads as ✓, α as ↵, ∼ as ⇠ and ≤ as the Apple
logo; codes from 32 up come out as the ASCII character of the code, so ∇ reads as r and ∈ as 2.
The code each wrong character stands for is a fact of that character set, and the symbol at a
code is a fact of the font's TeX encoding; together they recover the symbol. Only spans set in a
Computer Modern font are touched, since other fonts use these characters honestly, and ASCII is
read as a code only in the symbol and extension fonts, where no correct mapping yields a digit
or a small letter (their capitals are calligraphic letters and stay).
"""

from __future__ import annotations

import re

# Mac OS Keyboard character set: the character a code below 32 was given.
KEYBOARD_CODE = {
    "\u21e5": 0x02,  # ⇥
    "\u21e4": 0x03,  # ⇤
    "\u2324": 0x04,  # ⌤
    "\u21e7": 0x05,  # ⇧
    "\u2303": 0x06,  # ⌃
    "\u2325": 0x07,  # ⌥
    "\u21b5": 0x0B,  # ↵
    "\u270f": 0x0F,  # ✏
    "\u2318": 0x11,  # ⌘
    "\u2713": 0x12,  # ✓
    "\u25c6": 0x13,  # ◆
    "\uf8ff": 0x14,  # Apple logo
    "\u21e0": 0x18,  # ⇠
    "\u21e1": 0x19,  # ⇡
    "\u21e2": 0x1A,  # ⇢
    "\u21e3": 0x1B,  # ⇣
}

# The symbol at each of those codes in the TeX encodings of Computer Modern.
MATH_ITALIC = dict(  # OML: cmmi
    zip([2, 3, 4, 5, 6, 7, 11, 15, 17, 18, 19, 20, 24, 25, 26, 27], "ΘΛΞΠΣΥαϵηθικξπρσ", strict=True)
)
MATH_SYMBOLS = dict(  # OMS: cmsy
    zip([2, 3, 4, 5, 6, 7, 11, 15, 17, 18, 19, 20, 24, 25, 26, 27], "×∗÷⋄±∓⊘•≡⊆⊇≤∼≈⊂⊃", strict=True)
)
MATH_EXTENSION = dict(  # OMX: cmex
    zip([2, 3, 4, 5, 6, 7, 11, 15, 17, 18, 19, 20, 24, 25, 26, 27], "[]⌊⌋⌈⌉⟩\\)()[⌈⌉{}", strict=True)
)
# Codes from 32 up that a correct mapping never gives as a digit or small letter.
MATH_SYMBOLS |= {
    ord(c): v
    for c, v in zip(
        "0123456789`abcdefghijklmnopqrstuvwxyz", "′∞∈∋△▽/↦∀∃⊢⊣⌊⌋⌈⌉{}⟨⟩|‖↕⇕\\≀√⨿∇∫⊔⊓⊑⊒§†‡", strict=True
    )
}
MATH_EXTENSION |= {ord(c): v for c, v in zip("PQRSXYZhijklmnopqrs", "∑∏∫∮∑∏∫[]⌊⌋⌈⌉{}√√√√", strict=True)}
MATH_EXTENSION |= {ord(c): "" for c in "tuvwxyz"}  # pieces of braces and radicals
MATH_EXTENSION |= {ord(c): "\u0302" for c in "bcd"} | {ord(c): "\u0303" for c in "efg"}  # wide ^ and ~
TEXT = dict(zip([2, 3, 4, 5, 6, 7], "ΘΛΞΠΣΥ", strict=True))  # OT1: cmr, cmbx, cmti

FAMILY = re.compile(r"^CM(MI|MIB|SY|BSY|EX|R|BX|TI|SL|SS)\d", re.I)
TABLES = {
    "MI": MATH_ITALIC,
    "MIB": MATH_ITALIC,
    "SY": MATH_SYMBOLS,
    "BSY": MATH_SYMBOLS,
    "EX": MATH_EXTENSION,
}


def table_for(font: str) -> dict[int, str] | None:
    """The code-to-symbol table of a Computer Modern font ("ABCDEF+CMMI10"), else None."""
    m = FAMILY.match(font.split("+")[-1])
    if m is None:
        return None
    return TABLES.get(m.group(1).upper(), TEXT)


ARROW_WIDTH = 0.8
"""Of an em: the symbol font's code 32 is ← (an em wide); a space MuPDF puts between two glyphs
of that font to mark a gap is a fraction of that."""


def symbol_space(text: str, font: str, width: float, size: float) -> str:
    """A span of the symbol font that reads as one space but is an em wide: its code 32, ←, which
    producers without a Unicode map for it hand on as a space (``x̃ ← G_θ(z)`` in an algorithm
    box read as ``x̃ G_θ(z)``)."""
    if text == " " and table_for(font) is MATH_SYMBOLS and size > 0 and width >= ARROW_WIDTH * size:
        return "←"
    return text


def repair(text: str, font: str) -> str:
    """``text`` of a span set in ``font`` with keyboard characters read as the font's symbols."""
    table = table_for(font)
    if table is None:
        return text

    def symbol(c: str) -> str:
        code = KEYBOARD_CODE.get(c, ord(c))
        return table.get(code, c) if code < 0x20 or (code < 0x80 and table is not TEXT) else c

    return "".join(symbol(c) for c in text)
