"""One entry point for every kind of paper input."""

from __future__ import annotations

from pathlib import Path

from .errors import PaperReadError
from .latex import read_latex
from .model import Paper
from .pdf import read_pdf

ARCHIVES = (".tar", ".tar.gz", ".tgz", ".zip", ".gz")


def read_paper(source: str | Path) -> Paper:
    """Read a PDF, a .tex file or a LaTeX source archive by what the file holds, not only its name."""
    path = Path(source)
    if not path.exists():
        raise PaperReadError(f"{path} does not exist; give a .pdf, a .tex or a source archive")
    if path.is_dir():
        raise PaperReadError(f"{path} is a folder; give the paper's file")
    if path.stat().st_size == 0:
        raise PaperReadError(f"{path} is empty")
    head = path.read_bytes()[:1024]
    if b"%PDF-" in head:
        return read_pdf(path)
    if path.suffix == ".tex":
        return read_latex(path)
    if path.name.endswith(ARCHIVES) or head[:2] == b"\x1f\x8b" or head[:4] == b"PK\x03\x04":
        return read_latex(path)
    if path.suffix.lower() == ".pdf":
        return read_pdf(path)  # says precisely why it is not a PDF
    raise PaperReadError(f"{path} is neither a PDF nor LaTeX; give a .pdf, a .tex or a source archive")
