"""The reproduce pipeline: read → digest → plan → analyze → generate → verify ⇄ repair → report.

Each step runs once: its artifacts are written, then its marker (see ``rundir.py``),
so ``--resume`` after a crash or kill -9 continues from the last finished step.
Every model call is one line of ``.smolab/trajectory.jsonl``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from ..errors import SmolabError
from ..models import ChatModel, Message
from ..paper import Paper, read_paper
from ..paper.digest import UNKNOWN, Digest, digest_paper
from ..runs import Meter, RunIndex, link
from ..runs.events import (
    EvidenceRecorded,
    RunEnded,
    RunResumed,
    RunStarted,
    SkillUsed,
    StageFinished,
    StageStarted,
)
from ..runs.tracing import trace_run
from ..skills import Skill, SkillLibrary
from ..skills.evidence import read_run
from ..skills.guide import Guide, no_evidence, told
from ..skills.select import BM25Ranker, rank
from . import blueprint as bp
from . import generate as gen
from . import plan as pl
from .agent_repair import agent_repair
from .blueprint_way import CHECKED_FILES, BlueprintWay, score
from .code import (
    add_missing_imports,
    drop_repeats,
    extract_code,
    interface,
    parse_error,
    repeating,
    requirements,
)
from .errors import NothingToImplement, ReproduceError
from .fixes import deterministic_fixes
from .options import Options
from .repair import (
    SAME_CODE,
    Unit,
    apply_reply,
    calling_unit,
    failing_tests,
    failing_unit,
    repair_ask,
    splice,
    targets,
    unit_ask,
    why_rejected,
)
from .report import write_report
from .rundir import RunDir, StepRecord
from .schemas import Architecture, Logic, OverallPlan
from .verify import Verification, failure_key, verify

T = TypeVar("T", bound=BaseModel)

MIN_WINDOW = 4096
CODE_TOKENS = 1400
UNIT_TOKENS = 700
ADVICE_TOKENS = 160
"""What a repair ask may spend on the instruction skill for its error."""
RETRY_TEMPERATURE = 0.7
AGAIN = (
    "A first attempt at {name} did not parse ({error}): it repeated itself until it was cut off. "
    "Write it shorter: build repeated layers with a loop or nn.ModuleList comprehension, and "
    "close every bracket."
)
ANALYSIS_TOKENS = 260
FIXED_FILES = ("tests/conftest.py", "tests/test_smoke.py")

CLASSIFIER = "You sort machine-learning papers by the kind of their main contribution."


class Pipeline:
    def __init__(self, run: RunDir, model: ChatModel, paper: str, options: Options | None = None):
        self.run = run
        # The run's own handle on the model: its calls and tokens are this run's alone.
        self.model = model.share()
        self.paper_source = paper
        self.options = options or Options()
        self.stage = ""
        self.key = ""
        self.library = SkillLibrary(self.options.skills or [], store=self.options.store)
        self.evidence = self.options.evidence or no_evidence
        self.guide = Guide(list(self.library), evidence=self.evidence)
        self.meter = Meter(run.trajectory)
        self.close = self.model.observe(self.meter)
        """Stop recording this run's calls (the model may go on serving others)."""

    # -- bookkeeping ----------------------------------------------------------------

    def progress(self, stage: str, done: int, total: int) -> None:
        if self.options.progress:
            self.options.progress(stage, done, total)

    def step(self, key: str, stage: str, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """Run ``fn`` as step ``key`` unless a finished marker says it already ran."""
        done = self.run.done(key)
        if done is not None:
            return done.result
        self.stage = self.meter.stage = stage
        self.key = self.meter.key = key
        self.run.trajectory.append(StageStarted(stage=stage, key=key))
        u = self.meter.usage
        before = (u.prompt_tokens, u.cached_tokens, u.completion_tokens, self.meter.calls)
        start = time.monotonic()
        result = fn()
        record = StepRecord(
            key=key,
            stage=stage,
            seconds=round(time.monotonic() - start, 3),
            calls=self.meter.calls - before[3],
            prompt_tokens=u.prompt_tokens - before[0],
            cached_tokens=u.cached_tokens - before[1],
            completion_tokens=u.completion_tokens - before[2],
            result=result,
        )
        self.run.finish(record)
        self.run.trajectory.append(
            StageFinished(
                stage=stage,
                key=key,
                seconds=record.seconds,
                calls=record.calls,
                prompt_tokens=record.prompt_tokens,
                cached_tokens=record.cached_tokens,
                completion_tokens=record.completion_tokens,
            )
        )
        return result

    def _fit(self, system: str, parts: list[str], reply_tokens: int) -> list[Message]:
        """System + user message, the longest user part cut until the prompt leaves room for the reply."""
        parts = list(parts)
        for _ in range(12):
            messages = [Message("system", system), Message("user", "\n\n".join(parts))]
            over = self.model.count_tokens(messages) + reply_tokens - self.model.context_window
            if over <= 0:
                return messages
            i = max(range(len(parts)), key=lambda j: len(parts[j]))
            keep = max(0, len(parts[i]) - over * 4 - 200)
            parts[i] = parts[i][:keep] + "\n[…cut to fit the context]"
        return [Message("system", system), Message("user", "\n\n".join(parts))]

    # -- stages ----------------------------------------------------------------

    def run_all(self) -> dict[str, Any]:
        if self.model.context_window < MIN_WINDOW:
            raise ReproduceError(
                f"{self.model.name} has a {self.model.context_window}-token window; reproducing a paper "
                f"needs at least {MIN_WINDOW}. Pick a larger model or set context_window"
            )
        paper = self.read()
        digest = self.digest(paper)
        contribution = self.classify(digest, paper)
        chosen = self.blueprint(contribution)
        if chosen is not None:
            blueprint, why = chosen
            self.used(blueprint, why)
            return BlueprintWay(self, paper, digest, blueprint, contribution)()
        overall, arch, logic, order = self.plan(digest)
        config_keys = self.config(digest)
        system = pl.preamble(digest.render(), self._plan_text(overall, arch, logic, order))
        self.analyze(system, arch, logic, order)
        self.generate(system, order, config_keys)
        self.scaffold(paper, digest, overall, arch, order)
        final = self.verify_and_repair(system, order)
        return write_report(self.run, paper.title, self.model.name, final)

    def blueprint(self, contribution: dict[str, Any]) -> tuple[Skill, str] | None:
        """The blueprint for the contribution's kind and why; among several (a user's beside the
        built-in one), the best by relevance to what the paper proposes times effectiveness."""
        kind = contribution["kind"]
        candidates = self.library.blueprints_of(kind)
        if len(candidates) <= 1:
            return (candidates[0], f"the blueprint for a contribution of kind {kind}") if candidates else None
        query = " ".join(str(contribution.get(k) or "") for k in ("proposes", "name"))
        evidence = {s.name: self.evidence(s.name) for s in candidates}
        best = rank(query or kind, candidates, BM25Ranker(), evidence)[0]
        return best.skill, (
            f"the best of {len(candidates)} blueprints for kind {kind}: relevance "
            f"{best.relevance:.2f} x effectiveness {best.effectiveness:.2f}"
        )

    def used(self, skill: Skill, why: str) -> None:
        """Record the skill (and those it extends) as used by this run, once per run even when
        it resumes."""
        seen = {e.name for e in self.run.trajectory.read() if isinstance(e, SkillUsed)}
        at: Skill | None = skill
        while at is not None and at.name not in seen:
            self.run.trajectory.append(
                SkillUsed(name=at.name, version=at.version, revision=at.revision, role=at.role, why=why)
            )
            seen.add(at.name)
            parent = at.metadata.get("extends")
            at = self.library.get(parent) if parent else None
            why = f"extended by {skill.name}"

    def read(self) -> Paper:
        def do() -> dict[str, Any]:
            o = self.options
            p = read_paper(self.paper_source, arxiv=o.arxiv, progress=o.download, notice=o.notice)
            for line in p.notices:
                if self.options.notice:
                    self.options.notice(line)
            self.run.save_text("paper.json", p.model_dump_json())
            return {
                "title": p.title,
                "sections": len(p.all_sections()),
                "equations": len(p.equations),
                "notices": p.notices,
            }

        self.progress("read", 0, 1)
        self.step("read", "read", do)
        self.progress("read", 1, 1)
        return Paper.model_validate_json(self.run.load_text("paper.json") or "{}")

    def digest(self, paper: Paper) -> Digest:
        budget = self.options.budget or max(300, min(2000, self.model.context_window // 6))

        def do() -> dict[str, Any]:
            d = digest_paper(
                paper, self.model, budget=budget, progress=lambda i, n: self.progress("digest", i, n)
            )
            has_method = d.method_steps or d.architecture or paper.equations or paper.algorithms
            if not has_method and not any(h.value != UNKNOWN for h in d.hyperparameters):
                raise NothingToImplement(
                    f"{paper.title or 'the paper'}: no method to implement was found (no method steps, "
                    "architecture, equations or hyper-parameters); is it a survey or a position paper?"
                )
            self.run.save_text("digest.json", d.model_dump_json(indent=1))
            self.run.save_text("digest.md", d.render() + "\n")
            return {"tokens": d.tokens, "budget": budget}

        self.step("digest", "digest", do)
        return Digest.model_validate_json(self.run.load_text("digest.json") or "{}")

    def classify(self, digest: Digest, paper: Paper) -> dict[str, Any]:
        """The kind of the paper's contribution, which picks its blueprint ("other": none)."""
        blueprints = self.library.blueprints()

        def do() -> dict[str, Any]:
            if paper.abstract:
                ask = bp.proposal_ask(paper.abstract, paper.title, digest.outline)
                messages = [Message("system", CLASSIFIER), Message("user", ask)]
            else:  # no abstract to go by: the digest is the paper's summary
                messages = self._fit(pl.preamble(digest.render()), [bp.proposal_ask()], 160)
            proposal = self.model.chat(messages, schema=bp.Proposal, temperature=0)
            ask = bp.kind_ask(blueprints, proposal)
            lines = {kind: bp.kind_line(skill) for kind, skill in blueprints.items()}
            reply = self.model.chat(
                [Message("system", CLASSIFIER), Message("user", ask)], max_tokens=8, temperature=0
            )
            found = {
                "kind": bp.parse_kind(reply.text, [*blueprints, bp.OTHER], proposal, lines),
                **proposal.model_dump(),
            }
            skill = blueprints.get(found["kind"])
            found["blueprint"] = skill.name if skill else None
            found["version"] = skill.version if skill else None
            self.run.save_json("contribution.json", found)
            return found

        self.step("plan/kind", "plan", do)
        return dict(self.run.load_json("contribution.json"))

    def planned_overall(self, digest: Digest) -> OverallPlan:
        return self._planned(
            "plan/overall", "plan.json", OverallPlan, pl.preamble(digest.render()), pl.PLAN_ASK, 600
        )

    def plan(self, digest: Digest) -> tuple[OverallPlan, Architecture, Logic, list[str]]:
        text = digest.render()
        self.progress("plan", 0, 3)

        ov = self._planned("plan/overall", "plan.json", OverallPlan, pl.preamble(text), pl.PLAN_ASK, 600)
        self.progress("plan", 1, 3)
        system = pl.preamble(text, pl.render_overall(ov))
        arch = self._planned(
            "plan/architecture", "architecture.json", Architecture, system, pl.ARCHITECTURE_ASK, 1200
        )
        self.progress("plan", 2, 3)

        def logic() -> dict[str, Any]:
            planned = pl.render_overall(ov) + "\n" + pl.render_architecture(arch)
            lg = self.model.chat(
                self._fit(pl.preamble(text, planned), [pl.LOGIC_ASK], 1200), schema=Logic, temperature=0
            )
            design = pl.normalize_design(arch, lg)
            order = pl.task_order(design, lg)
            self.run.save_json("logic.json", lg.model_dump())
            self.run.save_json("design.json", design.model_dump())
            self.run.save_text("architecture.md", pl.architecture_markdown(design, lg, order))
            return {"order": order}

        order = self.step("plan/logic", "plan", logic)["order"]
        self.progress("plan", 3, 3)
        lg = Logic.model_validate(self.run.load_json("logic.json"))
        design = Architecture.model_validate(self.run.load_json("design.json"))
        return ov, design, lg, order

    def _planned(self, key: str, artifact: str, schema: type[T], system: str, ask: str, reply: int) -> T:
        """One schema-bound planning step: asked once, saved as ``artifact``, loaded from it."""

        def do() -> dict[str, Any]:
            answer = self.model.chat(self._fit(system, [ask], reply), schema=schema, temperature=0)
            self.run.save_json(artifact, answer.model_dump())
            return {}

        self.step(key, "plan", do)
        return schema.model_validate(self.run.load_json(artifact))

    @staticmethod
    def _plan_text(ov: OverallPlan, arch: Architecture, lg: Logic, order: list[str]) -> str:
        return "\n".join([pl.render_overall(ov), pl.render_architecture(arch), pl.render_logic(lg, order)])

    def config(self, digest: Digest) -> list[str]:
        def do() -> dict[str, Any]:
            text, data = pl.config_yaml(digest)
            self.run.write_file("config.yaml", text)
            return {"keys": list(data)}

        return list(self.step("config", "plan", do)["keys"])

    def analyze(self, system: str, arch: Architecture, lg: Logic, order: list[str]) -> None:
        purposes = {f.name: f.purpose for f in arch.files}
        logic = {fl.name: fl.logic for fl in lg.files}
        for i, name in enumerate(order):
            self.progress("analyze", i, len(order))

            def do(name: str = name) -> dict[str, Any]:
                ask = gen.analysis_ask(name, purposes.get(name, ""), logic.get(name, ""))
                messages = self._fit(system, [ask], ANALYSIS_TOKENS)
                reply = self.model.chat(messages, max_tokens=ANALYSIS_TOKENS, until=repeating)
                self.run.save_text(f"analysis/{name}.md", reply.text.strip() + "\n")
                return {}

            self.step(f"analyze/{name}", "analyze", do)
        self.progress("analyze", len(order), len(order))

    def _interfaces(self, names: list[str]) -> str:
        return "\n\n".join(
            interface(n, self.run.read_file(n)) for n in names if (self.run.root / n).is_file()
        )

    def generate(self, system: str, order: list[str], config_keys: list[str]) -> None:
        total = len(order) + 1
        for i, name in enumerate(order):
            self.progress("generate", i, total)

            def do(name: str = name, i: int = i) -> dict[str, Any]:
                analysis = self.run.load_text(f"analysis/{name}.md") or ""
                ask = gen.code_ask(name, analysis, self._interfaces(order[:i]), config_keys)
                return self.write_code(system, name, ask)

            self.step(f"generate/{name}", "generate", do)
        self.progress("generate", len(order), total)

        def tests() -> dict[str, Any]:
            return self.write_code(system, gen.TEST_FILE, gen.test_ask(self._interfaces(order), config_keys))

        self.step(f"generate/{gen.TEST_FILE}", "generate", tests)
        self.progress("generate", total, total)

    def write_code(
        self, system: str, name: str, ask: str, temperature: float | None = None
    ) -> dict[str, Any]:
        """Ask for a file; a reply that does not parse (a repetition loop cut at its token limit,
        prose around the code) is asked for once more, afresh: sent back, a looping reply only
        primes the model to loop again."""
        messages = self._fit(system, [ask], CODE_TOKENS)
        reply = self.model.chat(messages, max_tokens=CODE_TOKENS, until=repeating, temperature=temperature)
        looped = repeating(reply.text)
        code = drop_repeats(extract_code(reply.text)) if looped else extract_code(reply.text)
        error = parse_error(code)
        if error:
            again = self._fit(system, [ask, AGAIN.format(name=name, error=error)], CODE_TOKENS)
            retry = self.model.chat(
                again, max_tokens=CODE_TOKENS, until=repeating, temperature=RETRY_TEMPERATURE
            )
            retry_code = drop_repeats(extract_code(retry.text))
            if not parse_error(retry_code):
                code, error = retry_code, None
        code, added = add_missing_imports(code)
        self.run.write_file(name, code)
        return {"lines": code.count("\n"), "imports_added": added, "parses": error is None, "looped": looped}

    def scaffold(
        self, paper: Paper, digest: Digest, ov: OverallPlan, arch: Architecture, order: list[str]
    ) -> None:
        def do() -> dict[str, Any]:
            self.run.write_file("tests/conftest.py", gen.CONFTEST)
            self.run.write_file("tests/test_smoke.py", gen.smoke_tests(order))
            self.run.write_file("README.md", gen.readme(paper.title, ov, arch, digest, self.model.name))
            codes = {n: self.run.read_file(n) for n in [*order, gen.TEST_FILE]}
            reqs = requirements(codes)
            self.run.write_file("requirements.txt", "\n".join([*reqs, "pytest"]) + "\n")
            return {"requirements": reqs}

        self.step("scaffold", "generate", do)

    def verify_and_repair(
        self,
        system: str,
        order: list[str],
        fallback: str = "main.py",
        method: tuple[str, str, int] | None = None,
    ) -> list[Verification]:
        """Check, and repair what fails in the editable files (``order``, and the generated tests on
        the free path); a failure that points at no editable file (a failing contract test,
        main.py in a blueprint) is the ``fallback`` file's. ``method`` is the blueprint's method
        module, class and the number of positional arguments its skeleton passes. A round whose
        changes fix no failure ends the repair; one that leaves the repository worse is undone."""
        editable = order if fallback != "main.py" else [*order, gen.TEST_FILE]
        rounds = self.options.repair_rounds
        results: list[Verification] = []
        kept: dict[str, str | None] = {}
        for r in range(rounds + 1):
            if r > 0:
                if results[-1].ok:
                    break
                self.progress("repair", r - 1, rounds)
                last = results[-1]
                kept = {n: self._read(n) for n in editable}

                def fix(last: Verification = last, r: int = r) -> dict[str, Any]:
                    engine = self.options.agent_repair
                    if engine is not None:
                        return agent_repair(engine, self.model, self.run, last, editable, r)
                    return self._repair(system, last, editable, fallback, method)

                self.step(f"repair/{r}", "repair", fix)
            self.progress("verify", r, rounds + 1)
            files = [f for f in self.run.repo_files() if f.endswith(CHECKED_FILES)]
            before = results[-1] if results else None

            def check(
                files: list[str] = files,
                before: Verification | None = before,
                kept: dict[str, str | None] = kept,
            ) -> dict[str, Any]:
                result = verify(self.run.root, files, self.options.limits).to_dict()
                if before is None:
                    return result
                now = Verification.from_dict(result)
                if score(now) < score(before) and kept:
                    # A round that leaves the repository worse is undone: the files go back to
                    # what the last verification checked, and so does the record.
                    for name, text in kept.items():
                        if text is not None:
                            self.run.write_file(name, text)
                    worse = sorted(failure_key(f) for f in now.failures)
                    return {**before.to_dict(), "fixed": [], "undone": worse}
                keys = {failure_key(f) for f in now.failures}
                result["fixed"] = sorted(k for k in map(failure_key, before.failures) if k not in keys)
                return result

            checked = self.step(f"verify/{r}", "verify", check)
            results.append(Verification.from_dict(checked))
            if r > 0 and not checked.get("fixed"):
                break  # the round fixed nothing; another like it would not either
        self.progress("verify", rounds + 1, rounds + 1)
        return results

    def stated(self) -> dict[str, Any]:
        """The paper's verified values by config key, for constructor defaults."""
        digest = self.run.load_text("digest.json")
        if not digest:
            return {}
        known = bp.paper_values(Digest.model_validate_json(digest))
        return {bp.key(name): value for name, (value, verified, _) in known.items() if verified}

    def learned(self) -> set[str]:
        """The symbols the paper says are learned ("alpha"), for the fix that makes them parameters."""
        digest = self.run.load_text("digest.json")
        return Digest.model_validate_json(digest).learned() if digest else set()

    def biased(self) -> bool:
        """Whether every weight matrix of the paper's steps has its bias (``tests/paper.json``)."""
        written = self._read("tests/paper.json")
        maps = (json.loads(written).get("linear") or []) if written else []
        return bool(maps) and all(m.get("bias") for m in maps)

    def _read(self, rel: str) -> str | None:
        """A file of the repository, None when it does not exist."""
        path = self.run.root / rel
        return path.read_text() if path.is_file() else None

    def _advice(self, error: str) -> str:
        """The instruction skill for this kind of error, if one fits, recorded as used."""
        chosen = self.guide.choose("repair", error, most=1)
        for c in chosen:
            self.used(
                c.skill,
                f"fits a failing check: relevance {c.relevance:.2f} x effectiveness {c.effectiveness:.2f}",
            )
        advice = told(chosen, ADVICE_TOKENS)
        return f"\n\nHow to fix this kind of error:\n{advice}" if advice else ""

    def _rewrite_unit(
        self, system: str, name: str, code: str, unit: Unit, ask: Callable[..., str], tries: int = 2
    ) -> tuple[str | None, str]:
        """``code`` with ``unit`` rewritten by the model, else (None, why); a reply that changed
        nothing is asked once more, told so, and sampled."""
        new, why = None, SAME_CODE
        context = interface(name, code)
        for again in (False, True)[:tries]:
            prompt = ask(unit=unit, context=context, code=code, again=again)
            messages = self._fit(system, [prompt], UNIT_TOKENS)
            temperature = 0.7 if again else None
            reply = self.model.chat(
                messages, max_tokens=UNIT_TOKENS, until=repeating, temperature=temperature
            )
            new, why = splice(code, unit, reply.text)
            if new is not None or why != SAME_CODE:
                break
        return new, why

    def _repair(
        self,
        system: str,
        v: Verification,
        editable: list[str],
        fallback: str,
        method: tuple[str, str, int] | None,
    ) -> dict[str, Any]:
        files = {n: self.run.read_file(n) for n in editable if (self.run.root / n).is_file()}
        stated = self.stated() if method else {}
        before = dict(files)
        errors = "\n".join(f.error for f in v.failures)
        fixes = deterministic_fixes(
            files, method, stated, errors, self.learned() if method else (), biased=self.biased()
        )
        for name in files:
            if files[name] != before[name]:
                self.run.write_file(name, files[name])
        located = {f.file: f.what for f in fixes if not f.applied}
        repaired: list[dict[str, str]] = []
        rejected: list[dict[str, str]] = []
        # A file the fixes changed is checked again before the model sees it.
        fixed_files = {n for n in files if files[n] != before[n]}
        for failure in targets(v, fixed_files, list(files), fallback=fallback):
            name = failure.file or fallback
            error = (
                failure.error
                + (f"\n{located[name]}" if name in located else "")
                + self._advice(failure.error)
            )
            others = self._interfaces([n for n in editable if n != name])
            unit = failing_unit(files[name], name, failure.error)
            tests = failing_tests(failure.error, self._read) if failure.check == "tests" else ""
            if unit is not None:
                unit_of = partial(unit_ask, name, error=error, interfaces=others, tests=tests)
                new, why = self._rewrite_unit(system, name, files[name], unit, unit_of)
                what = f"{name}: {unit.qualname}"
                caller = calling_unit(files[name], name, failure.error)
                if new is None and why == SAME_CODE and caller is not None:
                    # Twice unchanged where it is raised: the fault may be in what its caller hands it.
                    pointed = partial(unit_of, raised_in=unit.qualname)
                    new, why = self._rewrite_unit(system, name, files[name], caller, pointed, tries=1)
                    what = f"{name}: {caller.qualname} (the caller of {unit.qualname})"
            else:
                local = {n.split("/")[0].removesuffix(".py") for n in files}
                for again in (False, True):
                    ask = repair_ask(name, files[name], error, others, local, tests, again)
                    messages = self._fit(system, [ask], CODE_TOKENS + 200)
                    temperature = 0.7 if again else None
                    reply = self.model.chat(
                        messages, max_tokens=CODE_TOKENS + 200, until=repeating, temperature=temperature
                    )
                    new = apply_reply(files[name], reply.text)
                    why = "" if new is not None else why_rejected(files[name], reply.text)
                    if new is not None or why != SAME_CODE:
                        break
                what = f"{name} (whole file)"
            if new is None:
                rejected.append({"target": what, "check": failure.check, "reason": why})
                continue
            files[name] = new
            self.run.write_file(name, new)
            repaired.append({"target": what, "check": failure.check})
        return {"fixes": [f.what for f in fixes], "repaired": repaired, "rejected": rejected}


def reproduce(
    paper: str,
    out: Path,
    model: ChatModel,
    resume: bool = False,
    force: bool = False,
    options: Options | None = None,
    index: RunIndex | None = None,
) -> dict[str, Any]:
    """Turn ``paper`` into a repository in ``out``; the report's summary. The run's events go
    to ``out/.smolab/trajectory.jsonl``; ``index`` (when given) lists the run as it goes."""
    run = RunDir.open(out, paper, model.name, resume=resume, force=force)
    untrace = trace_run(run.trajectory)  # spans over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set
    ref = run.ref()
    if index is not None:
        link(index.runs_dir, ref.id, run.meta)
    resumed = any(isinstance(e, RunStarted) for e in run.trajectory.read())
    if resumed:
        run.trajectory.append(RunResumed(pid=os.getpid()))
    else:
        run.trajectory.append(
            RunStarted(kind="reproduce", id=ref.id, model=model.name, task=paper, pid=os.getpid())
        )
    if index is not None:
        index.update(ref)
    pipeline = Pipeline(run, model, paper, options)
    started = time.monotonic()

    def end(status: str, reason: str) -> None:
        elapsed = round(time.monotonic() - started, 3)
        run.trajectory.append(RunEnded(status=status, reason=reason, elapsed=elapsed))

    try:
        summary = pipeline.run_all()
    except KeyboardInterrupt:
        end("interrupted", "stopped by Ctrl-C; continue with --resume")
        raise
    except Exception as err:
        end("error", str(err) if isinstance(err, SmolabError) else f"{type(err).__name__}: {err}")
        raise
    else:
        verdict = summary.get("verdict") or {}
        status = "done" if summary.get("ok") else "unverified" if summary.get("runs") else "failed"
        # Before the end event: a follower of the trajectory stops at that one.
        evidence = read_run(run.root, ref.id, status=status)
        if evidence is not None:
            run.trajectory.append(EvidenceRecorded(evidence=evidence.model_dump()))
        end(status, str(verdict.get("headline", "")))
        return summary
    finally:
        pipeline.close()
        untrace()
        if index is not None:
            index.update(ref)
