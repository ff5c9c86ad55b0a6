"""Attempts to get out of the process sandbox. Every one must fail, leave the host unharmed
and come back as a clear status."""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import pytest

from smolab.sandbox import Limits, ProcessSandbox, SandboxPathError

from .servers import Behaviour, OpenAIHandler, serve

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux namespaces")


@pytest.fixture
def sandbox(tmp_path: Path):
    sb = ProcessSandbox(tmp_path / "ws", Limits(timeout=5, max_processes=32, memory_bytes=512 * 2**20))
    yield sb
    sb.close()


@pytest.fixture
def secret_in_home():
    path = Path.home() / f".smolab-test-secret-{uuid.uuid4().hex}"
    token = uuid.uuid4().hex
    path.write_text(token)
    yield path, token
    path.unlink()


def test_cannot_read_a_host_file_outside_the_workspace(sandbox, secret_in_home):
    path, token = secret_in_home
    r = sandbox.run_python(f"print(open({str(path)!r}).read())")
    assert r.status == "error" and "FileNotFoundError" in r.stderr
    assert token not in r.stdout + r.stderr
    r = sandbox.run_shell(f"cat {path} ~/.bash_history /etc/shadow 2>&1; ls {Path.home()} 2>&1")
    assert token not in r.stdout + r.stderr


def test_cannot_write_outside_the_workspace(sandbox, tmp_path):
    target = tmp_path / f"escaped-{uuid.uuid4().hex}"
    home_target = Path.home() / f".smolab-escape-{uuid.uuid4().hex}"
    code = f"""
for p in [{str(target)!r}, {str(home_target)!r}, '/tmp/x', '/usr/evil', {sys.prefix + "/evil.pth"!r}]:
    try:
        open(p, 'w').write('x')
        print('wrote', p)
    except OSError as e:
        print('refused', p, e.errno)
"""
    r = sandbox.run_python(code)
    assert r.status == "ok", r.stderr
    assert not target.exists() and not home_target.exists()
    assert not Path(sys.prefix, "evil.pth").exists()  # the host's environment cannot be poisoned
    assert f"refused {sys.prefix}/evil.pth" in r.stdout and "refused /usr/evil" in r.stdout


def test_cannot_reach_a_server_on_the_host_loopback(sandbox):
    with serve(OpenAIHandler, behaviour=Behaviour()) as url:
        r = sandbox.run_python(
            f"import urllib.request\ntry:\n    urllib.request.urlopen({url + '/v1/models'!r}, timeout=3)\n"
            "    print('REACHED')\nexcept OSError as e:\n    print('blocked', e)"
        )
    assert "REACHED" not in r.stdout and "blocked" in r.stdout


def test_host_environment_is_not_visible(sandbox, monkeypatch):
    monkeypatch.setenv("SMOLAB_TEST_TOKEN", "tok-" + uuid.uuid4().hex)
    sandbox.close()  # the next call starts a fresh session under the new environment
    r = sandbox.run_python(
        "import os\nprint(sorted(os.environ))\nprint(open('/proc/1/environ','rb').read())\n"
        "print(open('/proc/self/environ','rb').read())"
    )
    assert os.environ["SMOLAB_TEST_TOKEN"] not in r.stdout + r.stderr
    assert "SMOLAB_TEST_TOKEN" not in r.stdout


def test_cannot_see_or_signal_host_processes(sandbox):
    me = os.getpid()
    r = sandbox.run_python(
        f"import os, signal\nprint(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))\n"
        f"try:\n    os.kill({me}, signal.SIGKILL)\n    print('SENT')\n"
        "except ProcessLookupError:\n    print('no such')\n"
    )
    pids = eval(r.stdout.splitlines()[0])  # a list of ints printed by the sandbox
    assert pids[0] == 1 and len(pids) < 5
    assert "SENT" not in r.stdout
    r = sandbox.run_shell("kill -9 -1; echo done")
    assert Path(f"/proc/{me}").exists()  # still alive to assert this


def test_fork_bomb_is_contained(sandbox):
    # Refuse to fork-bomb a machine where nothing would stop it (root without a cgroup).
    assert sandbox.process_limit_enforced, "no cgroup and running as root: process limit not enforceable"
    # Each child sleeps, so only a process limit can stop the loop: without one it would run on
    # until the timeout, which this test does not accept.
    bomb = (
        "import os, time\nn = 0\ntry:\n    while True:\n        if os.fork() == 0:\n"
        "            time.sleep(2)\n            os._exit(0)\n        n += 1\n"
        "except BlockingIOError:\n    print('refused after', n)\n"
        "while True:\n    try:\n        os.wait()\n    except ChildProcessError:\n        break\n"
    )
    r = sandbox.run_python(bomb, timeout=20)
    assert r.status == "ok" and r.stdout.startswith("refused after"), r
    assert 0 < int(r.stdout.split()[-1]) < 32  # the limit (32 processes), not memory or time, stopped it
    after = sandbox.run_python("import os; print(len([p for p in os.listdir('/proc') if p.isdigit()]))")
    assert after.status == "ok" and int(after.stdout) < 5  # nothing left running


