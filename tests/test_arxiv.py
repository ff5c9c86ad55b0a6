"""Papers by arXiv id, fetched from a real HTTP server standing in for arxiv.org."""

from __future__ import annotations

import gzip
import io
import socket
import tarfile
from collections import deque
from pathlib import Path

import pytest

from smolab.paper import PaperReadError, read_paper
from smolab.paper.arxiv import ArxivClient, parse_arxiv_id

from .conftest import run_cli
from .servers import ArxivHandler, ArxivPapers, serve

PAPERS = Path(__file__).resolve().parents[1].parent / "shared" / "papers"
PDF = PAPERS / "attention-is-all-you-need.pdf"
TEX = PAPERS / "attention-is-all-you-need.tex"
TITLE = "Attention Is All You Need"

needs_papers = pytest.mark.skipif(not PDF.exists(), reason="the shared example papers are not here")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1706.03762", "1706.03762"),
        ("1706.03762v7", "1706.03762v7"),
        ("arXiv:1706.03762", "1706.03762"),
        ("  arxiv:2401.12345v2 ", "2401.12345v2"),
        ("https://arxiv.org/abs/1706.03762", "1706.03762"),
        ("https://arxiv.org/pdf/1706.03762v7", "1706.03762v7"),
        ("http://export.arxiv.org/abs/1706.03762", "1706.03762"),
        ("arxiv.org/pdf/1706.03762.pdf", "1706.03762"),
        ("https://arxiv.org/e-print/2401.12345", "2401.12345"),
        ("hep-th/9901001", "hep-th/9901001"),
        ("https://arxiv.org/abs/math.GT/0309136v1", "math.GT/0309136v1"),
        ("1706.03762.pdf", "1706.03762"),
        ("paper.pdf", None),
        ("1706.037", None),
        ("https://example.com/abs/1706.03762", None),
        ("https://arxiv.org/list/cs.LG/recent", None),
        ("", None),
    ],
)
def test_arxiv_ids_and_urls(text, expected):
    assert parse_arxiv_id(text) == expected


