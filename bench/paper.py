"""Paper reading: what smolab's PDF reader finds against the LaTeX source, and its speed
against pypdf's plain text extraction on the same files, in the same run.

    .venv/bin/python bench/paper.py [--pdf PAPER.pdf --tex PAPER.tex] [--rounds 5]
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from smolab.paper import read_latex, read_pdf

PAPERS = Path(__file__).resolve().parents[1].parent / "shared" / "papers"


def norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def quality(pdf: Path, tex: Path) -> list[tuple[str, str, str, str]]:
    from_pdf, truth = read_pdf(pdf), read_latex(tex)
    want = [norm(s.title) for s in truth.all_sections()]
    got = {norm(s.title) for s in from_pdf.all_sections()}
    found = sum(t in got for t in want)
    exact = " ".join(from_pdf.abstract.split()) == " ".join(truth.abstract.split())
    missing = [s.title for s in truth.all_sections() if norm(s.title) not in got]
    return [
        (
            "section titles (recall)",
            f"{found}/{len(want)}",
            f"{found / len(want):.2f}",
            "missing: " + ", ".join(missing),
        ),
        ("abstract", "exact" if exact else "differs", "1.00" if exact else "0.00", ""),
        (
            "display equations",
            f"{len(from_pdf.equations)} of {len(truth.equations)}",
            "",
            "LaTeX: equation/align blocks",
        ),
        (
            "tables",
            f"{len(from_pdf.tables)} of {len(truth.tables)}",
            "",
            f"{sum(bool(t.rows) for t in from_pdf.tables)} with cells",
        ),
        ("figure captions", f"{len(from_pdf.figures)} of {len(truth.figures)}", "", ""),
        ("references", str(len(from_pdf.references)), "", "none in the .tex (bibliography is a .bbl)"),
    ]


def speed(pdfs: list[Path], rounds: int) -> dict[str, float]:
    import pymupdf
    import pypdf

    pages = sum(pymupdf.open(p).page_count for p in pdfs)

    def smolab() -> None:
        for p in pdfs:
            read_pdf(p)

    def pypdf_text() -> None:
        for p in pdfs:
            "".join(page.extract_text() for page in pypdf.PdfReader(p).pages)

    samples: dict[str, list[float]] = {"smolab (structure)": [], "pypdf (plain text)": []}
    for _ in range(rounds):  # interleaved, so drift hits both alike
        for name, fn in (("smolab (structure)", smolab), ("pypdf (plain text)", pypdf_text)):
            t = time.perf_counter()
            fn()
            samples[name].append(pages / (time.perf_counter() - t))
    return {k: statistics.median(v) for k, v in samples.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pdf", type=Path, default=PAPERS / "attention-is-all-you-need.pdf")
    ap.add_argument("--tex", type=Path, default=PAPERS / "attention-is-all-you-need.tex")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    console = Console(width=140)
    q = Table(title=f"PDF reader against the LaTeX source: {args.pdf.name}")
    for col in ("measure", "found", "score", "note"):
        q.add_column(col)
    for row in quality(args.pdf, args.tex):
        q.add_row(*row)
    console.print(q)
    s = speed([args.pdf], args.rounds)
    t = Table(title="reading speed, pages per second (median of interleaved rounds)")
    for col in ("reader", "pages/s", "vs pypdf"):
        t.add_column(col, justify="right")
    base = s["pypdf (plain text)"]
    for name, pps in s.items():
        t.add_row(name, f"{pps:.1f}", f"{pps / base:.2f}x")
    console.print(t)


if __name__ == "__main__":
    main()
