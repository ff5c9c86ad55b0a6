"""Paper reading: per PDF, what smolab's reader finds and how long it takes, side by side with
pypdf's plain text extraction of the same file in the same run (and, with --previous REF, with
the reader as it was at a git revision); then the Attention PDF against its LaTeX source.

    .venv/bin/python bench/paper.py [PDF ...] [--rounds 3] [--previous HEAD~5]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from smolab.paper import PaperReadError, read_latex, read_pdf

ROOT = Path(__file__).resolve().parents[1]
PAPERS = ROOT.parent / "shared" / "papers"

# Run inside another checkout: the same measures, from that revision's reader.
PROBE = """
import json, sys, time
from pathlib import Path
from smolab.paper import read_pdf
out = {}
for name in sys.argv[1:]:
    t = time.perf_counter()
    try:
        p = read_pdf(Path(name))
    except Exception as err:
        out[name] = {"error": str(err)[:80]}
        continue
    out[name] = {"seconds": time.perf_counter() - t, "top": len(p.sections), "all": len(p.all_sections()),
                 "equations": len(p.equations), "tables": len(p.tables), "abstract": bool(p.abstract)}
print(json.dumps(out))
"""


def norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def timed(fn: Any, rounds: int) -> tuple[float, Any]:
    samples, result = [], None
    for _ in range(rounds):
        t = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples), result


def pypdf_text(pdf: Path) -> str:
    import logging

    import pypdf

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # font warnings, one per page

    return "".join(page.extract_text() for page in pypdf.PdfReader(pdf).pages)


def previous(ref: str, pdfs: list[Path]) -> dict[str, dict[str, Any]]:
    """The reader at git revision ``ref``, in a temporary worktree and its own process."""
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "tree"
        git = ["git", "-C", str(ROOT), "worktree"]
        subprocess.run([*git, "add", "-q", "--detach", str(tree), ref], check=True)
        try:
            run = subprocess.run(
                [sys.executable, "-c", PROBE, *map(str, pdfs)],
                cwd=tree,
                env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
                capture_output=True,
                text=True,
                check=True,
            )
            return dict(json.loads(run.stdout))
        finally:
            subprocess.run([*git, "remove", "--force", str(tree)], check=False)


def per_pdf(pdfs: list[Path], rounds: int, before: dict[str, dict[str, Any]]) -> Table:
    t = Table(title=f"reading each PDF (median of {rounds} rounds)")
    cols = ("paper", "pages", "smolab s", "pypdf s", "ratio", "top / all sections", "eq", "tables", "notes")
    for col in cols:
        t.add_column(col, justify="left" if col in ("paper", "notes") else "right")
    if before:
        t.add_column("before: top / all / eq / tables", justify="right")
    for pdf in pdfs:
        pypdf_s = timed(lambda pdf=pdf: pypdf_text(pdf), rounds)[0]
        try:
            ours, paper = timed(lambda pdf=pdf: read_pdf(pdf), rounds)
            row = [
                f"{ours:.2f}",
                f"{pypdf_s:.2f}",
                f"{ours / pypdf_s:.1f}x",
                f"{len(paper.sections)} / {len(paper.all_sections())}",
                str(len(paper.equations)),
                f"{sum(bool(x.rows) for x in paper.tables)}/{len(paper.tables)}",
                "; ".join(n.split(": ", 1)[-1] for n in paper.notices)[:40],
            ]
            pages = str(paper.pages)
        except PaperReadError as err:
            row = ["refused", f"{pypdf_s:.2f}", "", "", "", "", str(err)[-40:]]
            pages = ""
        if before:
            b = before.get(str(pdf), {})
            row.append(
                "refused"
                if "error" in b
                else f"{b.get('top')} / {b.get('all')} / {b.get('equations')} / {b.get('tables')}"
            )
        t.add_row(pdf.name, pages, *row)
    return t


def against_latex(pdf: Path, tex: Path) -> Table:
    from_pdf, truth = read_pdf(pdf), read_latex(tex)
    want = [norm(s.title) for s in truth.all_sections()]
    got = {norm(s.title) for s in from_pdf.all_sections()}
    found = sum(x in got for x in want)
    exact = " ".join(from_pdf.abstract.split()) == " ".join(truth.abstract.split())
    missing = [s.title for s in truth.all_sections() if norm(s.title) not in got]
    t = Table(title=f"PDF reader against the LaTeX source: {pdf.name}")
    for col in ("measure", "found", "note"):
        t.add_column(col)
    t.add_row("section titles (recall)", f"{found}/{len(want)}", "missing: " + ", ".join(missing))
    t.add_row("abstract", "exact" if exact else "differs", "")
    t.add_row("display equations", f"{len(from_pdf.equations)} of {len(truth.equations)}", "")
    t.add_row("tables", f"{len(from_pdf.tables)} of {len(truth.tables)}", "")
    t.add_row("figure captions", f"{len(from_pdf.figures)} of {len(truth.figures)}", "")
    return t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pdfs", nargs="*", type=Path, help="default: every PDF under ../shared/papers")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--previous", metavar="REF", help="also read with the reader at this git revision")
    args = ap.parse_args()
    pdfs = args.pdfs or sorted(PAPERS.rglob("*.pdf"))
    console = Console(width=200)
    before = previous(args.previous, pdfs) if args.previous else {}
    console.print(per_pdf(pdfs, args.rounds, before))
    tex = PAPERS / "attention-is-all-you-need.tex"
    if tex.exists():
        console.print(against_latex(PAPERS / "attention-is-all-you-need.pdf", tex))


if __name__ == "__main__":
    main()
