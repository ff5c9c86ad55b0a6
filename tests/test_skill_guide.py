"""Instruction skills chosen for the agent's task and for a repair's error: by use, relevance
(with a floor) and measured effectiveness; told in the prompt within a budget and recorded as
used. Scripted models here; the embedded one in test_agent_embedded."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from smolab.models import ChatDefaults, ChatModel, ScriptedBackend
from smolab.reproduce.pipeline import Pipeline
from smolab.reproduce.rundir import RunDir
from smolab.reproduce.verify import Check, Failure, Verification
from smolab.skills import SkillLibrary
from smolab.skills.guide import Guide, told
from smolab.skills.select import Outcome

from .test_agent import make, step


def write_skill(root: Path, name: str, description: str, use: str = "", body: str = "Do it.") -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    meta = f"metadata:\n  role: instructions\n  for: {use}\n" if use else ""
    (folder / "SKILL.md").write_text(
        f"---\nname: {name}\ndescription: {json.dumps(description)}\n{meta}---\n\n{body}\n"
    )
    return folder


@pytest.fixture
def invented(tmp_path: Path) -> list:
    """A small library of invented skills, one use each and one for every use."""
    root = tmp_path / "skills"
    write_skill(
        root, "spectrogram-audio", "Turning audio clips into mel spectrograms with torchaudio.", "agent"
    )
    write_skill(root, "latex-tables", "Writing results as LaTeX tables with booktabs rules.", "agent")
    write_skill(
        root, "repair-recursion", "Fixing RecursionError: maximum recursion depth exceeded.", "repair"
    )
    write_skill(root, "lab-conventions", "Our lab's conventions for naming checkpoints and seeds.")
    return list(SkillLibrary([root]))  # among the built-in skills, as in use


def test_a_skill_is_chosen_for_its_use_and_only_when_the_query_fits(invented):
    guide = Guide(invented)
    agent = [c.skill.name for c in guide.choose("agent", "make mel spectrograms of the audio clips in wav/")]
    assert agent[0] == "spectrogram-audio"
    repair = guide.choose("repair", "RecursionError: maximum recursion depth exceeded while calling")
    assert [c.skill.name for c in repair] == ["repair-recursion"]
    # A repair skill is never offered to the agent, nor an agent skill to repair.
    assert "repair-recursion" not in [c.skill.name for c in guide.choose("agent", "recursion depth exceeded")]
    # A skill that does not say what it is for serves every use.
    assert guide.choose("repair", "naming checkpoints and seeds")[0].skill.name == "lab-conventions"
    # Nothing fits: nothing is told, rather than the least bad.
    assert guide.choose("agent", "What is 17 times 23?") == []
    assert guide.choose("agent", "   ") == []


def test_measured_effectiveness_reorders_equally_relevant_skills(tmp_path):
    root = tmp_path / "skills"
    for name in ("plot-curves-a", "plot-curves-b"):
        write_skill(root, name, "Plotting training curves with matplotlib.", "agent")
    skills = list(SkillLibrary([root]))
    now = time.time()
    record = {"plot-curves-a": [Outcome(now, False)] * 6, "plot-curves-b": [Outcome(now, True)] * 3}
    guide = Guide(skills, evidence=lambda name: record.get(name, []))
    chosen = guide.choose("agent", "plot the training curves", most=2)
    assert [c.skill.name for c in chosen] == ["plot-curves-b", "plot-curves-a"]
    assert chosen[0].effectiveness == pytest.approx(4 / 5) and chosen[1].effectiveness == pytest.approx(1 / 8)


def test_told_keeps_to_the_token_budget(invented):
    chosen = Guide(invented).choose("agent", "mel spectrograms and LaTeX tables of the audio results", most=2)
    assert len(chosen) == 2
    both, one = told(chosen, 1000), told(chosen, 12)
    assert both.count("### ") == 2 and one.count("### ") == 1 and told(chosen, 2) == ""


@pytest.mark.parametrize(
    ("error", "skill"),
    [
        ("RuntimeError: mat1 and mat2 shapes cannot be multiplied (8x20 and 40x3)", "repair-shape-mismatch"),
        (
            "RuntimeError: The size of tensor a (7) must match the size of tensor b (9)",
            "repair-shape-mismatch",
        ),
        ("RuntimeError: expected scalar type Float but found Double", "repair-dtype-device"),
        (
            "IndexError: tensors used as indices must be long, int, byte or bool tensors",
            "repair-dtype-device",
        ),
        ("NameError: name 'einsum_helper' is not defined", "repair-missing-name"),
        ("ModuleNotFoundError: No module named 'gridlib'", "repair-missing-name"),
        (
            "E   AssertionError: assert 0.51 == 0.25\nE    +  where 0.51 = out.mean()",
            "repair-failing-assertion",
        ),
    ],
)
def test_each_builtin_repair_skill_is_chosen_for_its_errors(error, skill):
    chosen = Guide(list(SkillLibrary())).choose("repair", error, most=1)
    assert [c.skill.name for c in chosen] == [skill]


@pytest.mark.parametrize(
    ("task", "skill"),
    [
        ("scripts/fit.py crashes with a KeyError; fix the script so it runs", "fix-failing-script"),
        ("Load the CSV sales.csv with pandas and give the mean price per region", "tabular-data"),
        (
            "The training loss becomes NaN after two epochs; make the training loop stable",
            "torch-training-loop",
        ),
        ("Create a JSON config file config.json with the learning rate and batch size", "write-files"),
    ],
)
def test_each_builtin_agent_skill_is_chosen_for_its_tasks(task, skill):
    chosen = Guide(list(SkillLibrary())).choose("agent", task, most=2)
    assert chosen and chosen[0].skill.name == skill


def test_the_agent_is_told_the_skills_for_its_task_and_records_them(tmp_path):
    task = "Load the CSV file prices.csv with pandas and give the mean price per region."
    guide = Guide(list(SkillLibrary()))
    replies = [step("Mean.", "print(3)"), step("Answer.", "final_answer(3)")]
    session, backend, ws = make(tmp_path, replies, task=task, guide=guide)
    (ws / "prices.csv").write_text("region,price\nnorth,2\nnorth,4\n")
    with session:
        session.agent.start(task)
    system = backend.history[0][0][0].content
    assert "Skills for this kind of task" in system and "### tabular-data" in system
    assert "df.groupby" in system  # the skill's instructions, not only its name
    lines = (tmp_path / "run" / "trajectory.jsonl").read_text().splitlines()
    used = [e for e in map(json.loads, lines) if e["type"] == "skill_used"]
    assert used and used[0]["name"] == "tabular-data" and "relevance" in used[0]["why"]


@pytest.mark.parametrize(
    ("task", "chosen"),
    [
        ("Which key in params.json has the smallest value? Answer with the key.", []),
        ("Does manifest.json name a licence? Answer yes or no.", []),
        ("Save the summary of the run as report.md", ["write-files"]),
        ("write notes.txt listing the three file names in the folder", ["write-files"]),
    ],
)
def test_a_question_about_a_file_is_not_a_task_of_writing_one(task, chosen):
    """A file's name in a question (``params.json``) is no reason to tell how to write files."""
    got = [c.skill.name for c in Guide(list(SkillLibrary())).choose("agent", task, most=1)]
    assert got == chosen


