"""The run layer: typed events, the status rules, per-run usage, the index, follow and export."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from smolab.agent import AgentOptions, Budget, build, resume_run, run_task
from smolab.config import load_settings
from smolab.models import ChatDefaults, ChatModel, ScriptedBackend
from smolab.reproduce import Options, reproduce
from smolab.runs import (
    RunIndex,
    RunRef,
    RunsError,
    Trajectory,
    UnknownRun,
    locate,
    parse,
    read_export,
    status_of,
    summarize,
    write_export,
)
from smolab.runs.events import (
    SCHEMA_VERSION,
    Event,
    ModelCall,
    RunEnded,
    RunResumed,
    RunStarted,
    StageFinished,
    StepDone,
)
from smolab.runs.index import MIGRATIONS

from .conftest import run_cli
from .scripted_author import PAPER_TEX, Author, author_model

FIXTURES = Path(__file__).parent / "fixtures" / "runs-v0"


def step(thought: str, code: str) -> str:
    return f"Thought: {thought}\n```python\n{code}\n```"


def v0_copy(tmp_path: Path) -> Path:
    """The previous release's run folders, moved to ``tmp_path`` (paths inside rewritten)."""
    root = tmp_path / "v0"
    shutil.copytree(FIXTURES, root)
    for name in ("agent/run.json", "reproduce/.smolab/run.json", "reproduce/.smolab/paper.json"):
        p = root / name
        p.write_text(p.read_text().replace("@FIXTURE@", str(root)))
    return root


# -- events ------------------------------------------------------------------------------------


def test_every_event_carries_the_schema_version_and_unknown_ones_are_kept():
    line = RunEnded(status="done", reason="answered").line()
    assert line["v"] == SCHEMA_VERSION and line["type"] == "run_ended" and line["time"] > 0
    again = parse(json.loads(json.dumps(line)))
    assert isinstance(again, RunEnded) and again.status == "done"
    # A type from a newer release (or a field this one does not know) is read, not dropped.
    future = parse({"v": 1, "type": "gpu_sampled", "time": 1.0, "util": 0.9})
    assert type(future) is Event and future.line()["util"] == 0.9
    extra = parse({**line, "note": "kept"})
    assert isinstance(extra, RunEnded) and extra.line()["note"] == "kept"


def test_version_0_lines_are_upgraded_as_they_are_read():
    old_call = {"time": 5.0, "stage": "digest", "step": "digest", "model": "m", "prompt_tokens": 9}
    call = parse(old_call)
    assert isinstance(call, ModelCall) and call.key == "digest" and call.prompt_tokens == 9
    start = parse({"time": 1.0, "type": "start", "task": "t", "model": "m"})
    assert isinstance(start, RunStarted) and start.kind == "agent" and start.task == "t"
    end = parse({"time": 2.0, "type": "end", "status": "budget", "reason": "steps"})
    assert isinstance(end, RunEnded) and end.status == "budget"


def test_a_line_cut_by_a_crash_ends_the_reading_there(tmp_path):
    t = Trajectory(tmp_path / "trajectory.jsonl")
    t.append(RunStarted(kind="agent", task="x"))
    with open(t.path, "a") as f:
        f.write('{"v": 1, "type": "step", "st')
    assert [type(e) for e in t.read()] == [RunStarted]


def test_a_listener_sees_each_event_and_can_be_removed(tmp_path):
    t = Trajectory(tmp_path / "trajectory.jsonl")
    seen: list[Event] = []
    remove = t.listen(seen.append)
    t.append(RunStarted(kind="agent"))
    remove()
    t.append(RunEnded(status="done"))
    assert [e.type for e in seen] == ["run_started"]


# -- status and usage: one set of rules --------------------------------------------------------


