"""Finding a paper's section headings from typography and numbering, in any template.

A line can be a heading when it is short, starts a block (or follows a gap, or a section
number on a line of its own), and is set apart from the body: bold, larger, in capitals or
small capitals, italic, or in another typeface. Such lines that carry a section number
("3", "3.2.1", "IV", "A.1", "Appendix B") are kept only where the numbers run on
consistently (1, 2, 2.1, 2.2, 3 ...), chosen by dynamic programming over all candidates, so a
table cell or a numbered list item does not become a section. The styles of the numbered
headings then find the unnumbered ones set the same way (Acknowledgements, References),
and the usual names (Abstract, Introduction, Conclusion, References ...) are headings in
any distinct style. A paper with no numbers at all gets its headings from the style its
usual names are set in, or failing that from the most frequent distinct style of short lines.
"""

from __future__ import annotations

import collections
import re
from dataclasses import dataclass

from .layout import LABEL, LABEL_WORD, LONE_NUMBER, Block, Line, face, is_bold, join_spans

NUMBERED = re.compile(rf"^{LABEL_WORD}(?P<label>{LABEL})(?:\.|:|\s*[—–])?\s+(?P<title>\S.*)$")
_NUMERALS = "I II III IV V VI VII VIII IX X XI XII XIII XIV XV"
ROMAN = {r: i for i, r in enumerate(_NUMERALS.split(), 1)}
CAPTION = re.compile(
    r"^(?P<kind>Figure|Fig\.|Table|Algorithm)\s*(?P<n>[A-Z]?\d+|[IVXL]{1,6})\s*(?:[:.|]|$)", re.I
)
# Names that are headings wherever they stand alone, and the part of the paper each opens.
FRONT = {"abstract"}
BACK = {"references", "bibliography", "reference"}
ACK = {"acknowledgements", "acknowledgments", "acknowledgement", "acknowledgment"}
_NAMES = (
    "introduction|related work|related works|background|preliminaries|method|methods|methodology|"
    "approach|our approach|proposed method|model|models|experiments|experiment|experimental results|"
    "experimental setup|results|evaluation|analysis|discussion|conclusion|conclusions|summary|"
    "conclusion and future work|conclusions and future work|limitations|future work|broader impact|"
    "appendix|appendices|supplementary material|supplementary materials"
)
USUAL = ACK | set(_NAMES.split("|"))
LEVEL_ONE = FRONT | BACK | ACK | {"appendix", "appendices"}

Path_ = tuple[str, tuple[int, ...]]
"""A position in a numbering scheme: ("arabic", (3, 2)) is 3.2; ("roman", (4, 1)) is IV.A."""


@dataclass(frozen=True)
class Style:
    size: float
    bold: bool
    italic: bool
    caps: str
    face: str


@dataclass
class Heading:
    block: int
    line: int
    """The index of its first line in the block."""
    end: int
    """The index after its last line (a wrapped title, a number on its own line)."""
    title: str
    number: str | None
    level: int
    rest: str = ""
    """Text that follows a run-in heading on its own line."""
    kind: str = "section"
    """"section", "abstract" or "references"."""


@dataclass
class _Candidate:
    block: int
    line: int
    end: int
    label: str | None
    title: str
    style: Style
    distinct: bool
    alone: bool
    """Nothing but the heading in its block, or a gap before the next line."""
    rest: str = ""
    paths: tuple[Path_, ...] = ()


def normal_name(title: str) -> str:
    return re.sub(r"[^a-z ]+", "", title.lower()).strip()


def _style(line: Line) -> Style:
    return Style(round(line.top * 2) / 2, line.bold_all, line.italic_all, line.caps, line.face)


def _distinct(line: Line, body: float, body_face: str) -> bool:
    return (
        line.bold_all
        or line.top >= body * 1.08
        or line.caps != ""
        or line.italic_all
        or (line.face != body_face and line.math_share < 0.3)
    )


