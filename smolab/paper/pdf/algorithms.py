"""Algorithm boxes ("Algorithm 1 ..."), read as ordered lines, from the page's vector rules.

The usual styles (LaTeX's ``algorithm`` with ``algorithmic`` or ``algpseudocode``, and
``algorithm2e``'s ``ruled``) draw a rule over the caption, one under it, and one under the last
line; two boxes side by side each have their own. The box is the region between the rule under
the caption and the next rule of the same width; its lines are the text lines inside, top to
bottom, with their line numbers dropped and their indentation kept as two spaces a level.
Read as loose displays instead, such a box becomes fragments (``_S + L^t``) that no model can
implement, so the assembler leaves its area alone.
"""

from __future__ import annotations

import collections
import re
from typing import Any

from ..model import Algorithm, Source
from .display import linearize
from .layout import Block, Line

Rect = tuple[float, float, float, float]
CAPTION = re.compile(r"^Algorithm\s+(\d+)\b\s*[:.]?\s*(.*)$")
NUMBER = re.compile(r"^\s*\d{1,3}\s*[:.]\s*")
INDENT = 8.0
"""Points of indentation a level (algorithmic indents by about 1.5 em)."""


def _rules(page: Any, cap: Rect) -> list[Rect]:
    """Horizontal rules across the caption's column, top to bottom."""
    found = []
    for d in page.get_drawings():
        r = d["rect"]
        if r.height < 3 and r.width > 40 and r.x0 < cap[0] + 20 and r.x1 > cap[0] + 20:
            found.append((r.x0, r.y0, r.x1, r.y1))
    return sorted(found, key=lambda r: r[1])


def _box(page: Any, cap: Rect) -> Rect | None:
    """The region of the box whose caption is ``cap``: under the rule beneath the caption, down
    to the next rule of the same width."""
    rules = _rules(page, cap)
    header = next((r for r in rules if cap[3] - 3 <= r[1] <= cap[3] + 16), None)
    if header is None:
        return None
    same = [
        r for r in rules if r[1] > header[1] + 4 and abs(r[0] - header[0]) < 6 and abs(r[2] - header[2]) < 6
    ]
    if not same:
        return None
    return (header[0] - 1, header[1] + 0.5, header[2] + 1, same[0][1] - 0.5)


def _inside(bbox: Rect, area: Rect) -> bool:
    cx, cy = (bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2
    return area[0] <= cx <= area[2] and area[1] <= cy <= area[3]


def _line_number(span: dict[str, Any], size: float) -> bool:
    """A line number's span: "3:" or "3." at the left, or a bare number set smaller than the
    text (not the "0" that opens "0 < β < 1")."""
    text = span["text"].strip()
    return bool(re.fullmatch(r"\d{1,3}[:.]|[:.]", text)) or (
        bool(re.fullmatch(r"\d{1,3}", text)) and span["size"] < 0.9 * size
    )


def _rows(lines: list[Line]) -> list[tuple[float, str]]:
    """(left edge, text) of each line of the box, top to bottom. Lines of full-size text on one
    baseline are one row (a line number is often a span of its own); a smaller line (a sub- or
    superscript, a fraction's part) joins the row nearest it, and each row's spans are
    linearized as a display's are (``θ^{t+1}_C``), then its line number dropped."""
    if not lines:
        return []
    size = sorted(ln.size for ln in lines)[len(lines) // 2]
    full = sorted((ln for ln in lines if ln.size >= 0.85 * size), key=lambda ln: (ln.bbox[1], ln.bbox[0]))
    rows: list[list[Line]] = []
    for ln in full:
        if rows and abs(rows[-1][0].bbox[1] - ln.bbox[1]) < 0.5 * size:
            rows[-1].append(ln)
        else:
            rows.append([ln])
    if not rows:
        return []
    for ln in lines:
        if ln.size < 0.85 * size:
            middle = (ln.bbox[1] + ln.bbox[3]) / 2
            min(rows, key=lambda r: abs((r[0].bbox[1] + r[0].bbox[3]) / 2 - middle)).append(ln)
    out: list[tuple[float, str]] = []
    for row in rows:
        words = sorted((ln for ln in row if ln.text.strip()), key=lambda ln: ln.bbox[0])
        if not words:
            continue
        spans = sorted((s for ln in row for s in ln.spans if s["text"].strip()), key=lambda s: s["bbox"][0])
        # The line number goes before the row is set: it is smaller than the text, and would be
        # read as a subscript of nothing.
        big = max(sp["size"] for sp in spans) if spans else 0.0
        while len(spans) > 1 and _line_number(spans[0], big):
            spans = spans[1:]
        left = spans[0]["bbox"][0] if spans else words[0].bbox[0]
        text = linearize(spans) or " ".join(ln.text for ln in words)
        text = NUMBER.sub("", text, count=1).strip()
        if text and out and text[0] in "_^":  # a script left on a row of its own
            out[-1] = (out[-1][0], out[-1][1] + text)
        elif text:
            out.append((left, text))
    return out


def find_algorithms(doc: Any, blocks: list[Block]) -> tuple[list[Algorithm], dict[int, list[Rect]]]:
    """The algorithm boxes of the document, and the areas they cover per page."""
    found: list[Algorithm] = []
    areas: dict[int, list[Rect]] = collections.defaultdict(list)
    lines_on: dict[int, list[Line]] = collections.defaultdict(list)
    for b in blocks:
        lines_on[b.page].extend(b.lines)
    seen: set[tuple[int, str]] = set()
    for b in blocks:
        for i, ln in enumerate(b.lines):
            m = CAPTION.match(ln.text.strip())
            if m is None or (b.page, m.group(1)) in seen:
                continue
            page = doc[b.page - 1]
            # The caption runs on over the lines of its block that sit above the rule under it.
            caption_lines = [ln]
            for more in b.lines[i + 1 :]:
                if more.bbox[1] - caption_lines[-1].bbox[3] > 4:
                    break
                caption_lines.append(more)
            cap = (ln.bbox[0], ln.bbox[1], max(x.bbox[2] for x in caption_lines), caption_lines[-1].bbox[3])
            box = _box(page, cap)
            while box is None and len(caption_lines) > 1:
                caption_lines.pop()
                cap = (cap[0], cap[1], cap[2], caption_lines[-1].bbox[3])
                box = _box(page, cap)
            if box is None:
                continue
            seen.add((b.page, m.group(1)))
            rows = _rows([x for x in lines_on[b.page] if _inside(x.bbox, box)])
            if not rows:
                continue
            margin = min(left for left, _ in rows)
            body = "\n".join("  " * round((left - margin) / INDENT) + text for left, text in rows)
            caption = " ".join(x.text.strip() for x in caption_lines)
            found.append(Algorithm(caption=caption, text=body, source=Source(page=b.page)))
            areas[b.page].append((box[0], cap[1] - 2, box[2], box[3]))
    found.sort(key=lambda a: (a.source.page or 0, a.caption))
    return found, areas
