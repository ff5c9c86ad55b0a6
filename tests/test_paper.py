"""Reading real papers (the Attention PDF and its LaTeX source) and refusing what is not one."""

from __future__ import annotations

import io
import re
import tarfile
import time
from pathlib import Path

import pymupdf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smolab.paper import PaperReadError, read_latex, read_paper, read_pdf
from smolab.paper.latex import parse_latex
from smolab.paper.pdf import join_lines

from .conftest import run_cli

PAPERS = Path(__file__).resolve().parents[1].parent / "shared" / "papers"
PDF = PAPERS / "attention-is-all-you-need.pdf"
TEX = PAPERS / "attention-is-all-you-need.tex"

pytestmark = pytest.mark.skipif(
    not PDF.exists(), reason="the shared example papers are not beside the project"
)


def norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


@pytest.fixture(scope="module")
def from_pdf():
    return read_pdf(PDF)


@pytest.fixture(scope="module")
def from_tex():
    return read_latex(TEX)


def test_pdf_finds_the_latex_section_titles(from_pdf, from_tex):
    want = [norm(s.title) for s in from_tex.all_sections()]
    got = {norm(s.title) for s in from_pdf.all_sections()}
    recall = sum(t in got for t in want) / len(want)
    assert recall >= 0.9
    numbered = {s.number: s.title for s in from_pdf.all_sections() if s.number}
    assert numbered["3.2.1"] == "Scaled Dot-Product Attention" and numbered["5.4"] == "Regularization"


def test_pdf_abstract_is_exact(from_pdf, from_tex):
    assert from_pdf.abstract == from_tex.abstract
    assert from_pdf.title == "Attention Is All You Need"


def test_pdf_equations_tables_figures_references(from_pdf, from_tex):
    assert len(from_pdf.equations) == len(from_tex.equations) == 5
    assert "softmax" in from_pdf.equations[0].text and from_pdf.equations[0].source.page == 4
    assert len(from_pdf.tables) == 4 and all(
        t.rows and t.caption.startswith("Table") for t in from_pdf.tables
    )
    bleu = from_pdf.tables[1]
    assert any("Transformer (big)" in " ".join(r) and "28.4" in " ".join(r) for r in bleu.rows)
    assert len(from_pdf.figures) == 5
    assert len(from_pdf.references) == 40 and from_pdf.references[0].startswith("[1] Jimmy Lei Ba")
    training = next(s for s in from_pdf.all_sections() if s.title == "Optimizer")
    assert training.page == 7 and "warmup_steps = 4000" in training.text.replace(" _ ", "_")


def test_running_heads_and_footnotes_are_not_prose(from_pdf):
    intro = from_pdf.all_sections()[0]
    assert not re.search(r"\n\d+\n", intro.text)
    assert "Conference on Neural Information Processing" not in from_pdf.abstract


def test_hyphenation_is_undone_but_compounds_kept():
    assert join_lines(["a trans-", "duction model"]) == "a transduction model"
    assert join_lines(["the English-", "to-German task"]) == "the English-to-German task"


def test_latex_is_exact_and_numbered(from_tex):
    assert from_tex.equations[0].text.startswith(r"\mathrm{Attention}(Q, K, V) = \mathrm{softmax}")
    assert r"\dmodel" in from_tex.equations[3].text  # macros kept as written
    numbers = [s.number for s in from_tex.all_sections()]
    assert numbers[:6] == ["1", "2", "3", "3.1", "3.2", "3.2.1"]
    assert from_tex.all_sections()[-1].number is None  # \section* is unnumbered
    assert len(from_tex.tables) == 4 and from_tex.tables[0].rows


def test_latex_follows_inputs_and_reads_archives(tmp_path):
    main = (
        "\\documentclass{article}\\title{Tiny}\\begin{document}\\begin{abstract}Short.\\end{abstract}"
        "\\input{sections/method}\\end{document}"
    )
    method = "\\section{Method}We use $x$. % a comment\n\\begin{equation}y = W x\\label{eq:y}\\end{equation}"
    (tmp_path / "sections").mkdir()
    (tmp_path / "main.tex").write_text(main)
    (tmp_path / "sections" / "method.tex").write_text(method)
    paper = read_latex(tmp_path / "main.tex")
    assert [s.title for s in paper.sections] == ["Method"]
    assert paper.equations[0].text == "y = W x" and paper.equations[0].label == "eq:y"
    archive = tmp_path / "src.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name, text in (("main.tex", main), ("sections/method.tex", method)):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    from_archive = read_paper(archive)
    assert from_archive.title == "Tiny" and from_archive.sections[0].title == "Method"


