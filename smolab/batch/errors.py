from __future__ import annotations

from ..errors import SmolabError


class BatchError(SmolabError):
    """A batch that cannot run as asked: no items, a paper not found, a damaged manifest, no Ray."""
