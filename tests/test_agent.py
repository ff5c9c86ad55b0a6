"""The agent with a scripted model: the loop, tools called back from the real sandbox,
approvals, budgets, the doom-loop guard, the trajectory, resume after kill -9, compaction."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from smolab.agent import (
    AgentOptions,
    Budget,
    Decision,
    DoomLoop,
    StepFormatError,
    build,
    parse_step,
    run_task,
)
from smolab.agent.step import GRAMMAR
from smolab.config import load_settings
from smolab.models import ChatDefaults, ChatModel, ScriptedBackend

ROOT = Path(__file__).resolve().parents[1]


def step(thought: str, code: str) -> str:
    return f"Thought: {thought}\n```python\n{code}\n```"


class GrammarBackend(ScriptedBackend):
    """A scripted model that, like a local GGUF, decodes under a grammar."""

    supports_grammar = True


def make(tmp_path: Path, replies, *, grammar: bool = False, window: int = 8192, task="the task", **kw):
    backend = (GrammarBackend if grammar else ScriptedBackend)(replies, context_window=window)
    model = ChatModel(backend, ChatDefaults(max_tokens=200))
    ws = tmp_path / "ws"
    ws.mkdir(parents=True, exist_ok=True)
    options = kw.pop("options", AgentOptions())
    session = build(
        model,
        load_settings(home=tmp_path / "home"),
        ws,
        tmp_path / "run",
        task=task,
        options=options,
        **kw,
    )
    return session, backend, ws


def events(tmp_path: Path, kind: str | None = None) -> list[dict]:
    lines = (tmp_path / "run" / "trajectory.jsonl").read_text().splitlines()
    out = [json.loads(line) for line in lines]
    return [e for e in out if kind is None or e["type"] == kind]


# -- the loop and its tools ---------------------------------------------------------------


def test_a_task_runs_to_its_final_answer_with_state_kept_between_steps(tmp_path):
    session, backend, ws = make(
        tmp_path,
        [
            step("Look at the data.", 'print(read_file("data.csv"))'),
            step(
                "Column means.",
                "import csv\nrows = list(csv.DictReader(open('data.csv')))\n"
                "means = {k: sum(float(r[k]) for r in rows) / len(rows) for k in rows[0]}\n"
                "write_file('means.json', str(means))\nprint(means)",
            ),
            step("Done.", 'final_answer(means)\nprint("never printed")'),
        ],
    )
    (ws / "data.csv").write_text("a,b\n1,2\n3,5\n")
    outcome = run_task(session, "the task")
    assert outcome.status == "done"
    assert outcome.answer == {"a": 2.0, "b": 3.5}
    assert (ws / "means.json").read_text() == "{'a': 2.0, 'b': 3.5}"
    steps = events(tmp_path, "step")
    assert [s["step"] for s in steps] == [1, 2, 3]
    assert steps[0]["observation"].startswith("a,b")
    assert (
        steps[2]["observation"] == "(no output; print() what you want to see)"
    )  # final_answer ended the cell
    assert [c["tool"] for c in steps[1]["tool_calls"]] == ["write_file"]
    # Each tool call and sandbox call is an event of its own, numbered with its step.
    tools = [(e["step"], e["tool"]) for e in events(tmp_path, "tool_call")]
    assert tools == [(1, "read_file"), (2, "write_file"), (3, "final_answer")]
    assert [e["step"] for e in events(tmp_path, "sandbox_call")] == [1, 2, 3]
    assert all("usage" in s and "model_seconds" in s and "code_seconds" in s for s in steps)
    # the model saw the tools and the observations of earlier steps
    last_prompt = backend.history[-1][0]
    assert "read_file(path: str, start: int = 0) -> str" in last_prompt[0].content
    assert "Observation:\na,b" in last_prompt[3].content
    assert last_prompt[3].content.endswith("(If this answers the task, call final_answer with it.)")
    summary = (tmp_path / "run" / "summary.md").read_text()
    assert "**Status:** done" in summary and "`means.json`" in summary


def test_local_models_decode_under_the_step_grammar(tmp_path):
    session, backend, _ = make(tmp_path, [step("End.", "final_answer(6 * 7)")], grammar=True)
    assert run_task(session, "the task").answer == 42
    assert backend.history[0][1].grammar == GRAMMAR


def test_tool_errors_reach_the_code_as_exceptions_it_can_catch(tmp_path):
    session, _, _ = make(
        tmp_path,
        [
            step(
                "Read a missing file.",
                'try:\n    read_file("nope.txt")\nexcept HostError as e:\n    print("caught:", e)',
            ),
            step("Wrong arguments.", 'write_file("x.txt")'),
            step("Stop.", "final_answer('ok')"),
        ],
    )
    run_task(session, "the task")
    first, second = events(tmp_path, "step")[:2]
    assert first["observation"] == "caught: nope.txt does not exist"
    assert "TypeError" in second["observation"] and "content" in second["observation"]
    assert "worker.py" not in second["observation"]  # the sandbox's own frames are hidden


def test_step_parsing_is_tolerant_but_needs_code():
    assert parse_step("Thought: a\n```python\nx = 1\n```").code == "x = 1"
    assert parse_step("I will compute.\n```\nprint(2)\n```").code == "print(2)"
    cut = parse_step("Thought: long\n```python\nfor i in range(3):\n    print(i)")
    assert cut.thought == "long" and cut.code.endswith("print(i)")
    with pytest.raises(StepFormatError):
        parse_step("I think the answer is 4.")


def test_a_model_without_grammar_is_corrected_then_stopped(tmp_path):
    session, backend, _ = make(tmp_path, ["The answer is 4.", step("Now properly.", "final_answer(2 + 2)")])
    assert run_task(session, "the task").answer == 4
    assert "Reply with one step" in backend.history[1][0][-1].content
    assert len(events(tmp_path, "format_error")) == 1

    session, _, _ = make(tmp_path / "b", ["no code"] * 3)
    outcome = run_task(session, "the task")
    assert outcome.status == "format_error" and "3 replies in a row" in outcome.reason


# -- approvals -----------------------------------------------------------------------------


def test_sensitive_actions_are_denied_without_a_person_and_recorded(tmp_path):
    outside = tmp_path / "outside.txt"
    session, _, ws = make(
        tmp_path,
        [
            step("Network.", 'print(fetch_page("http://127.0.0.1:9/"))'),
            step("Outside.", f'print(write_file("{outside}", "x"))'),
            step("Install.", 'print(shell("pip install requests"))'),
            step("Delete.", 'print(delete_file("keep.txt"))'),
            step("Stop.", "final_answer('ok')"),
        ],
    )
    (ws / "keep.txt").write_text("precious")
    run_task(session, "the task")
    observations = [s["observation"] for s in events(tmp_path, "step")[:4]]
    for obs, kind in zip(observations, ["network", "write_outside", "install", "delete"], strict=True):
        assert "denied" in obs and "asking again in this run is pointless" in obs, obs
        assert f"--allow {kind}" in obs and "standard library" in obs, obs
    assert not outside.exists() and (ws / "keep.txt").read_text() == "precious"
    decisions = events(tmp_path, "approval")
    assert [d["action"]["kind"] for d in decisions] == ["network", "write_outside", "install", "delete"]
    assert all(not d["decision"]["allowed"] and d["decision"]["by"] == "non-interactive" for d in decisions)


def test_a_person_answers_yes_always_and_feedback(tmp_path):
    answers = iter([Decision(True, always=True), Decision(False, feedback="use the copy in backup/ instead")])
    asked = []

    def person(action):
        asked.append(action.kind)
        return next(answers)

    session, _, ws = make(
        tmp_path,
        [
            step("Delete a.", 'print(delete_file("a.txt"))'),
            step("Delete b (always allowed now).", 'print(delete_file("b.txt"))'),
            step("Read outside.", 'print(read_file("/etc/hostname"))'),
            step("Stop.", "final_answer('ok')"),
        ],
        approver=person,
    )
    (ws / "a.txt").write_text("1")
    (ws / "b.txt").write_text("2")
    run_task(session, "the task")
    obs = [s["observation"] for s in events(tmp_path, "step")]
    assert obs[0] == "deleted a.txt" and obs[1] == "deleted b.txt"
    assert asked == ["delete", "read_outside"]  # "always" covered the second delete
    assert "the user declined read_file and said: use the copy in backup/ instead" in obs[2]
    assert [d["decision"]["by"] for d in events(tmp_path, "approval")] == ["person", "allow-list", "person"]


def test_the_allow_list_permits_a_kind(tmp_path):
    session, _, ws = make(
        tmp_path,
        [step("Delete.", 'print(delete_file("a.txt"))'), step("Stop.", "final_answer('done')")],
        allow=["delete"],
    )
    (ws / "a.txt").write_text("1")
    run_task(session, "the task")
    assert not (ws / "a.txt").exists()


# -- guards --------------------------------------------------------------------------------


def test_doom_loop_detection():
    g = DoomLoop()
    assert g.observe("x = 1", "err") is None
    assert g.observe("x = 1", "err") is None
    assert "3 times" in g.observe("x = 1  ", "err")  # trailing spaces do not hide a repeat
    g = DoomLoop()
    for code in ["a()", "b()", "a()"]:
        assert g.observe(code, "boom") is None
    assert "last 2 steps repeat" in g.observe("b()", "boom")
    g = DoomLoop()
    for i, code in enumerate(["a()", "b()", "c()", "d()"]):
        assert g.observe(code, str(i)) is None  # different steps never fire


def test_a_repeating_agent_is_warned_then_stopped_as_stuck(tmp_path):
    same = step("Try again.", "print(1 / 0)")
    session, backend, _ = make(tmp_path, [same] * 6)
    outcome = run_task(session, "the task")
    assert outcome.status == "stuck" and outcome.steps == 4
    guards = events(tmp_path, "guard")
    assert [g["action"] for g in guards] == ["warn", "stop"]
    assert "Repeating it will not help" in backend.history[3][0][-1].content  # the warning reached the model


MEANS_TASK = "data.csv has columns a, b and c. Compute the mean of each column and write them to means.json"
DATA = "a,b,c\n1,2,3\n3,4,5\n"
MEANS = (
    "import csv, json\nrows = list(csv.DictReader(open('data.csv')))\n"
    "means = {k: sum(float(r[k]) for r in rows) / len(rows) for k in rows[0]}\n"
)


def test_a_false_claim_goes_back_to_the_model_which_then_does_the_work(tmp_path):
    lie = step("Done.", 'final_answer("The means of a, b and c are stored in means.json")')
    session, backend, ws = make(
        tmp_path,
        [
            step("Compute.", MEANS + "print(means)"),
            lie,
            step("Write it.", MEANS + "json.dump(means, open('means.json', 'w'))\nprint('written')"),
            lie,
        ],
        task=MEANS_TASK,
    )
    (ws / "data.csv").write_text(DATA)
    outcome = run_task(session, MEANS_TASK)
    assert outcome.status == "done" and outcome.steps == 4
    assert json.loads((ws / "means.json").read_text()) == {"a": 2.0, "b": 3.0, "c": 4.0}
    [check] = events(tmp_path, "check")
    assert check["action"] == "retry" and check["step"] == 2
    assert check["problems"][0] == "means.json does not exist in the workspace"
    seen = backend.history[2][0][-1].content  # what the model read before its third step
    assert "not accepted: means.json does not exist in the workspace" in seen


def test_an_answer_that_keeps_failing_its_checks_never_ends_as_done(tmp_path):
    lie = step("Done.", 'final_answer("I wrote the means to means.json")')
    session, _, ws = make(tmp_path, [lie] * 5, task=MEANS_TASK)
    (ws / "data.csv").write_text(DATA)
    outcome = run_task(session, MEANS_TASK)
    assert outcome.status == "unverified" and outcome.steps == 3
    assert "means.json does not exist" in outcome.reason
    assert [c["action"] for c in events(tmp_path, "check")] == ["retry", "retry", "stop"]
    summary = (tmp_path / "run" / "summary.md").read_text()
    assert "**Status:** unverified" in summary and "Answer given, not accepted" in summary
    assert "## Answer\n" not in summary


def test_a_users_own_final_check_runs_after_the_built_in_ones(tmp_path):
    def positive(end):
        return None if isinstance(end.answer, int) and end.answer > 0 else "the answer must be a positive int"

    session, _, _ = make(
        tmp_path,
        [step("Guess.", "final_answer(0 - 1)"), step("Again.", "final_answer(3 + 4)")],
        options=AgentOptions(final_checks=[positive]),
    )
    outcome = run_task(session, "the task")
    assert outcome.status == "done" and outcome.answer == 7
    assert events(tmp_path, "check")[0]["problems"] == ["the answer must be a positive int"]


def test_a_stuck_model_is_asked_once_for_the_answer_it_printed(tmp_path):
    same = step("Compute.", "print(6 * 7)")
    session, backend, _ = make(tmp_path, [same] * 4 + ["42"])
    outcome = run_task(session, "What is 6 times 7?")
    assert outcome.status == "done" and outcome.answer == "42" and outcome.steps == 4
    assert "loop guard" in outcome.reason
    [asked] = events(tmp_path, "final_question")
    assert asked["answer"] == "42" and "repeating" in asked["reason"]
    asked_with = backend.history[4][0]
    assert len(asked_with) == 1 and "Task: What is 6 times 7?\n" in asked_with[0].content
    assert "- 42\n" in asked_with[0].content and "reply with the answer alone" in asked_with[0].content


def test_an_answer_the_outputs_do_not_show_is_not_taken(tmp_path):
    same = step("Try again.", "print(1 / 0)")
    session, _, _ = make(tmp_path, [same] * 4 + ["42"])
    outcome = run_task(session, "What is 6 times 7?")
    assert outcome.status == "stuck" and outcome.answer is None
    [asked] = events(tmp_path, "final_question")
    assert asked["reply"] == "42" and asked["answer"] is None


def test_a_stuck_model_without_an_answer_stays_stuck(tmp_path):
    same = step("Try again.", "print(1 / 0)")
    session, _, _ = make(tmp_path, [same] * 4 + ["NONE"])
    outcome = run_task(session, "the task")
    assert outcome.status == "stuck" and outcome.answer is None
    assert events(tmp_path, "final_question")[0]["answer"] is None


def test_a_denied_install_is_followed_by_the_standard_library(tmp_path):
    session, _, ws = make(
        tmp_path,
        [
            step("pandas first.", 'print(install_packages(["pandas"]))'),
            step("Use csv instead.", MEANS + "json.dump(means, open('means.json', 'w'))\nprint(means)"),
            step("Done.", 'final_answer("Saved the column means to means.json")'),
        ],
        task=MEANS_TASK,
    )
    (ws / "data.csv").write_text(DATA)
    outcome = run_task(session, MEANS_TASK)
    denied = events(tmp_path, "step")[0]["observation"]
    assert "denied: install_packages would install packages (pandas)" in denied
    assert "asking again in this run is pointless" in denied and "numpy" in denied
    assert outcome.status == "done" and (ws / "means.json").is_file()
    assert not events(tmp_path, "check")


@pytest.mark.parametrize(
    ("budget", "reason"),
    [
        (Budget(max_steps=2), "step budget"),
        (Budget(max_tokens=300), "token budget"),
        (Budget(max_seconds=1.0), "time budget"),
    ],
)
def test_budgets_stop_the_run_gracefully_with_a_summary(tmp_path, budget, reason):
    replies = [step(f"Step {i}.", f"import time\ntime.sleep(0.4)\nx{i} = {i}\nprint({i})") for i in range(20)]
    session, _, _ = make(tmp_path, replies, options=AgentOptions(budget=budget))
    outcome = run_task(session, "the task")
    assert outcome.status == "budget" and reason in outcome.reason
    summary = (tmp_path / "run" / "summary.md").read_text()
    assert "## What is left" in summary and "--resume" in summary
    assert events(tmp_path)[-1]["type"] == "run_ended"


def test_money_budget_uses_the_models_prices(tmp_path):
    replies = [step(f"Step {i}.", f"print({i})") for i in range(10)]
    session, _, _ = make(tmp_path, replies, options=AgentOptions(budget=Budget(max_cost=0.01)))
    session.agent.price = lambda usage: 0.004  # a hosted model's price per call
    outcome = run_task(session, "the task")
    assert outcome.status == "budget" and "money" in outcome.reason and outcome.steps == 3


def test_a_money_budget_on_a_model_without_a_price_refuses_to_start(tmp_path, monkeypatch):
    from smolab.agent import AgentSetupError
    from smolab.agent.build import price_of
    from smolab.models.hosted import LiteLLMBackend
    from smolab.models.openai_compat import OpenAICompatBackend

    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    listed = ChatModel(LiteLLMBackend("openai/gpt-4o-mini"), ChatDefaults())
    assert price_of(listed) is not None
    for backend in (
        LiteLLMBackend("openai/no-such-model-anywhere"),
        OpenAICompatBackend("http://127.0.0.1:9/v1"),
    ):
        unpriced = ChatModel(backend, ChatDefaults())
        assert price_of(unpriced) is None
        with pytest.raises(AgentSetupError, match="--max-cost cannot be kept"):
            build(
                unpriced,
                load_settings(home=tmp_path / "home"),
                tmp_path / "ws",
                tmp_path / "run",
                task="t",
                options=AgentOptions(budget=Budget(max_cost=1.0)),
            )
        assert not (tmp_path / "run").exists()


def test_a_sandbox_that_cannot_define_the_tools_is_a_one_line_error(tmp_path):
    from smolab.agent import AgentError

    session, _, _ = make(tmp_path, [step("x", "final_answer('done')")])
    real = session.agent.sandbox.run_python

    def broken(code, timeout=None):
        return real(
            "raise ImportError('no module named torch_cluster')" if "_smolab_delete_guard" in code else code
        )

    session.agent.sandbox.run_python = broken
    with pytest.raises(AgentError, match="could not define the agent's tools .*torch_cluster"):
        run_task(session, "the task")


def test_step_timeout_stops_runaway_code_and_the_session_goes_on(tmp_path):
    session, _, _ = make(
        tmp_path,
        [
            step("Spin.", "x = 5\nwhile True:\n    pass"),
            step("Check.", "print(x)"),
            step("Stop.", "final_answer(x)"),
        ],
        options=AgentOptions(step_timeout=1.0),
    )
    outcome = run_task(session, "the task")
    obs = [s["observation"] for s in events(tmp_path, "step")]
    assert "wall-clock limit" in obs[0] and obs[1] == "5" and outcome.answer == 5


# -- memory ---------------------------------------------------------------------------------


def test_old_steps_are_summarised_when_the_window_fills(tmp_path):
    long = "word " * 120
    script = [step(f"Step {i}.", f"print({i}, '{long}')") for i in range(8)] + [
        step("Stop.", "final_answer('done')")
    ]
    summary = "Printed long lines; nothing else."

    def reply(messages, params):
        # the summarising call gets the summary; every other call the next scripted step
        return summary if "Summarise these finished steps" in messages[-1].content else script.pop(0)

    session, backend, _ = make(tmp_path, [], window=1600, options=AgentOptions(reply_tokens=200))
    backend.fallback = reply
    assert run_task(session, "the task").status == "done"
    compacts = events(tmp_path, "compact")
    assert compacts and compacts[0]["summary"] == summary
    for messages, params in backend.history:
        assert backend.count_tokens(messages) + params.max_tokens <= 1600
    last = backend.history[-1][0]
    assert any(m.content.startswith("Summary of steps 1-") and summary in m.content for m in last)
    assert last[1].content == "Task: the task"  # the task itself is never folded away


AGENT_SCRIPT = """
import sys
from pathlib import Path
from smolab.agent import build, run_task, resume_run
from smolab.config import load_settings
from smolab.models import ChatModel, ScriptedBackend

