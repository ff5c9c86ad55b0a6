"""Reading a paper PDF with PyMuPDF into a :class:`Paper`.

Layout is recovered from PyMuPDF's text blocks and their fonts: body size is the
most common span size; headings are bold lines that start with a section number
(``3.2.1 Attention``) or short bold lines set larger than the body (``Abstract``,
``References``); captions start with ``Figure N`` / ``Table N``; display equations
are lines in math fonts, numbered ``(N)`` at the right margin; running headers and
footers are lines repeated across pages in the top or bottom margin (page numbers
among them). Two-column pages are read column by column between full-width blocks.
Lines broken with a hyphen are joined when the next line starts in lower case.
"""

from __future__ import annotations

import collections
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import PaperReadError
from .model import Equation, Figure, Paper, Section, Source, Table

NUMBERED = re.compile(r"^(?P<num>\d{1,2}(?:\.\d{1,2}){0,3})\.?\s+(?P<title>[A-Z][^\n]{1,100})$")
CAPTION = re.compile(r"^(?P<kind>Figure|Fig\.|Table|Algorithm)\s*(?P<n>\d+)\s*[:.]", re.I)
EQ_NUMBER = re.compile(r"^\(\d{1,3}\)$")
UNNUMBERED = {"abstract", "references", "acknowledgements", "acknowledgments", "appendix", "bibliography"}
MATH_FONT = re.compile(r"^(CM(MI|SY|EX|R)\d|MSBM|MSAM|rsfs|Math|Symbol|LMMath|STIX)", re.I)
BOLD = 16


@dataclass
class Line:
    text: str
    size: float
    bold: bool
    math_share: float
    bbox: tuple[float, float, float, float]
    page: int
    spans: list[dict[str, Any]]


@dataclass
class Block:
    lines: list[Line]
    bbox: tuple[float, float, float, float]
    page: int

    @property
    def text(self) -> str:
        return join_lines([ln.text for ln in self.lines])


def join_lines(lines: list[str]) -> str:
    """Join a block's lines into one paragraph, undoing end-of-line hyphenation."""
    out = ""
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if out.endswith("-") and line[:1].islower() and len(out) > 1 and out[-2].isalpha():
            before = out.rsplit(" ", 1)[-1]
            after = line.split(" ", 1)[0]
            # "English-/to-German" and "Multi-/head" keep the hyphen: a capitalised first part or
            # a second part that is itself hyphenated marks a compound, not a broken word.
            keep = before[:1].isupper() or "-" in after.rstrip("-")
            out = out + line if keep else out[:-1] + line
        else:
            out = f"{out} {line}" if out else line
    return re.sub(r"[ \t]{2,}", " ", out)


def open_pdf(path: Path) -> Any:
    import pymupdf

    try:
        head = path.read_bytes()[:1024]
    except OSError as err:
        raise PaperReadError(f"cannot read {path}: {err.strerror}") from err
    if b"%PDF-" not in head:
        raise PaperReadError(
            f"{path} is not a PDF (no %PDF header); give a .pdf, a .tex, a source archive or an arXiv id"
        )
    try:
        doc = pymupdf.open(path)  # type: ignore[no-untyped-call]
    except Exception as err:  # PyMuPDF raises its own types for damaged files
        raise PaperReadError(
            f"{path} is a damaged PDF that cannot be opened ({err}); download it again"
        ) from err
    if doc.needs_pass:
        raise PaperReadError(
            f"{path} is encrypted; decrypt it first (for example: qpdf --decrypt in.pdf out.pdf)"
        )
    if doc.page_count == 0:
        raise PaperReadError(f"{path} has no readable pages; the file may be truncated: download it again")
    return doc


