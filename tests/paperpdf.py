"""Paper PDFs made with PyMuPDF for the reader's tests: one or two columns, and headings set the
ways real templates set them (bold, capitals, small capitals, sans serif, the number on a line
of its own, run-in, italic subsections, or no numbers at all)."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pymupdf

BODY = 10.0
LEADING = 12.0
PROSE = (
    "We study a simple change to a standard training recipe and measure its effect on held-out "
    "accuracy. The method adds one gating term to each residual block and leaves the rest of the "
    "network as it was. Every number we report is the mean of three runs with different seeds, and "
    "we keep the learning rate, the batch size and the schedule fixed across all of them."
)


@dataclass
class Item:
    kind: str
    """title, authors, abstract, heading, para, equation, list, table."""
    text: str = ""
    number: str = ""
    level: int = 1


@dataclass
class Layout:
    heading: str = "bold"
    """bold, caps, smallcaps, sans, numberline, runin, plain."""
    columns: int = 1
    abstract: str = "heading"
    """heading ("Abstract" on its own line), runin ("Abstract—We ..."), none."""
    line_numbers: bool = False
    """Number every line in the margin, as review copies do."""
    items: list[Item] = field(default_factory=list)


class _Writer:
    def __init__(self, doc: pymupdf.Document, columns: int, line_numbers: bool = False) -> None:
        self.doc, self.columns = doc, columns
        self.line_numbers, self.numbered = line_numbers, 0
        self.width, self.height, self.margin = 612.0, 792.0, 72.0
        self.gutter = 20.0
        self.col_width = (self.width - 2 * self.margin - (columns - 1) * self.gutter) / columns
        self.page: pymupdf.Page | None = None
        self.col = 0
        self.y = 0.0
        self.new_page()

    def new_page(self) -> None:
        self.page = self.doc.new_page(width=self.width, height=self.height)
        self.col = 0
        self.y = self.margin
        pno = self.doc.page_count
        self.page.insert_text((self.width / 2 - 3, self.height - 36), str(pno), fontname="tiro", fontsize=9)

    @property
    def x(self) -> float:
        return self.margin + self.col * (self.col_width + self.gutter)

    def room(self, height: float) -> None:
        if self.y + height > self.height - self.margin:
            if self.col + 1 < self.columns:
                self.col += 1
                self.y = self.top_of_columns
            else:
                self.new_page()
                self.top_of_columns = self.margin

    top_of_columns = 72.0

    def text(self, x: float, s: str, font: str = "tiro", size: float = BODY) -> float:
        assert self.page is not None
        if self.line_numbers and abs(x - self.x) < 1:
            self.numbered += 1
            margin = 30 if self.col == 0 else self.width - 40
            self.page.insert_text((margin, self.y + size), str(self.numbered), fontname="tiro", fontsize=8)
            # the number shares the text's baseline, as in real review copies
        self.page.insert_text((x, self.y + size), s, fontname=font, fontsize=size)
        return pymupdf.get_text_length(s, fontname=font, fontsize=size)

    def wrapped(self, s: str, font: str = "tiro", size: float = BODY, width: float | None = None) -> None:
        chars = int((width or self.col_width) / (size * 0.47))
        for line in textwrap.wrap(s, chars):
            self.room(LEADING)
            self.text(self.x, line, font, size)
            self.y += LEADING


def _small_caps(w: _Writer, x: float, words: str, size: float) -> float:
    """Each word's first letter at full size, the rest as capitals at 80%."""
    for word in words.split():
        x += w.text(x, word[0].upper(), "tiro", size)
        if len(word) > 1:
            x += w.text(x, word[1:].upper(), "tiro", size * 0.8)
        x += size * 0.3
    return x


def _heading(w: _Writer, item: Item, style: str) -> None:
    size = {1: 12.0, 2: 10.5, 3: BODY}.get(item.level, BODY)
    w.y += 8
    w.room(LEADING * 3)
    num = f"{item.number} " if item.number else ""
    if style == "bold":
        w.text(w.x, num + item.text, "tibo", size)
    elif style == "caps":
        w.text(w.x, num + item.text.upper(), "tiro", size)
    elif style == "smallcaps":
        x = w.x + (w.text(w.x, item.number, "tiro", size) + 12 if item.number else 0)
        _small_caps(w, x, item.text, size)
    elif style == "sans":
        w.text(w.x, num + (item.text.upper() if item.level == 1 else item.text), "hebo", size - 1)
    elif style == "numberline":
        if item.number:
            w.text(w.x, item.number, "tibo", size + 2)
            w.y += size + 6
        w.text(w.x, item.text, "tibo", size + 2)
    elif style == "italic":
        w.text(w.x, num + item.text, "tiit", BODY)
    elif style == "plain":
        w.text(w.x, item.text, "tibo", size)
    w.y += size + 6


