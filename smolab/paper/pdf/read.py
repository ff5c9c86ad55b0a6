"""A paper PDF into a :class:`Paper`: title, abstract, sections, equations, tables, figures,
references.

Body size and typeface are the most common ones; the title is the largest text at the top of
the first page; headings come from :mod:`.headings`; captions start with ``Figure N`` /
``Table N``; display equations are lines in math fonts or numbered ``(N)`` at the right
margin; running heads, page numbers and footnotes (set smaller than the body) are not prose.
A PDF with a text layer is never refused for its layout: when no abstract or no heading is
found the reader falls back (the first paragraph; the text page by page) and says so in
``Paper.notices``.
"""

from __future__ import annotations

import collections
import re
from pathlib import Path
from typing import Any

from ..context import around
from ..errors import PaperReadError
from ..model import Equation, Figure, Paper, Section, Source
from .algorithms import find_algorithms
from .display import linearize
from .headings import CAPTION, Heading, find_headings
from .layout import (
    MATH_FONT,
    Block,
    Line,
    extract,
    face,
    join_lines,
    measure,
    open_pdf,
    running_lines,
    strip_annotations,
)
from .tables import find_tables

EQ_NUMBER = re.compile(r"^\(\d{1,3}\)$")
ABSTRACT_ENDS = re.compile(r"^(key\s?words|index terms|ccs concepts|categories and subject)", re.I)


def read_pdf(path: Path) -> Paper:
    doc = open_pdf(path)
    try:
        return _read(doc, path)
    except PaperReadError:
        raise
    except Exception as err:  # MuPDF's own errors on damaged content, past the first checks
        raise PaperReadError(
            f"{path} is damaged and could not be read ({type(err).__name__}: {err}); download it again"
        ) from err
    finally:
        doc.close()


def _inside(bbox: tuple[float, float, float, float], areas: list[tuple[float, float, float, float]]) -> bool:
    x0, y0, x1, y1 = bbox
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return any(a[0] - 2 <= cx <= a[2] + 2 and a[1] - 2 <= cy <= a[3] + 2 for a in areas)


def _footnotes(blocks: list[Block], body: float, widths: dict[int, float]) -> set[int]:
    """ids of lines set smaller than the body below the last body line of their column:
    footnotes (equations can be set as small, but they sit among the prose)."""
    lowest: dict[tuple[int, int], float] = collections.defaultdict(float)

    def sides(ln: Line) -> tuple[int, ...]:
        w = widths[ln.page]
        if ln.bbox[2] - ln.bbox[0] > w * 0.55:
            return (0, 1)
        return (int((ln.bbox[0] + ln.bbox[2]) / 2 > w / 2),)

    for b in blocks:
        for ln in b.lines:
            if ln.size >= body * 0.93 and len(ln.text) > 20:
                for side in sides(ln):
                    lowest[(ln.page, side)] = max(lowest[(ln.page, side)], ln.bbox[3])
    # The footnote area starts at the first small prose line below the column's last body
    # line; small lines there that are math (a display at a page's foot) start nothing.
    below = [
        ln
        for b in blocks
        for ln in b.lines
        if ln.size < body * 0.93
        and all(ln.bbox[1] > lowest[(ln.page, side)] - 1 for side in sides(ln))
        and any(lowest[(ln.page, side)] > 0 for side in sides(ln))
    ]
    start: dict[tuple[int, int], float] = {}
    for ln in below:
        if ln.math_share < 0.3 and len(ln.text) > 15:
            for side in sides(ln):
                key = (ln.page, side)
                start[key] = min(start.get(key, ln.bbox[1]), ln.bbox[1])
    return {
        id(ln)
        for ln in below
        if all(ln.bbox[1] >= start.get((ln.page, side), float("inf")) - 1 for side in sides(ln))
    }


