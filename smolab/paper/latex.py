"""Reading a paper's LaTeX source: a .tex file, or a source archive (tar, tar.gz, zip).

``\\input`` and ``\\include`` are followed (relative to the main file); equations are
kept exactly as written, macros included; section numbers are counted the way
LaTeX counts them (starred sections are unnumbered).
"""

from __future__ import annotations

import gzip
import io
import re
import tarfile
import zipfile
from pathlib import Path, PurePosixPath

from .context import around
from .errors import PaperReadError
from .model import Algorithm, Equation, Figure, Paper, Section, Source, Table
from .notation import readable

SECTION = re.compile(r"\\(?P<kind>section|subsection|subsubsection)(?P<star>\*?)\s*(?:\[[^\]]*\])?\s*\{")
INPUT = re.compile(r"\\(?:input|include)\s*\{([^}]+)\}")
MATH_ENVS = (
    "equation",
    "equation*",
    "align",
    "align*",
    "eqnarray",
    "eqnarray*",
    "gather",
    "gather*",
    "multline",
    "multline*",
)
LEVEL = {"section": 1, "subsection": 2, "subsubsection": 3}


def _strip_comments(text: str) -> str:
    return re.sub(r"(?<!\\)%.*", "", text)


def _braced(text: str, start: int) -> tuple[str, int]:
    """The contents of the brace group opening at ``text[start] == '{'`` and the index after it."""
    depth = 0
    for i in range(start, len(text)):
        c = text[i]
        if c == "\\":
            continue
        if c == "{" and (i == 0 or text[i - 1] != "\\"):
            depth += 1
        elif c == "}" and text[i - 1] != "\\":
            depth -= 1
            if depth == 0:
                return text[start + 1 : i], i + 1
    raise PaperReadError("unbalanced braces in the LaTeX source; is the file complete?")


def _command_arg(text: str, name: str) -> str | None:
    m = re.search(r"\\" + name + r"\s*(?:\[[^\]]*\])?\s*\{", text)
    if not m:
        return None
    return _braced(text, m.end() - 1)[0]


def plain(tex: str) -> str:
    """LaTeX prose to readable text: commands dropped or unwrapped, math kept as written."""
    t = re.sub(
        r"\\(?:cite[pt]?|citep|citet|ref|eqref|label|footnote|url)\s*(?:\[[^\]]*\])?\{[^{}]*\}", "", tex
    )
    t = re.sub(r"\\(?:emph|textbf|textit|texttt|textsc|mathrm|text)\{([^{}]*)\}", r"\1", t)
    t = re.sub(r"\\begin\{[^}]*\}|\\end\{[^}]*\}", "", t)
    t = t.replace("~", " ").replace("\\\\", "\n").replace("``", '"').replace("''", '"')
    t = re.sub(r"\\([%&$#_])", r"\1", t)
    return re.sub(r"[ \t]+", " ", re.sub(r"\n{3,}", "\n\n", t)).strip()


_ENVS = "|".join(re.escape(e) for e in MATH_ENVS)
_AFTER_ENDS = re.compile(r"\\(?:sub)*section\*?\s*\{|\\paragraph\s*\{|\\begin\{(?:" + _ENVS + r")\}|\\\[")
_BEFORE_STARTS = re.compile(r"\\end\{(?:" + _ENVS + r")\}|\\\]")


def _context(body: str, start: int, end: int, reach: int = 800) -> str:
    """The prose around the display at ``body[start:end]``, up to the neighbouring displays."""
    before = body[max(0, start - reach) : start]
    after = body[end : end + reach]
    # Stop at a heading, the next display and the previous one: their text is not prose.
    after = _AFTER_ENDS.split(after)[0]
    before = _BEFORE_STARTS.split(before)[-1]
    # A display directly after another has no lead-in of its own.
    said = around(plain(before) if before.strip() else "", plain(after))
    return re.sub(r"\$([^$]+)\$", lambda m: readable(m.group(1)), said)


