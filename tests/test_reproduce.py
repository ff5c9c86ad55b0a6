"""The reproduce pipeline with a scripted model: every stage, the file order, the sandbox checks,
the repair loop, resume after a crash or kill -9, and refusing what it cannot do."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from smolab.reproduce import NothingToImplement, Options, ReproduceError, RunFolderError, reproduce
from smolab.reproduce.code import add_missing_imports, extract_code, interface, requirements
from smolab.reproduce.plan import config_yaml, task_order
from smolab.reproduce.schemas import Architecture, Logic

from .conftest import home_with_models, run_cli
from .scripted_author import PAPER_TEX, Author, author_model
from .trajectories import model_calls

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def paper(tmp_path: Path) -> Path:
    path = tmp_path / "paper.tex"
    path.write_text(PAPER_TEX)
    return path


def run(paper: Path, out: Path, author: Author, **kw) -> dict:
    return reproduce(str(paper), out, author_model(author), options=Options(repair_rounds=2), **kw)


def test_a_run_writes_every_artifact_and_passes_its_checks(paper, tmp_path):
    out = tmp_path / "repo"
    author = Author()
    summary = run(paper, out, author)
    # The free way runs, but nothing compares its code with the paper: no success is claimed.
    assert summary["runs"], summary["checks"]
    assert not summary["ok"] and summary["method"] == "not checked"
    assert (out / "REPORT.md").read_text().startswith("# Runs; the method was not checked against the paper")
    files = set(summary["files"])
    for name in ("README.md", "requirements.txt", "config.yaml", "REPORT.md", "report.json", "main.py"):
        assert name in files
    assert {
        "model.py",
        "train.py",
        "tests/test_smoke.py",
        "tests/test_method.py",
        "tests/conftest.py",
    } <= files
    meta = out / ".smolab"
    for artifact in ("digest.json", "plan.json", "architecture.json", "logic.json", "architecture.md"):
        assert (meta / artifact).is_file(), artifact
    arch_md = (meta / "architecture.md").read_text()
    assert "classDiagram" in arch_md and "sequenceDiagram" in arch_md
    # dependency order: model before train before main; analysis before generation
    generated = [k.split(":", 1)[1] for k in author.asked if k.startswith("generate:")]
    assert generated == ["model.py", "train.py", "main.py", "tests/test_method.py"]
    first_gen = author.asked.index("generate:model.py")
    assert all(author.asked.index(f"analyze:{n}") < first_gen for n in ("model.py", "train.py", "main.py"))
    # the repository's own files
    assert "pyyaml==" in (out / "requirements.txt").read_text().lower()
    config = (out / "config.yaml").read_text()
    assert "train_steps: 3" in config and "learning_rate: null  # unknown" in config and "smoke:" in config
    assert "GatedSum" in (out / "README.md").read_text() or "gated sum" in (out / "README.md").read_text()
    report = (out / "REPORT.md").read_text()
    assert report.startswith("# Runs; the method was not checked") and "| generate |" in report
    assert summary["tests_after_repair"]["passed"] == summary["tests_after_repair"]["total"] > 0
    # every model call is one line of the trajectory, with its stage
    lines = model_calls(meta)
    assert len(lines) == len(author.asked)
    assert {ln["stage"] for ln in lines} == {"digest", "plan", "analyze", "generate"}


def test_coding_prompts_hold_interfaces_not_earlier_files_or_the_paper(paper, tmp_path):
    out = tmp_path / "repo"
    run(paper, out, Author())
    lines = model_calls(out / ".smolab")
    main_prompt = next(ln for ln in lines if ln["key"] == "generate/main.py")
    user = main_prompt["messages"][-1]["content"]
    assert "class GatedSum" in user and "def train(steps: int, lr: float) -> float" in user
    assert "loss = loss * (1 - lr)" not in user  # bodies are not sent
    assert "We report the mean of the outputs" not in json.dumps(main_prompt["messages"])  # nor the paper


def test_the_repair_loop_fixes_an_injected_wrong_import(paper, tmp_path):
    out = tmp_path / "repo"
    author = Author(broken_import=True)
    summary = run(paper, out, author)
    assert summary["runs"]
    assert summary["repair_rounds"] == 1
    before, after = summary["tests_before_repair"], summary["tests_after_repair"]
    assert before["passed"] < before["total"] and after["passed"] == after["total"]
    assert "repair:model.py" in author.asked
    v0 = json.loads((out / ".smolab" / "steps" / "verify__0.json").read_text())["result"]
    assert any(
        f["check"] == "imports" and f["file"] == "model.py" and "helpers" in f["error"]
        for f in v0["failures"]
    )
    assert "from helpers" not in (out / "model.py").read_text()
    assert (
        "FAIL: 1 of 2 modules import" in (out / "REPORT.md").read_text()
        or "FAIL" in (out / "REPORT.md").read_text()
    )


@pytest.mark.parametrize(
    "crash_at", ["Architecture", "analyze:train.py", "generate:main.py", "repair:model.py"]
)
def test_resume_after_a_crash_never_redoes_a_finished_step(paper, tmp_path, crash_at):
    out = tmp_path / "repo"
    first = Author(broken_import=True, crash_at=crash_at)
    with pytest.raises(RuntimeError, match="crash injected"):
        run(paper, out, first)
    with pytest.raises(RunFolderError, match="--resume"):
        run(paper, out, Author(broken_import=True))
    second = Author(broken_import=True)
    summary = run(paper, out, second, resume=True)
    assert summary["runs"]
    done_before_crash = set(first.asked[:-1]) - {crash_at}
    asked_again = done_before_crash & set(second.asked)
    # Only the crashed step's own earlier calls may repeat (the digest asks many questions in one step).
    assert not {
        k for k in asked_again if not k.startswith(("ChunkDigest", "ChunkFacts", "Stated", "overview"))
    } - {crash_at}
    assert second.asked[0] == crash_at


def test_kill_9_mid_run_then_resume(paper, tmp_path):
    out = tmp_path / "repo"
    script = (
        "import sys; from pathlib import Path\n"
        "from smolab.reproduce import reproduce, Options\n"
        "from tests.scripted_author import Author, author_model\n"
        f"model = author_model(Author(delay=0.05))\n"
        f"reproduce({str(paper)!r}, Path({str(out)!r}), model, options=Options())\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)
    steps = out / ".smolab" / "steps"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (steps / "analyze__model.py.json").exists():
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = {p.name: p.read_text() for p in steps.glob("*.json")}
    assert "plan__logic.json" in finished and "verify__0.json" not in finished
    author = Author()
    summary = run(paper, out, author, resume=True)
    assert summary["runs"]
    for name, text in finished.items():
        assert (steps / name).read_text() == text  # finished steps untouched
    assert not any(k in author.asked for k in ("OverallPlan", "Architecture", "Logic", "analyze:model.py"))


def test_output_folder_rules(paper, tmp_path):
    out = tmp_path / "repo"
    run(paper, out, Author())
    other = tmp_path / "other.tex"
    other.write_text(PAPER_TEX.replace("Gated Sums", "Other Sums"))
    with pytest.raises(RunFolderError, match="another paper"):
        run(other, out, Author(), resume=True)
    with pytest.raises(RunFolderError, match="already holds a run of this paper"):
        run(paper, out, Author())
    (out / "notes.txt").write_text("mine")
    summary = run(other, out, Author(), force=True)  # start over: the old run's files go, the user's stay
    assert summary["runs"] and (out / "notes.txt").read_text() == "mine"
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x.txt").write_text("x")
    with pytest.raises(RunFolderError, match="not empty"):
        run(paper, busy, Author())
    with pytest.raises(RunFolderError, match="no smolab run"):
        run(paper, tmp_path / "new", Author(), resume=True)


def test_a_model_too_small_and_a_paper_without_a_method(paper, tmp_path):
    with pytest.raises(ReproduceError, match="needs at least 4096"):
        reproduce(str(paper), tmp_path / "a", author_model(Author(), window=2048))
    survey = tmp_path / "survey.tex"
    survey.write_text(
        "\\documentclass{article}\\title{A Survey}\\begin{document}\\begin{abstract}We review work."
        "\\end{abstract}\\section{Overview}Many papers exist.\\end{document}"
    )

    class Empty(Author):
        def answer(self, kind, messages):
            if kind in ("ChunkDigest", "ChunkFacts"):
                return json.dumps(
                    {"problem": "", "method_steps": [], "architecture": "", "losses": [], "datasets": [],
                     "metrics": [], "hyperparameters": [], "unclear": []}
                )  # fmt: skip
            return "" if kind.startswith("overview") else super().answer(kind, messages)

    with pytest.raises(NothingToImplement, match="no method to implement"):
        reproduce(str(survey), tmp_path / "b", author_model(Empty()))


def test_task_order_follows_dependencies_and_ends_with_main():
    arch = Architecture.model_validate(
        {"files": [{"name": n, "purpose": "x"} for n in ("main.py", "train.py", "data.py", "model.py")],
         "classes": [], "calls": []}
    )  # fmt: skip
    logic = Logic.model_validate(
        {"packages": [], "shared": [], "files": [
            {"name": "train.py", "depends_on": ["model.py", "data.py"], "logic": "x"},
            {"name": "model.py", "depends_on": ["train.py"], "logic": "a cycle, broken"},
            {"name": "main.py", "depends_on": ["train.py"], "logic": "x"}]}
    )  # fmt: skip
    order = task_order(arch, logic)
    assert order[-1] == "main.py" and sorted(order) == sorted(["main.py", "train.py", "data.py", "model.py"])
    assert order.index("data.py") < order.index("train.py")


def test_code_helpers():
    assert extract_code("text\n```python\nx = 1\n```\nmore") == "x = 1\n"
    fixed, added = add_missing_imports(
        '"""Doc."""\nx = torch.zeros(3)\ny = np.ones(2)\nz = nn.Linear(1, 1)\n'
    )
    assert added == ["import numpy as np", "import torch.nn as nn", "import torch"] or set(added) == {
        "import numpy as np",
        "import torch.nn as nn",
        "import torch",
    }
    assert fixed.startswith('"""Doc."""\n')
    api = interface(
        "model.py", 'class A(B):\n    """An A."""\n    def f(self, x: int) -> int:\n        return x\n'
    )
    assert "class A(B):" in api and "def f(self, x: int) -> int" in api and "return x" not in api
    assert requirements({"a.py": "import yaml\nimport os\nimport b\n", "b.py": "import numpy"})[0].startswith(
        "numpy"
    )


def test_config_marks_unknown_and_unverified_values():
    from smolab.paper.digest import CheckedHyperParameter, Digest

    d = Digest(
        hyperparameters=[
            CheckedHyperParameter(name="d_model (model width)", value="512", verified=True),
            CheckedHyperParameter(name="learning rate", value="unknown"),
            CheckedHyperParameter(name="training steps or epochs", value="100,000", verified=True),
            CheckedHyperParameter(name="beta 2", value="0.98"),
        ]
    )
    text, data = config_yaml(d)
    assert data["d_model"] == 512 and data["train_steps"] == 100000 and data["learning_rate"] is None
    assert data["beta_2"] == 0.98 and "beta_2: 0.98  # unverified" in text
    assert data["smoke"]["d_model"] < 64


def test_cli_refuses_bad_input_in_one_line(tmp_path, paper):
    env = {"SMOLAB_MODEL": "smollm2-135m", "SMOLAB_HOME": str(home_with_models(tmp_path))}
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x").write_text("x")
    r = run_cli("reproduce", str(paper), "--out", str(busy), env=env)
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1 and "not empty" in r.stderr
    notpdf = tmp_path / "notes.pdf"
    notpdf.write_text("hello")
    r = run_cli("reproduce", str(notpdf), "--out", str(tmp_path / "o"), env=env)
    assert r.returncode == 1 and "not a PDF" in r.stderr.strip().splitlines()[-1]
    assert len([ln for ln in r.stderr.splitlines() if ln.strip() and "━" not in ln]) == 1


def test_judge_averages_samples_and_fits_the_window(paper, tmp_path):
    from smolab.models import ChatDefaults, ChatModel, ScriptedBackend
    from smolab.paper import read_paper
    from smolab.reproduce.judge import Judge

    out = tmp_path / "repo"
    run(paper, out, Author())
    scores = iter([3, 4, 5])

    def verdict(messages, params):
        assert params.json_schema["title"] == "Judgement"
        return json.dumps(
            {
                "critiques": [
                    {
                        "file": "model.py",
                        "function": "forward",
                        "severity": "medium",
                        "problem": "alpha is fixed",
                    },
                    {"file": "main.py", "function": "main", "severity": "high", "problem": "no evaluation"},
                ],
                "score": next(scores),
            }
        )

    backend = ScriptedBackend(context_window=8192, fallback=verdict)
    v = Judge(ChatModel(backend, ChatDefaults())).judge(out, read_paper(paper), str(paper), samples=3)
    assert v.scores == [3, 4, 5] and v.score == 4.0
    assert [c.severity for c in v.critiques] == ["high", "medium"]  # merged across samples, worst first
    prompt = backend.history[0][0]
    assert "class GatedSum" in prompt[-1].content and "Digest" not in prompt[0].content
    assert "y = x + α h" in prompt[0].content  # the run's digest carries the paper's equation
    assert len({p[-1].content for p, _ in backend.history}) == 1  # same prompt, different samples
    assert [params.seed for _, params in backend.history] == [0, 1, 2]
    # a small window: files become interfaces, and the prompt still fits
    small = ScriptedBackend(context_window=1400, fallback=verdict)
    scores = iter([2])
    v = Judge(ChatModel(small, ChatDefaults())).judge(out, read_paper(paper), str(paper), reference=out)
    assert v.cut and v.prompt_tokens < 1400 - 300  # the call itself refuses a prompt that does not fit


def test_design_keeps_within_the_schema_and_always_has_main():
    from smolab.reproduce.plan import normalize_design

    arch = Architecture.model_validate(
        {"files": [{"name": f"part{i}.py", "purpose": "x"} for i in range(4)], "classes": [], "calls": []}
    )
    logic = Logic.model_validate(
        {"packages": [], "shared": [], "files": [{"name": "extra.py", "depends_on": [], "logic": "x" * 300}]}
    )
    design = normalize_design(arch, logic)
    names = [f.name for f in design.files]
    assert len(names) <= 6 and names[-1] == "main.py"
    Architecture.model_validate(design.model_dump())  # still valid against its own schema


def test_code_that_does_not_parse_is_asked_for_once_more_at_generation(paper, tmp_path):
    author = Author(garble="train.py")
    summary = run(paper, tmp_path / "repo", author)
    assert summary["runs"] and summary["repair_rounds"] == 0
    assert author.asked.count("retry:train.py") == 1


def test_cli_judge_refuses_a_missing_repository(tmp_path, paper):
    r = run_cli("judge", str(tmp_path / "nope"), "--paper", str(paper), env={"SMOLAB_MODEL": "smollm2-135m"})
    assert r.returncode == 1 and r.stderr.strip().count("\n") == 0 and "is not a folder" in r.stderr


def test_a_repetition_loop_is_detected_and_undone():
    from smolab.reproduce.code import drop_repeats, repeating

    loop = "import torch\n" + "from torch.nn.utils.rnn import pad_sequence_with_lengths\n" * 4
    assert repeating(loop)
    assert repeating("x = 1\n" + "a = f(b)\nc = g(a)\n" * 3)
    assert not repeating("def f():\n    return 1\n\n\ndef g():\n    return 2\n")
    assert not repeating("    )\n    )\n    )\n    )\n")  # short lines repeat legitimately
    cleaned = drop_repeats(loop + "x = 1\nx = 1\n")
    assert cleaned.count("pad_sequence_with_lengths") == 1 and cleaned.count("x = 1") == 1


def test_generation_stops_at_a_loop_instead_of_the_token_limit(paper, tmp_path):
    class Looping(Author):
        def answer(self, kind, messages):
            if kind == "generate:train.py":
                return "```python\n" + TRAIN_LOOP + "```"
            return super().answer(kind, messages)

    author = Looping()
    out = tmp_path / "repo"
    run(paper, out, author)
    step = json.loads((out / ".smolab" / "steps" / "generate__train.py.json").read_text())
    assert step["result"]["looped"] is True
    assert step["completion_tokens"] < 300  # cut at the loop, not at 1,400 tokens


TRAIN_LOOP = "from model import GatedSum\n" + "import os\n" * 400


def test_imports_that_cannot_work_are_pointed_at_what_exists():
    from smolab.reproduce.code import fix_imports

    # An invented package name, so that nothing installed answers to it.
    files = {
        "transformer.py": "class Encoder:\n    pass\n\n\ndef build():\n    return Encoder()\n",
        "main.py": "import pyyaml\nfrom transformerz import Encoder, build\nfrom torch import nn\n",
        "other.py": "from transformerz import Missing\n",
    }
    changes = fix_imports(files)
    assert files["main.py"].splitlines()[:2] == ["import yaml", "from transformer import Encoder, build"]
    assert "from torch import nn" in files["main.py"]  # installed packages are left alone
    assert files["other.py"] == "from transformerz import Missing\n" and "other.py" not in changes
    assert len(changes["main.py"]) == 2


def test_repair_tells_the_model_a_missing_package_can_never_be_imported():
    from smolab.reproduce.repair import missing_packages, repair_ask

    error = "No module named 'transformerz'\nNo module named 'data'\nNo module named 'torch.nn'"
    # a module of the repository, and an installed package, are not missing
    assert missing_packages(error, {"data"}) == ["transformerz"]
    ask = repair_ask("main.py", "x = 1\n", error, "", {"data"})
    assert "`transformerz` is not installed and cannot be" in ask


def test_a_verdict_that_contradicts_its_own_critiques_is_flagged():
    from smolab.reproduce.judge import Verdict
    from smolab.reproduce.schemas import Critique

    high = Critique(file="model.py", function="forward", severity="high", problem="no attention")
    assert not Verdict(scores=[5, 4], critiques=[high]).consistent
    assert Verdict(scores=[3], critiques=[high]).consistent
    assert Verdict(scores=[5], critiques=[]).consistent


def test_the_agent_can_be_the_repair_engine_and_never_keeps_a_changed_test(paper, tmp_path):
    """Repair by the agent: the repository is its workspace and the failing checks its task.
    What it changes in the editable files stays; what it changes in the tests goes back."""
    from smolab.agent.prompt import SYSTEM
    from smolab.config import load_settings
    from smolab.models import ChatDefaults, ChatModel, ScriptedBackend
    from smolab.reproduce.agent_repair import AgentRepair

    from .scripted_author import MODEL_GOOD

    author = Author(broken_import=True)
    steps = iter(
        [
            f"Thought: Fix the import.\n```python\nwrite_file('model.py', {MODEL_GOOD!r})\n"
            "write_file('tests/test_smoke.py', 'def test_nothing():\\n    pass\\n')\n```",
            "Thought: Run the tests.\n```python\nprint(shell('python -m pytest -q'))\n```",
            "Thought: Done.\n```python\nfinal_answer('Fixed the import in model.py; the tests pass.')\n```",
        ]
    )
    agent_prompts: list[str] = []

    def reply(messages, params):
        if messages[0].content.startswith(SYSTEM[:40]):
            agent_prompts.append(messages[1].content)
            return next(steps)
        return author(messages, params)

    model = ChatModel(ScriptedBackend(context_window=16384, fallback=reply), ChatDefaults(max_repairs=1))
    engine = AgentRepair(load_settings(home=tmp_path / "home"))
    out = tmp_path / "repo"
    summary = reproduce(str(paper), out, model, options=Options(repair_rounds=1, agent_repair=engine))
    assert "checks fail" in agent_prompts[0] and "Never change the tests" in agent_prompts[0]
    assert not any(k.startswith("repair") for k in author.asked)  # the pipeline's own repair never ran
    assert (out / "model.py").read_text() == MODEL_GOOD
    assert "def test_nothing" not in (out / "tests" / "test_smoke.py").read_text()  # a fixed test: put back
    assert (
        summary["runs"] and summary["tests_after_repair"]["passed"] == summary["tests_after_repair"]["total"]
    )
    record = json.loads((out / ".smolab" / "steps" / "repair__1.json").read_text())["result"]
    assert record["engine"] == "agent" and record["status"] == "done"
    assert record["restored"] == ["tests/test_smoke.py"]
