"""The agent with the embedded models, offline: every reply parses under the step grammar,
and the default model solves an easy task. Slow: a minute or two on 2 cores."""

from __future__ import annotations

import json

import pytest

from smolab.agent import AgentOptions, Budget, build, run_task
from smolab.config import load_settings
from smolab.models import load_model

pytestmark = pytest.mark.slow

TASK = "How many lines does notes.txt have? Give the number with final_answer."


def _run(model, tmp_path, max_steps: int, task: str = TASK):
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "notes.txt").write_text("".join(f"note {i}\n" for i in range(37)))
    options = AgentOptions(budget=Budget(max_steps=max_steps), step_timeout=30)
    settings = load_settings(home=tmp_path / "home")
    session = build(model, settings, ws, tmp_path / "run", task=task, options=options)
    outcome = run_task(session, task)
    lines = (tmp_path / "run" / "trajectory.jsonl").read_text().splitlines()
    events = [json.loads(line) for line in lines]
    return outcome, events


@pytest.mark.parametrize("name", ["qwen2.5-coder-0.5b", "smollm2-135m"])
def test_every_step_of_an_embedded_model_parses(name, real_settings, tmp_path):
    model = load_model(name, real_settings)
    outcome, events = _run(model, tmp_path, max_steps=3)
    steps = [e for e in events if e["type"] == "step"]
    assert steps, outcome
    assert not [e for e in events if e["type"] == "format_error"]
    for e in steps:
        assert e["reply"].startswith("Thought: ") and "```python\n" in e["reply"], e["reply"]
        assert e["usage"]["prompt_tokens"] > 0 and e["code"].strip()


def test_the_default_model_computes_and_answers(real_settings, tmp_path):
    greedy = real_settings.model_copy(update={"temperature": 0.0})
    model = load_model("qwen2.5-coder-0.5b", greedy)
    task = "Compute the sum of the squares of the integers from 1 to 100 and give it with final_answer."
    outcome, events = _run(model, tmp_path, max_steps=4, task=task)
    assert outcome.status == "done", outcome
    assert str(outcome.answer).strip() == "338350"


def test_a_stuck_run_gets_its_answer_from_the_embedded_model_when_asked(real_settings, tmp_path):
    """The steps are scripted to repeat themselves; the question after the loop guard's stop
    goes to the real model, which must read the answer off the steps it printed."""
    from smolab.models import ChatDefaults, ChatModel, ScriptedBackend

    greedy = real_settings.model_copy(update={"temperature": 0.0})
    real = load_model("qwen2.5-coder-0.5b", greedy)

    def ask_real(messages, params):
        return real.chat(list(messages), max_tokens=params.max_tokens, temperature=0).text

    same = "Thought: Multiply.\n```python\nprint(6 * 7)\n```"
    scripted = ScriptedBackend([same] * 4, context_window=real.context_window, fallback=ask_real)
    model = ChatModel(scripted, ChatDefaults(max_tokens=200))
    outcome, events = _run(model, tmp_path, max_steps=8, task="What is 6 times 7? Give the number.")
    [asked] = [e for e in events if e["type"] == "final_question"]
    assert asked["answer"] is not None and str(asked["answer"]).strip().rstrip(".") == "42", asked
    assert outcome.status == "done" and outcome.steps == 4


def test_the_embedded_model_works_from_the_skill_chosen_for_its_task(real_settings, tmp_path):
    """The instruction skill chosen for the task is in the prompt the embedded model answers."""
    from smolab.skills import SkillLibrary
    from smolab.skills.guide import Guide

    greedy = real_settings.model_copy(update={"temperature": 0.0})
    model = load_model("qwen2.5-coder-0.5b", greedy)
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "sales.csv").write_text("region,price\nnorth,2.0\nsouth,4.0\nnorth,6.0\nwest,8.0\n")
    task = "Load the CSV file sales.csv with pandas and give the mean of its price column with final_answer."
    options = AgentOptions(budget=Budget(max_steps=4), step_timeout=30)
    settings = load_settings(home=tmp_path / "home")
    guide = Guide(list(SkillLibrary()))
    session = build(model, settings, ws, tmp_path / "run", task=task, options=options, guide=guide)
    outcome = run_task(session, task)
    lines = (tmp_path / "run" / "trajectory.jsonl").read_text().splitlines()
    events = [json.loads(line) for line in lines]
    assert [e["name"] for e in events if e["type"] == "skill_used"][:1] == ["tabular-data"]
    system = next(e for e in events if e["type"] == "context")["messages"][0]["content"]
    assert "### tabular-data" in system
    assert outcome.status == "done" and float(str(outcome.answer)) == 5.0, outcome
