"""Validation before publishing: a candidate skill replayed against the current one.

Each recorded case (a paper from the candidate's evidence) is run twice by a ``Replay``: with
the skills as they are, and with the candidate beside them (a folder given for the run replaces
the installed skill of its name). The candidate is published only when it is not worse on the
cases: no fewer runs that pass, no fewer tests passing, no more checks failing. The comparison
is stored with the published revision as its evidence, and a refused one is kept beside the
store so a rejected idea is not proposed blindly again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .evidence import RunEvidence
from .store import SkillState, SkillStore


@dataclass(frozen=True)
class Score:
    """One replayed run, as validation compares it."""

    passed: bool
    tests: tuple[int, int]
    checks_failing: int
    repair_rounds: int = 0
    tokens: int = 0


Replay = Callable[[str, list[Path]], Score]
"""(a case: the paper to reproduce, extra skill folders) -> the run's score."""


@dataclass
class Comparison:
    skill: str
    cases: list[str]
    current: list[Score] = field(default_factory=list)
    candidate: list[Score] = field(default_factory=list)

    def totals(self, scores: Sequence[Score]) -> dict[str, int]:
        return {
            "passed": sum(s.passed for s in scores),
            "tests": sum(s.tests[0] for s in scores),
            "checks_failing": sum(s.checks_failing for s in scores),
            "repair_rounds": sum(s.repair_rounds for s in scores),
            "tokens": sum(s.tokens for s in scores),
        }

    @property
    def not_worse(self) -> bool:
        now, new = self.totals(self.current), self.totals(self.candidate)
        return (
            bool(self.cases)
            and new["passed"] >= now["passed"]
            and new["tests"] >= now["tests"]
            and new["checks_failing"] <= now["checks_failing"]
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "skill": self.skill,
            "cases": self.cases,
            "current": [asdict(s) for s in self.current],
            "candidate": [asdict(s) for s in self.candidate],
            "totals": {"current": self.totals(self.current), "candidate": self.totals(self.candidate)},
            "not_worse": self.not_worse,
        }


def compare(
    name: str,
    candidate: Path,
    cases: Sequence[str],
    replay: Replay,
    recorded: Callable[[str], Score | None] | None = None,
) -> Comparison:
    """Replay each case with ``candidate``, and with the current skills unless ``recorded``
    has that case's score already (a recorded run made with the current version is a run of
    it: replaying it again would only cost the time)."""
    result = Comparison(name, list(cases))
    for case in cases:
        known = recorded(case) if recorded is not None else None
        result.current.append(known if known is not None else replay(case, []))
        result.candidate.append(replay(case, [candidate]))
    return result


def recorded_score(e: RunEvidence) -> Score:
    """A recorded run's own result as a ``Score``."""
    return Score(
        passed=e.passed,
        tests=e.tests_after,
        checks_failing=sum(not ok for ok in e.checks_after.values()),
        repair_rounds=e.repair_rounds,
        tokens=e.tokens,
    )


def publish(
    store: SkillStore, candidate: Path, comparison: Comparison, note: str = ""
) -> tuple[SkillState | None, Path | None]:
    """Install ``candidate`` as an evolved revision (untrusted until the user accepts it) when
    the comparison says it is not worse; else record the refusal. (state or None, where the
    refusal was written or None)."""
    if comparison.not_worse:
        state, _ = store.add(
            candidate, source="evolved", trusted=False, note=note, evidence=comparison.to_dict()
        )
        return state, None
    refused = store.root / ".refused" / f"{comparison.skill}-{int(time.time())}.json"
    refused.parent.mkdir(parents=True, exist_ok=True)
    refused.write_text(json.dumps({"note": note, **comparison.to_dict()}, indent=1))
    return None, refused


def score_of(summary: dict[str, Any]) -> Score:
    """A reproduce run's summary (``reproduce()``'s return value) as a ``Score``."""
    after = summary.get("tests_after_repair") or {}
    checks = summary.get("checks") or {}
    return Score(
        passed=bool(summary.get("ok")),
        tests=(int(after.get("passed", 0)), int(after.get("total", 0))),
        checks_failing=sum(not c.get("ok") for c in checks.values()),
        repair_rounds=int(summary.get("repair_rounds", 0)),
        tokens=int(summary.get("prompt_tokens", 0)) + int(summary.get("completion_tokens", 0)),
    )
