"""Errors reading papers.

::

    PaperError
    └── PaperReadError    the file or id cannot be read as a paper (says why and what to do)
"""

from __future__ import annotations

from ..errors import SmolabError


class PaperError(SmolabError):
    pass


class PaperReadError(PaperError):
    pass
