"""The blueprint way: the paper's method written into a kind's skeleton, then checked against the
paper and repaired.

One run of it, in the order of its steps:

1. **write** the method module (``generate/method.py``), the deterministic fixes applied, and
   the reference from the equations in its own call (``generate/reference.py``);
2. **scaffold** the skeleton, its config with the paper's values and the paper's checks;
3. **verify and repair** (the pipeline's repairer);
4. **second opinions** where the method disagrees with its reference: more references sampled,
   the first the method agrees with kept (``fidelity/references``);
5. **fresh attempts** where the method still fails: new methods sampled, each told what the
   last one failed, kept where they pass more checks (``fresh/N``);
6. **report** with the verdict.

Every step goes through the pipeline's step runner, so a resumed run skips what finished.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from ..models import ChatModel
from ..paper import Paper
from ..paper.digest import Digest
from ..paper.notation import readable
from ..skills import Skill, SkillLibrary
from . import blueprint as bp
from . import generate as gen
from . import plan as pl
from .agree import agreement
from .code import requirements
from .fidelity import REFERENCE, disagreed, fidelity_result, reference_crash
from .fingerprint import fingerprint
from .fixes import deterministic_fixes
from .options import Options
from .repair import failed_before
from .report import write_report
from .rundir import RunDir
from .schemas import OverallPlan
from .verdict import FIDELITY_TEST, PAPER_TEST, judge
from .verify import Verification, verify

FRESH_TEMPERATURE = 0.8
REFERENCE_TEMPERATURE = 0.7
CHECKED_FILES = (".py", ".yaml", ".txt", ".md", ".json")
"""The repository's files a verification copies into the sandbox (tests/paper.json among them)."""


def score(v: Verification) -> tuple[int, int]:
    """How far a repository got: checks passed, then tests passed (higher is better)."""
    return sum(c.ok for c in v.checks), v.tests_passed


class Steps(Protocol):
    """What the blueprint way uses of the pipeline: its run, model and options, its step runner,
    its code writer and its verify-and-repair loop."""

    run: RunDir
    model: ChatModel
    options: Options
    library: SkillLibrary

    def step(self, key: str, stage: str, fn: Any) -> dict[str, Any]: ...
    def progress(self, stage: str, done: int, total: int) -> None: ...
    def write_code(
        self, system: str, name: str, ask: str, temperature: float | None = None
    ) -> dict[str, Any]: ...
    def planned_overall(self, digest: Digest) -> OverallPlan: ...
    def stated(self) -> dict[str, Any]: ...
    def learned(self) -> set[str]: ...
    def verify_and_repair(
        self, system: str, order: list[str], fallback: str, method: tuple[str, str, int] | None
    ) -> list[Verification]: ...


