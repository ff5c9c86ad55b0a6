"""The PDF reader on layouts made here: headings in bold, capitals, small capitals, sans serif,
with the number on its own line, run-in, or unnumbered; one and two columns; no structure at
all; and a reader's notes on the page."""

from __future__ import annotations

import re

import pymupdf
import pytest

from smolab.paper import read_pdf

from .conftest import run_cli
from .paperpdf import PROSE, Item, Layout, make_paper, standard_paper

TOP = ["Introduction", "Related Work", "Method", "Experiments", "Conclusion"]


def squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


@pytest.mark.parametrize("columns", [1, 2])
@pytest.mark.parametrize("heading", ["bold", "caps", "smallcaps", "sans", "numberline", "runin"])
def test_headings_in_any_style_are_found_in_order(tmp_path, heading, columns):
    path = make_paper(tmp_path / "p.pdf", standard_paper(Layout(heading=heading, columns=columns)))
    paper = read_pdf(path)
    assert paper.title == "Gated Residual Blocks for Small Networks"
    assert paper.abstract.startswith("Residual networks train well but waste capacity in small models.")
    assert [squash(s.title) for s in paper.sections] == [squash(t) for t in TOP]
    assert [s.number for s in paper.sections] == ["1", "2", "3", "4", "5"]
    method = paper.sections[2]
    assert [(s.number, squash(s.title)) for s in method.children] == [
        ("3.1", "gating"),
        ("3.2", "trainingobjective"),
    ]
    # The numbered list and the table's cells ("1 layer", "2 Baseline") are not sections.
    assert "We propose a gate for each block" in paper.sections[0].text
    assert len(paper.equations) == 2 and "(1)" in paper.equations[0].text
    assert not paper.notices
    if heading == "runin":  # the run-in heading's paragraph goes on in its section
        assert method.children[0].text.startswith("We study a simple change")


def test_a_review_copy_with_numbered_lines(tmp_path):
    paper = read_pdf(make_paper(tmp_path / "p.pdf", standard_paper(Layout(columns=2, line_numbers=True))))
    assert [s.number for s in paper.all_sections()] == ["1", "2", "3", "3.1", "3.2", "4", "5"]
    assert paper.sections[0].text.startswith("We study a simple change")  # no margin numbers
    assert paper.abstract.startswith("Residual networks train well")


def test_small_capitals_are_recased(tmp_path):
    path = make_paper(tmp_path / "p.pdf", standard_paper(Layout(heading="smallcaps")))
    titles = [s.title for s in read_pdf(path).all_sections()]
    assert "Related Work" in titles and "Training Objective" in titles


def test_run_in_abstract_and_unnumbered_headings(tmp_path):
    layout = Layout(heading="plain", abstract="runin")
    layout.items = [
        Item("title", "A Paper Without Section Numbers"),
        Item("authors", "Grace Hopper"),
        Item("abstract", "We describe a compiler for small models. " + PROSE),
        Item("heading", "Introduction"),
        Item("para", PROSE),
        Item("heading", "Approach"),
        Item("para", PROSE),
        Item("heading", "Gated Blocks in Practice"),
        Item("para", PROSE),
        Item("heading", "Results"),
        Item("para", PROSE),
        Item("heading", "Conclusion"),
        Item("para", PROSE),
    ]
    paper = read_pdf(make_paper(tmp_path / "p.pdf", layout))
    assert paper.abstract.startswith("We describe a compiler for small models.")
    assert [s.title for s in paper.sections] == [
        "Introduction",
        "Approach",
        "Gated Blocks in Practice",
        "Results",
        "Conclusion",
    ]
    assert all(s.number is None for s in paper.sections)


def test_no_structure_reads_page_by_page_with_a_notice(tmp_path):
    doc = pymupdf.open()
    for _ in range(2):
        page = doc.new_page()
        y = 72
        for _ in range(2):  # two paragraphs a page
            for line in re.findall(r".{1,80}(?:\s|$)", PROSE * 2):
                page.insert_text((72, y), line.strip(), fontname="tiro", fontsize=10)
                y += 12
            y += 14
    path = tmp_path / "notes.pdf"
    doc.save(path)
    paper = read_pdf(path)
    # The first paragraph stands in for the abstract; the rest reads page by page.
    assert paper.abstract.startswith("We study a simple change")
    assert [s.title for s in paper.sections] == ["Page 1", "Page 2"]
    assert "the mean of three runs" in paper.sections[1].text
    assert len(paper.notices) == 1 and "no section headings" in paper.notices[0]
    r = run_cli("paper", "show", str(path))
    assert r.returncode == 0 and "Page 2" in r.stdout
    notice = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(notice) == 1 and "notes.pdf: " in notice[0] and "split by page" in notice[0]


def test_a_readers_notes_are_not_the_paper(tmp_path):
    path = make_paper(tmp_path / "p.pdf", standard_paper(Layout(heading="bold")))
    clean = read_pdf(path)
    doc = pymupdf.open(path)
    page = doc[0]
    note = "这里使用门控有两点不同 a reader's own remark"
    page.add_freetext_annot(pymupdf.Rect(300, 300, 540, 360), note, fontsize=9)
    page.add_text_annot((80, 400), "sticky note text")
    hits = page.search_for("Residual networks")
    page.add_highlight_annot(hits[0])
    annotated = tmp_path / "annotated.pdf"
    doc.save(annotated)
    assert "a reader's own remark" in pymupdf.open(annotated)[0].get_text()  # MuPDF reads notes as text
    paper = read_pdf(annotated)
    assert paper.model_dump(exclude={"origin"}) == clean.model_dump(exclude={"origin"})
    assert pymupdf.open(annotated)[0].first_annot is not None  # the file itself is untouched
