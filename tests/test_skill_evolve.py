"""Evolution: evidence read from run folders, proposals in a bounded schema, candidate folders
that are valid skills, validation by replay that publishes only what is not worse, and
retired skills dropping out of the library. Invented runs and skills throughout; the embedded
model phrases a pitfall in the last test."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from smolab.skills import SkillLibrary, SkillStore, read_skill
from smolab.skills.cycle import run_cycle
from smolab.skills.evidence import RunEvidence, SkillRef, read_run, signature
from smolab.skills.evolve import PITFALLS, Evolver, Proposal, candidate, general, model_phrase, skill_name
from smolab.skills.guide import Guide
from smolab.skills.replay import Score

SHAPE = "RuntimeError: mat1 and mat2 shapes cannot be multiplied (NxN and NxN)"
PERIOD = "ValueError: the period must divide the sequence length evenly"


def run(n: int, skills: list[str], errors=(), fixes=(), status="done", source="") -> RunEvidence:
    return RunEvidence(
        run=f"run-{n}",
        source=source or f"/papers/p{n}.pdf",
        status=status,
        skills=[SkillRef(name=s, version="1") for s in skills],
        errors=list(errors),
        fixes=list(fixes),
        repaired=["method.py: Block.forward"],
    )


def fixed_phrase(instructions: str, sig: str, changed) -> str:
    return f"Check every layer against its input before replying, to avoid: {sig.split(':')[0]}"


def test_signatures_read_the_same_mistake_the_same_way():
    a = "E   RuntimeError: mat1 and mat2 shapes cannot be multiplied (4x16 and 32x8)"
    b = "Traceback ...\nRuntimeError: mat1 and mat2 shapes cannot be multiplied (2x7 and 9x1)"
    assert (
        signature(a)
        == signature(b)
        == "RuntimeError: mat1 and mat2 shapes cannot be multiplied (NxN and NxN)"
    )
    assert signature("KeyError: 'lr'") == "KeyError: '…'"
    assert signature("all went well") == ""
    assert not general("assert: N == N") and general(SHAPE)


def test_evidence_is_read_from_a_run_folder(tmp_path):
    steps = tmp_path / "repo" / ".smolab" / "steps"
    steps.mkdir(parents=True)

    def step(key, result):
        (steps / f"{key.replace('/', '__')}.json").write_text(json.dumps({"key": key, "result": result}))

    failure = {
        "check": "main",
        "file": "method.py",
        "error": "RuntimeError: mat1 and mat2 shapes cannot be multiplied (4x3 and 5x2)",
    }
    step("plan/kind", {"kind": "layer"})
    step(
        "verify/0",
        {
            "checks": [{"name": "main", "ok": False}],
            "failures": [failure],
            "tests_passed": 2,
            "tests_total": 6,
        },
    )
    step(
        "repair/1",
        {"fixes": ["method.py: bias=False -> True"], "repaired": [{"target": "method.py: Gate.forward"}]},
    )
    step(
        "verify/1",
        {
            "checks": [{"name": "main", "ok": True}],
            "failures": [],
            "tests_passed": 6,
            "tests_total": 6,
            "fixed": ["main: method.py"],
        },
    )
    events = [
        {"type": "run_started", "kind": "reproduce", "id": "r1", "task": "/papers/gate.pdf"},
        {"type": "skill_used", "name": "blueprint-layer", "version": "5"},
        {"type": "model_call", "prompt_tokens": 100, "completion_tokens": 20, "seconds": 2.0},
        {"type": "run_ended", "status": "done"},
    ]
    (steps.parent / "trajectory.jsonl").write_text("\n".join(json.dumps(e) for e in events) + "\n")
    e = read_run(tmp_path / "repo")
    assert e is not None and e.kind == "layer" and e.status == "done" and e.source == "/papers/gate.pdf"
    assert e.tests_before == (2, 6) and e.tests_after == (6, 6) and e.repair_rounds == 1
    assert e.errors == [SHAPE] and e.fixes == ["method.py: bias=False -> True"]
    assert e.repaired == ["method.py: Gate.forward"] and e.fixed == ["main: method.py"] and e.tokens == 120
    assert [s.name for s in e.skills] == ["blueprint-layer"]
    assert read_run(tmp_path / "nothing") is None


def test_an_error_that_recurs_in_one_skills_runs_becomes_a_pitfall_line(tmp_path):
    lib = SkillLibrary()
    runs = [
        run(1, ["blueprint-layer", "blueprint-common"], [SHAPE, "assert: N == N"]),
        run(2, ["blueprint-layer", "blueprint-common"], [SHAPE, "assert: N == N"]),
        run(3, ["blueprint-layer", "blueprint-common"], [PERIOD]),  # once only: no proposal
    ]
    proposals = Evolver(lib, phrase=fixed_phrase).propose(runs)
    refine = [p for p in proposals if p.action == "refine"]
    assert [p.skill for p in refine] == ["blueprint-layer"]  # not the base every blueprint extends
    assert len(refine[0].lines) == 1 and "RuntimeError" in refine[0].lines[0]
    assert refine[0].runs == ["run-1", "run-2"] and "2 of 3 runs" in refine[0].reason
    folder = candidate(lib.get("blueprint-layer"), refine[0], tmp_path)
    skill = read_skill(folder)
    assert skill.version == str(int(lib.get("blueprint-layer").version) + 1)
    assert PITFALLS in skill.body and skill.body.rstrip().endswith(refine[0].lines[0])
    assert (folder / "assets").is_dir()  # the skeleton comes along
    # The next refinement adds under the same heading.
    again = candidate(
        skill, refine[0].model_copy(update={"lines": ["Another line of advice here."]}), tmp_path / "2"
    )
    assert read_skill(again).body.count(PITFALLS) == 1


def test_a_fix_the_deterministic_fixes_keep_making_becomes_a_line_without_a_model():
    what = "method.py: nn.Linear(..., bias=False) given its bias: every map of the paper's steps adds one"
    runs = [run(i, ["blueprint-layer"], fixes=[what]) for i in range(3)]
    [p] = Evolver(SkillLibrary()).propose(runs)
    assert p.action == "refine" and what in p.lines[0] and "3 runs" in p.lines[0]


def test_an_error_across_several_skills_that_no_repair_skill_fits_creates_one(tmp_path):
    lib = SkillLibrary()
    runs = [run(1, ["blueprint-loss"], [PERIOD]), run(2, ["blueprint-schedule"], [PERIOD])]
    [p] = [p for p in Evolver(lib, phrase=fixed_phrase).propose(runs) if p.action == "create"]
    assert p.skill == skill_name(PERIOD) and p.skill.startswith("repair-valueerror-period")
    folder = candidate(None, p, tmp_path)
    made = read_skill(folder)  # valid in the format
    assert made.metadata["for"] == "repair" and made.description.startswith("Fixing ValueError")
    # Once it exists the same error is fitted, and no second one is proposed.
    extended = SkillLibrary([folder])
    assert Guide(list(extended)).choose("repair", "ValueError: the period must divide the sequence length")
    assert not [p for p in Evolver(extended, phrase=fixed_phrase).propose(runs) if p.action == "create"]
    # An error that a built-in repair skill already fits creates nothing.
    shape = [run(1, ["blueprint-loss"], [SHAPE]), run(2, ["blueprint-schedule"], [SHAPE])]
    assert not [p for p in Evolver(lib, phrase=fixed_phrase).propose(shape) if p.action == "create"]


def test_an_installed_skill_that_keeps_losing_is_retired_and_a_built_in_never(tmp_path):
    from .test_skill_guide import write_skill

    write_skill(tmp_path / "mine", "plot-helper", "Plotting loss curves with matplotlib.", "agent")
    lib = SkillLibrary([tmp_path / "mine"])
    losing = [run(i, ["plot-helper", "write-files"], status="failed") for i in range(6)]
    proposals = Evolver(lib).propose(losing, now=time.time())
    assert [(p.action, p.skill) for p in proposals] == [("retire", "plot-helper")]
    folder = candidate(lib.get("plot-helper"), proposals[0], tmp_path / "out")
    assert read_skill(folder).retired
    assert "plot-helper" not in {s.name for s in SkillLibrary([folder])}  # dropped once retired


def test_near_duplicate_installed_skills_are_merged_into_the_stronger(tmp_path):
    from .test_skill_guide import write_skill

    body = "Read the CSV with pandas, print the columns, group by the key and average the values."
    write_skill(tmp_path / "mine", "csv-means", "Averages per group from a CSV file.", "agent", body)
    write_skill(
        tmp_path / "mine", "csv-averages", "Averages per group from a CSV file with pandas.", "agent", body
    )
    lib = SkillLibrary([tmp_path / "mine"])
    runs = [run(1, ["csv-means"], status="failed"), run(2, ["csv-averages"])]
    merges = [p for p in Evolver(lib).propose(runs, now=time.time()) if p.action == "merge"]
    assert [(p.skill, p.into) for p in merges] == [("csv-means", "csv-averages")]


def test_proposals_are_bounded():
    with pytest.raises(ValueError):
        Proposal(action="refine", skill="x", lines=["a"] * 4, reason="r")
    with pytest.raises(ValueError):
        Proposal(action="rewrite", skill="x", reason="r")  # type: ignore[arg-type]


def test_a_cycle_publishes_what_is_not_worse_and_refuses_what_is(tmp_path):
    store = SkillStore(tmp_path / "store")
    lib = SkillLibrary(store=store)
    runs = [run(i, ["blueprint-layer"], [SHAPE]) for i in range(3)]
    replayed: list[tuple[str, list[Path]]] = []

    def better(paper: str, extra: list[Path]) -> Score:
        replayed.append((paper, extra))
        if extra:
            assert PITFALLS in read_skill(extra[0]).body  # the candidate is what is replayed
        return Score(passed=bool(extra), tests=(6 if extra else 4, 6), checks_failing=0 if extra else 1)

    def cases(p: Proposal) -> list[str]:
        return [f"/papers/{r}.pdf" for r in p.runs]

    [out] = run_cycle(runs, lib, Evolver(lib, phrase=fixed_phrase), store, better, cases, most_cases=2)
    assert out.published == 1 and out.comparison is not None and out.comparison.not_worse
    assert (
        len(replayed) == 4
        and [p for p, _ in replayed] == ["/papers/run-0.pdf"] * 2 + ["/papers/run-1.pdf"] * 2
    )
    state = store.get("blueprint-layer")
    assert state.revisions[0].source == "evolved" and not state.trusted
    evidence = state.revisions[0].evidence
    assert evidence["totals"]["candidate"]["tests"] == 12 and evidence["totals"]["current"]["tests"] == 8
    # Untrusted: not used until accepted.
    assert PITFALLS not in SkillLibrary(store=store).get("blueprint-layer").body
    store.accept("blueprint-layer")
    assert PITFALLS in SkillLibrary(store=store).get("blueprint-layer").body

    def worse(paper: str, extra: list[Path]) -> Score:
        return Score(passed=not extra, tests=(3 if extra else 5, 6), checks_failing=0)

    other = SkillStore(tmp_path / "other")
    [out] = run_cycle(runs, lib, Evolver(lib, phrase=fixed_phrase), other, worse, cases)
    assert out.published is None and out.refused is not None and out.refused.is_file()
    assert json.loads(out.refused.read_text())["not_worse"] is False and other.names() == []


@pytest.mark.slow
def test_the_embedded_model_phrases_a_pitfall(real_settings):
    from smolab.models import Message, load_model
    from smolab.skills.evolve import Pitfall

    model = load_model("qwen2.5-coder-0.5b", real_settings.model_copy(update={"temperature": 0.0}))

    def ask(prompt: str) -> str | None:
        return model.chat([Message("user", prompt)], schema=Pitfall, temperature=0).line

    line = model_phrase(ask)(SkillLibrary().get("blueprint-layer").body, SHAPE, ["method.py: Block.forward"])
    assert line is not None and len(line.split()) >= 5 and len(line) <= 200


def test_a_recorded_run_of_the_current_version_is_not_replayed_again(tmp_path):
    lib = SkillLibrary()
    version = lib.get("blueprint-layer").version
    runs = [run(i, ["blueprint-layer"], [SHAPE]) for i in range(2)]
    for r in runs:
        r.skills = [SkillRef(name="blueprint-layer", version=version)]
        r.tests_after, r.checks_after = (4, 6), {"tests": False, "main": True}
    replayed: list[bool] = []

    def replay(paper: str, extra: list[Path]) -> Score:
        replayed.append(bool(extra))
        return Score(passed=True, tests=(6, 6), checks_failing=0)

    def cases(p: Proposal) -> list[str]:
        return [f"/papers/{r}.pdf" for r in p.runs]

    store = SkillStore(tmp_path / "store")
    [out] = run_cycle(runs, lib, Evolver(lib, phrase=fixed_phrase), store, replay, cases)
    assert replayed == [True, True]  # only the candidate ran; the current version's runs are on record
    assert out.comparison is not None and out.comparison.totals(out.comparison.current)["tests"] == 8
    assert out.comparison.totals(out.comparison.current)["checks_failing"] == 2 and out.published == 1


def fake_run(folder: Path, skill: str, error: str, status: str = "unverified") -> Path:
    """A finished reproduce run's folder, as read_run reads it."""
    steps = folder / ".smolab" / "steps"
    steps.mkdir(parents=True)
    failure = {"check": "main", "file": "method.py", "error": error}
    records = {
        "verify__0": {
            "checks": [{"name": "main", "ok": False}],
            "failures": [failure],
            "tests_passed": 1,
            "tests_total": 6,
        },
        "plan__kind": {"kind": "layer"},
    }
    for key, result in records.items():
        (steps / f"{key}.json").write_text(json.dumps({"key": key, "result": result}))
    events = [
        {"type": "run_started", "kind": "reproduce", "id": folder.name, "task": f"/papers/{folder.name}.pdf"},
        {"type": "skill_used", "name": skill, "version": "1"},
        {"type": "run_ended", "status": status},
    ]
    (steps.parent / "trajectory.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    return folder


@pytest.mark.slow
def test_skills_evolve_from_the_command_line(tmp_path):
    """`smolab skills evolve` with the smallest embedded model phrasing: proposals shown, nothing
    installed without a replay; no runs is one line."""
    from .conftest import run_cli

    error = "RuntimeError: mat1 and mat2 shapes cannot be multiplied (4x8 and 16x2)"
    for name in ("p1", "p2"):
        fake_run(tmp_path / "runs" / name, "blueprint-layer", error)
    home = {"SMOLAB_HOME": str(tmp_path / "home"), "COLUMNS": "200"}
    r = run_cli(
        "--model",
        "smollm2-135m",
        "skills",
        "evolve",
        "--runs",
        str(tmp_path / "runs"),
        "--replay",
        "0",
        env=home,
    )
    assert r.returncode == 0, r.stderr
    assert "proposal: refine blueprint-layer" in r.stderr and "not replayed" in r.stdout
    assert not (tmp_path / "home" / "skills").exists() or not any((tmp_path / "home" / "skills").iterdir())
    (tmp_path / "empty").mkdir()
    r = run_cli("skills", "evolve", "--runs", str(tmp_path / "empty"), env=home)
    assert (
        r.returncode != 0
        and "no finished reproduce run" in r.stderr
        and len(r.stderr.strip().splitlines()) == 1
    )
