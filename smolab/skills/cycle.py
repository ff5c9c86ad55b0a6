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
from .replay import Comparison, Replay, Score, compare, publish, recorded_score
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
    most_proposals: int | None = None,
) -> list[Outcome]:
    """Propose, build, validate and publish. ``cases`` maps a proposal to the papers its runs
    reproduced; ``replay`` None proposes only; past ``most_proposals`` the rest are listed, not
    validated. A case whose recorded run used the skill at its current version is not replayed
    without the candidate: that run is the comparison. Retiring and merging are validated too:
    a skill that keeps losing should lose nothing when it goes."""
    out = []
    for i, proposal in enumerate(evolver.propose(evidence)):
        if on_proposal is not None:
            on_proposal(proposal)
        result = Outcome(proposal)
        out.append(result)
        if replay is None or (most_proposals is not None and i >= most_proposals):
            continue
        chosen = cases(proposal)[:most_cases]
        if not chosen:
            continue
        skill = None if proposal.action == "create" else library.get(proposal.skill)
        recorded = _recorded(evidence, proposal, skill.version if skill else None, cases)
        with tempfile.TemporaryDirectory(prefix="smolab-candidate-") as tmp:
            folder = candidate(skill, proposal, Path(tmp))
            result.comparison = compare(proposal.skill, folder, chosen, replay, recorded.get)
            note = f"{proposal.action}: {proposal.reason}"
            state, result.refused = publish(store, folder, result.comparison, note=note)
            result.published = state.current if state is not None else None
    return out


def _recorded(
    evidence: Sequence[RunEvidence],
    proposal: Proposal,
    version: str | None,
    cases: Callable[[Proposal], list[str]],
) -> dict[str, Score]:
    """The recorded score of each of the proposal's cases that has a run which used the skill at
    ``version`` (any run, for a skill still to be created), by case."""
    out: dict[str, Score] = {}
    for e in evidence:  # any recorded run of a case at the current version, not only the proposal's
        used = {s.name: s.version for s in e.skills}
        if version is not None and used.get(proposal.skill) != version:
            continue
        one = proposal.model_copy(update={"runs": [e.run]})
        for case in cases(one):
            out.setdefault(case, recorded_score(e))
    return out
