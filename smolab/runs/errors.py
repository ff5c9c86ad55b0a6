from __future__ import annotations

from ..errors import SmolabError


class RunsError(SmolabError):
    """A run folder, the run index or an export that cannot be used as asked."""


class UnknownRun(RunsError):
    """No run has the id or folder given."""
