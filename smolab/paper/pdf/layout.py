"""A PDF's text as lines in reading order, each with the typography that tells headings
from prose: size, weight, slant, capitals and small capitals, typeface.

Spans are joined by the gap between them, not blindly with spaces, so small capitals
("I" 12 pt + "NTRODUCTION" 9.6 pt) read as one word; runs of small capitals are recased
("Introduction", "Searching for Activation Functions"). Annotations (highlights, sticky
notes, free-text notes) are removed from the in-memory copy before reading: they are a
reader's, not the paper's.
"""

from __future__ import annotations

import collections
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import PaperReadError
from .glyphs import repair, symbol_space, table_for

BOLD_FLAG, ITALIC_FLAG = 16, 2
BOLD_NAME = re.compile(r"Bold|Medi|Semi|Heavy|Black|Demi|CMBX|CMB\d", re.I)
ITALIC_NAME = re.compile(r"Ital|Obli|CMTI|CMMI", re.I)
MATH_FONT = re.compile(r"^(CM(MI|SY|EX|R)\d|MSBM|MSAM|rsfs|Math|Symbol|LMMath|STIX)", re.I)


@dataclass
class Line:
    text: str
    size: float
    """The size most of its characters are set in."""
    top: float
    """The largest letter size (for small capitals: the capitals')."""
    bold: bool
    """Its first span is bold (a run-in heading starts so)."""
    bold_all: bool
    italic_all: bool
    caps: str
    """"upper" (all capitals), "small" (small capitals) or ""."""
    face: str
    """The typeface family most of its letters are set in, without weight, slant or size."""
    math_share: float
    """The share of its characters in math fonts (set by :func:`measure`)."""
    bbox: tuple[float, float, float, float]
    page: int
    spans: list[dict[str, Any]]
    words: list[str] = field(default_factory=list)
    """Text of each span, recased, for splitting a run-in heading from its paragraph."""
    note: bool = False
    """A footnote: set small under the last line of prose in its column."""


@dataclass
class Block:
    lines: list[Line]
    bbox: tuple[float, float, float, float]
    page: int


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


def strip_annotations(doc: Any) -> int:
    """Delete every annotation (notes, highlights, stamps) from the open document, which is
    never saved: MuPDF's text extraction would otherwise read a note's text as the paper's."""
    removed = 0
    for page in doc:
        # Deleting a note deletes its popup too, so take the first one afresh each time.
        for _ in range(10_000):
            annot = page.first_annot
            if annot is None:
                break
            page.delete_annot(annot)
            removed += 1
    return removed


def face(font: str) -> str:
    """ "ABCDEF+NimbusRomNo9L-Medi" -> "NimbusRomNo9L"; "CMBX12" -> "CMBX"."""
    name = re.split(r"[-,]", font.split("+")[-1])[0]
    return re.sub(r"\d+$", "", name) or name


def is_bold(span: dict[str, Any]) -> bool:
    return bool(span["flags"] & BOLD_FLAG) or bool(BOLD_NAME.search(span["font"]))


def _is_italic(span: dict[str, Any]) -> bool:
    return bool(span["flags"] & ITALIC_FLAG) or bool(ITALIC_NAME.search(span["font"]))


def _letters(span: dict[str, Any]) -> str:
    return "".join(c for c in span["text"] if c.isalpha())


def join_spans(spans: list[dict[str, Any]], texts: list[str]) -> str:
    """Spans side by side: a space only where the page leaves one (a gap of over 0.15 em)."""
    out = ""
    prev: dict[str, Any] | None = None
    for span, text in zip(spans, texts, strict=True):
        if prev is not None and out and not out[-1].isspace() and not text[:1].isspace():
            gap = span["bbox"][0] - prev["bbox"][2]
            if gap > 0.15 * min(span["size"], prev["size"]):
                out += " "
        out += text
        prev = span
    return re.sub(r"\s+", " ", out).strip()


def _small_caps_sizes(rows: list[list[dict[str, Any]]]) -> float | None:
    """For consecutive lines set wholly in capitals at two sizes, the smaller size (which stands
    for lower-case letters); None when these lines are not small capitals."""
    sizes = [round(s["size"], 1) for row in rows for s in row if _letters(s)]
    if len(set(sizes)) < 2:
        return None
    big, small = max(sizes), min(sizes)
    return small if 1.1 <= big / small <= 1.7 else None