def _title(
    blocks: list[Block], body: float, size: tuple[float, float], metadata: dict[str, Any]
) -> tuple[int | None, str]:
    """The largest text in the top half of page one (with the lines it wraps onto), else the
    document's own title when it looks like one."""
    width, height = size
    best: tuple[int, Line] | None = None
    for i, b in enumerate(blocks):
        if b.page != 1:
            continue
        for ln in b.lines:
            top_half = sum(c.isalpha() for c in ln.text) >= 3 and ln.bbox[1] < height * 0.5
            if top_half and (best is None or ln.top > best[1].top):
                best = (i, ln)
    if best is not None and best[1].top >= body * 1.2:
        i, top = best
        parts = [ln.text for ln in blocks[i].lines if ln.top >= top.top * 0.7]
        j = i + 1
        while (
            j < len(blocks)
            and blocks[j].page == 1
            and all(abs(ln.top - top.top) < 0.3 for ln in blocks[j].lines)
            and blocks[j].bbox[1] - blocks[j - 1].bbox[3] < top.top * 1.5
        ):
            parts += [ln.text for ln in blocks[j].lines]
            j += 1
        return i, " ".join(join_lines(parts).split())
    # A title set at the body's size (amsart): the first bold or capitalised line centred on
    # page one.
    for i, b in enumerate(blocks):
        if b.page != 1 or b.bbox[1] > height * 0.4:
            continue
        ln = b.lines[0]
        centred = abs((ln.bbox[0] + ln.bbox[2]) / 2 - width / 2) < 20
        if centred and (ln.bold_all or ln.caps) and len(ln.text.split()) >= 3 and ln.top >= body:
            return i, " ".join(join_lines([x.text for x in b.lines if x.top == ln.top]).split())
    meta = " ".join(str(metadata.get("title") or "").split())
    if len(meta.split()) >= 3 and not re.search(r"\.(docx?|tex|dvi)$|^untitled|microsoft word", meta, re.I):
        return None, meta
    return None, ""


def _full_size_math(ln: Line, body: float, body_face: str) -> bool:
    """Some of the line is math at the body's size: a piece of a display that reading order cut
    off, its subscripts first ("min + 1" of "η_min + 1/2"), and no prose word beside it."""

    def math(s: dict[str, Any]) -> bool:
        return MATH_FONT.match(s["font"].split("+")[-1]) is not None and face(s["font"]) != body_face

    words = any(re.search(r"[a-z]{2,}", s["text"]) and not math(s) for s in ln.spans)
    return not words and any(s["size"] >= body * 0.85 and math(s) for s in ln.spans)


def _is_equation(lines: list[Line], width: float, body: float, body_face: str, after_equation: bool) -> bool:
    """A display: numbered "(n)" at the right margin, or mostly math. Inline math that PyMuPDF
    cut out of a paragraph ("... and W ∈ R^{d×d}.") starts with a prose word, or is only sub-
    and superscripts; it counts only when it continues a display ("where h = ...")."""
    if not after_equation and all(
        ln.size < body * 0.85 and not _full_size_math(ln, body, body_face) for ln in lines
    ):
        return False
    numbered = any(
        EQ_NUMBER.match(ln.spans[-1]["text"].strip()) and ln.bbox[2] > width * 0.75 for ln in lines
    )
    if numbered:
        return True
    math = sum(ln.math_share * len(ln.text) for ln in lines)
    chars = sum(len(ln.text) for ln in lines)
    if chars >= 300 or math / max(chars, 1) <= 0.3:
        return False
    prose = any(re.match(r"^[a-z]{3,}\b", ln.text) and ln.face == body_face for ln in lines)
    return after_equation or not prose


ENTRY = (re.compile(r"^\[\d{1,3}\]"), re.compile(r"^\d{1,3}\.\s"))


def _add_references(refs: list[str], lines: list[Line]) -> None:
    """Entries start with "[n]" or "n." (or, for author-year styles, at a block start); the
    rest of an entry continues it."""
    first = refs[0] if refs else lines[0].text
    style = next((p for p in ENTRY if p.match(first)), None)
    for i, ln in enumerate(lines):
        text = ln.text.strip()
        starts = style.match(text) if style is not None else i == 0
        if starts or not refs:
            refs.append(text)
        else:
            refs[-1] = join_lines([refs[-1], text])