def _lines(doc: Any) -> list[Block]:
    blocks: list[Block] = []
    pages: list[tuple[list[Block], float]] = []
    for pno in range(doc.page_count):
        page = doc[pno]
        try:
            data = page.get_text("dict", flags=0)
        except Exception as err:
            raise PaperReadError(f"page {pno + 1} cannot be read ({err}); the PDF may be truncated") from err
        width = page.rect.width
        page_blocks = []
        for b in data["blocks"]:
            if b.get("type") != 0:
                continue
            lines = []
            for ln in _merge_baselines([ln for ln in b["lines"] if abs(ln["dir"][0] - 1.0) < 0.01]):
                spans = [s for s in ln["spans"] if s["text"].strip()]
                if not spans:
                    continue
                chars = sum(len(s["text"]) for s in spans)
                math = sum(len(s["text"]) for s in spans if MATH_FONT.match(s["font"]))
                main = max(spans, key=lambda s: len(s["text"]))
                first = spans[0]
                lines.append(
                    Line(
                        text=" ".join(s["text"].strip() for s in spans),
                        size=round(main["size"], 1),
                        bold=bool(first["flags"] & BOLD)
                        or any(w in first["font"] for w in ("Bold", "Medi", "Semi")),
                        math_share=math / max(chars, 1),
                        bbox=tuple(ln["bbox"]),
                        page=pno + 1,
                        spans=spans,
                    )
                )
            if lines:
                page_blocks.append(Block(lines, tuple(b["bbox"]), pno + 1))
        pages.append((page_blocks, width))
    # Columns are a property of the document: decide from its paragraphs (blocks of three or
    # more lines), not page by page, where a row of author names can look like two columns.
    paragraphs = [(b, w) for bs, w in pages for b in bs if len(b.lines) >= 3]
    two_col = (
        bool(paragraphs) and sum(b.bbox[2] - b.bbox[0] < w * 0.5 for b, w in paragraphs) > len(paragraphs) / 2
    )
    for page_blocks, width in pages:
        blocks += (
            _reading_order(page_blocks, width)
            if two_col
            else sorted(page_blocks, key=lambda b: (round(b.bbox[1]), b.bbox[0]))
        )
    return blocks


