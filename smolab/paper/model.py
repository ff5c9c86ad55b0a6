"""The structured paper every reader produces, with where each piece came from."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, Field


class Source(BaseModel):
    """Where a piece came from: a 1-based PDF page and/or the section it sits in."""

    page: int | None = None
    section: str | None = None


class Equation(BaseModel):
    text: str
    """LaTeX where the source has it, best-effort text from a PDF."""
    latex: bool = False
    label: str | None = None
    source: Source = Field(default_factory=Source)
    context: str = ""
    """The paper's sentences around the display: the one that introduces it and the ones that
    say what its symbols are, verbatim ("" when the prose around it does neither)."""


class Table(BaseModel):
    caption: str = ""
    rows: list[list[str]] = Field(default_factory=list)
    source: Source = Field(default_factory=Source)


class Figure(BaseModel):
    caption: str
    source: Source = Field(default_factory=Source)


class Algorithm(BaseModel):
    caption: str = ""
    text: str
    source: Source = Field(default_factory=Source)


class Section(BaseModel):
    title: str
    number: str | None = None
    """"3.2.1" where the paper numbers it."""
    level: int = 1
    text: str = ""
    page: int | None = None
    children: list[Section] = Field(default_factory=list)

    def walk(self) -> Iterator[Section]:
        yield self
        for child in self.children:
            yield from child.walk()


class Paper(BaseModel):
    title: str = ""
    authors: list[str] = Field(default_factory=list)
    abstract: str = ""
    sections: list[Section] = Field(default_factory=list)
    equations: list[Equation] = Field(default_factory=list)
    tables: list[Table] = Field(default_factory=list)
    figures: list[Figure] = Field(default_factory=list)
    algorithms: list[Algorithm] = Field(default_factory=list)
    references: list[str] = Field(default_factory=list)
    pages: int | None = None
    origin: str = ""
    """The file, archive or arXiv id it was read from."""
    notices: list[str] = Field(default_factory=list)
    """What the reader could not find and how it made do, one line each."""

    def all_sections(self) -> list[Section]:
        return [s for top in self.sections for s in top.walk()]

    def full_text(self) -> str:
        """Abstract and every section's text, in reading order (what quotes are checked against)."""
        parts = [self.abstract] + [f"{s.title}\n{s.text}" for s in self.all_sections()]
        return "\n\n".join(p for p in parts if p)