def _expand_inputs(text: str, files: dict[str, str], base: PurePosixPath, depth: int = 0) -> str:
    if depth > 10:
        raise PaperReadError("\\input nesting deeper than 10 levels; is there a loop?")

    def repl(m: re.Match[str]) -> str:
        name = m.group(1).strip()
        for cand in (name, name + ".tex"):
            key = str(base / cand).lstrip("./") if str(base) != "." else cand
            key = str(PurePosixPath(key))
            if key in files:
                return _expand_inputs(_strip_comments(files[key]), files, base, depth + 1)
        return ""  # a missing include (figures, generated tables) is left out, as LaTeX would fail on it

    return INPUT.sub(repl, text)


def _main_file(files: dict[str, str]) -> str:
    tex = [n for n in files if n.endswith(".tex")]
    if not tex:
        raise PaperReadError("the source archive holds no .tex file")
    with_doc = [n for n in tex if "\\begin{document}" in files[n]] or [
        n for n in tex if "\\documentclass" in files[n]
    ]
    candidates = with_doc or tex
    return max(candidates, key=lambda n: len(files[n]))


def _is_tar(data: bytes) -> bool:
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            tar.next()
        return True
    except (tarfile.TarError, EOFError, OSError):
        return False


def _archive_files(path: Path) -> dict[str, str]:
    data = path.read_bytes()
    files: dict[str, str] = {}
    try:
        if zipfile.is_zipfile(io.BytesIO(data)):
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                for info in z.infolist():
                    if info.filename.endswith((".tex", ".bbl")) and info.file_size < 20_000_000:
                        files[info.filename] = z.read(info).decode("utf-8", errors="replace")
            return files
        if data[:2] == b"\x1f\x8b" and not _is_tar(data):
            # a one-file submission: a gzipped .tex (how arXiv serves those)
            files[path.name.removesuffix(".gz").removesuffix(".tex") + ".tex"] = gzip.decompress(data).decode(
                "utf-8", errors="replace"
            )
            return files
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            for member in tar.getmembers():
                if member.isfile() and member.name.endswith((".tex", ".bbl")) and member.size < 20_000_000:
                    f = tar.extractfile(member)
                    if f is not None:
                        files[str(PurePosixPath(member.name))] = f.read().decode("utf-8", errors="replace")
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError, gzip.BadGzipFile) as err:
        raise PaperReadError(f"{path} is not a readable source archive ({err})") from err
    return files


def _drop_command(text: str, name: str) -> str:
    """``text`` without ``\\name[opt]{...}`` (nested braces included)."""
    pattern = re.compile(r"\\" + name + r"\s*(?:\[[^\]]*\])?\s*\{")
    while m := pattern.search(text):
        _, end = _braced(text, m.end() - 1)
        text = text[: m.start()] + text[end:]
    return text


def _authors(raw: str) -> list[str]:
    """Names only: footnotes (\\thanks), marks, affiliations and e-mail lines dropped."""
    for name in ("thanks", "footnote", "inst", "orcidID", "textsuperscript", "affil", "email", "url"):
        raw = _drop_command(raw, name)
    raw = re.sub(r"\\footnotemark(?:\[[^\]]*\])?|\\(?:IEEEauthorrefmark|dag|ddag|ast)\{?[^}\s]*\}?", "", raw)
    raw = re.sub(r"\$[^$]*\$", "", raw)
    names: list[str] = []
    for part in re.split(r"\\and\b", raw, flags=re.I):
        first = next((ln.strip() for ln in plain(part).split("\n") if ln.strip()), "")
        first = re.sub(r"[*†‡§¶\d,]+$", "", first).strip()
        pieces = [p.strip() for p in re.split(r",|\band\b", first) if p.strip()]
        looks_like_names = all(1 <= len(p.split()) <= 4 and p[:1].isupper() for p in pieces)
        names += pieces if looks_like_names else [first] if first else []
    return [n for n in names if n and "@" not in n][:50]


def read_latex(path: Path) -> Paper:
    """A .tex file, or an arXiv-style source archive."""
    try:
        if path.suffix == ".tex":
            files = {path.name: path.read_text(errors="replace")}
            for other in path.parent.rglob("*.tex"):
                files.setdefault(str(other.relative_to(path.parent)), other.read_text(errors="replace"))
            main = path.name
        else:
            files = _archive_files(path)
            main = _main_file(files)
    except OSError as err:
        raise PaperReadError(f"cannot read {path}: {err.strerror}") from err
    text = _expand_inputs(_strip_comments(files[main]), files, PurePosixPath(main).parent)
    bbl = next((v for k, v in files.items() if k.endswith(".bbl")), "")
    return parse_latex(text, origin=str(path), bbl=bbl)