def test_latex_authors_are_names_without_footnotes():
    tex = (
        "\\documentclass{article}\\title{T}"
        "\\author{Ashish Vaswani\\thanks{Equal contribution. Listing order is random. Jakob proposed "
        "\\textbf{replacing} RNNs {with} attention.}\\\\ Google Brain\\\\ \\texttt{avaswani@google.com}"
        "\\And Noam Shazeer\\footnotemark[1]\\\\ Google Brain \\AND Aidan N. Gomez$^{\\dagger}$ \\\\ Toronto}"
        "\\begin{document}\\begin{abstract}A.\\end{abstract}\\section{Intro}x\\end{document}"
    )
    assert parse_latex(tex).authors == ["Ashish Vaswani", "Noam Shazeer", "Aidan N. Gomez"]
    one_line = "\\author{Alice Smith$^{1}$, Bob Jones$^{2}$ and Carol White$^{1,2}$ \\\\ $^1$Uni A}"
    assert parse_latex(
        tex.replace(tex[tex.index("\\author") : tex.index("\\begin{document}")], one_line)
    ).authors == [
        "Alice Smith",
        "Bob Jones",
        "Carol White",
    ]


def _one_line_error(r) -> str:
    assert r.returncode != 0 and "Traceback" not in r.stderr
    lines = [x for x in r.stderr.strip().splitlines() if x.strip()]
    assert len(lines) == 1, r.stderr
    return lines[0]


def test_cli_show_outline_and_json():
    r = run_cli("paper", "show", str(PDF), env={"COLUMNS": "200"})
    assert (
        r.returncode == 0
        and "Attention Is All You Need" in r.stdout
        and "3.2.1 Scaled Dot-Product" in r.stdout
    )
    r = run_cli("paper", "show", str(TEX), "--json")
    assert r.returncode == 0 and '"title": "Attention Is All You Need"' in r.stdout


def test_bad_inputs_get_one_line(tmp_path):
    fake = tmp_path / "fake.pdf"
    fake.write_text("just some text")
    assert "is not a PDF" in _one_line_error(run_cli("paper", "show", str(fake)))

    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    assert "is empty" in _one_line_error(run_cli("paper", "show", str(empty)))

    truncated = tmp_path / "truncated.pdf"
    truncated.write_bytes(PDF.read_bytes()[:30_000])
    assert "truncated" in _one_line_error(run_cli("paper", "show", str(truncated)))

    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), "A secret paper. " * 40)
    locked = tmp_path / "locked.pdf"
    doc.save(locked, encryption=pymupdf.PDF_ENCRYPT_AES_256, owner_pw="o", user_pw="u")
    assert "encrypted" in _one_line_error(run_cli("paper", "show", str(locked)))

    scan = pymupdf.open()
    for _ in range(3):
        p = scan.new_page()
        p.draw_rect(pymupdf.Rect(72, 72, 500, 700), color=(0, 0, 0), fill=(0.9, 0.9, 0.9))
    scanned = tmp_path / "scanned.pdf"
    scan.save(scanned)
    assert "OCR" in _one_line_error(run_cli("paper", "show", str(scanned)))

    memo = pymupdf.open()
    p = memo.new_page()
    y = 72
    for line in ["Shopping list for the week", *[f"item {i}: apples, pears and bread" for i in range(30)]]:
        p.insert_text((72, y), line)
        y += 14
    not_paper = tmp_path / "memo.pdf"
    memo.save(not_paper)
    # Any PDF with text reads; what could not be found is one line on stderr.
    r = run_cli("paper", "show", str(not_paper))
    assert r.returncode == 0 and "Page 1 p.1 (185 words)" in r.stdout
    assert [ln for ln in r.stderr.splitlines() if ln.strip()] == [
        "memo.pdf: no abstract; no section headings (the text is split by page); no title"
    ]

    assert "does not exist" in _one_line_error(run_cli("paper", "show", str(tmp_path / "nope.pdf")))
    notes = tmp_path / "notes.md"
    notes.write_text("# hi")
    assert "neither a PDF nor LaTeX" in _one_line_error(run_cli("paper", "show", str(notes)))


