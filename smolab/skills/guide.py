"""Instruction skills chosen for one use: the agent's task, a repair's failing error.

An instruction skill says in its ``metadata`` what it is ``for`` (``agent``, ``repair``; both
when it does not say). For a
query, the skills for that use are ranked (``select.rank``: relevance times effectiveness);
those whose relevance clears the ranker's floor are chosen, at most ``most``, and their bodies
are told within a token budget. A query that matches nothing gets nothing: a prompt padded with
advice for another problem costs tokens and misleads a small model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from .library import Skill
from .select import BM25Ranker, Choice, Outcome, Ranker, rank, within

FLOORS = {"bm25": 3.0, "minilm": 0.3}
"""The raw relevance a chosen skill needs, per ranker: BM25's score on a handful of skills, or
the cosine similarity of embeddings. Below it the query shares only common words with the skill."""

Evidence = Callable[[str], list[Outcome]]


def no_evidence(name: str) -> list[Outcome]:
    return []


@dataclass
class Guide:
    skills: Sequence[Skill]
    ranker: Ranker = field(default_factory=BM25Ranker)
    evidence: Evidence = no_evidence
    """The outcomes of the runs that used a skill, by name (``RunIndex``-backed in use)."""

    def choose(self, use: str, query: str, most: int = 2) -> list[Choice]:
        """The skills for ``use`` that fit ``query``, best first."""
        pool = {s.name for s in self.skills if s.role == "instructions" and use in uses(s)}
        if not pool or not query.strip():
            return []
        floor = FLOORS.get(self.ranker.name, 0.0)
        # Ranked over the whole library: a word weighs by how rare it is among all skills, not
        # among the few for this use.
        ranked = rank(query, self.skills, self.ranker, {n: self.evidence(n) for n in pool})
        return [c for c in ranked if c.skill.name in pool and c.raw >= floor and c.raw > 0][:most]


def uses(skill: Skill) -> list[str]:
    """What an instruction skill is for; one that does not say is for every use."""
    return skill.metadata.get("for", "").split() or ["agent", "repair"]


def told(choices: Iterable[Choice], budget: int) -> str:
    """The chosen skills' instructions, each under its name, as many as fit ``budget`` tokens."""
    return "\n\n".join(within((f"### {c.skill.name}\n{c.skill.body.strip()}" for c in choices), budget))
