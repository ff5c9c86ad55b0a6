"""Proposals for changing skills, from the evidence of finished runs.

The evolver reads many runs (``RunEvidence``), groups them by the skill they used, and proposes
changes in a bounded schema (``Proposal``); nothing is changed here. ``candidate`` writes the
folder a proposal leads to; ``replay.py`` decides whether it is published.

- **refine**: an error that runs of one skill met again and again becomes a line of its
  instructions (a pitfall), phrased by the model from the error and what repair changed, or,
  for a mistake the deterministic fixes kept correcting, the fix's own description.
- **create**: an error met in runs of several skills that no repair skill fits becomes a new
  repair instruction skill.
- **retire**: an installed skill that keeps losing (effectiveness under a floor over enough runs).
- **merge**: two installed skills for the same use that say the same thing: the weaker retires.

Built-in skills are refined into installed revisions (the package is never edited) and never
retired: they are the floor every installed skill is measured against.
"""

from __future__ import annotations

import re
import shutil
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field
from skills_ref.parser import parse_frontmatter

from .evidence import RunEvidence
from .guide import Guide
from .library import Skill, SkillLibrary
from .select import Outcome, effectiveness, words

MIN_RUNS = 2
"""Runs that must share an error before it becomes a proposal."""
RETIRE_BELOW = 0.25
RETIRE_AFTER = 5
PITFALLS = "## Pitfalls seen in runs"


class Proposal(BaseModel):
    action: Literal["refine", "create", "retire", "merge"]
    skill: str = Field(max_length=64)
    lines: list[str] = Field(default_factory=list, max_length=3)
    """Instruction lines to add (refine, create), each at most ``LINE_CHARS``."""
    description: str = Field(default="", max_length=300)
    """A created skill's description."""
    into: str = Field(default="", max_length=64)
    """For merge: the skill that stays."""
    reason: str = Field(max_length=400)
    runs: list[str] = Field(default_factory=list, max_length=20)
    """The runs that justify it: the cases validation replays."""


LINE_CHARS = 200


class Pitfall(BaseModel):
    """What the model is asked for: one instruction that avoids an error."""

    line: str = Field(max_length=LINE_CHARS, description="one imperative sentence for the code's author")


Phrase = Callable[[str, str, Sequence[str]], str | None]
"""(the skill's instructions, an error signature, what repair changed) -> one line, or None."""


def general(sig: str) -> bool:
    """Whether a signature says something beyond an assertion's operands ("assert: N == N")."""
    message = sig.split(":", 1)[-1]
    return len([w for w in re.findall(r"[A-Za-z]{3,}", message)]) >= 3


