"""The process sandbox doing its job: state, shell, files, limits, torch, and its CLI."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from smolab.sandbox import Limits, ProcessSandbox, SandboxUnavailableError

from .conftest import run_cli
from .servers import Behaviour, OpenAIHandler, serve


@pytest.fixture
def sandbox(tmp_path: Path):
    with ProcessSandbox(tmp_path / "ws", Limits(timeout=30)) as sb:
        yield sb


def test_python_state_persists_between_calls(sandbox):
    assert sandbox.run_python("import math\nx = math.sqrt(16)").ok
    r = sandbox.run_python("print(x + 1)")
    assert (r.status, r.exit_code, r.stdout) == ("ok", 0, "5.0\n")


def test_errors_and_exit_codes(sandbox):
    r = sandbox.run_python("raise ValueError('nope')")
    assert (r.status, r.exit_code) == ("error", 1) and "ValueError: nope" in r.stderr
    r = sandbox.run_python("import sys\nsys.exit(3)")
    assert (r.status, r.exit_code) == ("error", 3)
    r = sandbox.run_shell("echo out; echo err >&2; exit 7")
    assert (r.status, r.exit_code, r.stdout, r.stderr) == ("error", 7, "out\n", "err\n")


def test_fd_level_output_of_children_is_captured(sandbox):
    r = sandbox.run_python("import os, subprocess\nos.write(1, b'raw\\n')\nsubprocess.run(['echo', 'child'])")
    assert r.stdout == "raw\nchild\n"


def test_files_move_in_and_out(sandbox):
    sandbox.put_file("data/in.csv", b"a,b\n1,2\n")
    r = sandbox.run_python(
        "import csv\nrows = list(csv.reader(open('data/in.csv')))\nopen('out.txt','w').write(str(len(rows)))"
    )
    assert r.ok, r.stderr
    assert sandbox.get_file("out.txt") == b"2"
    assert (sandbox.workspace / "data" / "in.csv").exists()
    assert sandbox.run_shell("pwd").stdout == "/workspace\n"


def test_network_is_off_by_default_and_can_be_allowed(tmp_path):
    with serve(OpenAIHandler, behaviour=Behaviour()) as url:
        code = (
            f"import urllib.request\nprint(urllib.request.urlopen({url + '/v1/models'!r}, timeout=5).status)"
        )
        with ProcessSandbox(tmp_path / "off") as sb:
            assert sb.run_python(code).status == "error"
        with ProcessSandbox(tmp_path / "on", Limits(network=True)) as sb:
            r = sb.run_python(code)
            assert r.stdout == "200\n", r.stderr


def test_disk_limit(tmp_path):
    with ProcessSandbox(tmp_path / "ws", Limits(disk_bytes=3_000_000)) as sb:
        r = sb.run_python("open('big.bin', 'wb').write(b'x' * 4_000_000)")
        assert r.status == "error" and "File too large" in r.stderr  # one file: refused at once
        r = sb.run_python("for i in range(4):\n    open(f'part{i}.bin', 'wb').write(b'x' * 900_000)")
        assert r.status == "error" and "over its 3,000,000-byte limit" in r.message


def test_missing_bubblewrap_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap on it
    with pytest.raises(SandboxUnavailableError, match="apt-get install bubblewrap"):
        ProcessSandbox(tmp_path / "ws").start()


def test_unisolated_mode_runs_when_asked(tmp_path):
    with ProcessSandbox(tmp_path / "ws", isolation="none") as sb:
        assert sb.run_python("print(2 + 2)").stdout == "4\n"


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch not installed")
def test_a_torch_training_step_runs_with_the_network_off(sandbox):
    code = """
import torch
torch.manual_seed(0)
x, y = torch.randn(64, 8), torch.randn(64, 1)
model = torch.nn.Linear(8, 1)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
losses = []
for _ in range(5):
    opt.zero_grad()
    loss = torch.nn.functional.mse_loss(model(x), y)
    loss.backward()
    opt.step()
    losses.append(loss.item())
print(losses[0] > losses[-1])
"""
    r = sandbox.run_python(code, timeout=120)
    assert r.status == "ok", r.stderr[-2000:]
    assert r.stdout == "True\n"


def test_cli_python_and_shell(tmp_path):
    ws = str(tmp_path / "ws")
    r = run_cli("sandbox", "python", "-c", "print(6 * 7)", "--workspace", ws)
    assert (r.returncode, r.stdout) == (0, "42\n")
    r = run_cli("sandbox", "python", "-c", "import sys; sys.exit(5)", "--workspace", ws)
    assert r.returncode == 5 and "status: error" in r.stderr
    r = run_cli("sandbox", "shell", "echo hi > f.txt; cat f.txt", "--workspace", ws)
    assert (r.returncode, r.stdout) == (0, "hi\n")
    script = tmp_path / "s.py"
    script.write_text("print('from file')")
    assert run_cli("sandbox", "python", str(script), "--workspace", ws).stdout == "from file\n"
    r = run_cli("sandbox", "python", "-c", "while True: pass", "--timeout", "1", "--workspace", ws)
    assert r.returncode == 124 and "status: timeout" in r.stderr


def test_cli_bad_input(tmp_path):
    r = run_cli("sandbox", "python", str(tmp_path / "missing.py"))
    assert r.returncode == 2 and "Traceback" not in r.stderr and "missing.py" in r.stderr
    r = run_cli("sandbox", "python", "-c", "1", "--backend", "docker")
    assert r.returncode == 2 and "process" in r.stderr
    r = run_cli("sandbox", "python", "-c", "1", "--memory", "lots")
    assert r.returncode == 2 and "memory" in r.stderr.lower()


def test_python_runs_inside_with_the_hosts_interpreter(sandbox):
    r = sandbox.run_python("import sys\nprint(sys.version.split()[0])")
    assert r.stdout.strip() == sys.version.split()[0]