def test_status_is_the_last_end_unless_the_run_went_on():
    started = RunStarted(kind="agent", pid=4242)
    ended = RunEnded(status="budget")
    resumed = RunResumed(pid=4343)
    alive = {4343}.__contains__
    assert status_of([], alive) == "unfinished"
    assert status_of([started], alive) == "unfinished"  # its writer is gone: crashed or killed
    assert status_of([started, ended], alive) == "budget"
    assert status_of([started, ended, resumed], alive) == "running"
    assert status_of([started, ended, resumed], lambda pid: False) == "unfinished"
    assert status_of([started, ended, resumed, RunEnded(status="done")], alive) == "done"


def test_a_models_observer_can_be_removed():
    model = ChatModel(ScriptedBackend(["a", "b"]))
    seen: list = []
    remove = model.observe(seen.append)
    model.chat("hi")
    remove()
    model.chat("hi")
    assert len(seen) == 1 and model.usage.completion_tokens > 0


def test_two_runs_in_one_process_share_a_model_and_keep_their_own_calls(tmp_path):
    """Two agent runs in threads, served by one loaded model: each trajectory holds its own
    model calls and its own token counts, and the model's total is their sum."""
    done = step("Answer.", "final_answer(len('{}'))")

    def reply(messages, params):
        task = messages[1].content
        time.sleep(0.05)  # let the threads' calls interleave
        if "Observation" in messages[-1].content:
            return done.format("x" * 3 if "short" in task else "y" * 30)
        if "short" in task:
            return step("Count.", "print(3)")
        return step("Count at length, with a longer thought for more tokens.", "x = 1\ny = 2\nprint(x + y)")

    shared = ChatModel(ScriptedBackend(fallback=reply), ChatDefaults(max_tokens=200))
    outcomes = {}

    def go(name: str, task: str) -> None:
        ws = tmp_path / f"ws-{name}"
        ws.mkdir()
        session = build(
            shared,
            load_settings(home=tmp_path / "home"),
            ws,
            tmp_path / name,
            task=task,
            options=AgentOptions(budget=Budget(max_steps=4)),
        )
        outcomes[name] = run_task(session, task)

    threads = [
        threading.Thread(target=go, args=("one", "the short task")),
        threading.Thread(target=go, args=("two", "the long task")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes["one"].answer == 3 and outcomes["two"].answer == 30
    totals = {}
    for name in ("one", "two"):
        ref = RunRef(name, tmp_path / name)
        events = ref.trajectory.read()
        calls = [e for e in events if isinstance(e, ModelCall)]
        steps = [e for e in events if isinstance(e, StepDone)]
        # Each call of this run, and only those: one per step, with the step's own tokens.
        assert len(calls) == len(steps) == 2
        assert [c.completion_tokens for c in calls] == [s.usage["completion_tokens"] for s in steps]
        assert ("short" in events[0].task) == (steps[0].thought == "Count.")
        s = summarize(ref, events)
        assert (s.prompt_tokens, s.completion_tokens) == (
            outcomes[name].spend.prompt_tokens,
            outcomes[name].spend.completion_tokens,
        )
        totals[name] = s.completion_tokens
    assert totals["one"] != totals["two"]
    assert shared.usage.completion_tokens == totals["one"] + totals["two"]


# -- reproduce writes the same events ------------------------------------------------------------


def test_reproduce_writes_typed_events_and_the_index_lists_it(tmp_path):
    paper = tmp_path / "paper.tex"
    paper.write_text(PAPER_TEX)
    home = tmp_path / "home"
    index = RunIndex(home / "runs.db", home / "runs")
    summary = reproduce(
        str(paper), tmp_path / "repo", author_model(Author()), options=Options(repair_rounds=1), index=index
    )
    events = Trajectory(tmp_path / "repo" / ".smolab" / "trajectory.jsonl").read()
    kinds = {e.type for e in events}
    assert {"run_started", "stage_started", "stage_finished", "model_call", "file_written"} <= kinds
    assert isinstance(events[-1], RunEnded) and events[-1].status == "unverified"  # runs, not checked
    assert summary["runs"] and not summary["ok"]
    stages = [e for e in events if isinstance(e, StageFinished)]
    calls = [e for e in events if isinstance(e, ModelCall)]
    assert sum(s.completion_tokens for s in stages) == sum(c.completion_tokens for c in calls) > 0
    [row] = index.list()
    assert row.kind == "reproduce" and row.status == "unverified" and row.steps == len(stages)
    assert row.completion_tokens == sum(c.completion_tokens for c in calls)
    # Found by id, by a prefix of it, and by the repository's folder.
    assert locate(home / "runs", row.id).folder == tmp_path / "repo" / ".smolab"
    assert locate(home / "runs", row.id[:10]).id == row.id
    assert locate(home / "runs", str(tmp_path / "repo")).id == row.id
    with pytest.raises(UnknownRun, match="smolab runs"):
        locate(home / "runs", "no-such-run")


# -- the index ---------------------------------------------------------------------------------


def _agent_run(home: Path, tmp_path: Path, task: str, replies: list[str]) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir(exist_ok=True)
    settings = load_settings(home=home)
    target = settings.runs_dir / task.replace(" ", "-")
    model = ChatModel(ScriptedBackend(replies), ChatDefaults(max_tokens=200))
    run_task(build(model, settings, ws, target, task=task), task)
    return target


def test_the_index_migrates_in_order_and_is_rebuilt_from_the_folders(tmp_path):
    home = tmp_path / "home"
    _agent_run(home, tmp_path, "first task", [step("Answer.", "final_answer(0 + 1)")])
    index = RunIndex(home / "runs.db", home / "runs")
    [row] = index.list()
    assert row.id == "first-task" and row.status == "done" and row.kind == "agent"
    index.close()
    db = sqlite3.connect(home / "runs.db")
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    db.close()
    # A run whose folder is deleted leaves the list.
    _agent_run(home, tmp_path, "second task", [step("Answer.", "final_answer(1 + 1)")])
    assert [r.id for r in index.list()] == ["second-task", "first-task"]
    shutil.rmtree(home / "runs" / "second-task")
    assert [r.id for r in index.list()] == ["first-task"]
    index.close()
    # Gone: rebuilt from the run folders.
    (home / "runs.db").unlink()
    assert [r.id for r in RunIndex(home / "runs.db", home / "runs").list()] == ["first-task"]
    # Damaged: the same.
    (home / "runs.db").write_bytes(b"not a database at all" * 100)
    assert [r.id for r in RunIndex(home / "runs.db", home / "runs").list()] == ["first-task"]
    # Written by a newer release: refused with what to do.
    db = sqlite3.connect(home / "runs.db")
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.commit()
    db.close()
    with pytest.raises(RunsError, match="upgrade smolab"):
        RunIndex(home / "runs.db", home / "runs").list()


def test_an_older_database_gets_only_the_migrations_it_lacks(tmp_path):
    db_path = tmp_path / "runs.db"
    db = sqlite3.connect(db_path)
    for statement in MIGRATIONS[:2]:
        db.execute(statement)
    db.execute("PRAGMA user_version = 2")
    db.execute(
        "INSERT INTO runs (id, kind, status, folder, started) VALUES ('old', 'agent', 'done', '/x', 1)"
    )
    db.commit()
    db.close()
    folder = tmp_path / "runs" / "old"
    folder.mkdir(parents=True)
    (folder / "run.json").write_text('{"kind": "agent"}')
    t = Trajectory(folder / "trajectory.jsonl")
    t.append(RunStarted(kind="agent"))
    t.append(RunEnded(status="done"))
    index = RunIndex(db_path, tmp_path / "runs")
    [row] = index.list()
    assert row.id == "old" and row.reason == ""  # the kept row, with the columns migrations 3-4 added
    db = sqlite3.connect(db_path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    db.close()


# -- a run written by the previous release -----------------------------------------------------


def test_a_run_of_the_previous_release_lists_and_resumes(tmp_path):
    root = v0_copy(tmp_path)
    home = tmp_path / "home"
    runs_dir = home / "runs"
    runs_dir.mkdir(parents=True)
    shutil.move(root / "agent", runs_dir / "old-agent-run")
    index = RunIndex(home / "runs.db", runs_dir)
    [row] = index.list()
    assert (row.id, row.kind, row.status, row.steps) == ("old-agent-run", "agent", "budget", 1)
    assert row.completion_tokens > 0
    # The release before did not link reproduce runs into the home folder: found by its folder.
    old = summarize(locate(runs_dir, str(root / "reproduce")))
    assert old.kind == "reproduce" and old.status == "unfinished"  # it crashed; nothing wrote an end
    assert old.completion_tokens > 0 and old.steps == 0  # v0 wrote no stage events
    # A v0 run that finished wrote no end event; its report says how it ended.
    report = root / "reproduce" / "report.json"
    report.write_text(json.dumps({"ok": False, "runs": True}))
    assert summarize(locate(runs_dir, str(root / "reproduce"))).status == "unverified"
    report.unlink()

    # The agent run resumes where it stopped: its step is not redone.
    model = ChatModel(ScriptedBackend([step("Answer.", "final_answer(open('a.txt').read())")]))
    session = build(model, load_settings(home=home), root / "agent-ws", runs_dir / "old-agent-run", task=None)
    outcome = resume_run(session)
    assert outcome.status == "done" and outcome.answer == "1" and outcome.steps == 2
    # The reproduce run resumes from its last finished step.
    author = Author()
    summary = reproduce(
        str(root / "paper.tex"),
        root / "reproduce",
        author_model(author),
        resume=True,
        options=Options(repair_rounds=1),
        index=index,
    )
    assert summary["runs"] and author.asked[0] == "generate:main.py"
    rows = {r.kind: r for r in index.list()}
    assert rows["agent"].status == "done" and rows["reproduce"].status == "unverified"
    assert rows["reproduce"].folder == str(root / "reproduce" / ".smolab")


# -- the CLI: list, show, follow live, export ----------------------------------------------------


WRITER = """
import sys, time
from pathlib import Path
from smolab.runs import Trajectory
from smolab.runs.events import RunEnded, RunStarted, SandboxCall

t = Trajectory(Path(sys.argv[1]) / "trajectory.jsonl")
go = Path(sys.argv[2])
t.append(RunStarted(kind="agent", id="live", task="a live run", model="m", pid=__import__("os").getpid()))
t.append(SandboxCall(step=1, what="step", status="ok", seconds=0.1))
while not go.exists():  # the test lets the run end only after follow has shown the events so far
    time.sleep(0.05)
t.append(SandboxCall(step=2, what="step", status="timeout", seconds=9.0))
t.append(RunEnded(status="done", reason="answered"))
"""


def test_follow_prints_a_run_in_progress_as_it_happens(tmp_path):
    home = tmp_path / "home"
    folder = home / "runs" / "live"
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps({"kind": "agent", "id": "live", "task": "a live run"}))
    go = tmp_path / "go"
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    env = {**os.environ, "SMOLAB_HOME": str(home)}
    writer = subprocess.Popen([sys.executable, str(script), str(folder), str(go)], env=env)
    follow = subprocess.Popen(
        [sys.executable, "-m", "smolab.cli", "runs", "follow", "live"],
        env={**env, "COLUMNS": "200"},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert follow.stdout is not None
        first = [follow.stdout.readline() for _ in range(2)]
        # Shown while the run is still going: it cannot end before the go file exists.
        assert writer.poll() is None and "started agent run live" in first[0] and "ok" in first[1]
        go.touch()
        rest = follow.stdout.read()
        assert follow.wait(timeout=60) == 0
    finally:
        writer.kill()
        follow.kill()
    assert "sandbox step: timeout" in rest and "ended: done (answered)" in rest


def test_runs_lists_both_kinds_shows_and_exports_round_trip(tmp_path):
    home = tmp_path / "home"
    _agent_run(home, tmp_path, "agent task", [step("Answer.", "final_answer(1 + 1)")])
    paper = tmp_path / "paper.tex"
    paper.write_text(PAPER_TEX)
    reproduce(
        str(paper),
        tmp_path / "repo",
        author_model(Author()),
        options=Options(repair_rounds=1),
        index=RunIndex(home / "runs.db", home / "runs"),
    )
    env = {"SMOLAB_HOME": str(home)}
    listing = run_cli("runs", "--json", env=env)
    assert listing.returncode == 0, listing.stderr
    rows = [json.loads(x) for x in listing.stdout.splitlines()]
    assert [r["kind"] for r in rows] == ["reproduce", "agent"]  # newest first
    assert all(r["prompt_tokens"] > 0 and r["seconds"] >= 0 for r in rows)
    table = run_cli("runs", env={**env, "COLUMNS": "250"}).stdout
    assert "agent-task" in table and "unverified" in table and "done" in table

    shown = json.loads(run_cli("runs", "show", rows[1]["id"], "--json", env=env).stdout)
    assert shown["status"] == "done" and shown["task"] == "agent task" and shown["steps"] == 1
    assert "unverified" in run_cli("runs", "show", str(tmp_path / "repo"), env=env).stdout

    out = tmp_path / "export.json"
    r = run_cli("runs", "export", rows[0]["id"], "-o", str(out), env=env)
    assert r.returncode == 0, r.stderr
    summary, info, events = read_export(out)
    ref = locate(home / "runs", rows[0]["id"])
    assert [e.line() for e in events] == [e.line() for e in ref.trajectory.read()]
    assert summary == summarize(ref).model_copy(update={"folder": ""}) and info["kind"] == "reproduce"
    # The run's folder means nothing on another machine: left out.
    assert "folder" not in json.loads(out.read_text())["run"]

    missing = run_cli("runs", "show", "nothing-like-it", env=env)
    assert missing.returncode == 1 and missing.stderr.count("\n") == 1 and "smolab runs" in missing.stderr
    with pytest.raises(RunsError, match="not a smolab run export"):
        (tmp_path / "other.json").write_text("{}")
        read_export(tmp_path / "other.json")


def test_an_export_keeps_a_v0_run_readable_in_the_current_schema(tmp_path):
    root = v0_copy(tmp_path)
    ref = RunRef("old", root / "agent")
    write_export(ref, tmp_path / "old.json")
    data = json.loads((tmp_path / "old.json").read_text())
    assert {e["v"] for e in data["events"]} == {SCHEMA_VERSION}
    assert data["events"][0]["type"] == "run_started" and data["run"]["status"] == "budget"


def test_the_agent_run_as_a_stream_of_its_events(tmp_path):
    from smolab.agent import stream_run

    replies = [step("Look.", "print(6 * 7)"), step("Answer.", "final_answer(6 * 7)")]
    ws = tmp_path / "ws"
    ws.mkdir()
    model = ChatModel(ScriptedBackend(replies), ChatDefaults(max_tokens=200))
    session = build(model, load_settings(home=tmp_path / "home"), ws, tmp_path / "run", task="6 times 7?")
    stream = stream_run(session, "6 times 7?")
    seen = []
    with pytest.raises(StopIteration) as stop:
        while True:
            seen.append(next(stream))
    assert stop.value.value.status == "done" and stop.value.value.answer == 42
    assert [e.line() for e in seen] == [
        e.line() for e in Trajectory(tmp_path / "run" / "trajectory.jsonl").read()
    ]
    assert [e.step for e in seen if isinstance(e, StepDone)] == [1, 2]