class _Assembler:
    """Walks the blocks once, sending each piece of text where the last heading says."""

    def __init__(self, paper: Paper, body: float, body_face: str, widths: dict[int, float]) -> None:
        self.paper, self.body, self.body_face, self.widths = paper, body, body_face, widths
        self.sections: list[Section] = []
        self.stack: list[Section] = []
        self.current: Section | None = None
        self.text: dict[int, list[str]] = collections.defaultdict(list)
        self.mode = "front"  # front matter, abstract, body, references
        self.abstract: list[str] = []
        self.abstract_size: float | None = None
        self.references: list[str] = []
        self.loose: list[tuple[int, str, bool]] = []
        """(page, paragraph) outside any section: front matter, or all of a paper with no headings."""
        self.last_eq: tuple[int, float, float] | None = None
        self.eq_spans: list[dict[str, Any]] = []
        """The spans of the display being read, laid out again as each piece joins it."""
        self.pending: list[tuple[Equation, str, str]] = []
        """Displays whose following sentence is still being read, each with the prose that led
        into it and what has been read after it: that sentence says what their symbols are."""

    def heading(self, h: Heading, page: int) -> None:
        self.last_eq = None
        self.pending = []
        if h.kind == "abstract":
            self.mode = "abstract"
            if h.rest:
                self.abstract.append(h.rest)
            return
        if h.kind == "references":
            self.mode = "references"
            return
        self.mode = "body"
        sec = Section(title=h.title, number=h.number, level=h.level, page=page)
        while self.stack and self.stack[-1].level >= h.level:
            self.stack.pop()
        (self.stack[-1].children if self.stack else self.sections).append(sec)
        self.stack.append(sec)
        self.current = sec
        if h.rest:
            self.text[id(sec)].append(h.rest)

    def caption(self, cap: re.Match[str], text: str, page: int) -> None:
        where = Source(page=page, section=self.current.title if self.current else None)
        kind = cap.group("kind").lower()
        if kind.startswith("fig"):
            self.paper.figures.append(Figure(caption=text, source=where))

    def lines(self, lines: list[Line], page: int) -> None:
        if self.mode != "references":
            lines = [ln for ln in lines if not ln.note]
        if not lines:
            return
        if self.mode == "abstract":
            if ABSTRACT_ENDS.match(lines[0].text) or (
                self.abstract_size is not None and abs(lines[0].size - self.abstract_size) > 0.3
            ):
                self.mode = "front"
            else:
                self.abstract_size = self.abstract_size or lines[0].size
                self.abstract.append(join_lines([ln.text for ln in lines]))
                return
        if self.mode == "references":
            _add_references(self.references, lines)
            return
        # A caption can follow the labels of its figure in one block, and is often set smaller.
        for i, ln in enumerate(lines):
            cap = CAPTION.match(ln.text)
            figure_text = all(x.face != self.body_face or x.size < self.body * 0.93 for x in lines[:i])
            if cap and figure_text:
                self.lines(lines[:i], page)
                self.caption(cap, join_lines([x.text for x in lines[i:]]), page)
                return
            if i >= 8:
                break
        # Displays first: they can be set smaller than the body, like footnotes.
        is_eq = _is_equation(lines, self.widths[page], self.body, self.body_face, self.last_eq is not None)
        if not is_eq:
            self.last_eq = None
            # Notes set smaller than the body are not prose; before the first section they may
            # be the abstract, which some templates set small and give no heading.
            if self.sections or self.mode != "front":
                lines = [ln for ln in lines if ln.size >= self.body * 0.93]
            # Text inside figures is usually set in another face (Arial labels over a plot); it
            # can share a block with the paragraph that follows it.
            while lines and lines[0].face != self.body_face and lines[0].math_share < 0.3:
                lines = lines[1:]
            if not lines:
                return
        text = join_lines([ln.text for ln in lines])
        where = Source(page=page, section=self.current.title if self.current else None)
        if not is_eq and self.pending:
            # The sentence after a display can be cut into blocks by inline math: it is read on
            # until it ends.
            self.pending = [(eq, before, f"{after} {text}".strip()) for eq, before, after in self.pending]
            for eq, before, after in self.pending:
                eq.context = around(before, after)
            read = self.pending[-1][2]
            if len(read) > 400 or re.search(r"[.!?](?:\s|$)", read):
                self.pending = []
        if is_eq:
            y0, y1 = min(ln.bbox[1] for ln in lines), max(ln.bbox[3] for ln in lines)
            # Pieces of one display (split by PyMuPDF, or the rows of an aligned block) are
            # consecutive equation blocks on the same or the next few points of the page.
            last = self.last_eq
            spans = [s for ln in lines for s in ln.spans]
            if last is not None and last[0] == page and y0 < last[2] + 8 and y1 > last[1]:
                self.eq_spans += spans
                self.paper.equations[-1].text = (
                    linearize(self.eq_spans) or f"{self.paper.equations[-1].text} {text}"
                )
                self.last_eq = (page, min(y0, last[1]), max(y1, last[2]))
                return
            self.eq_spans = spans
            eq = Equation(text=linearize(spans) or text, source=where)
            # Consecutive displays (or pieces of one the page cut apart) share the first's lead-in.
            prose = self.text[id(self.current)] if self.current is not None else []
            before = self.pending[0][1] if self.pending else prose[-1] if prose else ""
            eq.context = around(before, "")
            self.paper.equations.append(eq)
            self.pending.append((eq, before, ""))
            self.last_eq = (page, y0, y1)
            return
        if self.current is not None and self.mode == "body":
            self.text[id(self.current)].append(text)
        else:
            self.loose.append((page, text, not self.sections))


