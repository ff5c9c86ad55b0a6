"""Evolution on the hub: the same cycle a user runs (``skills.cycle``), over every member's
shared evidence in a group, with the group's skills as they are on the hub. A validated
candidate becomes the group's next revision, published by the evolver with its comparison as
evidence; every member's client pulls it (and accepts it before it is used).

Shared evidence keeps a paper only by its file name or arXiv id, so the hub replays a case from
its own folder of papers (``papers``) or by arXiv id; a case it cannot find is not replayed.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from ..skills import SkillLibrary, SkillStore, read_skill
from ..skills.cycle import Outcome, run_cycle
from ..skills.evidence import RunEvidence
from ..skills.evolve import Evolver, Phrase, Proposal
from ..skills.replay import Replay
from .bundle import pack, unpack
from .db import HubDB

ARXIV = re.compile(r"^(?:\d{4}\.\d{4,5}|[a-z\-]+/\d{7})(?:v\d+)?$")
EVOLVER = "evolver"


def resolver(papers: Path | None) -> Callable[[str], str | None]:
    """A shared case (a paper's file name or an arXiv id) as something reproduce can read here."""

    def resolve(source: str) -> str | None:
        if ARXIV.match(source):
            return source
        if papers is not None and (papers / Path(source).name).is_file():
            return str(papers / Path(source).name)
        return None

    return resolve


def evolve_group(
    db: HubDB,
    group: str,
    phrase: Phrase | None,
    replay: Replay | None,
    papers: Path | None = None,
    most_cases: int = 2,
    min_runs: int = 2,
    most_proposals: int | None = None,
) -> list[Outcome]:
    records = []
    for r in db.evidence(frozenset([group])):
        r.pop("group", None)
        try:
            records.append(RunEvidence.model_validate(r))
        except ValidationError:
            continue  # written by an older client; the hub checked it on the way in
    resolve = resolver(papers)
    by_run = {e.run: e for e in records}

    def cases(p: Proposal) -> list[str]:
        found = [resolve(by_run[r].source) for r in p.runs if r in by_run]
        return list(dict.fromkeys(c for c in found if c))

    with tempfile.TemporaryDirectory(prefix="smolab-hub-evolve-") as tmp:
        skills = Path(tmp, "skills")
        skills.mkdir()
        for entry in db.skills(frozenset([group])):
            data = db.bundle(group, entry["name"], entry["revision"])
            if data is not None:
                unpack(data, entry["name"], skills)
        library = SkillLibrary([skills]) if any(skills.iterdir()) else SkillLibrary()
        store = SkillStore(Path(tmp, "store"))
        evolver = Evolver(library, phrase=phrase, min_runs=min_runs)
        outcomes = run_cycle(
            records,
            library,
            evolver,
            store,
            replay,
            cases,
            most_cases=most_cases,
            most_proposals=most_proposals,
        )
        for o in outcomes:
            if o.published is None or o.comparison is None:
                continue
            made = read_skill(store.folder(o.proposal.skill))
            o.published, _ = db.add_skill(
                group,
                made.name,
                made.version,
                made.description,
                pack(store.folder(made.name)),
                by=EVOLVER,
                note=f"{o.proposal.action}: {o.proposal.reason}",
                evidence=o.comparison.to_dict(),
            )
    return outcomes
