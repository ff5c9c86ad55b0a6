"""`smolab doctor` as a user runs it: on this machine every part works; with one part broken at a
time (no bubblewrap on PATH, a model file truncated, no Node) that part fails with one line that
says what to do, and the exit is non-zero."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from smolab.doctor import Part, as_json, disk_part, healthy, keys_part

from .conftest import REAL_SETTINGS, run_cli

pytestmark = pytest.mark.slow


def path_without(tool: str, tmp_path: Path) -> str:
    """A PATH with every program of this one but ``tool``."""
    folder = tmp_path / f"path-without-{tool}"
    folder.mkdir()
    for d in os.environ["PATH"].split(os.pathsep):
        if not os.path.isdir(d):
            continue
        for entry in os.scandir(d):
            link = folder / entry.name
            if entry.name != tool and not link.exists():
                link.symlink_to(entry.path)
    return str(folder)


def fix_lines(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ln.startswith(("fail ", "warn "))]


def test_every_part_works_here_and_json_says_so():
    r = run_cli("doctor", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    report = json.loads(r.stdout)
    states = {p["name"]: p["state"] for p in report["parts"]}
    assert report["ok"] is True
    for name in ("python", "llama.cpp", "bubblewrap", "pyodide (wasm)", "ML stack", "disk"):
        assert states[name] == "ok", report
    assert states["model qwen2.5-coder-1.5b"] == "ok"
    llama = next(p for p in report["parts"] if p["name"] == "llama.cpp")
    assert "built for" in llama["detail"] and "tok/s" in llama["detail"] and "AMX" not in llama["detail"]


def test_the_table_names_each_part():
    r = run_cli(
        "doctor", "python", "disk", "keys", env={"COLUMNS": "200", "ANTHROPIC_API_KEY": "sk-secret-1"}
    )
    assert r.returncode == 0, r.stderr
    for name in ("python", "disk", "hosted keys", "ANTHROPIC_API_KEY set"):
        assert name in r.stdout
    assert "sk-secret-1" not in r.stdout + r.stderr


def test_no_bubblewrap_on_path_fails_with_one_line(tmp_path: Path):
    r = run_cli("doctor", env={"PATH": path_without("bwrap", tmp_path), "COLUMNS": "200"})
    assert r.returncode == 1
    lines = fix_lines(r.stderr)
    assert len(lines) == 1 and lines[0].startswith("fail bubblewrap: bubblewrap is not installed"), r.stderr


def test_no_node_fails_the_wasm_sandbox_with_one_line(tmp_path: Path):
    r = run_cli("doctor", env={"PATH": path_without("node", tmp_path), "COLUMNS": "200"})
    assert r.returncode == 1
    lines = fix_lines(r.stderr)
    assert len(lines) == 1 and lines[0].startswith("fail pyodide (wasm): the wasm sandbox needs Node.js"), (
        r.stderr
    )


def test_a_truncated_model_fails_with_one_line(tmp_path: Path):
    home = tmp_path / "home"
    models = home / "models"
    models.mkdir(parents=True)
    real = REAL_SETTINGS.models_dir
    (models / "qwen2.5-coder-1.5b").symlink_to(real / "qwen2.5-coder-1.5b")
    src = next((real / "qwen2.5-coder-0.5b").glob("*.gguf"))
    (models / "qwen2.5-coder-0.5b").mkdir()
    with src.open("rb") as f:
        (models / "qwen2.5-coder-0.5b" / src.name).write_bytes(f.read(5_000_000))
    r = run_cli("doctor", env={"SMOLAB_HOME": str(home), "COLUMNS": "200"})
    assert r.returncode == 1
    lines = fix_lines(r.stderr)
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("fail model qwen2.5-coder-0.5b:") and "expected 491,400,064" in lines[0]
    assert "smolab models pull qwen2.5-coder-0.5b --force" in lines[0]


def test_an_unknown_part_is_a_one_line_error():
    r = run_cli("doctor", "gpu")
    assert r.returncode == 2 and "unknown part 'gpu'" in r.stderr and "Traceback" not in r.stderr


def test_a_warning_does_not_fail_the_doctor_but_a_failure_does(tmp_path: Path):
    parts = [Part("a", "ok", ""), Part("b", "warn", "", "do b")]
    assert healthy(parts) and as_json(parts)["ok"] is True
    assert not healthy([*parts, Part("c", "fail", "", "do c")])
    assert disk_part(REAL_SETTINGS).state in ("ok", "warn")
    assert "OPENAI_API_KEY set" in keys_part(REAL_SETTINGS, {"OPENAI_API_KEY": "x"}).detail
