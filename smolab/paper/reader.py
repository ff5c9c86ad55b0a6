"""One entry point for every kind of paper input: a file, or an arXiv id or URL."""

from __future__ import annotations

from pathlib import Path

from .arxiv import ArxivClient, Notice, Progress, parse_arxiv_id
from .errors import PaperReadError
from .latex import read_latex
from .model import Paper
from .pdf import read_pdf

ARCHIVES = (".tar", ".tar.gz", ".tgz", ".zip", ".gz")


def read_paper(
    source: str | Path,
    *,
    arxiv: ArxivClient | None = None,
    refresh: bool = False,
    progress: Progress | None = None,
    notice: Notice | None = None,
) -> Paper:
    """Read a PDF, a .tex file, a LaTeX source archive, or an arXiv paper by id or URL.

    Files are read by what they hold, not only their name. An existing file wins over an
    arXiv id of the same spelling."""
    path = Path(source)
    if not path.exists():
        arxiv_id = parse_arxiv_id(str(source))
        if arxiv_id:
            if arxiv is None:
                raise PaperReadError(
                    f"{source} is an arXiv id; pass an ArxivClient (ArxivClient.from_settings) to fetch it"
                )
            return read_arxiv(arxiv_id, arxiv, refresh, progress, notice)
        raise PaperReadError(
            f"{path} does not exist; give a .pdf, a .tex, a source archive or an arXiv id (like 1706.03762)"
        )
    return read_file(path)


def read_file(path: Path) -> Paper:
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


def read_arxiv(
    arxiv_id: str,
    client: ArxivClient,
    refresh: bool = False,
    progress: Progress | None = None,
    notice: Notice | None = None,
) -> Paper:
    """The LaTeX source when arXiv has a usable one (equations exact), else the PDF."""
    got = client.fetch(arxiv_id, "source", refresh, progress, notice)
    if got.kind == "source":
        try:
            paper = read_file(got.path)
        except PaperReadError as err:
            if notice:
                notice(f"arXiv {arxiv_id}: the source cannot be read ({err}); reading the PDF instead")
            got = client.fetch(arxiv_id, "pdf", refresh, progress, notice)
            paper = read_file(got.path)
    else:
        paper = read_file(got.path)
    paper.origin = f"arXiv:{arxiv_id}"
    return paper