def make_paper(path: Path, layout: Layout) -> Path:
    doc = pymupdf.open()
    w = _Writer(doc, 1, layout.line_numbers)
    pending_runin = ""
    for item in layout.items:
        if item.kind == "title":
            w.y += 20
            width = pymupdf.get_text_length(item.text, fontname="tibo", fontsize=17)
            w.text((w.width - width) / 2, item.text, "tibo", 17)
            w.y += 30
        elif item.kind == "authors":
            width = pymupdf.get_text_length(item.text, fontname="tiro", fontsize=BODY)
            w.text((w.width - width) / 2, item.text, "tiro", BODY)
            w.y += 30
        elif item.kind == "abstract":
            if layout.abstract == "heading":
                w.text(w.width / 2 - 20, "Abstract", "tibo", 12)
                w.y += 18
                w.wrapped(item.text, width=w.width - 2 * w.margin - 60)
            elif layout.abstract == "runin":
                x = w.x + w.text(w.x, "Abstract. ", "tibo", 9)
                first, rest = item.text.split(" ", 1)
                w.text(x, first, "tiro", 9)
                w.y += 11
                w.wrapped(rest, size=9, width=w.width - 2 * w.margin)
            else:
                w.wrapped(item.text, width=w.width - 2 * w.margin)
            w.y += 16
            if layout.columns == 2:  # the body starts in two columns under the abstract
                w.columns = 2
                w.col_width = (w.width - 2 * w.margin - w.gutter) / 2
                w.top_of_columns = w.y
        elif item.kind == "heading":
            style = layout.heading
            if style == "runin" and item.level >= 2:
                pending_runin = f"{item.number} {item.text}."
                continue
            if style == "runin":
                style = "bold"
            if style in ("bold", "caps", "smallcaps", "sans") and item.level >= 3:
                style = "italic"
            _heading(w, item, style)
        elif item.kind == "para":
            if pending_runin:
                w.room(LEADING)
                x = w.x + w.text(w.x, pending_runin, "tibo", BODY) + 4
                head = item.text[:40].rsplit(" ", 1)[0]
                rest = item.text[len(head) :]
                w.text(x, head, "tiro", BODY)
                w.y += LEADING
                w.wrapped(rest.strip())
                pending_runin = ""
            else:
                w.wrapped(item.text)
            w.y += 4
        elif item.kind == "equation":
            w.room(LEADING * 2)
            w.y += 4
            w.text(w.x + w.col_width * 0.3, item.text, "symb", BODY)
            w.text(w.x + w.col_width - 16, f"({item.number})", "tiro", BODY)
            w.y += LEADING + 6
        elif item.kind == "list":
            for k, entry in enumerate(item.text.split("|"), 1):
                w.room(LEADING)
                w.text(w.x + 10, f"{k}.", "tiro", BODY)
                w.text(w.x + 24, entry, "tiro", BODY)
                w.y += LEADING
            w.y += 4
        elif item.kind == "table":
            w.room(LEADING * 5)
            w.text(w.x, item.text, "tiro", BODY)  # its caption, above it
            w.y += LEADING + 4
            rows = [("Model", "Params", "Error"), ("1 layer", "0.5M", "7.2"), ("2 Baseline", "1.0M", "6.9")]
            for row in rows:
                for c, cell in enumerate(row):
                    w.text(w.x + c * w.col_width / 3, cell, "tiro", BODY)
                w.y += LEADING
            w.y += 8
    doc.save(path)
    return path


def standard_paper(layout: Layout) -> Layout:
    """A paper with the usual parts: two levels of numbered sections, a numbered list, a table
    whose cells start with numbers, and two numbered equations."""
    items = [
        Item("title", "Gated Residual Blocks for Small Networks"),
        Item("authors", "Ada Byron and Alan Turing, Analytical Engine Laboratory"),
        Item("abstract", "Residual networks train well but waste capacity in small models. " + PROSE),
        Item("heading", "Introduction", "1"),
        Item("para", PROSE),
        Item("list", "We propose a gate for each block|We test it on three data sets|We release the code"),
        Item("para", PROSE),
        Item("heading", "Related Work", "2"),
        Item("para", PROSE + " " + PROSE),
        Item("heading", "Method", "3"),
        Item("para", PROSE),
        Item("heading", "Gating", "3.1", 2),
        Item("para", PROSE),
        Item("equation", "y = x + s(Wx) f(x)", "1"),
        Item("para", PROSE),
        Item("heading", "Training Objective", "3.2", 2),
        Item("para", PROSE),
        Item("equation", "L = - S log p(y | x)", "2"),
        Item("heading", "Experiments", "4"),
        Item("para", PROSE),
        Item("table", "Table 1: Error of each model."),
        Item("para", PROSE + " " + PROSE),
        Item("heading", "Conclusion", "5"),
        Item("para", PROSE),
    ]
    layout.items = items
    return layout