def _tar_gz(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _split_source() -> bytes:
    """The Attention source as a multi-file archive: the model section moved to its own file."""
    tex = TEX.read_text()
    start = tex.index("\\section{Model Architecture}")
    end = tex.index("\\section{Why Self-Attention}")
    main = tex[:start] + "\\input{sections/model}\n" + tex[end:]
    return _tar_gz({"ms.tex": main, "sections/model.tex": tex[start:end], "fig.png": "not text"})


def client(url: str, tmp_path: Path, interval: float = 0.0) -> ArxivClient:
    return ArxivClient(tmp_path / "cache", base_url=url, interval=interval, timeout=10, retries=2)


@needs_papers
def test_source_archive_is_fetched_once_then_read_from_the_cache(tmp_path):
    papers = ArxivPapers(sources={"1706.03762": _split_source()}, pdfs={"1706.03762": PDF.read_bytes()})
    with serve(ArxivHandler, arxiv=papers) as url:
        c = client(url, tmp_path)
        seen: list[tuple[int, int | None]] = []
        abs_url = "https://arxiv.org/abs/1706.03762"
        paper = read_paper(abs_url, arxiv=c, progress=lambda d, t: seen.append((d, t)))
        again = read_paper("arXiv:1706.03762", arxiv=c)
    assert paper.title == TITLE and again.title == TITLE
    assert paper.origin == "arXiv:1706.03762"
    titles = [s.title for s in paper.all_sections()]
    assert "Scaled Dot-Product Attention" in titles  # from the \input file
    assert any("\\mathrm{softmax}" in e.text for e in paper.equations)  # LaTeX, exact
    assert [r[1] for r in papers.requests] == ["/e-print/1706.03762"]  # the second read used the cache
    assert "smolab" in papers.requests[0][2]["user-agent"]
    assert seen and seen[-1][0] == len(papers.sources["1706.03762"])
    assert (tmp_path / "cache" / "1706.03762" / "source.tar.gz").is_file()
    assert not list((tmp_path / "cache").rglob("*.part"))


@needs_papers
def test_a_paper_without_source_is_read_from_its_pdf(tmp_path):
    papers = ArxivPapers(pdfs={"1706.03762v7": PDF.read_bytes()})
    with serve(ArxivHandler, arxiv=papers) as url:
        paper = read_paper("1706.03762v7", arxiv=client(url, tmp_path))
    assert paper.title == TITLE
    assert paper.pages == 15
    assert (tmp_path / "cache" / "1706.03762v7" / "paper.pdf").is_file()


@needs_papers
def test_a_one_file_submission_served_as_gzipped_tex(tmp_path):
    papers = ArxivPapers(sources={"1706.03762": gzip.compress(TEX.read_bytes())})
    with serve(ArxivHandler, arxiv=papers) as url:
        paper = read_paper("1706.03762", arxiv=client(url, tmp_path))
    assert paper.title == TITLE
    assert len(paper.equations) >= 3


@needs_papers
def test_an_unreadable_source_falls_back_to_the_pdf(tmp_path):
    papers = ArxivPapers(
        sources={"1706.03762": _tar_gz({"README": "figures only"})}, pdfs={"1706.03762": PDF.read_bytes()}
    )
    notices: list[str] = []
    with serve(ArxivHandler, arxiv=papers) as url:
        paper = read_paper("1706.03762", arxiv=client(url, tmp_path), notice=notices.append)
    assert paper.title == TITLE and paper.pages == 15
    assert [r[1] for r in papers.requests] == ["/e-print/1706.03762", "/pdf/1706.03762"]
    assert len(notices) == 1 and "reading the PDF instead" in notices[0]


def test_an_unknown_id_says_so(tmp_path):
    with serve(ArxivHandler, arxiv=ArxivPapers()) as url, pytest.raises(PaperReadError) as err:
        read_paper("2999.99999", arxiv=client(url, tmp_path))
    assert "arXiv has no paper 2999.99999" in str(err.value)
    assert not list((tmp_path / "cache").rglob("download*"))


def test_an_answer_that_is_not_a_paper_is_refused(tmp_path):
    papers = ArxivPapers(sources={"2401.00001": b"<html><body>Please log in</body></html>"})
    with serve(ArxivHandler, arxiv=papers) as url, pytest.raises(PaperReadError, match="not return a PDF"):
        read_paper("2401.00001", arxiv=client(url, tmp_path))


@needs_papers
def test_requests_are_spaced_by_the_interval_across_clients(tmp_path):
    papers = ArxivPapers(pdfs={"1706.03762": PDF.read_bytes(), "1706.03763": PDF.read_bytes()})
    with serve(ArxivHandler, arxiv=papers) as url:
        # two clients sharing one cache folder stand in for two smolab processes
        client(url, tmp_path, interval=0.5).fetch("1706.03762")
        client(url, tmp_path, interval=0.5).fetch("1706.03763")
    times = [r[0] for r in papers.requests]
    assert len(times) == 2
    assert times[1] - times[0] >= 0.45


@needs_papers
def test_busy_answers_are_retried_after_retry_after(tmp_path):
    papers = ArxivPapers(
        sources={"1706.03762": _split_source()}, failures=deque([(503, {"Retry-After": "0.3"}), (429, {})])
    )
    with serve(ArxivHandler, arxiv=papers) as url:
        got = client(url, tmp_path, interval=0.1).fetch("1706.03762")
    assert got.kind == "source"
    times = [r[0] for r in papers.requests]
    assert len(times) == 3
    assert times[1] - times[0] >= 0.28  # waited as told
    assert times[2] - times[1] >= 0.09  # the interval, at least


@needs_papers
def test_a_cut_download_is_retried_and_leaves_no_partial_file(tmp_path):
    papers = ArxivPapers(sources={"1706.03762": _split_source()}, cuts=1)
    with serve(ArxivHandler, arxiv=papers) as url:
        got = client(url, tmp_path).fetch("1706.03762")
    assert got.path.read_bytes() == papers.sources["1706.03762"]
    assert len(papers.requests) == 2
    assert not list((tmp_path / "cache").rglob("*.part"))


def _closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def test_offline_without_the_paper_in_the_cache(tmp_path):
    with pytest.raises(PaperReadError) as err:
        read_paper("1706.03762", arxiv=client(_closed_port(), tmp_path))
    message = str(err.value)
    assert "cannot reach" in message and "not in the cache" in message and "\n" not in message


@needs_papers
def test_offline_refresh_uses_the_cache_and_says_so(tmp_path):
    papers = ArxivPapers(sources={"1706.03762": _split_source()})
    with serve(ArxivHandler, arxiv=papers) as url:
        read_paper("1706.03762", arxiv=client(url, tmp_path))
    notices: list[str] = []
    offline = client(_closed_port(), tmp_path)
    paper = read_paper("1706.03762", arxiv=offline, refresh=True, notice=notices.append)
    assert paper.title == TITLE
    assert len(notices) == 1 and notices[0].startswith("offline") and "cached on" in notices[0]


@needs_papers
def test_cli_reads_an_arxiv_id_through_the_configured_server(tmp_path):
    papers = ArxivPapers(sources={"1706.03762": _split_source()})
    env = {"SMOLAB_HOME": str(tmp_path / "home"), "SMOLAB_ARXIV_INTERVAL": "0"}
    with serve(ArxivHandler, arxiv=papers) as url:
        env["SMOLAB_ARXIV_URL"] = url
        shown = run_cli("paper", "show", "arXiv:1706.03762", env=env)
        unknown = run_cli("paper", "show", "2999.99999", env=env)
    assert shown.returncode == 0, shown.stderr
    assert TITLE in shown.stdout and "Scaled Dot-Product Attention" in shown.stdout
    assert (tmp_path / "home" / "papers" / "arxiv" / "1706.03762" / "meta.json").is_file()
    assert unknown.returncode == 1
    lines = unknown.stderr.strip().splitlines()
    assert len(lines) == 1 and "arXiv has no paper 2999.99999" in lines[0]
    offline = run_cli("paper", "show", "2401.00002", env={**env, "SMOLAB_ARXIV_URL": _closed_port()})
    assert offline.returncode == 1
    assert len(offline.stderr.strip().splitlines()) == 1 and "cannot reach" in offline.stderr


def test_reproduce_fetches_an_arxiv_paper_through_the_client_it_is_given(tmp_path):
    """The pipeline reads settings from nowhere: the caller's client fetches the paper, and its
    download progress reaches the caller (the CLI's bar)."""
    from smolab.reproduce import Options, Pipeline, RunDir

    from .scripted_author import PAPER_TEX, Author, author_model

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        data = PAPER_TEX.encode()
        info = tarfile.TarInfo("main.tex")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    papers = ArxivPapers(sources={"2401.00002": buf.getvalue()}, pdfs={})
    seen: list[int] = []
    with serve(ArxivHandler, arxiv=papers) as url:
        run = RunDir.open(tmp_path / "repo", "2401.00002", "scripted", resume=False, force=False)
        options = Options(arxiv=client(url, tmp_path), download=lambda done, total: seen.append(done))
        paper = Pipeline(run, author_model(Author()), "2401.00002", options).read()
    assert paper.origin == "arXiv:2401.00002" and paper.equations
    assert seen and seen[-1] == len(buf.getvalue())
    # Without a client, an arXiv id is refused with what to pass (no settings read behind the back).
    with pytest.raises(PaperReadError, match="ArxivClient"):
        read_paper("2401.00002")