def _merge_baselines(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """PyMuPDF splits a line at wide gaps ("3.2" ... "Attention"); put such pieces back together."""
    merged: list[dict[str, Any]] = []
    for ln in sorted(lines, key=lambda x: (round(x["bbox"][1]), x["bbox"][0])):
        prev = merged[-1] if merged else None
        if (
            prev is not None
            and abs(prev["bbox"][1] - ln["bbox"][1]) < 2
            and abs(prev["bbox"][3] - ln["bbox"][3]) < 2
        ):
            prev["spans"] = prev["spans"] + ln["spans"]
            x0, y0, x1, y1 = prev["bbox"]
            prev["bbox"] = (x0, min(y0, ln["bbox"][1]), max(x1, ln["bbox"][2]), max(y1, ln["bbox"][3]))
        else:
            merged.append({"spans": list(ln["spans"]), "bbox": tuple(ln["bbox"]), "dir": ln["dir"]})
    return merged


def family(font: str) -> str:
    return re.split(r"[-,+]", font.split("+")[-1])[0]


def _reading_order(blocks: list[Block], width: float) -> list[Block]:
    """Column by column, inside bands separated by blocks that span the page."""
    mid = width / 2
    ordered: list[Block] = []
    band: list[Block] = []
    for b in sorted(blocks, key=lambda b: b.bbox[1]):
        if b.bbox[2] - b.bbox[0] >= width * 0.55:
            ordered += sorted(band, key=lambda x: (x.bbox[0] >= mid - 10, x.bbox[1]))
            ordered.append(b)
            band = []
        else:
            band.append(b)
    ordered += sorted(band, key=lambda x: (x.bbox[0] >= mid - 10, x.bbox[1]))
    return ordered


def _running_lines(blocks: list[Block], doc: Any) -> set[tuple[int, str]]:
    """(page, text) of headers, footers and page numbers to drop."""
    margin = {pno + 1: doc[pno].rect.height for pno in range(doc.page_count)}
    seen: collections.Counter[str] = collections.Counter()
    candidates = []
    for b in blocks:
        for ln in b.lines:
            h = margin[ln.page]
            if ln.bbox[1] > h * 0.92 or ln.bbox[3] < h * 0.08:
                key = re.sub(r"\d+", "#", ln.text.strip())
                seen[key] += 1
                candidates.append((ln.page, ln.text, key))
    pages = doc.page_count
    drop = set()
    for page, text, key in candidates:
        if key == "#" or (pages >= 3 and seen[key] >= max(2, pages // 2)):
            drop.add((page, text))
    return drop


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


def _read(doc: Any, path: Path) -> Paper:
    blocks = _lines(doc)
    total_chars = sum(len(ln.text) for b in blocks for ln in b.lines)
    if total_chars < 200:
        raise PaperReadError(
            f"{path} has no text layer ({doc.page_count} pages, {total_chars} characters of text): "
            "it looks scanned; run OCR first (for example: ocrmypdf in.pdf out.pdf)"
        )
    drop = _running_lines(blocks, doc)
    widths = {pno + 1: doc[pno].rect.width for pno in range(doc.page_count)}
    sizes: collections.Counter[float] = collections.Counter()
    for b in blocks:
        for ln in b.lines:
            sizes[ln.size] += len(ln.text)
    body = sizes.most_common(1)[0][0]
    fonts: collections.Counter[str] = collections.Counter()
    for b in blocks:
        for ln in b.lines:
            for sp in ln.spans:
                fonts[family(sp["font"])] += len(sp["text"])
    body_family = fonts.most_common(1)[0][0]
    table_captions = [
        (b.page, b.bbox)
        for b in blocks
        if CAPTION.match(b.lines[0].text) and b.lines[0].text.lower().startswith("table")
    ]
    tables, table_areas = _tables(doc, table_captions)

    paper = Paper(pages=doc.page_count, origin=str(path))
    first_page = [ln for b in blocks if b.page == 1 for ln in b.lines]
    if first_page:
        top = max(first_page, key=lambda ln: (ln.size, -ln.bbox[1]))
        if top.size > body * 1.2:
            paper.title = " ".join(ln.text for ln in first_page if ln.size == top.size).strip()

    sections: list[Section] = []
    stack: list[Section] = []
    current: Section | None = None
    text_parts: dict[int, list[str]] = collections.defaultdict(list)
    in_abstract = False
    abstract_parts: list[str] = []
    in_references = False
    references: list[str] = []
    pending_caption: dict[int, str] = {}
    last_eq: tuple[int, float, float] | None = None

    def open_section(title: str, number: str | None, level: int, page: int) -> Section:
        nonlocal current
        sec = Section(title=title, number=number, level=level, page=page)
        while stack and stack[-1].level >= level:
            stack.pop()
        (stack[-1].children if stack else sections).append(sec)
        stack.append(sec)
        current = sec
        return sec

    for b in blocks:
        # Running heads, footnotes (set smaller than the body) and table cells are not prose.
        lines = [
            ln
            for ln in b.lines
            if (ln.page, ln.text) not in drop
            and ln.size >= body * 0.93
            and not _inside(ln.bbox, table_areas.get(b.page, []))
        ]
        # Text inside figures is usually set in another face (Arial labels over a plot); it can
        # share a block with the heading that follows it.
        while lines and family(lines[0].spans[0]["font"]) != body_family and lines[0].math_share < 0.3:
            lines = lines[1:]
        if not lines:
            continue
        first = lines[0]
        head = first.text.strip()
        m = NUMBERED.match(head)
        # Headings are set in the body's typeface; figure labels usually are not.
        same_face = family(first.spans[0]["font"]) == body_family
        is_heading = (
            same_face
            and first.bold
            and m is not None
            and len(head.split()) <= 14
            and first.size >= body * 0.95
        )
        plain_heading = (
            same_face
            and first.bold
            and len(head.split()) <= 8
            and (first.size > body * 1.1 or head.lower() in UNNUMBERED)
            and not CAPTION.match(head)
            and b.page > 0
            and head != paper.title
        )
        if is_heading and m is not None:
            in_abstract = False
            in_references = False
            num = m.group("num")
            open_section(m.group("title").strip(), num, num.count(".") + 1, b.page)
            lines = lines[1:]
        elif plain_heading:
            lower = head.lower().rstrip(":")
            in_abstract = lower == "abstract"
            in_references = lower in ("references", "bibliography")
            if not in_abstract and not in_references:
                open_section(head, None, 1, b.page)
            lines = lines[1:]
        if not lines:
            continue
        text = join_lines([ln.text for ln in lines])
        is_eq = _is_equation(lines, widths[b.page])
        if not is_eq:
            last_eq = None
        cap = CAPTION.match(text)
        if cap:
            kind = cap.group("kind").lower()
            where = Source(page=b.page, section=current.title if current else None)
            if kind.startswith("fig"):
                paper.figures.append(Figure(caption=text, source=where))
            elif kind == "table":
                pending_caption[int(cap.group("n"))] = text
            continue
        if is_eq:
            y0, y1 = min(ln.bbox[1] for ln in lines), max(ln.bbox[3] for ln in lines)
            # Pieces of one display (split by PyMuPDF, or the rows of an aligned block) are
            # consecutive equation blocks on the same or the next few points of the page.
            if last_eq is not None and last_eq[0] == b.page and y0 < last_eq[2] + 8 and y1 > last_eq[1]:
                paper.equations[-1].text += " " + text
                last_eq = (b.page, min(y0, last_eq[1]), max(y1, last_eq[2]))
                continue
            paper.equations.append(
                Equation(text=text, source=Source(page=b.page, section=current.title if current else None))
            )
            last_eq = (b.page, y0, y1)
            continue
        if in_abstract:
            abstract_parts.append(text)
        elif in_references:
            _add_references(references, lines)
        elif current is not None:
            text_parts[id(current)].append(text)
        elif paper.title and b.page == 1:
            continue  # authors, affiliations and notes before the abstract
    for sec in (s for top in sections for s in top.walk()):
        sec.text = "\n\n".join(text_parts.get(id(sec), []))
    paper.sections = sections
    paper.abstract = " ".join(abstract_parts).strip()
    paper.references = references
    for table, caption in zip(tables, (c for _, c in sorted(pending_caption.items())), strict=False):
        table.caption = caption
    paper.tables = tables
    if not paper.sections and not paper.abstract:
        raise PaperReadError(
            f"{path} does not look like a paper: no abstract and no section headings found "
            f"in {doc.page_count} page(s); give the paper's PDF or its LaTeX source"
        )
    return paper


def _inside(bbox: tuple[float, float, float, float], areas: list[tuple[float, float, float, float]]) -> bool:
    x0, y0, x1, y1 = bbox
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return any(a[0] - 2 <= cx <= a[2] + 2 and a[1] - 2 <= cy <= a[3] + 2 for a in areas)


def _is_equation(lines: list[Line], width: float) -> bool:
    math = sum(ln.math_share * len(ln.text) for ln in lines)
    chars = sum(len(ln.text) for ln in lines)
    numbered = any(
        EQ_NUMBER.match(ln.spans[-1]["text"].strip()) and ln.bbox[2] > width * 0.75 for ln in lines
    )
    return numbered or (chars < 300 and math / max(chars, 1) > 0.3)


def _add_references(refs: list[str], lines: list[Line]) -> None:
    """Entries start with "[n]" (or, for author-year styles, at a block start); the rest continues."""
    numbered = any(re.match(r"^\[\d+\]", r) for r in refs) or bool(re.match(r"^\[\d+\]", lines[0].text))
    for i, ln in enumerate(lines):
        text = ln.text.strip()
        starts = re.match(r"^\[\d+\]", text) if numbered else i == 0
        if starts or not refs:
            refs.append(text)
        else:
            refs[-1] = join_lines([refs[-1], text])


def _tables(
    doc: Any, captions: list[tuple[int, tuple[float, float, float, float]]]
) -> tuple[list[Table], dict[int, list[tuple[float, float, float, float]]]]:
    """Tables next to their captions: the region between the horizontal rules nearest the caption
    (booktabs style), else the blocks just below it; rows are words on one baseline, cells are
    split at wide gaps. PyMuPDF's general table finder costs ~0.4 s a page; this costs milliseconds.
    """
    tables: list[Table] = []
    areas: dict[int, list[tuple[float, float, float, float]]] = collections.defaultdict(list)
    for pno, cap in captions:
        page = doc[pno - 1]
        width = page.rect.width
        rules = sorted(
            {
                round(d["rect"].y0)
                for d in page.get_drawings()
                if d["rect"].width > width * 0.2 and d["rect"].height < 3
            }
        )
        below = [y for y in rules if cap[3] - 2 <= y <= cap[3] + 400]
        above = [y for y in rules if cap[1] - 400 <= y <= cap[1] + 2]
        group = _rule_group(below) or _rule_group(list(reversed(above)))
        if group:
            top, bottom = min(group), max(group)
        else:
            top, bottom = cap[3], cap[3] + 120
        region = (cap[0] - 20, top - 1, max(cap[2], width - cap[0]) + 20, bottom + 1)
        words = page.get_text("words", clip=region)
        rows = _rows(words)
        if len(rows) >= 2:
            tables.append(Table(rows=rows, source=Source(page=pno)))
            areas[pno].append(region)
        else:
            tables.append(Table(source=Source(page=pno)))
    return tables, areas


def _rule_group(ys: list[float]) -> list[float]:
    """Rules that belong together: successive ones less than 150 pt apart, from the nearest on."""
    group: list[float] = []
    for y in ys:
        if group and abs(y - group[-1]) > 150:
            break
        group.append(y)
    return group if len(group) >= 2 else []


def _rows(words: list[Any]) -> list[list[str]]:
    rows: list[list[Any]] = []
    for w in sorted(words, key=lambda w: (round(w[3]), w[0])):
        if rows and abs(rows[-1][0][3] - w[3]) < 3:
            rows[-1].append(w)
        else:
            rows.append([w])
    out = []
    for row in rows:
        row.sort(key=lambda w: w[0])
        cells: list[str] = []
        prev_x1 = None
        for w in row:
            if prev_x1 is not None and w[0] - prev_x1 < 6:
                cells[-1] += " " + w[4]
            else:
                cells.append(w[4])
            prev_x1 = w[2]
        out.append(cells)
    return out