class BlueprintWay:
    def __init__(
        self, steps: Steps, paper: Paper, digest: Digest, skill: Skill, contribution: dict[str, Any]
    ):
        self.steps, self.run = steps, steps.run
        self.paper, self.digest, self.skill, self.contribution = paper, digest, skill, contribution
        self.method = skill.metadata.get("method", "method.py")
        self.cls = skill.metadata.get("class", "")
        self.positional = int(skill.metadata.get("positional", "0"))
        self.data = bp.data_input(skill, contribution["data"])
        self.fidelity = skill.fidelity()
        # The method's prompts carry the digest without the training settings the skeleton owns
        # (unless training is the method): a batch size of 2048 became a block's argument.
        own_training = skill.metadata.get("training") == "method"
        self.text = digest.render(None if own_training else bp.not_training)
        self.method_system = pl.preamble(self.text)
        self.proposed = bp.proposed_equations(digest, contribution)
        self.equation_steps = bp.equation_steps(digest, self.proposed) if bp.stepped(skill) else []
        self.dropped = ""
        """Why the reference was removed, where it crashed after repair."""

    # -- one run ----------------------------------------------------------------------

    def __call__(self) -> dict[str, Any]:
        overall = self.steps.planned_overall(self.digest)
        self.write()
        made = self.steps.step("scaffold", "generate", lambda: self.scaffold(overall))
        system = pl.preamble(self.text, self.skill.body)
        # The reference is repaired only where it crashes; a disagreement is the method's to fix.
        editable = [self.method, *([REFERENCE] if self.has(REFERENCE) else [])]
        own = (self.method, self.cls, self.positional)
        final = self.steps.verify_and_repair(system, editable, self.method, own)
        final = self.drop_broken_reference(final, "fidelity/drop")
        final, pool, agreed = self.second_opinions(final)
        final, fresh, agreed = self.fresh_attempts(final, pool, agreed)
        final = self.drop_broken_reference(final, "fidelity/drop-after-fresh")
        return self.report(final, made, fresh, agreed)

    def has(self, rel: str) -> bool:
        return (self.run.root / rel).is_file()

    def read(self, rel: str) -> str | None:
        return self.run.read_file(rel) if self.has(rel) else None

    def repo_files(self) -> list[str]:
        return [f for f in self.run.repo_files() if f.endswith(CHECKED_FILES)]

    def verify(self) -> Verification:
        return verify(self.run.root, self.repo_files(), self.steps.options.limits)

    # -- 1. write ---------------------------------------------------------------------

    def write(self) -> None:
        parts = 2 if self.fidelity else 1
        self.steps.progress("generate", 0, parts)
        self.steps.step(
            f"generate/{self.method}", "generate", lambda: {**self.write_method(), "fixes": self.fix()}
        )
        self.steps.progress("generate", 1, parts)
        if self.fidelity:
            self.steps.step(f"generate/{REFERENCE}", "generate", self.write_reference)
            self.steps.progress("generate", 2, parts)

    def write_method(self, feedback: str = "", temperature: float | None = None) -> dict[str, Any]:
        ask = bp.method_ask(self.skill, self.digest, self.data, bp.pitch(self.contribution), self.proposed)
        return self.steps.write_code(self.method_system, self.method, ask + feedback, temperature)

    def fix(self) -> list[str]:
        """The deterministic fixes on the method module as written, before anything runs it
        (a learned gate held as a float passes every test and never trains)."""
        code = {self.method: self.run.read_file(self.method)}
        own = (self.method, self.cls, self.positional)
        fixes = deterministic_fixes(
            code, own, self.steps.stated(), learned=self.steps.learned(), biased=self.biased()
        )
        self.run.write_file(self.method, code[self.method])
        return [f.what for f in fixes]

    def biased(self) -> bool:
        """Whether the method is probed and every weight matrix of the paper's steps comes with
        its bias (read from the steps, as ``tests/paper.json`` will be)."""
        if not self.skill.metadata.get("probe"):
            return False
        steps = bp.equation_steps(self.digest, self.proposed)
        maps = fingerprint(steps, " ".join(self.digest.where.values())).linear
        return bool(maps) and all(m.bias for m in maps)

    def write_reference(self, temperature: float | None = None) -> dict[str, Any]:
        """reference.py in its own call, from the digest and equations, never the method module;
        removed when it does not parse or has no function (no reference beats a broken one)."""
        if self.fidelity is None:
            return {"kept": False}
        code = self.run.read_file(self.method)
        attributes = bp.init_attributes(code, self.cls)
        constants = bp.method_config(code, self.cls, self.digest)  # the values config.yaml will give it
        ask = bp.reference_ask(
            self.fidelity[0],
            self.digest,
            attributes,
            bp.pitch(self.contribution),
            constants,
            self.proposed,
            self.equation_steps,
        )
        written = self.steps.write_code(self.method_system, REFERENCE, ask, temperature)
        if written["parses"] and bp.name_reference(self.run.read_file(REFERENCE)) is None:
            # A class where a function was asked for (small models write a module out of
            # habit): asked once more, told so, since without a function nothing is checked.
            written = self.steps.write_code(self.method_system, REFERENCE, ask + bp.FUNCTION_AGAIN)
        replied = self.run.read_file(REFERENCE)
        code = bp.without_dropout(bp.define_constants(replied, bp.numbers(constants)))
        named = bp.name_reference(code) if written["parses"] else None
        if named is None:
            (self.run.root / REFERENCE).unlink()
        elif named != replied:
            self.run.write_file(REFERENCE, named)
        return {**written, "kept": named is not None}

    # -- 2. scaffold ------------------------------------------------------------------

    def configure(self) -> dict[str, Any]:
        """config.yaml from the skeleton's, with the method's arguments and the paper's values."""
        template = self.steps.library.tree(self.skill)["config.yaml"].read_text()
        values = bp.method_config(self.run.read_file(self.method), self.cls, self.digest)
        self.run.write_file("config.yaml", bp.config_text(template, values, self.data, self.digest))
        return values

    def scaffold(self, overall: OverallPlan) -> dict[str, Any]:
        tree = self.steps.library.tree(self.skill)
        for rel, src in tree.items():
            if rel != "config.yaml":
                self.run.write_file(rel, src.read_text())
        if self.fidelity and self.has(REFERENCE):
            self.run.write_file(FIDELITY_TEST, self.fidelity[1].read_text())
        criteria = self.paper_checks()
        values = self.configure()
        arch = bp.architecture(tree, self.method, self.skill)
        self.run.save_text("architecture.md", pl.diagrams_markdown(arch))
        readme = gen.readme(self.paper.title, overall, arch, self.digest, self.steps.model.name)
        self.run.write_file("README.md", readme)
        codes = {n: self.run.read_file(n) for n in self.run.repo_files() if n.endswith(".py")}
        reqs = requirements(codes)
        self.run.write_file("requirements.txt", "\n".join([*reqs, "pytest"]) + "\n")
        return {"blueprint": self.skill.name, "method": values, "requirements": reqs, "criteria": criteria}

    def paper_checks(self) -> list[str]:
        """``tests/paper.json`` and ``tests/test_paper.py``: the paper's statements about its method
        as checks, where the blueprint can probe its method and the paper states something. The
        criteria, one line each, for the report."""
        level = self.skill.metadata.get("probe")
        common = self.steps.library.get("blueprint-common")
        if not level or common is None:
            return []
        steps = bp.equation_steps(self.digest, self.proposed)
        # The sizes' values are looked up in the whole paper (a width is often stated with the
        # experiments, far from the equations).
        fp = fingerprint(steps, " ".join(self.digest.where.values()), readable(self.paper.full_text()))
        if fp.empty():
            return []
        self.run.write_file("tests/paper.json", json.dumps({**fp.to_dict(), "level": level}, indent=1) + "\n")
        self.run.write_file(PAPER_TEST, (common.path / "scripts" / "test_paper.py").read_text())
        return fp.criteria()

    # -- 3. a reference that crashes --------------------------------------------------

    def drop_broken_reference(self, final: list[Verification], key: str) -> list[Verification]:
        """A reference that still crashes after repair checks nothing: it goes, with its test,
        so that the method is judged by its contract and the report says fidelity went unchecked."""
        why = reference_crash(final[-1])
        if not why:
            return final

        def drop() -> dict[str, Any]:
            for name in (REFERENCE, FIDELITY_TEST):
                (self.run.root / name).unlink(missing_ok=True)
            return {**self.verify().to_dict(), "dropped": why}

        result = self.steps.step(key, "repair", drop)
        self.dropped = str(result.get("dropped", why))
        return [*final, Verification.from_dict(result)]

    # -- 4. second opinions -----------------------------------------------------------

    def sample_references(self) -> list[str]:
        """More references for the method as it is now (a block's share its weights), each its
        own sampled call; reference.py is left as it was."""
        kept = self.read(REFERENCE)
        found = []
        for _ in range(self.steps.options.reference_samples):
            if self.write_reference(REFERENCE_TEMPERATURE)["kept"]:
                found.append(self.run.read_file(REFERENCE))
        if kept is not None:
            self.run.write_file(REFERENCE, kept)
        return found

    def agree(self, pool: list[str]) -> dict[str, Any]:
        """The method against reference.py and each of ``pool``; the first reference it agrees
        with becomes reference.py."""
        current = self.read(REFERENCE)
        candidates = [c for c in dict.fromkeys([current or "", *pool]) if c]
        limits = self.steps.options.limits
        found = agreement(self.run.root, self.repo_files(), FIDELITY_TEST, candidates, limits)
        chosen = next((i for i, ok in enumerate(found) if ok), None)
        if chosen is not None and candidates[chosen] != current:
            self.run.write_file(REFERENCE, candidates[chosen])
        return {"agreed": sum(found), "of": len(candidates), "chosen": chosen}

    def second_opinions(
        self, final: list[Verification]
    ) -> tuple[list[Verification], list[str], dict[str, Any]]:
        """A disagreement does not say which side is wrong, and a small model's reference is as
        often wrong as its method: a few more references are sampled and the method is held
        against each; one it agrees with (written separately) replaces the first."""
        checkable = self.fidelity is not None and self.has(REFERENCE)
        if not (checkable and self.steps.options.reference_samples and disagreed(final[-1])):
            return final, [], {}

        def do() -> dict[str, Any]:
            sampled = self.sample_references()
            said = self.agree(sampled)
            now = self.verify() if said["chosen"] else final[-1]
            return {**now.to_dict(), "references": sampled, "agreement": said}

        result = self.steps.step("fidelity/references", "repair", do)
        return [*final, Verification.from_dict(result)], list(result["references"]), dict(result["agreement"])

    # -- 5. fresh attempts ------------------------------------------------------------

    def fresh_attempts(
        self, final: list[Verification], pool: list[str], agreed: dict[str, Any]
    ) -> tuple[list[Verification], dict[str, int], dict[str, Any]]:
        """A small model's fresh draw, told what its first failed, often passes where repairing the
        first does not: a few are sampled, and the checks pick the best of all."""
        fresh = {"sampled": 0, "kept": 0}
        for n in range(1, self.steps.options.fresh_attempts + 1):
            if final[-1].ok:
                break
            best = final[-1]
            result = self.steps.step(f"fresh/{n}", "repair", lambda best=best: self.attempt(best, pool))
            fresh["sampled"] += 1
            if result["kept"]:
                fresh["kept"] += 1
                final = [*final, Verification.from_dict(result)]
                agreed = dict(result.get("agreement") or agreed)
        return final, fresh, agreed

    def attempt(self, best: Verification, pool: list[str]) -> dict[str, Any]:
        """One fresh method; kept where it passes more checks than ``best``, else undone."""
        kept = {name: self.read(name) for name in [self.method, REFERENCE, FIDELITY_TEST, "config.yaml"]}
        written = self.write_method(failed_before(best, self.method), FRESH_TEMPERATURE)
        fixes = self.fix()
        references = pool
        if self.fidelity is not None and "{attributes}" in self.fidelity[0]:
            # A block's reference shares its weights, so it follows the new method.
            self.write_reference()
            if not self.has(REFERENCE):
                (self.run.root / FIDELITY_TEST).unlink(missing_ok=True)
            else:
                self.run.write_file(FIDELITY_TEST, self.fidelity[1].read_text())
                references = self.sample_references() if pool else []
        self.configure()
        said = self.agree(references) if references and self.has(FIDELITY_TEST) else {}
        now = self.verify()
        if score(now) > score(best):
            return {
                **now.to_dict(),
                "kept": True,
                "parses": written["parses"],
                "fixes": fixes,
                "agreement": said,
            }
        for name, text in kept.items():
            if text is not None:
                self.run.write_file(name, text)
            elif self.has(name):
                (self.run.root / name).unlink()
        return {**best.to_dict(), "kept": False, "tried": list(score(now))}

    # -- 6. report --------------------------------------------------------------------

    def report(
        self, final: list[Verification], made: dict[str, Any], fresh: dict[str, int], agreed: dict[str, Any]
    ) -> dict[str, Any]:
        checked = fidelity_result(self.run.root, final[-1], self.digest, self.dropped, agreed)
        on = f" ({self.data} data)" if self.data else ""
        about = [
            f"Kind of contribution: {self.contribution['kind']}{on}, so the repository is the "
            f"`{self.skill.name}` blueprint (version {self.skill.version}) with the paper's method "
            f"written into `{self.method}` by the model; everything else, the contract tests included, "
            "is the blueprint's.",
            checked["line"],
        ]
        if fresh["sampled"]:
            about.append(
                f"Repair left `{self.method}` failing, so {fresh['sampled']} fresh version(s) were sampled, "
                f"each told what the last one failed; {fresh['kept']} passed more checks and replaced it."
            )
        extra = {"fidelity": checked, "fresh": fresh, "criteria": made.get("criteria", [])}
        nothing = (
            f"the reference written from its equations crashed and was removed ({self.dropped})"
            if self.dropped
            else f"the {self.skill.name} blueprint has no reference for this kind, and no statement "
            "of the paper about its method could be read as a check"
        )
        verdict = judge(self.run.root, final[-1], nothing)
        model = self.steps.model.name
        summary = write_report(self.run, self.paper.title, model, final, about, extra, verdict)
        summary["contribution"] = self.contribution
        return summary