def _titleish(title: str, numbered: bool) -> bool:
    words = title.split()
    letters = sum(c.isalpha() for c in title)
    return (
        0 < len(words) <= (14 if numbered else 10)
        and letters >= 2
        and letters >= len(title.replace(" ", "")) * 0.5
        and title[:1].isalnum()
        and not title.rstrip().endswith((",", ";", "=", "+"))
        and not CAPTION.match(title)
        and not re.search(r"[a-z]{2}\. [A-Z]", title)  # two sentences: a reference, a paragraph
    )


def _table_row(line: Line, skip_first: bool) -> bool:
    """Cells on one baseline: a gap wider than 2.5 em between spans (after the number)."""
    spans = line.spans
    for k in range(1, len(spans)):
        if skip_first and k == 1:
            continue
        if spans[k]["bbox"][0] - spans[k - 1]["bbox"][2] > 2.5 * line.size:
            return True
    return False


def _paths(label: str) -> tuple[Path_, ...]:
    parts = label.split(".")
    head, rest = parts[0], tuple(int(p) for p in parts[1:])
    out: list[Path_] = []
    if head.isdigit():
        out.append(("arabic", (int(head), *rest)))
    else:
        if len(head) == 1:
            out.append(("letter", (ord(head) - ord("A") + 1, *rest)))
        if head in ROMAN and not rest:
            out.append(("roman", (ROMAN[head],)))
    return tuple(out)


def _advance(prev: Path_ | None, cand: Path_) -> tuple[Path_, float] | None:
    """The path a heading numbered ``cand`` leads to after ``prev``, and the penalty for any
    heading it implies was missed; None where it cannot follow."""
    root, nums = cand
    if root == "letter" and len(nums) == 1 and prev is not None and prev[0] == "roman":
        # IEEE style: lettered subsections under a roman-numbered section.
        r = prev[1]
        expected = r[1] + 1 if len(r) >= 2 else 1
        if nums[0] in (expected, expected + 1):
            return ("roman", (r[0], nums[0])), 0.0 if nums[0] == expected else 0.6
        return None
    if prev is None:
        if root == "letter" or nums[0] > 2 or any(n != 1 for n in nums[1:]):
            return None
        return cand, 0.0 if nums == (1,) else 0.6
    proot, pnums = prev
    if root != proot:
        # Appendices: "A", "A.1" or "Appendix A" after the numbered body.
        if root == "letter" and nums[0] == 1 and all(n == 1 for n in nums[1:]):
            return cand, 0.3
        return None
    k = len(nums)
    parent = nums[:-1]
    if pnums[: k - 1] == parent and len(pnums) >= k - 1:
        expected = pnums[k - 1] + 1 if len(pnums) >= k else 1
        if nums[-1] == expected:
            return cand, 0.0
        if nums[-1] == expected + 1:
            return cand, 0.6
        return None
    # A first subsection whose parent's heading was missed: 3.1 straight after 2.4.
    if (
        k >= 2
        and len(pnums) >= k - 1
        and parent[:-1] == pnums[: k - 2]
        and parent[-1] == pnums[k - 2] + 1
        and nums[-1] == 1
    ):
        return cand, 0.6
    return None


def _depth(path: Path_) -> int:
    return len(path[1])


def _columns(blocks: list[Block], body: float) -> tuple[list[float], list[tuple[float, float]]]:
    """Where prose lines start (the columns' left edges) and the columns' (left, right) edges."""
    lefts: collections.Counter[int] = collections.Counter()
    rights: collections.Counter[int] = collections.Counter()
    for b in blocks:
        for ln in b.lines:
            if ln.size == body and len(ln.text) > 40:
                lefts[round(ln.bbox[0])] += 1
                rights[round(ln.bbox[2])] += 1
    total = sum(lefts.values())
    edges = [float(x) for x, n in lefts.items() if n >= max(3, total * 0.02)]
    ends = [float(x) for x, n in rights.items() if n >= max(3, total * 0.02)]
    spans = [(left, right) for left in edges for right in ends if right > left + 100]
    return edges, spans