def _recase(span: dict[str, Any], small: float | None) -> str:
    text: str = span["text"]
    if small is not None and _letters(span) and round(span["size"], 1) <= small + 0.05:
        return text.lower()
    return text


def _baseline(line: dict[str, Any]) -> float:
    return float(max(s["origin"][1] for s in line["spans"])) if line["spans"] else float(line["bbox"][3])


def _merge_baselines(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """PyMuPDF splits a line at wide gaps ("3.2" ... "Attention") and at changes of size (small
    capitals); put pieces that share a baseline back together."""
    merged: list[dict[str, Any]] = []
    for ln in sorted(lines, key=lambda x: (round(_baseline(x)), x["bbox"][0])):
        prev = merged[-1] if merged else None
        if prev is not None and abs(_baseline(prev) - _baseline(ln)) < 1.5:
            prev["spans"] = prev["spans"] + ln["spans"]
            x0, y0, x1, y1 = prev["bbox"]
            lx0, ly0, lx1, ly1 = ln["bbox"]
            prev["bbox"] = (min(x0, lx0), min(y0, ly0), max(x1, lx1), max(y1, ly1))
        else:
            merged.append({"spans": list(ln["spans"]), "bbox": tuple(ln["bbox"]), "dir": ln["dir"]})
    for m in merged:
        m["spans"].sort(key=lambda s: s["bbox"][0])
    return merged


def _block_lines(raw: list[dict[str, Any]], page: int, skip: set[tuple[float, float]]) -> list[Line]:
    rows = []
    for ln in _merge_baselines([ln for ln in raw if abs(ln["dir"][0] - 1.0) < 0.01]):
        spans = [
            s
            for s in ln["spans"]
            if s["text"].strip() and (round(s["bbox"][0], 1), round(s["bbox"][1], 1)) not in skip
        ]
        if spans:
            rows.append((ln, spans))
    # Runs of all-capital lines share one small-capitals decision (a title over several lines).
    small_of: dict[int, float | None] = {}
    i = 0
    while i < len(rows):
        j = i
        while j < len(rows) and _all_caps(rows[j][1]):
            j += 1
        if j > i:
            small = _small_caps_sizes([r[1] for r in rows[i:j]])
            for k in range(i, j):
                small_of[k] = small
            i = j
        else:
            i += 1
    lines = []
    for k, (ln, spans) in enumerate(rows):
        small = small_of.get(k)
        texts = [_recase(s, small) for s in spans]
        by_size: collections.Counter[float] = collections.Counter()
        for s in spans:
            by_size[round(s["size"], 1)] += len(s["text"].strip())
        lettered = [s for s in spans if _letters(s)] or spans
        by_face: collections.Counter[str] = collections.Counter()
        for s in lettered:
            by_face[face(s["font"])] += len(s["text"].strip())
        caps = "small" if small is not None else ("upper" if k in small_of else "")
        lines.append(
            Line(
                text=join_spans(spans, texts),
                size=by_size.most_common(1)[0][0],
                top=max(round(s["size"], 1) for s in lettered),
                bold=is_bold(spans[0]),
                bold_all=all(is_bold(s) for s in lettered),
                italic_all=all(_is_italic(s) for s in lettered),
                caps=caps,
                face=by_face.most_common(1)[0][0],
                math_share=0.0,
                bbox=tuple(ln["bbox"]),
                page=page,
                spans=spans,
                words=texts,
            )
        )
    return lines


def _all_caps(spans: list[dict[str, Any]]) -> bool:
    letters = "".join(_letters(s) for s in spans)
    return len(letters) >= 2 and letters.isupper()


def _merge_drop_caps(blocks: list[Block]) -> list[Block]:
    """A drop capital ("C" set three lines high) joins the word it begins ("CONVOLUTIONAL"),
    wherever PyMuPDF put the line that word starts."""
    lines = [ln for b in blocks for ln in b.lines]
    sizes = collections.Counter(ln.size for ln in lines)
    body = sizes.most_common(1)[0][0] if sizes else 10.0
    for b in blocks:
        for ln in list(b.lines):
            if not (len(ln.text) == 1 and ln.text.isupper() and ln.top >= 1.8 * body):
                continue
            right = [
                x
                for x in lines
                if x is not ln
                and ln.bbox[1] - 2 <= x.bbox[1] <= ln.bbox[1] + ln.top * 0.3
                and 0 <= x.bbox[0] - ln.bbox[2] < body * 2
                and x.text[:1].isupper()
            ]
            if right:
                word = min(right, key=lambda x: x.bbox[0])
                word.text = ln.text + word.text
                b.lines.remove(ln)
    return [b for b in blocks if b.lines]


# A section number: "3", "3.2.1", "A", "A.1", "IV", optionally after "Appendix", "Section" or
# "Chapter".
LABEL = r"(?:\d{1,2}(?:\.\d{1,2}){0,3}|[A-Z](?:\.\d{1,2}){0,3}|[IVX]{1,6})"
LABEL_WORD = r"(?:(?i:appendix|section|chapter)\s+)?"
LONE_NUMBER = re.compile(rf"^{LABEL_WORD}(?P<label>{LABEL})\.?$")


def _line_numbers(raw_blocks: list[dict[str, Any]]) -> set[tuple[float, float]]:
    """Review copies number their lines in a margin or the gutter: ten or more spans of digits
    alone, one above another at the same x, counting up by one. Their (x, y) to drop."""
    # Numbers in a column are aligned on the left or on the right: group them both ways.
    columns: dict[tuple[int, int], list[tuple[float, float, int]]] = collections.defaultdict(list)
    for b in raw_blocks:
        for ln in b.get("lines", []):
            for s in ln["spans"]:
                text = s["text"].strip()
                if text.isdigit() and len(text) <= 4:
                    found = (s["bbox"][0], s["bbox"][1], int(text))
                    columns[(0, round(s["bbox"][0] / 3))].append(found)
                    columns[(1, round(s["bbox"][2] / 3))].append(found)
    drop = set()
    for spans in columns.values():
        if len(spans) < 10:
            continue
        spans.sort(key=lambda t: t[1])
        steps = [b[2] - a[2] for a, b in zip(spans, spans[1:], strict=False)]
        if sum(d == 1 for d in steps) >= 0.8 * len(steps):
            drop |= {(round(x, 1), round(y, 1)) for x, y, _ in spans}
    return drop


def _attach_numbers(blocks: list[Block]) -> list[Block]:
    """A section number that PyMuPDF set apart as a block of its own joins the heading it
    numbers: on the same baseline to its right (one line), or just below it (the line before)."""
    out = list(blocks)
    for b in blocks:
        if len(b.lines) != 1 or not LONE_NUMBER.match(b.lines[0].text):
            continue
        num = b.lines[0]
        for other in out:
            if other is b or not other.lines:
                continue
            first = other.lines[0]
            gap_x, gap_y = first.bbox[0] - num.bbox[2], first.bbox[1] - num.bbox[3]
            same_line = abs(first.bbox[1] - num.bbox[1]) < 2.5 and 0 <= gap_x < 4 * num.size
            below = abs(first.bbox[0] - num.bbox[0]) < 3 and 0 <= gap_y < 1.5 * num.size
            if same_line:
                first.text = f"{num.text} {first.text}"
                first.spans = num.spans + first.spans
                first.words = num.words + first.words
                first.bbox = (num.bbox[0], min(num.bbox[1], first.bbox[1]), first.bbox[2], first.bbox[3])
            elif below:
                other.lines.insert(0, num)
            else:
                continue
            other.bbox = (
                min(other.bbox[0], b.bbox[0]),
                min(other.bbox[1], b.bbox[1]),
                max(other.bbox[2], b.bbox[2]),
                max(other.bbox[3], b.bbox[3]),
            )
            out.remove(b)
            break
    return out


def extract(doc: Any) -> list[Block]:
    """Every text block of the document, page by page, in reading order."""
    pages: list[tuple[list[Block], float]] = []
    for pno in range(doc.page_count):
        page = doc[pno]
        try:
            data = page.get_text("dict", flags=0)
        except Exception as err:
            raise PaperReadError(f"page {pno + 1} cannot be read ({err}); the PDF may be truncated") from err
        _read_unmapped_codes(page, data)
        page_blocks = []
        numbers = _line_numbers(data["blocks"])
        for b in data["blocks"]:
            if b.get("type") != 0:
                continue
            for ln in b["lines"]:
                for s in ln["spans"]:
                    width = s["bbox"][2] - s["bbox"][0]
                    s["text"] = repair(symbol_space(s["text"], s["font"], width, s["size"]), s["font"])
            lines = _block_lines(b["lines"], pno + 1, numbers)
            if lines:
                page_blocks.append(Block(lines, tuple(b["bbox"]), pno + 1))
        pages.append((_attach_numbers(_merge_drop_caps(page_blocks)), page.rect.width))
    # Columns are a property of the document: decide from its paragraphs (blocks of three or
    # more lines), not page by page, where a row of author names can look like two columns.
    paragraphs = [(b, w) for bs, w in pages for b in bs if len(b.lines) >= 3]
    two_col = (
        bool(paragraphs) and sum(b.bbox[2] - b.bbox[0] < w * 0.5 for b, w in paragraphs) > len(paragraphs) / 2
    )
    blocks: list[Block] = []
    for page_blocks, width in pages:
        blocks += (
            _reading_order(page_blocks, width)
            if two_col
            else sorted(page_blocks, key=lambda b: (round(b.bbox[1]), b.bbox[0]))
        )
    return blocks


def _read_unmapped_codes(page: Any, data: dict[str, Any]) -> None:
    """TeX's extension font often has no Unicode map, so MuPDF reads its sums, integrals and
    wide accents as U+FFFD. Read again asking for the glyph codes, and take those for spans in
    Computer Modern fonts, whose codes :func:`repair` turns into the symbols; other fonts keep
    U+FFFD, since their codes mean nothing readable."""
    import pymupdf

    def spans(d: dict[str, Any]) -> list[dict[str, Any]]:
        return [s for b in d["blocks"] if b.get("type") == 0 for ln in b["lines"] for s in ln["spans"]]

    mine = spans(data)
    if not any("\ufffd" in s["text"] and table_for(s["font"]) is not None for s in mine):
        return
    coded = spans(page.get_text("dict", flags=pymupdf.TEXT_CID_FOR_UNKNOWN_UNICODE))
    if len(coded) != len(mine):
        return
    for s, c in zip(mine, coded, strict=True):
        if "\ufffd" in s["text"] and table_for(s["font"]) is not None and len(c["text"]) == len(s["text"]):
            s["text"] = c["text"]


def measure(blocks: list[Block]) -> tuple[float, str]:
    """The body's size and typeface (those most text is set in), and each line's share of math.

    Computer Modern Roman sets the digits and operators of math in any paper, and the prose of
    many: it counts as math only where the body is set in another face."""
    sizes: collections.Counter[float] = collections.Counter()
    for b in blocks:
        for ln in b.lines:
            sizes[ln.size] += len(ln.text)
    body = sizes.most_common(1)[0][0] if sizes else 10.0
    faces: collections.Counter[str] = collections.Counter()
    for b in blocks:
        for ln in b.lines:
            if ln.size == body:
                faces[ln.face] += len(ln.text)
    body_face = faces.most_common(1)[0][0] if faces else ""
    for b in blocks:
        for ln in b.lines:
            chars = sum(len(s["text"]) for s in ln.spans)
            math = sum(
                len(s["text"])
                for s in ln.spans
                if MATH_FONT.match(s["font"].split("+")[-1]) and face(s["font"]) != body_face
            )
            ln.math_share = math / max(chars, 1)
    return body, body_face


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


def running_lines(blocks: list[Block], heights: dict[int, float], pages: int) -> set[int]:
    """ids of the lines that are headers, footers and page numbers."""
    seen: collections.Counter[str] = collections.Counter()
    candidates = []
    for b in blocks:
        for ln in b.lines:
            h = heights[ln.page]
            if ln.bbox[1] > h * 0.92 or ln.bbox[3] < h * 0.08:
                key = re.sub(r"\d+", "#", ln.text.strip())
                seen[key] += 1
                candidates.append((ln, key))
    return {
        id(ln) for ln, key in candidates if key == "#" or (pages >= 3 and seen[key] >= max(2, pages // 2))
    }
