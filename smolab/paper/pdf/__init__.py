"""Reading paper PDFs with PyMuPDF alone, whatever the template."""

from .layout import join_lines, open_pdf
from .read import read_pdf

__all__ = ["join_lines", "open_pdf", "read_pdf"]