def parse_latex(text: str, origin: str = "", bbl: str = "") -> Paper:
    body = text.split("\\begin{document}", 1)[-1].split("\\end{document}", 1)[0]
    if not SECTION.search(body) and "\\begin{abstract}" not in body:
        raise PaperReadError(
            f"{origin or 'the LaTeX source'} has no sections and no abstract; is it a paper?"
        )
    paper = Paper(origin=origin)
    paper.title = plain(_command_arg(text, "title") or "")
    paper.authors = _authors(_command_arg(text, "author") or "")
    m = re.search(r"\\begin\{abstract\}(.*?)\\end\{abstract\}", body, re.S)
    paper.abstract = " ".join(plain(m.group(1)).split()) if m else ""

    heads = list(SECTION.finditer(body))
    counters = [0, 0, 0]
    stack: list[Section] = []
    for i, h in enumerate(heads):
        title, after = _braced(body, h.end() - 1)
        end = heads[i + 1].start() if i + 1 < len(heads) else len(body)
        level = LEVEL[h.group("kind")]
        number = None
        if not h.group("star"):
            counters[level - 1] += 1
            for j in range(level, 3):
                counters[j] = 0
            number = ".".join(str(c) for c in counters[:level])
        sec = Section(title=plain(title), number=number, level=level, text=plain(body[after:end]))
        while stack and stack[-1].level >= level:
            stack.pop()
        (stack[-1].children if stack else paper.sections).append(sec)
        stack.append(sec)

    def section_at(pos: int) -> str | None:
        current = None
        for h in heads:
            if h.start() > pos:
                break
            current = plain(_braced(body, h.end() - 1)[0])
        return current

    for env in MATH_ENVS:
        pattern = re.compile(r"\\begin\{" + re.escape(env) + r"\}(.*?)\\end\{" + re.escape(env) + r"\}", re.S)
        for m in pattern.finditer(body):
            label = re.search(r"\\label\{([^}]*)\}", m.group(1))
            eq_text = re.sub(r"\\label\{[^}]*\}", "", m.group(1)).strip()
            paper.equations.append(
                Equation(
                    text=eq_text,
                    latex=True,
                    label=label.group(1) if label else None,
                    source=Source(section=section_at(m.start())),
                    context=_context(body, m.start(), m.end()),
                )
            )
    for m in re.finditer(r"\\\[(.*?)\\\]", body, re.S):
        paper.equations.append(
            Equation(
                text=m.group(1).strip(),
                latex=True,
                source=Source(section=section_at(m.start())),
                context=_context(body, m.start(), m.end()),
            )
        )
    paper.equations.sort(key=lambda e: body.find(e.text))

    for m in re.finditer(r"\\begin\{table\*?\}(.*?)\\end\{table\*?\}", body, re.S):
        block = m.group(1)
        caption = plain(_command_arg(block, "caption") or "")
        tab = re.search(r"\\begin\{tabular\*?\}(?:\{[^}]*\})+(.*?)\\end\{tabular\*?\}", block, re.S)
        rows = []
        if tab:
            for raw in re.split(r"\\\\", tab.group(1)):
                raw = re.sub(r"\\(?:hline|toprule|midrule|bottomrule|cline\{[^}]*\})", "", raw).strip()
                if raw:
                    rows.append([plain(c) for c in raw.split("&")])
        paper.tables.append(Table(caption=caption, rows=rows, source=Source(section=section_at(m.start()))))
    for m in re.finditer(r"\\begin\{figure\*?\}(.*?)\\end\{figure\*?\}", body, re.S):
        fig_caption = _command_arg(m.group(1), "caption")
        if fig_caption:
            paper.figures.append(
                Figure(caption=plain(fig_caption), source=Source(section=section_at(m.start())))
            )
    for m in re.finditer(r"\\begin\{algorithm\*?\}(.*?)\\end\{algorithm\*?\}", body, re.S):
        paper.algorithms.append(
            Algorithm(caption=plain(_command_arg(m.group(1), "caption") or ""), text=m.group(1).strip())
        )
    refs_src = bbl or body
    paper.references = [" ".join(plain(r).split()) for r in re.split(r"\\bibitem", refs_src)[1:]]
    return paper
