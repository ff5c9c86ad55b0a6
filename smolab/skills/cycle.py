"""One evolution cycle: proposals from the evidence, a candidate folder for each, validation by
replaying recorded cases, and publishing what is not worse. Used by ``smolab skills evolve``
and by the hub (over every user's shared evidence)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .evidence import RunEvidence
from .evolve import Evolver, Proposal, candidate
from .library import SkillLibrary
from .replay import Comparison, Replay, compare, publish
from .store import SkillStore


@dataclass
class Outcome:
    proposal: Proposal
    comparison: Comparison | None = None
    published: int | None = None
    """The revision installed, when it was."""
    refused: Path | None = None


def run_cycle(
    evidence: Sequence[RunEvidence],
    library: SkillLibrary,
    evolver: Evolver,
    store: SkillStore,
    replay: Replay | None,
    cases: Callable[[Proposal], list[str]],
    most_cases: int = 2,
    on_proposal: Callable[[Proposal], None] | None = None,
) -> list[Outcome]:
    """Propose, build, validate and publish. ``cases`` maps a proposal to the papers its runs
    reproduced; ``replay`` None proposes only. Retiring and merging are validated too: a skill
    that keeps losing should lose nothing when it goes."""
    out = []
    for proposal in evolver.propose(evidence):
        if on_proposal is not None:
            on_proposal(proposal)
        result = Outcome(proposal)
        out.append(result)
        if replay is None:
            continue
        chosen = cases(proposal)[:most_cases]
        if not chosen:
            continue
        skill = None if proposal.action == "create" else library.get(proposal.skill)
        with tempfile.TemporaryDirectory(prefix="smolab-candidate-") as tmp:
            folder = candidate(skill, proposal, Path(tmp))
            result.comparison = compare(proposal.skill, folder, chosen, replay)
            note = f"{proposal.action}: {proposal.reason}"
            state, result.refused = publish(store, folder, result.comparison, note=note)
            result.published = state.current if state is not None else None
    return out
