"""What a reproduce run may spend and whom it tells: the options a caller passes in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..paper.arxiv import ArxivClient
from ..sandbox import Limits
from ..skills import SkillStore
from ..skills.select import Outcome
from .agent_repair import AgentRepair

Progress = Callable[[str, int, int], None]
"""Called with (stage, steps done, steps in the stage)."""


@dataclass
class Options:
    budget: int | None = None
    """Tokens for the digest; by default a sixth of the model's window, at most 2,000."""
    repair_rounds: int = 2
    fresh_attempts: int = 4
    """Fresh method modules sampled when repair leaves a blueprint's method failing."""
    reference_samples: int = 2
    """Further references sampled when the method disagrees with the first (see ``agree.py``)."""
    limits: Limits | None = None
    progress: Progress | None = None
    arxiv: ArxivClient | None = None
    """Fetches the paper when it is given as an arXiv id."""
    download: Callable[[int, int | None], None] | None = None
    """Called with (bytes so far, total or None) while the paper downloads."""
    notice: Callable[[str], None] | None = None
    """Called with each one-line notice: what the paper reader could not find, a cached arXiv copy."""
    agent_repair: AgentRepair | None = None
    """Repair with the agent (the repository its workspace, the failing checks its task) instead
    of the pipeline's own unit-by-unit repair."""
    skills: list[Path] | None = None
    """Skill folders beside the built-in and installed ones (a user's blueprints among them)."""
    store: SkillStore | None = None
    """The user's installed skills (``$SMOLAB_HOME/skills``); none but the built-in without it."""
    evidence: Callable[[str], list[Outcome]] | None = None
    """The outcomes of earlier runs that used a skill, by name (``skills.evidence.outcomes_from``
    over the runs index): how well each candidate skill worked weighs in choosing it."""