def test_memory_bomb_gives_out_of_memory(sandbox):
    r = sandbox.run_python("a = []\nwhile True:\n    a.append(bytearray(10**8))")
    assert r.status == "out_of_memory", r
    assert sandbox.run_python("print('still usable')").stdout == "still usable\n"


def test_endless_loop_times_out_and_keeps_state(sandbox):
    sandbox.run_python("kept = 42")
    r = sandbox.run_python("while True:\n    pass", timeout=1)
    assert r.status == "timeout" and r.exit_code == 124
    assert sandbox.run_python("print(kept)").stdout == "42\n"


def test_code_that_ignores_the_interrupt_is_killed(sandbox):
    r = sandbox.run_python(
        "import time\nwhile True:\n    try:\n        time.sleep(10)\n    except BaseException:\n        pass",
        timeout=1,
    )
    assert r.status == "timeout" and "restarted" in r.message
    assert sandbox.run_python("print(1)").stdout == "1\n"


def test_endless_output_is_truncated(sandbox):
    r = sandbox.run_python("while True:\n    print('x' * 1000)")
    assert r.status == "output_truncated"
    assert len(r.stdout) == sandbox.limits.output_bytes
    r = sandbox.run_shell("yes")
    assert r.status == "output_truncated" and len(r.stdout) == sandbox.limits.output_bytes


def test_cpu_limit_per_call(tmp_path):
    with ProcessSandbox(tmp_path / "ws", Limits(timeout=30, cpu_seconds=1)) as sb:
        r = sb.run_python("while True:\n    pass")
    assert r.status == "timeout" and "CPU time limit" in r.message and r.seconds < 10


def test_symlinks_out_of_the_workspace_are_not_followed_when_fetching(sandbox, secret_in_home):
    path, token = secret_in_home
    sandbox.run_python(
        f"import os\nos.symlink({str(path)!r}, 'leak.txt')\nos.symlink({str(path.parent)!r}, 'home')\n"
        "os.symlink('/etc/passwd', 'passwd')"
    )
    for name in ("leak.txt", f"home/{path.name}", "passwd", "../" + path.name, str(path)):
        with pytest.raises(SandboxPathError):
            sandbox.get_file(name)
    with pytest.raises(SandboxPathError):
        sandbox.put_file("home/planted", b"x")  # nor followed when putting
    assert not (path.parent / "planted").exists()


def test_ctypes_and_os_level_tricks_fail(sandbox):
    code = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
print('unshare', libc.unshare(0x10000000))            # new user namespace
print('mount', libc.mount(b'none', b'/usr', b'tmpfs', 0, None))
print('chroot', libc.chroot(b'/'))
print('setuid', libc.setuid(0) if os.getuid() != 0 else 'already-0-in-ns')
print('ptrace', libc.ptrace(16, 1, 0, 0))              # PTRACE_ATTACH to PID 1
try:
    open('/sys/kernel/notes', 'rb')
    print('sys READ')
except OSError:
    print('sys hidden')
print(sorted(os.listdir('/dev')))
"""
    r = sandbox.run_python(code)
    lines = dict(
        line.split(" ", 1) for line in r.stdout.splitlines() if " " in line and not line.startswith("[")
    )
    assert lines["unshare"] == "-1" and lines["mount"] == "-1" and lines["chroot"] == "-1"
    assert lines["ptrace"] == "-1"
    assert "sys hidden" in r.stdout
    assert "sda" not in r.stdout and "vda" not in r.stdout  # no block devices


def test_garbage_on_the_control_pipe_ends_the_session_not_the_host(sandbox):
    # Code in the worker can find the protocol fds; writing there must not confuse or stall the host.
    r = sandbox.run_python(
        "import os\nfor fd in range(3, 12):\n    try:\n        os.write(fd, b'\\xff' * 8)\n"
        "    except OSError:\n        pass"
    )
    assert r.status == "killed" and "restarted" in r.message
    assert sandbox.run_python("print('fine')").stdout == "fine\n"


def test_a_forged_reply_is_detected(sandbox):
    forge = (
        "import os, json, struct\n"
        "body = json.dumps({'status': 'ok', 'exit_code': 0, 'stdout': 'FORGED', 'stderr': '', 'seconds': 0,"
        " 'cpu_seconds': 0, 'message': '', 'call': -1}).encode()\n"
        "for fd in range(3, 12):\n    try:\n        os.write(fd, struct.pack('>I', len(body)) + body)\n"
        "    except OSError:\n        pass"
    )
    r = sandbox.run_python(forge)
    assert r.stdout != "FORGED" and r.status == "killed"
