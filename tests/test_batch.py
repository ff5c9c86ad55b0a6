"""Batches: the plan and its manifest, resuming without redoing finished items, the runs index,
and Ray workers (a local instance) that load their model once and survive a worker killed in
the middle of an item. The model is the scripted author; the runs and the sandbox are real."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smolab.batch import Batch, BatchError, InProcess, Job, OnRay, plan, read_tasks, stage_of, state_of
from smolab.config import load_settings
from smolab.runs import RunIndex, Trajectory

from .batch_models import Scripted
from .conftest import run_cli
from .scripted_author import PAPER_TEX


def papers(folder: Path, n: int) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = folder / f"paper-{i}.tex"
        path.write_text(PAPER_TEX.replace("Gated Sums", f"Gated Sums {i}"))
        paths.append(str(path))
    return paths


def events(item, out: Path, kind: str) -> list[dict]:
    return [
        e.model_dump() for e in Trajectory(item.run_folder(out) / "trajectory.jsonl").read() if e.type == kind
    ]


@pytest.fixture
def home(tmp_path):
    return load_settings(home=tmp_path / "home")


# -- the plan ------------------------------------------------------------------------------


def test_items_keep_their_folders_when_the_batch_runs_again(tmp_path):
    out = tmp_path / "batch"
    given = papers(tmp_path / "p", 2)
    twin = tmp_path / "q" / "paper-0.tex"  # the same file name in another folder: its own item
    twin.parent.mkdir()
    twin.write_text(PAPER_TEX)
    items = plan([*given, str(twin), given[0]], ["add two numbers"], out)
    assert [i.key for i in items] == ["paper-0", "paper-1", "paper-0-2", "add-two-numbers"]
    assert [i.kind for i in items] == ["reproduce"] * 3 + ["agent"]
    assert Path(items[0].what).is_absolute()
    again = plan([given[1], "2401.00002"], [], out)  # another order, one new item
    assert [i.key for i in again] == ["paper-1", "2401-00002"]
    manifest = json.loads((out / "batch.json").read_text())
    assert len(manifest["items"]) == 5


def test_bad_input_is_refused_before_anything_runs(tmp_path):
    out = tmp_path / "batch"
    with pytest.raises(BatchError, match="nothing to run"):
        plan([], [], out)
    with pytest.raises(BatchError, match="no paper at"):
        plan([str(tmp_path / "missing.pdf")], [], out)
    with pytest.raises(BatchError, match="is a folder"):
        plan([str(tmp_path)], [], out)
    assert not out.exists()
    tasks = tmp_path / "tasks.txt"
    tasks.write_text("# comments only\n\n")
    with pytest.raises(BatchError, match="lists no task"):
        read_tasks(tasks)
    tasks.write_text("first task\n  # skipped\nsecond task\n")
    assert read_tasks(tasks) == ["first task", "second task"]
    out.mkdir()
    (out / "batch.json").write_text("{not json")
    with pytest.raises(BatchError, match="damaged"):
        plan(papers(tmp_path / "p", 1), [], out)


# -- in this process -----------------------------------------------------------------------


def test_a_batch_runs_papers_and_tasks_lists_them_and_skips_what_finished(tmp_path, home):
    out = tmp_path / "batch"
    loads = tmp_path / "loads.txt"
    items = plan(papers(tmp_path / "p", 2), ["What is six times seven?"], out)
    index = RunIndex(home.home / "runs.db", home.runs_dir)
    seen: list[str] = []
    job = Job(out=out, settings=home)
    runner = InProcess(job, Scripted(loads_to=str(loads)))
    batch = Batch(items, out, runner, index=index)
    batch.watcher.stage = lambda item, stage: seen.append(stage)
    results = batch.run()
    # The scripted paper fits no blueprint: it runs and passes its tests but is honestly unverified.
    assert [r.status for r in results] == ["unverified", "unverified", "done"], [r.reason for r in results]
    paper = results[0]
    assert paper.checks_total and paper.checks_passed > 0
    assert paper.tests_total == paper.tests_passed > 0 and paper.tokens > 0
    assert (out / "paper-0" / "REPORT.md").is_file()
    assert (
        json.loads((items[2].run_folder(out) / "trajectory.jsonl").read_text().splitlines()[-1])["answer"]
        == 42
    )
    assert len(loads.read_text().split()) == 1  # one model for the three items
    listed = {s.id: s for s in index.list()}
    assert {r.run_id for r in results} <= set(listed)
    assert [listed[r.run_id].status for r in results] == [r.status for r in results]
    rows = json.loads((out / "summary.json").read_text())
    assert [r["key"] for r in rows] == [i.key for i in items]
    # Again: everything finished earlier, so nothing runs and no model loads.
    again = Batch(plan(papers(tmp_path / "p", 2), ["What is six times seven?"], out), out, runner).run()
    assert all(r.earlier for r in again) and [r.status for r in again] == [r.status for r in results]
    assert len(loads.read_text().split()) == 1
    index.close()


def test_an_item_that_errored_resumes_from_its_last_step_and_the_rest_are_not_redone(tmp_path, home):
    out = tmp_path / "batch"
    items = plan(papers(tmp_path / "p", 2), [], out)
    job = Job(out=out, settings=home)
    first = Batch(items, out, InProcess(job, Scripted(crash_at="generate:train.py"))).run()
    assert [r.status for r in first] == ["error", "error"]
    assert "crash injected" in first[0].reason
    assert state_of(items[0], out) == "resume" and stage_of(items[0], out) == "generate"
    digests = len(events(items[0], out, "stage_finished"))
    second = Batch(items, out, InProcess(job, Scripted())).run()
    assert [r.status for r in second] == ["unverified", "unverified"]
    assert events(items[0], out, "run_resumed")
    finished = [e["key"] for e in events(items[0], out, "stage_finished")]
    assert len(finished) == len(set(finished)) > digests  # no step finished twice


# -- on Ray --------------------------------------------------------------------------------


@pytest.mark.slow
def test_ray_workers_load_once_and_a_killed_worker_is_replaced_and_its_item_resumed(tmp_path, home):
    pytest.importorskip("ray")
    out = tmp_path / "batch"
    loads = tmp_path / "loads.txt"
    marker = tmp_path / "killed"
    items = plan(papers(tmp_path / "p", 3), ["What is six times seven?"], out)
    job = Job(out=out, settings=home)
    models = Scripted(kill_at="generate:train.py", marker=str(marker), loads_to=str(loads))
    runner = OnRay(job, models, workers=2, threads=1, retries=2, poll=0.2)
    results = Batch(items, out, runner).run()
    assert [r.status for r in results] == ["unverified"] * 3 + ["done"], [r.reason for r in results]
    killed_pid = int(marker.read_text())
    killed = [i for i in items if events(i, out, "run_resumed")]
    assert len(killed) == 1  # the item the worker died in, resumed on its replacement
    finished = [e["key"] for e in events(killed[0], out, "stage_finished")]
    assert len(finished) == len(set(finished))
    workers = {r.worker.split(":")[1] for r in results}
    assert str(killed_pid) not in workers
    pids = loads.read_text().split()
    assert len(pids) == 3  # two workers and the one that replaced the killed one
    assert all(r.model_loads == 1 for r in results)  # per worker, not per item
    assert all(r.peak_rss_mb > 10 for r in results)


# -- the command ---------------------------------------------------------------------------


def test_the_command_refuses_bad_input_in_one_line(tmp_path):
    env = {"SMOLAB_HOME": str(tmp_path / "home")}
    out = str(tmp_path / "b")
    cases = [
        (["batch", "--out", out], "nothing to run"),
        (["batch", str(tmp_path / "nope.pdf"), "--out", out], "no paper at"),
        (["batch", "--tasks", str(tmp_path / "none.txt"), "--out", out], "cannot read the tasks file"),
    ]
    for args, message in cases:
        r = run_cli(*args, env=env)
        assert r.returncode == 1 and "Traceback" not in r.stderr
        lines = [line for line in r.stderr.strip().splitlines() if line.strip()]
        assert len(lines) == 1 and message in lines[0], r.stderr


@pytest.mark.slow
def test_an_unreachable_ray_cluster_is_one_line(tmp_path, monkeypatch):
    pytest.importorskip("ray")
    out = tmp_path / "batch"
    items = plan(papers(tmp_path / "p", 1), [], out)
    job = Job(out=out, settings=load_settings(home=tmp_path / "home"))
    with pytest.raises(BatchError, match="cannot reach Ray at 127.0.0.1:9"):
        Batch(items, out, OnRay(job, Scripted(), address="127.0.0.1:9")).run()
