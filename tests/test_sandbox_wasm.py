"""The wasm sandbox (Pyodide under Node, inside the bubblewrap jail): its job and its walls."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from smolab.sandbox import Limits, SandboxPathError, WasmSandbox
from smolab.sandbox.wasm import pyodide_dir

from .conftest import run_cli
from .servers import Behaviour, OpenAIHandler, serve

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (pyodide_dir() / "pyodide.mjs").exists(), reason="Pyodide not installed"),
]


@pytest.fixture(scope="module")
def wasm(tmp_path_factory):
    sb = WasmSandbox(tmp_path_factory.mktemp("wasm"), Limits(timeout=20, memory_bytes=1024 * 2**20))
    sb.start()
    yield sb
    sb.close()


def test_state_persists_and_stdlib_works(wasm):
    assert wasm.run_python("import json, re\nx = json.dumps({'a': 1})").ok
    r = wasm.run_python("print(x, re.sub('a', 'b', x))")
    assert r.stdout == '{"a": 1} {"b": 1}\n'


def test_errors_exit_codes_and_unavailable_packages(wasm):
    r = wasm.run_python("import numpy")
    assert r.status == "error" and "ModuleNotFoundError" in r.stderr
    assert wasm.run_python("raise SystemExit(4)").exit_code == 4
    assert wasm.run_shell("ls").exit_code == 127  # no shell in wasm


def test_files_cross_only_through_put_and_get(wasm):
    wasm.put_file("data/in.txt", b"abc")
    assert wasm.run_python("open('out.txt', 'w').write(open('data/in.txt').read().upper())").ok
    assert wasm.get_file("out.txt") == b"ABC"
    assert not (wasm.workspace / "out.txt").exists()  # the host folder is not mounted
    with pytest.raises(SandboxPathError):
        wasm.get_file("../etc/passwd")
    with pytest.raises(SandboxPathError):
        wasm.get_file("missing.txt")


def test_node_apis_reachable_from_python_are_walled_off(wasm):
    secret = Path.home() / f".smolab-wasm-secret-{uuid.uuid4().hex}"
    secret.write_text("top secret")
    try:
        for js in (
            f"js.process.getBuiltinModule('fs').readFileSync({str(secret)!r}).toString()",
            "js.process.getBuiltinModule('child_process').execSync('id').toString()",
            "js.process.getBuiltinModule('fs').writeFileSync('/tmp/x', 'y')",
        ):
            r = wasm.run_python(f"import js\nprint({js})")
            assert r.status == "error" and "restricted" in r.stderr, js
            assert "top secret" not in r.stdout
    finally:
        secret.unlink()
    r = wasm.run_python("import js\nprint(sorted(js.Object.keys(js.process.env)))")
    assert "ANTHROPIC_API_KEY" not in r.stdout and "SMOLAB" not in r.stdout


def test_host_processes_are_out_of_reach(wasm):
    import os

    r = wasm.run_python(f"import js\njs.process.kill({os.getpid()}, 'SIGKILL')")
    assert r.status == "error" and "ESRCH" in r.stderr  # not in the jail's PID namespace
    r = wasm.run_python("import js\nprint(js.process.pid)")
    assert int(r.stdout) < 10


def test_missing_package_says_what_wasm_lacks(wasm):
    r = wasm.run_python("import pandas")
    assert r.status == "error" and "numpy, pandas, torch" in r.message


def test_no_network(wasm):
    seen = Behaviour()
    with serve(OpenAIHandler, behaviour=seen) as url:
        r = wasm.run_python(
            f"import js\nstate = []\njs.fetch({url + '/v1/models'!r}).then("
            "lambda r: state.append('REACHED'), lambda e: state.append('blocked'))"
        )
        assert r.ok, r.stderr
        time.sleep(1.0)  # Node settles the promise between calls
        assert wasm.run_python("print(state)").stdout == "['blocked']\n"
        r = wasm.run_python(f"import urllib.request\nurllib.request.urlopen({url!r})")
        assert r.status == "error"
    assert seen.requests == []  # nothing reached the host's loopback


def test_endless_output_and_endless_loop(tmp_path):
    with WasmSandbox(tmp_path / "w", Limits(timeout=2, output_bytes=10_000)) as sb:
        r = sb.run_python("while True:\n    print('x' * 100)")
        assert r.status == "output_truncated" and len(r.stdout) == 10_000
        r = sb.run_python("while True:\n    pass")
        assert r.status == "timeout" and "restarted" in r.message
        assert sb.run_python("print('back')").stdout == "back\n"


def test_memory_bomb(tmp_path):
    with WasmSandbox(tmp_path / "w", Limits(timeout=60, memory_bytes=768 * 2**20)) as sb:
        r = sb.run_python("a = []\nwhile True:\n    a.append(bytearray(50 * 2**20))")
        assert r.status == "out_of_memory", r


def test_cli_wasm_backend():
    r = run_cli("sandbox", "python", "--backend", "wasm", "-c", "import sys; print(sys.platform)")
    assert r.returncode == 0 and r.stdout == "emscripten\n"