def _aligned(line: Line, edges: list[float], spans: list[tuple[float, float]], width: float) -> bool:
    """Starts where prose starts, or is centred on a column or the page (figure labels rarely are)."""
    mid = (line.bbox[0] + line.bbox[2]) / 2
    return (
        any(abs(line.bbox[0] - e) <= 3 for e in edges)
        or abs(mid - width / 2) < 8
        or any(abs(mid - (left + right) / 2) < 8 for left, right in spans)
    )


def find_headings(
    blocks: list[Block], body: float, body_face: str, title_block: int | None, widths: dict[int, float]
) -> list[Heading]:
    cands = _candidates(blocks, body, body_face, title_block)
    edges, spans = _columns(blocks, body)
    numbered = _consistent([c for c in cands if c.label is not None])
    chosen: dict[tuple[int, int], Heading] = {}
    styles: dict[int, collections.Counter[Style]] = collections.defaultdict(collections.Counter)
    for c, path in numbered:
        level = min(_depth(path), 4)
        chosen[(c.block, c.line)] = Heading(c.block, c.line, c.end, c.title, c.label, level, c.rest)
        styles[level][c.style] += 1
    by_level = {lvl: counter.most_common(1)[0][0] for lvl, counter in styles.items()}

    unnumbered = [c for c in cands if (c.block, c.line) not in chosen and not c.rest]
    # Front matter (authors, affiliations) ends at the first numbered heading or usual name;
    # a line before it is not a heading for its style alone.
    opened = min(chosen, default=(len(blocks), 0))
    if not by_level:
        by_level = _styles_without_numbers(unnumbered, blocks, body, title_block)
    for c in unnumbered:
        name = normal_name(c.label + " " + c.title if c.label else c.title)
        if name in FRONT | BACK | USUAL and (c.distinct or c.alone):
            level = (
                1
                if name in LEVEL_ONE
                else next((lvl for lvl, st in sorted(by_level.items()) if st == c.style), 1)
            )
            kind = "abstract" if name in FRONT else "references" if name in BACK else "section"
            number = c.label if kind == "section" else None
            chosen[(c.block, c.line)] = Heading(c.block, c.line, c.end, c.title, number, level, kind=kind)
            opened = min(opened, (c.block, c.line))
            continue
        if c.label is not None or not c.distinct:
            continue  # a numbered line the numbering rejected is not an unnumbered heading
        line = blocks[c.block].lines[c.line]
        if not _aligned(line, edges, spans, widths[line.page]):
            continue
        for lvl, st in sorted(by_level.items()):
            if (
                (c.block, c.line) > opened
                and c.style == st
                and (lvl == 1 or c.alone)
                and c.title[:1].isupper()
            ):
                chosen[(c.block, c.line)] = Heading(c.block, c.line, c.end, c.title, None, lvl)
                break
    _unnumbered_level(cands, chosen, by_level, opened, blocks, edges, spans, widths)
    # Run-in abstracts ("Abstract—We ...", "Abstract. We ...") open the abstract too.
    for bi, b in enumerate(blocks[:80]):
        first = b.lines[0]
        m = re.match(r"^(abstract)\s*(?:[.:—–-]\s*)?(?=\S)", first.text, re.I)
        runs_on = m is not None and (len(first.text) > m.end() + 3 or len(b.lines) > 1)
        if m and runs_on and (bi, 0) not in chosen and b.page <= 2:
            rest = first.text[m.end() :].strip()
            chosen[(bi, 0)] = Heading(bi, 0, 1, "Abstract", None, 1, rest=rest, kind="abstract")
            break
    return [chosen[k] for k in sorted(chosen)]