SEED_PDF = PDF.read_bytes() if PDF.exists() else b""


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(
    st.lists(
        st.tuples(st.integers(0, max(len(SEED_PDF) - 1, 0)), st.binary(min_size=1, max_size=64)), max_size=8
    ),
    # Mostly whole files with bytes overwritten (the reader gets deep), sometimes cut short.
    st.one_of(st.just(len(SEED_PDF)), st.integers(1000, max(len(SEED_PDF), 1001))),
)
def test_fuzzed_pdfs_give_a_paper_or_a_clear_error(tmp_path_factory, edits, cut):
    data = bytearray(SEED_PDF[:cut])
    for offset, chunk in edits:
        if offset < len(data):
            data[offset : offset + len(chunk)] = chunk
    path = tmp_path_factory.mktemp("fuzz") / "m.pdf"
    path.write_bytes(bytes(data))
    start = time.perf_counter()
    try:
        read_pdf(path)
    except PaperReadError as err:
        assert "\n" not in str(err)
    assert time.perf_counter() - start < 20  # no hang


def test_keyboard_symbols_in_computer_modern_read_as_the_fonts_math():
    from smolab.paper.pdf.glyphs import repair

    assert repair("\u2713", "ABCDEF+CMMI10") == "θ" and repair("\u21b5", "CMMI7") == "α"
    assert repair("\u21e0P", "CMSY10") == "∼P" and repair("\uf8ff", "CMSY7") == "≤"
    assert repair("kr", "CMSY10") == "‖∇" and repair("D2D", "CMSY10") == "D∈D"  # capitals stay
    assert repair("\u21e5 \u21e4", "CMEX10") == "[ ]" and repair("\u21e5", "CMSY10") == "×"
    assert repair("x\u2713", "CMR10") == "x\u2713"  # a text font's code 0x12 is an accent, kept
    assert repair("kr \u2713", "NimbusRomNo9L-Regu") == "kr \u2713"  # other fonts are honest


def _span(text, x0, x1, base, size=10.0, font="CMMI10"):
    return {
        "text": text,
        "bbox": (x0, base - 0.8 * size, x1, base + 0.2 * size),
        "origin": (x0, base),
        "size": size,
        "font": font,
    }


def test_display_layout_reads_fractions_limits_scripts_and_cases():
    from smolab.paper.pdf.display import linearize

    # z_c = (1/N) ∑_{i=1}^{N} x_i^2, set as TeX sets it: numerator and denominator off the
    # baseline, limits under and over a sign hung from its origin, small scripts.
    spans = [
        _span("z", 0, 5, 100),
        _span("c", 5, 8, 101.5, 7, "CMMI7"),
        _span(" =", 8, 18, 100, font="CMR10"),
        _span("1", 22, 27, 93, font="CMR10"),
        _span("N", 21, 29, 107),
        _span("X", 31, 45, 91.5, font="CMEX10"),
        _span("N", 35, 41, 88, 7, "CMMI7"),
        _span("i", 32, 35, 111, 7, "CMMI7"),
        _span("=1", 35, 44, 111, 7, "CMR7"),
        _span("x", 44, 50, 100),
        _span("i", 50, 53, 101.5, 7, "CMMI7"),
        _span("2", 50, 54, 96.4, 7, "CMR7"),
    ]
    from smolab.paper.pdf.glyphs import repair

    for s in spans:
        s["text"] = repair(s["text"], s["font"])
    assert linearize(spans) == "z_c = 1/N ∑_{i=1}^N x^2_i"
    cases = [
        _span("f(x) =", 0, 25, 100, font="CMR10"),
        _span("{", 27, 32, 100, font="CMEX10"),
        _span("x", 34, 39, 94),
        _span(" if x > 0", 45, 80, 94, font="CMR10"),
        _span("0", 34, 39, 106, font="CMR10"),
        _span(" otherwise", 45, 90, 106, font="CMR10"),
    ]
    assert linearize(cases) == "f(x) = {x if x > 0; 0 otherwise"
    accent = [_span("e", 0, 5, 100, font="CMEX10"), _span("x", 0, 5, 100)]
    accent[0]["text"] = repair("e", "CMEX10")
    assert linearize(accent) == "x\u0303"