@dataclass
class Evolver:
    library: SkillLibrary
    phrase: Phrase | None = None
    """Turns an error into an instruction (the model, ``model_phrase``); without it, errors
    make no proposal and only the deterministic fixes' own descriptions become lines."""
    min_runs: int = MIN_RUNS

    def propose(self, evidence: Sequence[RunEvidence], now: float | None = None) -> list[Proposal]:
        by_skill: dict[str, list[RunEvidence]] = defaultdict(list)
        for run in evidence:
            for ref in {s.name for s in run.skills}:
                by_skill[ref].append(run)
        known = {s.name: s for s in self.library}
        out: list[Proposal] = []
        for name, runs in sorted(by_skill.items()):
            skill = known.get(name)
            if skill is not None:
                out += self._refine(skill, runs)
                out += self._retire(skill, runs, now)
        out += self._create(evidence, {p.skill for p in out if p.action == "refine"})
        out += self._merge(by_skill, now)
        return out

    def _refine(self, skill: Skill, runs: list[RunEvidence]) -> list[Proposal]:
        # Errors are the skill's only when it shaped the code that met them: a blueprint and
        # the base it extends share the same runs, so the errors go to the blueprint itself.
        if skill.role == "base":
            return []
        lines: list[str] = []
        used: list[str] = []
        reasons: list[str] = []
        for what, seen in _recurring([r.fixes for r in runs], runs, self.min_runs):
            line = f"Avoid what the automatic fixes had to correct in {len(seen)} runs: {what}"[:LINE_CHARS]
            if line not in skill.body:
                lines.append(line)
                used += seen
                reasons.append(f"fix applied in {len(seen)} runs: {what[:80]}")
        if self.phrase is not None:
            errors = [[e for e in r.errors if general(e)] for r in runs]
            for sig, seen in _recurring(errors, runs, self.min_runs):
                if len(lines) == 3:
                    break
                changed = [c for r in runs if r.run in seen for c in r.repaired][:6]
                said = self.phrase(skill.body, sig, changed)
                if said and said not in skill.body and said not in lines:
                    lines.append(said)
                    used += seen
                    reasons.append(f"`{sig[:90]}` in {len(seen)} of {len(runs)} runs")
        if not lines:
            return []
        return [
            Proposal(
                action="refine",
                skill=skill.name,
                lines=lines[:3],
                reason="; ".join(reasons)[:400],
                runs=list(dict.fromkeys(used))[:20],
            )
        ]

    def _retire(self, skill: Skill, runs: list[RunEvidence], now: float | None) -> list[Proposal]:
        if skill.builtin or len(runs) < RETIRE_AFTER:
            return []
        score = effectiveness([Outcome(0.0 if now is None else now, r.passed) for r in runs], now=now)
        if score >= RETIRE_BELOW:
            return []
        return [
            Proposal(
                action="retire",
                skill=skill.name,
                reason=f"effectiveness {score:.2f} over {len(runs)} runs (under {RETIRE_BELOW})",
                runs=[r.run for r in runs][:20],
            )
        ]

    def _create(self, evidence: Sequence[RunEvidence], refined: set[str]) -> list[Proposal]:
        if self.phrase is None:
            return []
        guide = Guide(list(self.library))
        out = []
        errors = [[e for e in r.errors if general(e)] for r in evidence]
        for sig, seen in _recurring(errors, list(evidence), self.min_runs):
            skills = {s.name for r in evidence if r.run in seen for s in r.skills}
            if len(skills - {s.name for s in self.library if s.role == "base"}) < 2:
                continue  # one blueprint's error is that blueprint's pitfall
            if guide.choose("repair", sig, most=1):
                continue  # a repair skill already fits it
            changed = [c for r in evidence if r.run in seen for c in r.repaired][:6]
            line = self.phrase("", sig, changed)
            if not line:
                continue
            out.append(
                Proposal(
                    action="create",
                    skill=skill_name(sig),
                    lines=[line],
                    description=f"Fixing {sig}"[:300],
                    reason=f"`{sig[:120]}` in {len(seen)} runs of {len(skills)} skills; no repair skill fits",
                    runs=seen[:20],
                )
            )
        return out

    def _merge(self, by_skill: dict[str, list[RunEvidence]], now: float | None) -> list[Proposal]:
        installed = [s for s in self.library if not s.builtin and s.role == "instructions"]
        out = []
        for i, a in enumerate(installed):
            for b in installed[i + 1 :]:
                if a.metadata.get("for") != b.metadata.get("for") or overlap(a, b) < 0.7:
                    continue

                def score(s: Skill) -> float:
                    return effectiveness(
                        [Outcome(now or 0.0, r.passed) for r in by_skill.get(s.name, [])], now=now
                    )

                keep, drop = (a, b) if score(a) >= score(b) else (b, a)
                out.append(
                    Proposal(
                        action="merge",
                        skill=drop.name,
                        into=keep.name,
                        reason=f"says what {keep.name} says ({overlap(a, b):.0%} of their words shared); "
                        f"effectiveness {score(drop):.2f} against {score(keep):.2f}",
                    )
                )
        return out


