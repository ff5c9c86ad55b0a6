"""Papers in: PDF (PyMuPDF), LaTeX source or archive, into one structured :class:`Paper`."""

from .errors import PaperError, PaperReadError
from .latex import parse_latex, read_latex
from .model import Algorithm, Equation, Figure, Paper, Section, Source, Table
from .pdf import read_pdf
from .reader import read_paper

__all__ = [
    "Algorithm",
    "Equation",
    "Figure",
    "Paper",
    "PaperError",
    "PaperReadError",
    "Section",
    "Source",
    "Table",
    "parse_latex",
    "read_latex",
    "read_paper",
    "read_pdf",
]