def _unnumbered_level(
    cands: list[_Candidate],
    chosen: dict[tuple[int, int], Heading],
    by_level: dict[int, Style],
    opened: tuple[int, int],
    blocks: list[Block],
    edges: list[float],
    spans: list[tuple[float, float]],
    widths: dict[int, float],
) -> None:
    """Unnumbered subsections under numbered or named sections (REVTeX, memoir): a bold style,
    no larger than the sections', set alone at least twice; the level below the deepest found."""
    if not by_level:
        return
    top = by_level[min(by_level)]
    pool: dict[Style, list[_Candidate]] = collections.defaultdict(list)
    for c in cands:
        line = blocks[c.block].lines[c.line]
        if (
            (c.block, c.line) not in chosen
            and (c.block, c.line) > opened
            and c.label is None
            and not c.rest
            and c.alone
            and c.style.bold
            and c.style not in by_level.values()
            and c.style.size <= top.size
            and c.title[:1].isupper()
            and _aligned(line, edges, spans, widths[line.page])
        ):
            pool[c.style].append(c)
    level = max(by_level) + 1
    for found in sorted(pool.values(), key=len, reverse=True):
        if len(found) >= 2:
            for c in found:
                chosen[(c.block, c.line)] = Heading(c.block, c.line, c.end, c.title, None, level)
            return


def _candidates(
    blocks: list[Block], body: float, body_face: str, title_block: int | None
) -> list[_Candidate]:
    out: list[_Candidate] = []
    for bi, b in enumerate(blocks):
        if bi == title_block:
            continue
        i = 0
        lines = b.lines
        while i < len(lines):
            ln = lines[i]
            # A heading starts its block, follows a gap, or follows only text of a figure
            # (labels set in another face, which PyMuPDF can put in the heading's block).
            starts = (
                i == 0
                or ln.bbox[1] - lines[i - 1].bbox[3] > 0.6 * ln.size
                or all(x.face != body_face for x in lines[:i])
            )
            if not starts:
                i += 1
                continue
            c = _candidate(b, bi, i, body, body_face)
            if c is not None:
                out.append(c)
                i = c.end
            else:
                i += 1
    return out


def _candidate(b: Block, bi: int, i: int, body: float, body_face: str) -> _Candidate | None:
    lines = b.lines
    ln = lines[i]
    if ln.top < body * 0.88 or ln.math_share > 0.3 or ln.note:
        return None
    text = ln.text
    end = i + 1
    only = LONE_NUMBER.match(text)
    if (
        only
        and end < len(lines)
        and _distinct(lines[end], body, body_face)
        and not LONE_NUMBER.match(lines[end].text)
    ):
        # The number on a line of its own, its title on the next.
        text = f"{only.group('label')} {lines[end].text}"
        ln = lines[end]
        end += 1
    m = NUMBERED.match(text)
    label = m.group("label") if m else None
    title = m.group("title").strip() if m else text.strip()
    rest = ""
    style = _style(ln)
    distinct = _distinct(ln, body, body_face)
    if not distinct:
        # Run-in: "3.2 Title. The paragraph goes on ..." with the title (and often the number)
        # in bold and the paragraph in the body's weight.
        k = 1 if LONE_NUMBER.match(ln.words[0].strip()) and len(ln.spans) > 1 else 0
        bold_from = k
        while k < len(ln.spans) and (is_bold(ln.spans[k]) or not ln.words[k].strip()):
            k += 1
        lead = join_spans(ln.spans[:k], ln.words[:k])
        rm = NUMBERED.match(lead)
        if k == bold_from or not rm or not lead.endswith((".", ":")) or len(lead) >= len(ln.text) - 2:
            return None
        label, title = rm.group("label"), rm.group("title").rstrip(".: ")
        rest = ln.text[len(lead) :].strip() if ln.text.startswith(lead) else ""
        distinct = True
        style = Style(round(ln.top * 2) / 2, True, False, "", face(ln.spans[bold_from]["font"]))
    # A title that wraps: the next lines in the same style and size belong to it.
    while (
        not rest
        and end < len(lines)
        and end - i < 3
        and _style(lines[end]) == style
        and distinct
        and len((title + " " + lines[end].text).split()) <= 16
        and not NUMBERED.match(lines[end].text)
    ):
        title = f"{title} {lines[end].text}"
        end += 1
    if not distinct and title.endswith("."):
        return None  # a sentence in the body's style: a list item, not a heading
    title = title.rstrip(" .:")
    if label is not None:
        paths = _paths(label)
        if not paths:
            return None
    else:
        paths = ()
    if not _titleish(title, label is not None) or _table_row(ln, skip_first=label is not None):
        return None
    alone = end == len(lines) or lines[end].bbox[1] - lines[end - 1].bbox[3] > 0.6 * ln.size
    if not distinct and not alone:
        return None
    return _Candidate(bi, i, end, label, title, style, distinct, alone, rest, paths)


