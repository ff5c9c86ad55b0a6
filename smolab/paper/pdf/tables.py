"""Tables next to their captions, found from the page's vector rules, with no table model."""

from __future__ import annotations

import collections
from typing import Any

from ..model import Source, Table
from .headings import CAPTION
from .layout import Block, Line

Rect = tuple[float, float, float, float]


def find_tables(
    doc: Any, captions: list[tuple[int, Rect, str]], blocks: list[Block]
) -> tuple[list[Table], dict[int, list[Rect]]]:
    """Tables next to their captions: the region between the horizontal rules that start just
    below the caption or end just above it (booktabs style), else the tabular blocks next to
    it; rows are words on one baseline, cells are split at wide gaps. PyMuPDF's general table
    finder costs ~0.4 s a page; this costs milliseconds.
    """
    tables: list[Table] = []
    areas: dict[int, list[Rect]] = collections.defaultdict(list)
    by_page: dict[int, list[Block]] = collections.defaultdict(list)
    for b in blocks:
        by_page[b.page].append(b)
    for pno, cap, caption in captions:
        page = doc[pno - 1]
        width = page.rect.width
        rules = sorted(
            (d["rect"].y0, d["rect"].x0, d["rect"].x1)
            for d in page.get_drawings()
            if d["rect"].width > width * 0.15
            and d["rect"].height < 3
            and d["rect"].x0 < cap[2]
            and d["rect"].x1 > cap[0]
        )
        # Another caption, or a paragraph of prose, between two rules parts two tables.
        barriers = [
            (b.bbox[1] + b.bbox[3]) / 2
            for b in by_page[pno]
            if b.bbox != cap and (CAPTION.match(b.lines[0].text) or _prose(b))
        ]
        below = [r for r in rules if cap[3] - 2 <= r[0] <= cap[3] + 400]
        above = [r for r in reversed(rules) if cap[1] - 400 <= r[0] <= cap[1] + 2]
        # A table's rules start right under a caption set above it, or end right over one below.
        group = (below and below[0][0] - cap[3] < 30 and _rule_group(below, barriers)) or (
            above and cap[1] - above[0][0] < 30 and _rule_group(above, barriers)
        )
        region: Rect | None
        if group:
            region = (
                min(r[1] for r in group) - 2,
                min(r[0] for r in group) - 1,
                max(r[2] for r in group) + 2,
                max(r[0] for r in group) + 1,
            )
        else:
            region = _tabular_region(cap, by_page[pno])
        rows = _rows(page.get_text("words", clip=region)) if region else []
        if len(rows) >= 2 and region:
            tables.append(Table(caption=caption, rows=rows, source=Source(page=pno)))
            areas[pno].append(region)
        else:
            tables.append(Table(caption=caption, source=Source(page=pno)))
    return tables, areas


def _tabular(block: Block) -> bool:
    """Most lines hold cells: spans apart by over 1.2 em, twice, or once past the first cell."""

    def cells(ln: Line) -> bool:
        gaps = [
            k
            for k in range(1, len(ln.spans))
            if ln.spans[k]["bbox"][0] - ln.spans[k - 1]["bbox"][2] > 1.2 * ln.size
        ]
        return len(gaps) >= 2 or (len(gaps) == 1 and gaps[0] > 1)

    return sum(cells(ln) for ln in block.lines) * 2 >= len(block.lines)


def _prose(block: Block) -> bool:
    """A paragraph: two lines or more, of six words or more on average, not cells."""
    words = sum(len(ln.text.split()) for ln in block.lines)
    return len(block.lines) >= 2 and words >= 6 * len(block.lines) and not _tabular(block)


def _tabular_region(cap: Rect, blocks: list[Block]) -> Rect | None:
    """The run of tabular blocks right under the caption, else right over it."""

    def overlaps(b: Block) -> bool:
        return b.bbox[0] < cap[2] and b.bbox[2] > cap[0]

    under = sorted((b for b in blocks if b.bbox[1] >= cap[3] - 2 and overlaps(b)), key=lambda b: b.bbox[1])
    over = sorted((b for b in blocks if b.bbox[3] <= cap[1] + 2 and overlaps(b)), key=lambda b: -b.bbox[3])
    for run in (under, over):
        taken: list[Block] = []
        for b in run:
            if not _tabular(b):
                break
            taken.append(b)
        if taken:
            return (
                min(b.bbox[0] for b in taken) - 2,
                min(b.bbox[1] for b in taken) - 1,
                max(b.bbox[2] for b in taken) + 2,
                max(b.bbox[3] for b in taken) + 1,
            )
    return None


def _rule_group(
    rules: list[tuple[float, float, float]], barriers: list[float]
) -> list[tuple[float, float, float]]:
    """Rules that belong together: from the nearest on, successive ones less than 150 pt apart
    with no caption or paragraph between them."""
    group: list[tuple[float, float, float]] = []
    for r in rules:
        if group and (
            abs(r[0] - group[-1][0]) > 150
            or any(min(r[0], group[-1][0]) < y < max(r[0], group[-1][0]) for y in barriers)
        ):
            break
        group.append(r)
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