def test_a_task_no_skill_fits_gets_the_plain_prompt(tmp_path):
    session, backend, _ = make(
        tmp_path,
        [step("Multiply.", "print(17 * 23)"), step("Answer.", "final_answer(391)")],
        task="What is 17 * 23?",
        guide=Guide(list(SkillLibrary())),
    )
    with session:
        session.agent.start("What is 17 * 23?")
    assert "Skills for this kind of task" not in backend.history[0][0][0].content


def test_a_repair_ask_carries_the_skill_for_its_error_and_the_run_records_it(tmp_path):
    run = RunDir.open(tmp_path / "repo", "paper.pdf", "scripted", resume=False, force=False)
    broken = (
        "import torch\nfrom torch import nn\n\n\ndef build():\n    return nn.Linear(40, 3)\n\n\n"
        "def main():\n    print(build()(torch.ones(8, 20)))\n\n\nif __name__ == '__main__':\n    main()\n"
    )
    run.write_file("main.py", broken)
    error = (
        'Traceback (most recent call last):\n  File "main.py", line 10, in main\n'
        "    print(build()(torch.ones(8, 20)))\n"
        "RuntimeError: mat1 and mat2 shapes cannot be multiplied (8x20 and 40x3)"
    )
    fixed = "```python\ndef main():\n    print(build()(torch.ones(8, 40)))\n```"
    backend = ScriptedBackend([fixed], fallback=fixed)
    pipeline = Pipeline(run, ChatModel(backend, ChatDefaults(max_tokens=300)), "paper.pdf")
    failing = Verification(
        checks=[Check("main", False, "failed")], failures=[Failure("main", "main.py", error)]
    )
    pipeline._repair("You repair code.", failing, ["main.py"], "main.py", None)
    ask = backend.history[0][0][-1].content
    assert "How to fix this kind of error" in ask and "### repair-shape-mismatch" in ask
    used = [e for e in run.trajectory.read() if e.type == "skill_used"]
    assert [e.name for e in used] == ["repair-shape-mismatch"]
    assert "torch.ones(8, 40)" in run.read_file("main.py")