def _read(doc: Any, path: Path) -> Paper:
    strip_annotations(doc)
    blocks = extract(doc)
    total_chars = sum(len(ln.text) for b in blocks for ln in b.lines)
    if total_chars < 200:
        raise PaperReadError(
            f"{path} has no text layer ({doc.page_count} pages, {total_chars} characters of text): "
            "it looks scanned; run OCR first (for example: ocrmypdf in.pdf out.pdf)"
        )
    body, body_face = measure(blocks)
    heights = {pno + 1: doc[pno].rect.height for pno in range(doc.page_count)}
    widths = {pno + 1: doc[pno].rect.width for pno in range(doc.page_count)}
    drop = running_lines(blocks, heights, doc.page_count)
    table_captions = [
        (b.page, b.bbox, join_lines([ln.text for ln in b.lines]))
        for b in blocks
        if CAPTION.match(b.lines[0].text) and b.lines[0].text.lower().startswith("table")
    ]
    tables, table_areas = find_tables(doc, table_captions, blocks)
    algorithms, algorithm_areas = find_algorithms(doc, blocks)
    for pno, rects in algorithm_areas.items():
        table_areas.setdefault(pno, []).extend(rects)
    unheaded = [Block([ln for ln in b.lines if id(ln) not in drop], b.bbox, b.page) for b in blocks]
    notes = _footnotes(unheaded, body, widths)
    clean: list[Block] = []
    for b in unheaded:
        lines = [ln for ln in b.lines if not _inside(ln.bbox, table_areas.get(b.page, []))]
        for ln in lines:
            ln.note = id(ln) in notes
        if lines:
            clean.append(Block(lines, b.bbox, b.page))
    blocks = clean

    paper = Paper(pages=doc.page_count, origin=str(path))
    title_block, paper.title = _title(blocks, body, (widths[1], heights[1]), doc.metadata or {})
    headings = find_headings(blocks, body, body_face, title_block, widths)
    at: dict[int, list[Heading]] = collections.defaultdict(list)
    for h in headings:
        at[h.block].append(h)

    asm = _Assembler(paper, body, body_face, widths)
    for bi, b in enumerate(blocks):
        if bi == title_block:
            continue
        pos = 0
        for h in sorted(at.get(bi, []), key=lambda h: h.line):
            asm.lines(b.lines[pos : h.line], b.page)
            asm.heading(h, b.page)
            pos = h.end
        asm.lines(b.lines[pos:], b.page)

    missing: list[str] = []
    sections = asm.sections
    for sec in (s for top in sections for s in top.walk()):
        sec.text = "\n\n".join(asm.text.get(id(sec), []))
    abstract = " ".join(asm.abstract).strip()
    loose = asm.loose
    if not abstract:
        # The abstract by position: the first paragraph before the first section (author lines
        # and affiliations are shorter), else, with no sections, the first long paragraph.
        first = next((i for i, (_, t, front) in enumerate(loose) if front and len(t.split()) >= 15), None)
        if first is None:
            first = next((i for i, (_, t, _) in enumerate(loose) if len(t.split()) >= 40), None)
        if first is not None and (sections or len(loose) > 1):
            abstract = loose[first][1]
            loose = loose[:first] + loose[first + 1 :]
            missing.append("no abstract heading (took the first paragraph as the abstract)")
        else:
            missing.append("no abstract")
    if not sections:
        pages: dict[int, list[str]] = collections.defaultdict(list)
        for page, text, _ in loose:
            pages[page].append(text)
        sections = [
            Section(title=f"Page {p}", level=1, page=p, text="\n\n".join(texts))
            for p, texts in sorted(pages.items())
        ]
        missing.append("no section headings (the text is split by page)")
    if not paper.title:
        missing.append("no title")
    paper.sections = sections
    paper.abstract = abstract
    paper.references = asm.references
    paper.tables = tables
    paper.algorithms = algorithms
    if missing:
        paper.notices.append(f"{path.name}: {'; '.join(missing)}")
    return paper