tmp = Path(sys.argv[1])
def step(t, c):
    return f"Thought: {t}\\n```python\\n{c}\\n```"
replies = [step(f"Write {i}.", f"write_file('f{i}.txt', '{i}')\\nimport time\\ntime.sleep(0.3)\\nprint({i})")
           for i in range(1, 6)]
replies.append(step("Stop.", "final_answer(sorted(list_files()))"))
done = int(sys.argv[3]) if len(sys.argv) > 3 else 0
model = ChatModel(ScriptedBackend(replies[done:]))
settings = load_settings(home=tmp / "home")
if sys.argv[2] == "start":
    out = run_task(build(model, settings, tmp / "ws", tmp / "run", task="write files"), "write files")
else:
    out = resume_run(build(model, settings, tmp / "ws", tmp / "run"))
print(out.status, out.answer)
"""


def test_a_run_killed_mid_way_resumes_where_it_stopped(tmp_path):
    script = tmp_path / "agent_script.py"
    script.write_text(AGENT_SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path), "start"], env=env, start_new_session=True
    )
    trajectory = tmp_path / "run" / "trajectory.jsonl"
    deadline = time.time() + 60
    while time.time() < deadline:
        if trajectory.exists() and trajectory.read_text().count('"type": "step"') >= 2:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = trajectory.read_text().count('"type": "step"')
    assert 2 <= done < 6 and '"type": "run_ended"' not in trajectory.read_text()
    result = subprocess.run(
        [sys.executable, str(script), str(tmp_path), "resume", str(done)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "done ['f1.txt', 'f2.txt', 'f3.txt', 'f4.txt', 'f5.txt']"
    steps = events(tmp_path, "step")
    assert [s["step"] for s in steps] == list(range(1, 7))  # numbering carries on, nothing redone
    resumes = events(tmp_path, "run_resumed")
    assert (
        len(resumes) == 1 and "variables from earlier steps are gone" in resumes[0]["messages"][0]["content"]
    )


# -- tools of every kind ----------------------------------------------------------------------


def test_user_tools_from_a_file(tmp_path):
    tools = tmp_path / "mytools.py"
    tools.write_text(
        'def celsius(fahrenheit: float) -> float:\n    """Degrees Fahrenheit in Celsius."""\n'
        "    return round((fahrenheit - 32) * 5 / 9, 2)\n"
    )
    session, backend, _ = make(
        tmp_path, [step("Convert.", "final_answer(celsius(212))")], extra_tools=[str(tools)]
    )
    assert run_task(session, "the task").answer == 100.0
    assert (
        "celsius(fahrenheit: float) -> float: Degrees Fahrenheit in Celsius."
        in backend.history[0][0][0].content
    )


def test_jobs_run_in_the_background_and_can_be_cancelled(tmp_path):
    session, _, _ = make(
        tmp_path,
        [
            step(
                "Start.",
                'j = start_job("for i in 1 2 3; do echo tick $i; done; sleep 30", minutes=1)\nprint(j)',
            ),
            step(
                "Watch.",
                "import time\nfor _ in range(200):\n    if 'tick 3' in job_logs(j):\n        break\n"
                "    time.sleep(0.1)\nprint(job_status(j)['state'])\nprint(job_logs(j, 2))",
            ),
            step("Cancel.", "print(cancel_job(j))"),
            step("Stop.", "final_answer(job_status(j)['state'])"),
        ],
        allow=["job"],
    )
    outcome = run_task(session, "the task")
    obs = [s["observation"] for s in events(tmp_path, "step")]
    assert obs[0] == "job1"
    assert obs[1] == "running\ntick 2\ntick 3"
    assert obs[2] == "job1: cancelled" and outcome.answer == "cancelled"


def test_shell_runs_jailed_and_offline(tmp_path):
    session, _, ws = make(
        tmp_path,
        [
            step("Shell.", 'print(shell("echo hi > out.txt && cat out.txt && ls /root 2>&1 | head -1"))'),
            step("Stop.", "final_answer('done')"),
        ],
    )
    run_task(session, "the task")
    obs = events(tmp_path, "step")[0]["observation"]
    assert obs.startswith("exit code 0\nhi") and (ws / "out.txt").read_text() == "hi\n"


def test_cli_runs_a_task_against_a_server_model_and_refuses_bad_input(tmp_path):
    from collections import deque

    from tests.conftest import run_cli
    from tests.servers import Behaviour, OpenAIHandler, serve

    behaviour = Behaviour(
        script=deque(
            [
                "Let me think about it.",  # no code block: corrected
                step("Answer.", "final_answer(6 * 7)"),
            ]
        )
    )
    with serve(OpenAIHandler, behaviour=behaviour) as url:
        r = run_cli(
            "--model",
            f"openai:{url}/v1",
            "run",
            "what is 6 times 7",
            "-w",
            str(tmp_path / "ws"),
            "--run-dir",
            str(tmp_path / "run"),
            "--non-interactive",
            env={"SMOLAB_HOME": str(tmp_path / "home")},
        )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "42"
    assert "malformed reply" in r.stderr and "done" in r.stderr
    home = {"SMOLAB_HOME": str(tmp_path / "home")}
    # A run outside the home folder (--run-dir) is listed too.
    [first] = [json.loads(x) for x in run_cli("runs", "--json", env=home).stdout.splitlines()]
    assert first["kind"] == "agent" and first["status"] == "done" and first["id"] == "run"
    behaviour.script.append(step("Answer.", "final_answer('hi')"))
    with serve(OpenAIHandler, behaviour=behaviour) as url:
        r = run_cli("--model", f"openai:{url}/v1", "run", "say hi", "-w", str(tmp_path / "ws"), env=home)
    assert r.returncode == 0 and r.stdout.strip() == "hi", r.stderr
    rows = [json.loads(x) for x in run_cli("runs", "--json", env=home).stdout.splitlines()]
    assert rows[0]["id"].endswith("say-hi") and rows[0]["status"] == "done" and len(rows) == 2
    r = run_cli("run", "--resume", str(tmp_path / "nothing"), env={"SMOLAB_HOME": str(tmp_path / "home")})
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "no agent run" in r.stderr
    r = run_cli("run", "x", "--allow", "everything", env={"SMOLAB_HOME": str(tmp_path / "home")})
    assert (
        r.returncode == 2 and "unknown approval kind 'everything'" in r.stderr and "Traceback" not in r.stderr
    )
    r = run_cli("run", "x", "--tools", "missing.py", env={"SMOLAB_HOME": str(tmp_path / "home")})
    assert r.returncode == 2 and "missing.py does not exist" in r.stderr
    r = run_cli("run", "--max-time", "soon", "x", env={"SMOLAB_HOME": str(tmp_path / "home")})
    assert r.returncode == 2 and "not a duration" in r.stderr


# -- MCP ------------------------------------------------------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(params=["stdio", "http"])
def mcp_server(request, tmp_path):
    """A real MCP server (the SDK's own) over stdio, or over streamable HTTP on loopback."""
    server = str(ROOT / "tests" / "mcp_server.py")
    if request.param == "stdio":
        yield {"command": sys.executable, "args": [server]}
        return
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, server, "http", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    import socket

    deadline = time.time() + 30
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    try:
        yield {"url": f"http://127.0.0.1:{port}/mcp"}
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_mcp_tools_are_called_from_the_agents_code(tmp_path, mcp_server):
    replies = [
        step("Add.", "print(calc_add(2, b=40))"),
        step("Default argument.", "print(calc_add(5))"),
        step("A failing tool.", "print(calc_fail('nope'))"),
        step("Destructive.", "print(calc_wipe('disk'))"),
        step("Stop.", "final_answer(calc_add(1, 1))"),
    ]
    backend = ScriptedBackend(replies)
    model = ChatModel(backend, ChatDefaults(max_tokens=200))
    settings = load_settings(home=tmp_path / "home", mcp_servers={"calc": mcp_server})
    session = build(model, settings, tmp_path / "ws", tmp_path / "run", task="the task")
    outcome = run_task(session, "the task")
    assert outcome.answer == 2
    obs = [s["observation"] for s in events(tmp_path, "step")]
    assert obs[0] == "42" and obs[1] == "6"
    assert "HostError" in obs[2] and "Error executing tool fail" in obs[2]
    assert "denied" in obs[3] and "--allow destructive" in obs[3]
    assert "calc_add(a: int, b: int = 1): Add two integers." in backend.history[0][0][0].content


def test_an_unreachable_mcp_server_is_one_line(tmp_path):
    settings = load_settings(
        home=tmp_path / "home", mcp_servers={"gone": {"url": f"http://127.0.0.1:{_free_port()}/mcp"}}
    )
    model = ChatModel(ScriptedBackend([]))
    with pytest.raises(Exception) as info:
        build(model, settings, tmp_path / "ws", tmp_path / "run", task="t")
    assert type(info.value).__name__ == "AgentSetupError"
    assert str(info.value).startswith("MCP server gone could not be reached") and "\n" not in str(info.value)
    assert not (tmp_path / "run").exists()  # a run that never started leaves nothing behind


# -- research tools -------------------------------------------------------------------------


def test_research_tools_against_stand_in_services(tmp_path, monkeypatch):
    from tests.servers import WebHandler, serve

    monkeypatch.setenv("GITHUB_TOKEN", "test-token")
    seen: list[str] = []
    with serve(WebHandler, seen=seen) as url:
        settings = load_settings(
            home=tmp_path / "home", arxiv_api_url=f"{url}/api/query", hf_url=url, github_api_url=url
        )
        replies = [
            step(
                "Papers.",
                "p = search_papers('attention', max_results=1)[0]\nprint(p['id'], p['title'], p['authors'])",
            ),
            step("Models.", "print(search_hub('qwen coder')[0]['id'])"),
            step("Card.", "print(dataset_card('tiny/csv'))"),
            step("Docs.", f"print(fetch_page('{url}/docs/page.html'))"),
            step("Code.", "print(search_github_code('class Transformer')[0])"),
            step("Missing.", f"print(fetch_page('{url}/nowhere'))"),
            step("Stop.", "final_answer('done')"),
        ]
        model = ChatModel(ScriptedBackend(replies), ChatDefaults(max_tokens=200))
        session = build(model, settings, tmp_path / "ws", tmp_path / "run", task="t", allow=["network"])
        run_task(session, "t")
    obs = [s["observation"] for s in events(tmp_path, "step")]
    assert obs[0] == "1706.03762v7 Attention Is All You Need Ashish Vaswani, Noam Shazeer, Niki Parmar et al."
    assert obs[1] == "Qwen/Qwen2.5-Coder-0.5B-Instruct"
    assert obs[2].startswith("# tiny/csv")
    assert "# AdamW" in obs[3] and "Decoupled weight decay." in obs[3] and "var x" not in obs[3]
    assert "'repository': 'a/b'" in obs[4]
    assert "was not found (404)" in obs[5]
    assert any(p.startswith("/api/query?search_query=all%3Aattention") for p in seen)


def test_research_tools_offline_fail_in_one_line(tmp_path, monkeypatch):
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    dead = f"http://127.0.0.1:{_free_port()}"
    settings = load_settings(home=tmp_path / "home", arxiv_api_url=f"{dead}/api/query", hf_url=dead)
    replies = [
        step("Papers.", "print(search_papers('attention'))"),
        step("Code.", "print(search_github_code('x'))"),
        step("Stop.", "final_answer('done')"),
    ]
    model = ChatModel(ScriptedBackend(replies), ChatDefaults(max_tokens=200))
    run_task(build(model, settings, tmp_path / "ws", tmp_path / "run", task="t", allow=["network"]), "t")
    obs = [s["observation"] for s in events(tmp_path, "step")]
    assert obs[0].splitlines()[-1] == (
        "HostError: cannot reach 127.0.0.1:"
        + dead.rsplit(":", 1)[1]
        + ": offline or blocked; work from what you have"
    )
    assert "needs a token: set GITHUB_TOKEN" in obs[1]


def test_cli_asks_a_person_at_a_terminal(tmp_path):
    import pty
    from collections import deque

    from tests.servers import Behaviour, OpenAIHandler, serve

    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "a.txt").write_text("1")
    (ws / "b.txt").write_text("2")
    behaviour = Behaviour(
        script=deque(
            [
                step("Delete a.", "print(delete_file('a.txt'))"),
                step("Delete b.", "print(delete_file('b.txt'))"),
                step("Done.", "final_answer(sorted(list_files()))"),
            ]
        )
    )
    master, slave = pty.openpty()
    os.write(master, b"y\nkeep b, it is needed\n")  # the person's two answers, typed ahead
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMOLAB_")}
    env["SMOLAB_HOME"] = str(tmp_path / "home")
    with serve(OpenAIHandler, behaviour=behaviour) as url:
        r = subprocess.run(
            [
                sys.executable,
                "-m",
                "smolab.cli",
                "--model",
                f"openai:{url}/v1",
                "run",
                "tidy up",
                "-w",
                str(ws),
                "--run-dir",
                str(tmp_path / "run"),
            ],
            stdin=slave,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
    os.close(master)
    os.close(slave)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == '["b.txt"]'
    assert r.stderr.count("approve?") == 2 and "delete_file wants to delete files: a.txt" in r.stderr
    obs = [s["observation"] for s in events(tmp_path, "step")]
    assert obs[0] == "deleted a.txt"
    assert "the user declined delete_file and said: keep b, it is needed" in obs[1]


def test_the_same_failing_tool_call_in_reworded_code_is_a_loop():
    g = DoomLoop()
    call = '[["read_file", {"path": "x"}, false, "x does not exist"]]'
    assert g.observe("read_file('x')", "err 1", call) is None
    assert g.observe("t = read_file('x')  # again", "err 2", call) is None
    assert "same tool calls" in g.observe("print(read_file('x'))", "err 3", call)


def test_notebook_shell_lines_run_through_the_shell_tool_and_its_approvals(tmp_path):
    session, backend, ws = make(
        tmp_path,
        [
            step("Install.", "!pip install pandas"),
            step("List.", "!ls"),
            step("Stop.", "final_answer('done')"),
        ],
    )
    (ws / "seen.txt").write_text("x")
    run_task(session, "the task")
    obs = [s["observation"] for s in events(tmp_path, "step")]
    assert "denied: shell would install packages (pip install pandas)" in obs[0]
    assert obs[1] == "exit code 0\nseen.txt"
    # the model is told what it can import, and what is not there
    assert "you can import " in (prompt := backend.history[0][0][0].content) and "numpy" in prompt


def test_code_that_deletes_workspace_files_itself_needs_approval_too(tmp_path):
    session, _, ws = make(
        tmp_path,
        [
            step("Delete directly.", "import os\nos.remove('keep.txt')"),
            step(
                "Pathlib and shutil.",
                "import pathlib, shutil\ntry:\n    pathlib.Path('keep.txt').unlink()\n"
                "except PermissionError as e:\n    print('no:', e)\nshutil.rmtree('dir')",
            ),
            step(
                "Temporary files are free.",
                "import tempfile, os\nf = tempfile.mktemp()\nopen(f, 'w').close()\nos.remove(f)\nprint('ok')",
            ),
            step("Stop.", "final_answer('done')"),
        ],
    )
    (ws / "keep.txt").write_text("precious")
    (ws / "dir").mkdir()
    (ws / "dir" / "f.txt").write_text("x")
    run_task(session, "the task")
    obs = [s["observation"] for s in events(tmp_path, "step")]
    assert "PermissionError: deleting keep.txt was not approved" in obs[0]
    assert obs[1].startswith("no: deleting keep.txt was not approved") and "PermissionError" in obs[1]
    assert obs[2] == "ok"
    assert (ws / "keep.txt").read_text() == "precious" and (ws / "dir" / "f.txt").exists()
    kinds = [(d["action"]["tool"], d["action"]["kind"]) for d in events(tmp_path, "approval")]
    assert kinds[0] == ("python code", "delete")


def test_a_finished_run_is_not_resumed(tmp_path):
    from smolab.agent import resume_run
    from smolab.agent.errors import RunFinishedError

    session, _, ws = make(tmp_path, [step("Stop.", "final_answer('done')")])
    run_task(session, "the task")
    model = ChatModel(ScriptedBackend([]))
    again = build(model, load_settings(home=tmp_path / "home"), ws, tmp_path / "run")
    with pytest.raises(RunFinishedError, match="already finished"):
        resume_run(again)


def test_the_workspaces_own_modules_import_as_they_are_now(tmp_path):
    session, _, ws = make(
        tmp_path,
        [
            step("Try it.", "from calc import add\nprint(add(2, 3))"),
            step("Fix it.", "write_file('calc.py', 'def add(a, b):\\n    return a + b\\n')"),
            step("Again.", "from calc import add\nprint(add(2, 3))"),
            step("Done.", "final_answer(add(2, 3))"),
        ],
    )
    (ws / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    outcome = run_task(session, "fix add in calc.py")
    observed = [s["observation"] for s in events(tmp_path, "step")]
    assert observed[0] == "-1" and observed[2] == "5"  # the edited module, not the cached one
    assert outcome.status == "done" and outcome.answer == 5


def test_a_librarys_frames_fold_into_one_line_and_the_error_stays():
    from smolab.agent.prompt import _short_traceback

    stderr = (
        "Traceback (most recent call last):\n"
        '  File "/opt/smolab/sandbox/worker.py", line 88, in run\n'
        "    exec(code, ns)\n"
        '  File "<cell>", line 4, in <module>\n'
        "    out = net(x)\n"
        '  File "/venv/lib/python3.11/site-packages/fancylib/layers.py", line 17, in __call__\n'
        "    return self.forward(*a)\n"
        "           ^^^^^^^^^^^^^^^^\n"
        '  File "/venv/lib/python3.11/site-packages/fancylib/core.py", line 90, in forward\n'
        "    return x @ self.w\n"
        "RuntimeError: shapes (5,) and (3, 2) do not match\n"
    )
    short = _short_traceback(stderr)
    assert short.splitlines() == [
        "Traceback (most recent call last):",
        '  File "<cell>", line 4, in <module>',
        "    out = net(x)",
        "  [2 frames inside fancylib]",
        "RuntimeError: shapes (5,) and (3, 2) do not match",
    ]


def test_the_files_a_task_names_are_shown_with_it(tmp_path):
    task = "Which name does train.py set last? It reads data.csv."
    session, backend, ws = make(tmp_path, [step("Done.", "final_answer('x44')")], task=task)
    (ws / "train.py").write_text("".join(f"x{i} = {i}\n" for i in range(45)))
    (ws / "data.csv").write_text("a,b\n1,2\n")
    run_task(session, task)
    first = backend.history[0][0][1].content
    assert first.startswith(f"Task: {task}\n\nFiles the task names")
    assert "--- train.py\nx0 = 0\n" in first and "x39 = 39\n[... 5 more lines (45 in all)]" in first
    assert "x40" not in first
    assert "--- data.csv\na,b\n1,2" in first


def test_only_existing_files_inside_the_workspace_are_named(tmp_path):
    from smolab.agent.context import named_files, task_context

    ws = tmp_path / "ws"
    (ws / "data").mkdir(parents=True)
    (ws / "data" / "train.csv").write_text("x\n1\n")
    (ws / "model.bin").write_bytes(b"\x00\xff\xfe")
    (tmp_path / "outside.txt").write_text("secret")
    task = "Load data/train.csv (not notes.txt, ../outside.txt or model.bin) with v1.2 of the loader."
    assert named_files(task, ws) == ["data/train.csv"]
    shown = task_context(task, ws)
    assert "--- data/train.csv\nx\n1" in shown and "model.bin" not in shown and "secret" not in shown
    assert task_context("Add 2 and 3.", ws) == ""


def test_a_function_written_only_in_the_session_is_pointed_at_its_file(tmp_path):
    body = "def standardize(xs):\n    m = sum(xs) / len(xs)\n    return [x - m for x in xs]\n"
    session, _, ws = make(
        tmp_path,
        [
            step("Implement it.", body + "print(standardize([1, 3]))"),
            step("Write the file.", f"write_file('stats.py', {body!r})\nprint('saved')"),
            step("Done.", "final_answer('standardize is implemented in stats.py')"),
        ],
    )
    (ws / "stats.py").write_text("def standardize(xs):\n    ...\n")
    outcome = run_task(session, "Implement standardize in stats.py")
    first, second = (s["observation"] for s in events(tmp_path, "step")[:2])
    assert first.startswith("[-1.0, 1.0]\n(standardize is set in this Python session only; stats.py on disk")
    assert "write_file('stats.py', ...)" in first
    assert "session only" not in second  # the step wrote the file
    assert outcome.status == "done" and "return [x - m" in (ws / "stats.py").read_text()


def test_a_traceback_shows_the_line_of_the_step_that_raised_and_folds_a_scripts_library_frames(tmp_path):
    session, _, ws = make(
        tmp_path,
        [
            step("Define.", "def parse(s):\n    parts = s.split('|')\n    return float(parts[1])"),
            step("Use it.", "print(parse('1|0.5,2'))"),
            step("Run the script.", "print(shell('python run.py'))"),
            step("Done.", "final_answer('JSONDecodeError')"),
        ],
    )
    (ws / "run.py").write_text("import json\njson.loads('{oops')\n")
    run_task(session, "the task")
    raised, script = (s["observation"] for s in events(tmp_path, "step")[1:3])
    assert 'File "<step 1>", line 3, in parse\n    return float(parts[1])' in raised
    assert 'File "<step 2>", line 1, in <module>\n    print(parse(' in raised
    assert "ValueError: could not convert string to float: '0.5,2'" in raised
    assert 'File "/workspace/run.py", line 2' in script and "frames inside the standard library]" in script
    assert "json.decoder.JSONDecodeError" in script and "/json/" not in script


def test_a_name_an_installed_library_lacks_is_answered_with_the_names_it_has(tmp_path):
    session, _, _ = make(
        tmp_path,
        [
            step("Serialise.", "from json import dump_s\nprint(dump_s({'a': 1}))"),
            step("Use dumps.", "from json import dumps\nprint(dumps({'a': 1}))"),
            step("Done.", "final_answer('{\"a\": 1}')"),
        ],
    )
    outcome = run_task(session, "the task")
    first = events(tmp_path, "step")[0]["observation"]
    assert "ImportError: cannot import name 'dump_s' from 'json'" in first
    assert first.rstrip().endswith(
        "(json is installed here and this version has no dump_s; use what it has (close names: dumps, dump).)"
    )
    assert outcome.status == "done"


def test_torchs_common_errors_come_with_what_they_mean():
    from smolab.agent.torch_errors import torch_error_note

    torch = pytest.importorskip("torch")
    import numpy as np

    def said(fn) -> str:
        try:
            fn()
        except Exception as e:  # the error as the traceback's last line prints it
            return torch_error_note(f"{type(e).__name__}: {e}")
        raise AssertionError("no error")

    assert "convert first" in said(lambda: torch.nn.Linear(1, 1)(np.zeros((3, 1))))
    assert "float32" in said(lambda: torch.nn.Linear(1, 1)(torch.zeros(3, 1, dtype=torch.float64)))
    ce = torch.nn.functional.cross_entropy
    assert "y.view(-1).long()" in said(lambda: ce(torch.zeros(3, 2), torch.zeros(3, 1).long()))
    assert "must be dtype long" in said(lambda: ce(torch.zeros(3, 2), torch.zeros(3)))
    shapes = said(lambda: torch.nn.Linear(1, 1)(torch.zeros(5, 3)))
    assert "reads 1 features on the input's last axis, but the input is 5 rows of 3" in shapes
    assert "not connected to any parameter" in said(lambda: torch.zeros(3).sum().backward())
    assert torch_error_note("ValueError: something else") == ""


def test_the_loop_warning_repeats_a_function_left_only_in_the_session(tmp_path):
    body = "def standardize(xs):\n    return [x - sum(xs) / len(xs) for x in xs]\n"
    repeat = step("Done already.", "print(list_files())")
    session, backend, ws = make(
        tmp_path,
        [
            step("Implement it.", body),
            repeat,
            repeat,
            repeat,
            step("Write the file.", f"write_file('stats.py', {body!r})\nprint('saved')"),
            step("Done.", "final_answer('standardize is implemented in stats.py')"),
        ],
    )
    (ws / "stats.py").write_text("def standardize(xs):\n    ...\n")
    outcome = run_task(session, "Implement standardize in stats.py")
    (warning,) = [g for g in events(tmp_path, "guard") if g["action"] == "warn"]
    said = warning["messages"][0]["content"]
    assert said.startswith("Stop: the same code gave the same result 3 times in a row.")
    assert said.endswith(
        "stats.py on disk still has its old version. To change the file, write it: "
        "write_file('stats.py', ...) or edit_file.)"
    )
    assert outcome.status == "done" and "return [x - sum" in (ws / "stats.py").read_text()
