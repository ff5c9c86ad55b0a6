"""The agent benchmark's tasks: every check fails on the untouched workspace and passes on the
task's reference solution, so a task scored correct was done, and one scored wrong could be."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from agenttasks import TASKS, TIERS  # noqa: E402


def workspace(tmp_path: Path, task) -> Path:
    ws = tmp_path / "ws"
    for name, text in task.files.items():
        (ws / name).parent.mkdir(parents=True, exist_ok=True)
        (ws / name).write_text(text)
    ws.mkdir(exist_ok=True)
    return ws


def test_thirty_tasks_in_three_tiers_of_ten():
    assert {tier: len(tasks) for tier, tasks in TIERS.items()} == {"questions": 10, "files": 10, "ml": 10}
    assert len({t.name for t in TASKS}) == 30
    assert all(t.tier == tier for tier, tasks in TIERS.items() for t in tasks)


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.name)
def test_the_check_fails_untouched_and_passes_the_reference_solution(tmp_path, task):
    ws = workspace(tmp_path, task)
    assert not task.check(None, ws), "the check passes before anything was done"
    code = task.solution + "\nimport json as _j\nprint(_j.dumps(globals().get('answer')))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ws, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert task.check(answer, ws), f"the reference solution fails the check (answer {answer!r})"