def _recurring(
    per_run: Sequence[Sequence[str]], runs: Sequence[RunEvidence], least: int
) -> list[tuple[str, list[str]]]:
    """Items found in at least ``least`` runs, most frequent first, with those runs' ids."""
    seen: dict[str, list[str]] = defaultdict(list)
    for items, run in zip(per_run, runs, strict=True):
        for item in dict.fromkeys(items):
            seen[item].append(run.run)
    found = [(item, ids) for item, ids in seen.items() if len(ids) >= least]
    return sorted(found, key=lambda x: (-len(x[1]), x[0]))


def overlap(a: Skill, b: Skill) -> float:
    """Jaccard overlap of two skills' description and instruction words."""
    wa, wb = set(words(a.description + " " + a.body)), set(words(b.description + " " + b.body))
    return len(wa & wb) / max(1, len(wa | wb))


def skill_name(sig: str) -> str:
    """A name in the format's rules (lowercase, digits, hyphens, at most 64) for an error's skill."""
    kind, _, message = sig.partition(":")
    slug = "-".join(w for w in words(message) if not w.isdigit() and w != "n")[:40].strip("-")
    return f"repair-{kind.lower()}-{slug}".strip("-")[:64].rstrip("-")


PHRASE_ASK = """Code written with these instructions kept failing with this error:
{sig}
{changed}
Write ONE imperative sentence (at most 25 words) to add to the instructions so that code
written next time does not meet this error. Be specific to the error; no file names.
{instructions}"""


def model_phrase(chat: Callable[[str], str | None]) -> Phrase:
    """A ``Phrase`` from a function that sends one ask to the model under the ``Pitfall`` schema
    and returns its line. A line that repeats the error's own message or is too short is refused."""

    def phrase(instructions: str, sig: str, changed: Sequence[str]) -> str | None:
        told = f"Repair then rewrote: {', '.join(changed[:4])}." if changed else ""
        shown = f"The instructions so far:\n{instructions.strip()[:1200]}" if instructions.strip() else ""
        line = chat(PHRASE_ASK.format(sig=sig, changed=told, instructions=shown))
        line = " ".join((line or "").split())
        if len(words(line)) < 5 or line.lower() in sig.lower():
            return None
        return line[:LINE_CHARS]

    return phrase


def candidate(skill: Skill | None, proposal: Proposal, into: Path) -> Path:
    """The skill folder ``proposal`` leads to, written under ``into``: a refined copy (lines added
    under the pitfalls heading, version raised), a new repair skill, or a retired copy."""
    if proposal.action == "create":
        folder = into / proposal.skill
        folder.mkdir(parents=True)
        meta = {
            "name": proposal.skill,
            "description": proposal.description,
            "license": "Apache-2.0",
            "metadata": {"version": "1", "role": "instructions", "for": "repair", "origin": "evolved"},
        }
        body = "\n".join(f"- {line}" for line in proposal.lines)
        _write(folder, meta, f"\n{body}\n")
        return folder
    assert skill is not None
    folder = into / skill.name
    shutil.copytree(skill.path, folder, ignore=shutil.ignore_patterns("__pycache__"))
    md = folder / "SKILL.md"
    meta, body = parse_frontmatter(md.read_text(encoding="utf-8"))
    extra = dict(meta.get("metadata") or {})
    extra["version"] = _next(str(extra.get("version", "1")))
    if proposal.action == "refine":
        added = "\n".join(f"- {line}" for line in proposal.lines)
        body = body.rstrip() + (f"\n{added}\n" if PITFALLS in body else f"\n\n{PITFALLS}\n\n{added}\n")
    else:  # retire, merge: the skill stays readable but is no longer chosen
        extra["retired"] = "true" if proposal.action == "retire" else f"merged into {proposal.into}"
    meta["metadata"] = extra
    _write(folder, meta, body if body.startswith("\n") else f"\n{body}")
    return folder


def _next(version: str) -> str:
    return str(int(version) + 1) if version.isdigit() else f"{version}.1"


def _write(folder: Path, meta: Mapping[str, object], body: str) -> None:
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=1000)
    (folder / "SKILL.md").write_text(f"---\n{front}---\n{body}", encoding="utf-8")
