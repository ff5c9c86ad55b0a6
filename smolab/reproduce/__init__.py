"""The paper → repository pipeline (``smolab reproduce``) and its judge (``smolab judge``)."""

from .errors import NothingToImplement, ReproduceError, RunFolderError
from .options import Options
from .pipeline import Pipeline, reproduce
from .rundir import RunDir

__all__ = [
    "NothingToImplement",
    "Options",
    "Pipeline",
    "ReproduceError",
    "RunDir",
    "RunFolderError",
    "reproduce",
]