def _consistent(cands: list[_Candidate]) -> list[tuple[_Candidate, Path_]]:
    """The numbered candidates whose numbers run on consistently, with the most weight: a
    candidate set in its level's most common style, or alone in its block, weighs more."""
    if not cands:
        return []
    cands = cands[:600]
    common: dict[int, collections.Counter[Style]] = collections.defaultdict(collections.Counter)
    for c in cands:
        for p in c.paths:
            common[_depth(p)][c.style] += 1
    usual = {d: counter.most_common(1)[0][0] for d, counter in common.items()}

    def weight(c: _Candidate, path: Path_) -> float:
        w = 1.0 + (0.5 if usual.get(_depth(path)) == c.style else 0.0) + (0.3 if c.alone else 0.0)
        return w - (0.6 if not c.distinct else 0.0)

    # states[i]: path reached by taking candidate i -> (score, previous state)
    states: list[dict[Path_, tuple[float, tuple[int, Path_] | None]]] = []
    best_end: tuple[float, tuple[int, Path_] | None] = (0.0, None)
    for i, c in enumerate(cands):
        here: dict[Path_, tuple[float, tuple[int, Path_] | None]] = {}
        for p in c.paths:
            step = _advance(None, p)
            if step is not None:
                path, pen = step
                score = weight(c, path) - pen
                if score > here.get(path, (float("-inf"), None))[0]:
                    here[path] = (score, None)
            for j in range(i):
                for prev_path, (prev_score, _) in states[j].items():
                    step = _advance(prev_path, p)
                    if step is None:
                        continue
                    path, pen = step
                    score = prev_score + weight(c, path) - pen
                    if score > here.get(path, (float("-inf"), None))[0]:
                        here[path] = (score, (j, prev_path))
        states.append(here)
        for path, (score, _) in here.items():
            if score > best_end[0]:
                best_end = (score, (i, path))
    chosen: list[tuple[_Candidate, Path_]] = []
    at = best_end[1]
    while at is not None:
        i, path = at
        chosen.append((cands[i], path))
        at = states[i][path][1]
    return list(reversed(chosen))


def _styles_without_numbers(
    cands: list[_Candidate], blocks: list[Block], body: float, title_block: int | None
) -> dict[int, Style]:
    """The level-one heading style of a paper without section numbers: the style its usual
    names are set in, else the most frequent distinct style of short lines over several pages."""
    named = collections.Counter(
        c.style for c in cands if c.distinct and normal_name(c.title) in USUAL - LEVEL_ONE
    )
    if named:
        return {1: named.most_common(1)[0][0]}
    title_style = None
    if title_block is not None:
        title_style = _style(blocks[title_block].lines[0])
    pages: dict[Style, set[int]] = collections.defaultdict(set)
    counts: collections.Counter[Style] = collections.Counter()
    for c in cands:
        if c.distinct and c.style != title_style and c.style.size >= body and c.title[:1].isupper():
            counts[c.style] += 1
            pages[c.style].add(blocks[c.block].page)
    for st, n in counts.most_common():
        if n >= 3 and len(pages[st]) >= 2:
            return {1: st}
    return {}
