"""Errors of the reproduce pipeline.

::

    ReproduceError
    ├── RunFolderError     the output folder cannot hold this run (says why and what to do)
    └── NothingToImplement the paper describes no method to implement
"""

from __future__ import annotations

from ..errors import SmolabError


class ReproduceError(SmolabError):
    pass


class RunFolderError(ReproduceError):
    pass


class NothingToImplement(ReproduceError):
    pass
