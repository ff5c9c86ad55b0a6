"""The checks a final answer must pass before a run ends as done, on invented workspaces."""

from __future__ import annotations

import os

from smolab.agent.checks import Ending, claims_hold, files_exist, named_files, run_checks, snapshot


def ending(tmp_path, task, answer, steps=(), before=None):
    return Ending(task, answer, tmp_path, snapshot(tmp_path) if before is None else before, list(steps))


def test_named_files_are_the_paths_a_text_asks_to_have():
    text = (
        "Read data/train.csv, write the model to /workspace/out/model.pt and a report to ./report.md. "
        "Delete scratch.txt. Use np.mean, version 0.5 and e.g. torch.nn; /etc/passwd is not ours."
    )
    assert named_files(text) == ["data/train.csv", "out/model.pt", "report.md"]


def test_files_the_task_asks_for_must_exist_and_not_be_empty(tmp_path):
    (tmp_path / "data.csv").write_text("a\n1\n")
    task = "Sum column a of data.csv and write it to total.txt"
    before = snapshot(tmp_path)
    missing = "total.txt does not exist in the workspace"
    assert files_exist(ending(tmp_path, task, 1, before=before)) == missing
    (tmp_path / "total.txt").write_text("")
    assert files_exist(ending(tmp_path, task, 1, before=before)) == "total.txt is empty"
    (tmp_path / "total.txt").write_text("1")
    assert files_exist(ending(tmp_path, task, 1, before=before)) is None


def test_files_the_answer_names_must_exist_unless_it_says_it_removed_them(tmp_path):
    assert "plot.png does not exist" in files_exist(ending(tmp_path, "t", "The plot is in plot.png."))
    assert files_exist(ending(tmp_path, "t", "I removed old.log as asked.")) is None


def test_a_claimed_write_needs_a_changed_file(tmp_path):
    (tmp_path / "config.yaml").write_text("lr: 0.1\n")
    os.utime(tmp_path / "config.yaml", ns=(1, 1))
    before = snapshot(tmp_path)
    claim = "I updated the learning rate in config.yaml."
    assert "no file in the workspace changed" in claims_hold(ending(tmp_path, "t", claim, before=before))
    (tmp_path / "config.yaml").write_text("lr: 0.01\n")
    assert claims_hold(ending(tmp_path, "t", claim, before=before)) is None


def test_a_negated_claim_is_no_claim(tmp_path):
    answer = "The file could not be saved because pandas is missing; the mean is 2.5."
    assert claims_hold(ending(tmp_path, "t", answer)) is None


def test_a_claimed_training_needs_a_step_that_trained(tmp_path):
    answer = "Trained a logistic regression; test accuracy 0.93."
    printed = [{"status": "ok", "code": "print(0.93)", "tool_calls": []}]
    assert "no step that ran trained one" in claims_hold(ending(tmp_path, "t", answer, printed))
    trained = [{"status": "ok", "code": "loss.backward()\nopt.step()", "tool_calls": []}]
    assert claims_hold(ending(tmp_path, "t", answer, trained)) is None
    crashed = [{"status": "error", "code": "loss.backward()", "tool_calls": []}]
    assert claims_hold(ending(tmp_path, "t", answer, crashed)) is not None


def test_a_claimed_deletion_needs_a_missing_file(tmp_path):
    (tmp_path / "tmp.bin").write_bytes(b"x")
    before = snapshot(tmp_path)
    assert "still there" in claims_hold(ending(tmp_path, "t", "Deleted the temporary files.", before=before))
    (tmp_path / "tmp.bin").unlink()
    assert claims_hold(ending(tmp_path, "t", "Deleted the temporary files.", before=before)) is None


def test_a_check_that_raises_is_a_problem_not_a_crash(tmp_path):
    def broken(end):
        raise KeyError("x")

    assert run_checks(ending(tmp_path, "t", 1), [broken]) == ["broken failed: KeyError: 'x'"]


def test_installed_packages_are_not_part_of_the_workspace(tmp_path):
    (tmp_path / ".packages" / "pandas").mkdir(parents=True)
    (tmp_path / ".packages" / "pandas" / "__init__.py").write_text("")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_text("a")
    assert list(snapshot(tmp_path)) == ["sub/a.txt"]


def test_an_answer_saying_the_tests_pass_needs_a_test_run_that_passed(tmp_path):
    answer = "Fixed calc.py; the tests pass now."
    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    before = {"calc.py": (0, 0)}  # changed since the start
    never_ran = claims_hold(ending(tmp_path, "fix calc.py", answer, [], before))
    assert never_ran is not None and "no step ran them" in never_ran
    failed_run = {
        "step": 2,
        "code": "shell('python -m pytest -q')",
        "status": "ok",
        "tool_calls": [],
        "observation": "F.\n1 failed, 1 passed in 0.1s",
    }
    assert "1 failed" in (claims_hold(ending(tmp_path, "fix calc.py", answer, [failed_run], before)) or "")
    passed_run = {**failed_run, "step": 3, "observation": "..\n2 passed in 0.1s"}
    runs = [failed_run, passed_run]
    assert claims_hold(ending(tmp_path, "fix calc.py", answer, runs, before)) is None
    # A file name inside the claim does not hide it.
    named = "The tests in test_calc.py pass now."
    assert "no step ran them" in (claims_hold(ending(tmp_path, "fix calc.py", named, [], before)) or "")
    # Saying they do not pass yet is no claim.
    assert claims_hold(ending(tmp_path, "fix calc.py", "The tests do not pass yet.", [], before)) is None
