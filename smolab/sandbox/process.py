"""The ``process`` sandbox: a persistent Python worker inside Linux namespaces (bubblewrap).

What the code inside sees: the system's /usr, /lib, /bin and a few files of /etc,
the Python installation and its environment, all read-only; the workspace at
/workspace, read-write; a private /tmp; its own PID, IPC, UTS, cgroup, user and
network namespaces (only a private loopback unless the network is allowed); no
environment variable from the host. It dies with its parent. The worker is
PID 1 of its namespace, so killing it kills everything the code started.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import select
import shutil
import signal
import struct
import subprocess
import sys
import sysconfig
import threading
import time
from pathlib import Path
from typing import Any

from .cgroup import Cgroup
from .errors import SandboxError, SandboxUnavailableError
from .paths import check_disk, read_workspace_file, write_workspace_file
from .types import CELL, HostHandler, Limits, RunResult

WORKER = Path(__file__).with_name("worker.py")
INSIDE_WORKSPACE = "/workspace"
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# Just what programs need from /etc: no passwd hashes, no host keys, no credentials.
ETC_FILES = (
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "alternatives",
    "localtime",
    "nsswitch.conf",
    "passwd",
    "group",
    "mime.types",
)
NETWORK_ETC = ("resolv.conf", "hosts", "ssl", "ca-certificates", "gai.conf")
SAFE_ENV = {
    # `python` inside is the interpreter smolab runs on (its packages are bound read-only).
    "PATH": f"{os.path.dirname(sys.executable)}:/usr/local/bin:/usr/bin:/bin",
    "HOME": "/tmp",
    "LANG": "C.UTF-8",
    "PYTHONDONTWRITEBYTECODE": "1",
    "MPLBACKEND": "Agg",
    "OMP_NUM_THREADS": str(len(os.sched_getaffinity(0))),
}
GRACE_SECONDS = 1.0
MAX_FRAME = 64 * 1024 * 1024
SPIN_SECONDS = 0.002
DISK_CHECK_EVERY = 32
"""The workspace's total size is checked after every call that ran 1 ms or more, and every
32nd call (walking the folder costs more than a whole trivial call). Each single file is
capped at once by RLIMIT_FSIZE."""

INSTALL_HINT = (
    "bubblewrap is not installed: install it (Debian/Ubuntu: sudo apt-get install bubblewrap; "
    "Fedora: sudo dnf install bubblewrap) or, knowing the code runs with your rights, "
    "choose --backend unsafe-no-isolation"
)


def python_roots() -> list[Path]:
    """Folders the interpreter and its packages live in (bound read-only)."""
    paths = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix), Path(sys.base_exec_prefix)}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        paths.add(Path(sysconfig.get_paths()[key]))
    real = {Path(os.path.realpath(p)) for p in paths if p.exists()}
    # Drop folders inside others, so each is bound once.
    return sorted(p for p in real if not any(q != p and q in p.parents for q in real))


def jail_argv(
    limits: Limits,
    info_fd: int,
    command: list[str],
    ro_binds: list[tuple[str, str]],
    workspace: Path | None,
) -> list[str]:
    """bubblewrap's command line around ``command``: the namespaces and mounts described above."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise SandboxUnavailableError(INSTALL_HINT)
    # --disable-userns: no nested user namespace, the usual first step of kernel exploits.
    argv = [bwrap, "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent"]
    argv += ["--new-session", "--as-pid-1"]
    argv += ["--info-fd", str(info_fd)]
    if limits.network:
        argv += ["--share-net"]
    if os.geteuid() == 0:
        argv += ["--cap-drop", "ALL"]
    for d in SYSTEM_DIRS:
        if os.path.isdir(d) and not os.path.islink(d):
            argv += ["--ro-bind", d, d]
        elif os.path.islink(d):
            argv += ["--symlink", os.readlink(d), d]
    for name in ETC_FILES + (NETWORK_ETC if limits.network else ()):
        p = Path("/etc") / name
        if p.exists():
            argv += ["--ro-bind", str(p), str(p)]
    for src, dest in ro_binds:
        argv += ["--ro-bind", src, dest]
    argv += ["--size", str(256 * 1024 * 1024), "--tmpfs", "/tmp"]
    if workspace is not None:
        argv += ["--bind", str(workspace), INSIDE_WORKSPACE, "--chdir", INSIDE_WORKSPACE]
    else:
        argv += ["--chdir", "/tmp"]
    argv += ["--proc", "/proc", "--dev", "/dev"]
    argv += ["--clearenv"]
    for key, value in SAFE_ENV.items():
        argv += ["--setenv", key, value]
    return [*argv, "--", *command]


class ProcessSandbox:
    """A sandbox session. ``isolation="bwrap"`` (default) or ``"none"`` (no isolation at all)."""

    backend = "process"
    interruptible = True
    """A SIGINT stops the running code but keeps the session (not so for the wasm interpreter)."""
    limit_address_space = True
    """Without a cgroup, cap memory with RLIMIT_AS (wrong for V8, which reserves far more than it uses)."""

    def __init__(self, workspace: Path | str, limits: Limits | None = None, isolation: str = "bwrap"):
        self.workspace = Path(workspace).resolve()
        self.workspace.mkdir(parents=True, exist_ok=True)
        self.limits = limits or Limits()
        self.isolation = isolation
        self._proc: subprocess.Popen[bytes] | None = None
        self._worker_pid: int | None = None
        self._cgroup: Cgroup | None = None
        self._started_at = time.monotonic()
        self.restarts = 0
        self.start_seconds = 0.0
        self._oom_seen = 0
        self._calls = 0
        self._pending = b""
        # A background job's thread and a cancel from another thread can both kill the worker.
        self._kill_lock = threading.Lock()
        self.host: HostHandler | None = None
        """Answers the code's calls of host tools (``__host_call__`` inside); None refuses them."""

    @property
    def process_limit_enforced(self) -> bool:
        """Whether max_processes really binds: a cgroup, or RLIMIT_NPROC (which uid 0 ignores)."""
        self.start()
        return self._cgroup is not None or os.geteuid() != 0

    # -- life cycle -------------------------------------------------------------------

    def _preexec(self) -> None:
        # Runs in the child between fork and exec: limits that every sandboxed process inherits.
        lim = self.limits
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if lim.max_processes:
            resource.setrlimit(resource.RLIMIT_NPROC, (lim.max_processes, lim.max_processes))
        if lim.disk_bytes:
            # The output captures are files too; leave them room.
            biggest = max(lim.disk_bytes, lim.output_bytes + 1024 * 1024)
            resource.setrlimit(resource.RLIMIT_FSIZE, (biggest, biggest))
        if lim.session_cpu_seconds:
            cpu = int(lim.session_cpu_seconds)
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
        if lim.memory_bytes and self._cgroup is None and self.limit_address_space:
            resource.setrlimit(resource.RLIMIT_AS, (lim.memory_bytes, lim.memory_bytes))
        if self._cgroup is not None:
            self._cgroup.join()

    def _jailed_argv(self, info_fd: int) -> list[str]:
        binds = [(str(root), str(root)) for root in python_roots()]
        binds.append((str(WORKER), "/opt/smolab/worker.py"))
        command = [sys.executable, "-I", "-u", "/opt/smolab/worker.py"]
        return jail_argv(self.limits, info_fd, command, binds, self.workspace)

    def _plain_argv(self) -> list[str]:
        return [sys.executable, "-I", "-u", str(WORKER)]

    def start(self) -> None:
        if self._proc is not None:
            return
        t0 = time.perf_counter()
        if self.isolation == "bwrap":
            self._cgroup = Cgroup.create(self.limits.max_processes, self.limits.memory_bytes)
            info_r, info_w = os.pipe()
            argv = self._jailed_argv(info_w)
            pass_fds: tuple[int, ...] = (info_w,)
        elif self.isolation == "none":
            argv, info_r, info_w, pass_fds = self._plain_argv(), -1, -1, ()
        else:
            raise SandboxError(f"unknown isolation '{self.isolation}'; use bwrap or none")
        env = SAFE_ENV | {"PYTHONPATH": ""} if self.isolation == "none" else None
        try:
            self._proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=pass_fds,
                preexec_fn=self._preexec,
                cwd=self.workspace,
                env=env,
                start_new_session=True,
            )
        finally:
            if info_w >= 0:
                os.close(info_w)
        assert self._proc.stdout is not None
        os.set_blocking(self._proc.stdout.fileno(), False)
        if info_r >= 0:
            with os.fdopen(info_r, "rb") as f:
                info = f.read()  # bwrap writes a small JSON object and closes its end
            try:
                self._worker_pid = int(json.loads(info)["child-pid"])
            except (ValueError, KeyError) as err:
                self._proc.wait(timeout=10)
                detail = (
                    self._proc.stderr.read().decode(errors="replace").strip() if self._proc.stderr else ""
                )
                self._kill()
                raise SandboxError(
                    f"bubblewrap failed to start the sandbox: {detail or 'no reason given'}"
                ) from err
        else:
            self._worker_pid = self._proc.pid
        try:
            ready = self._receive(timeout=30.0)
        except EOFError:
            ready = None
        if ready is None or not ready.get("ready"):
            self._proc.kill()
            self._proc.wait()
            detail = self._proc.stderr.read().decode(errors="replace").strip() if self._proc.stderr else ""
            self._kill()
            raise SandboxError(
                f"the sandbox worker did not start: {detail.splitlines()[-1] if detail else 'no output'}"
            )
        self._oom_seen = self._cgroup.oom_kills() if self._cgroup else 0
        self.start_seconds = time.perf_counter() - t0

    def _kill(self) -> None:
        with self._kill_lock:
            proc, self._proc = self._proc, None
            worker, self._worker_pid = self._worker_pid, None
            cgroup, self._cgroup = self._cgroup, None
            self._pending = b""
        if proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            if worker and worker != proc.pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(worker, signal.SIGKILL)
            proc.wait()
            for stream in (proc.stdin, proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()
        if cgroup is not None:
            cgroup.remove()

    def close(self) -> None:
        self._kill()

    def __enter__(self) -> ProcessSandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- protocol -----------------------------------------------------------------------

    def _write_frame(self, req: dict[str, Any]) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        data = json.dumps(req).encode()
        os.write(self._proc.stdin.fileno(), struct.pack(">I", len(data)) + data)

    def _receive(self, timeout: float) -> dict[str, Any] | None:
        """One frame from the worker, or None on timeout; raises EOFError if it died."""
        assert self._proc is not None and self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        head = self._read(fd, 4, timeout)
        if head is None:
            return None
        (n,) = struct.unpack(">I", head)
        if n > MAX_FRAME:
            raise EOFError("garbage on the control channel")
        body = self._read(fd, n, 30.0)
        if body is None:
            raise EOFError("worker stalled mid-reply")
        try:
            result: dict[str, Any] = json.loads(body)
        except ValueError as err:
            raise EOFError("garbage on the control channel") from err
        if not isinstance(result, dict):
            raise EOFError("garbage on the control channel")
        return result

    def _read(self, fd: int, n: int, timeout: float) -> bytes | None:
        """``n`` bytes from the worker, reading ahead so a whole reply usually takes one syscall."""
        buf = self._pending
        now = time.monotonic()
        deadline, spin_until = now + timeout, now + SPIN_SECONDS
        while len(buf) < n:
            try:
                chunk = os.read(fd, max(n - len(buf), 1 << 16))
            except BlockingIOError:
                # Poll briefly before sleeping: a quick call's reply comes back in microseconds,
                # far sooner than the kernel would wake a sleeping process on another core.
                now = time.monotonic()
                if now < spin_until:
                    continue
                if now >= deadline or not select.select([fd], [], [], deadline - now)[0]:
                    self._pending = buf
                    return None
                continue
            if not chunk:
                self._pending = b""
                raise EOFError("worker exited")
            buf += chunk
        self._pending = buf[n:]
        return buf[:n]

    def _call(self, kind: str, code: str, timeout: float | None, name: str = CELL) -> RunResult:
        lim = self.limits
        if lim.session_seconds and time.monotonic() - self._started_at > lim.session_seconds:
            return RunResult(
                "killed", 137, message=f"session wall-clock limit of {lim.session_seconds} s reached"
            )
        self.start()
        assert self._proc is not None and self._proc.stdin is not None
        timeout = lim.timeout if timeout is None else timeout
        self._calls += 1
        # The worker echoes the call number; a reply without it was forged by the code
        # (which can write to the control pipe) and ends the session.
        req = {
            "kind": kind,
            "code": code,
            "name": name,
            "output_bytes": lim.output_bytes,
            "cpu_seconds": lim.cpu_seconds,
            "call": self._calls,
        }
        start = time.perf_counter()
        try:
            self._write_frame(req)
            reply = self._receive(timeout)
            paused = 0.0
            while reply is not None and "host" in reply:
                # The code called a host tool: the clock stops while the host works (a person
                # may be answering an approval), then the cell's remaining time goes on.
                t0 = time.perf_counter()
                self._write_frame(self._answer_host(reply))
                paused += time.perf_counter() - t0
                reply = self._receive(max(0.0, timeout - (time.perf_counter() - start - paused)))
            if reply is None:
                return self._interrupt(start, timeout)
            if reply.get("call") != self._calls:
                raise EOFError("a reply for another call")
        except (EOFError, BrokenPipeError, OSError):
            return self._died(start)
        result = RunResult(
            status=reply["status"],
            exit_code=reply["exit_code"],
            stdout=reply["stdout"],
            stderr=reply["stderr"],
            seconds=time.perf_counter() - start,
            cpu_seconds=reply["cpu_seconds"],
            message=reply["message"],
        )
        if lim.disk_bytes and (result.seconds >= 0.001 or self._calls % DISK_CHECK_EVERY == 0):
            over = check_disk(self.workspace, lim.disk_bytes)
            if over and result.status == "ok":
                result.status, result.exit_code, result.message = "error", 1, over
        return result

    def _answer_host(self, request: dict[str, Any]) -> dict[str, Any]:
        name = str(request.get("host"))
        if self.host is None:
            return {"error": f"{name} is not available: this session has no host tools"}
        args, kwargs = request.get("args"), request.get("kwargs")
        if not isinstance(args, list) or not isinstance(kwargs, dict):
            return {"error": f"{name}: malformed call"}
        try:
            frame = self.host(name, args, kwargs)
            json.dumps(frame)
        except Exception as err:  # a host tool's failure is the code's error, not the session's
            return {"error": f"{name} failed: {type(err).__name__}: {err}"}
        return frame

    def _interrupt(self, start: float, timeout: float) -> RunResult:
        """Wall-clock limit: interrupt the code (state survives); if it will not stop, kill the session."""
        if self._worker_pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._worker_pid, signal.SIGINT)
        try:
            reply = self._receive(GRACE_SECONDS)
        except EOFError:
            reply = None
        if reply is not None:
            return RunResult(
                "timeout",
                124,
                reply["stdout"],
                reply["stderr"],
                time.perf_counter() - start,
                reply["cpu_seconds"],
                f"stopped at the {timeout:g} s wall-clock limit",
            )
        self._kill()
        self.restarts += 1
        return RunResult(
            "timeout",
            124,
            seconds=time.perf_counter() - start,
            message=f"stopped at the {timeout:g} s wall-clock limit; "
            + ("it ignored the interrupt, so " if self.interruptible else "")
            + "the session was restarted and its Python state is lost",
        )

    def _died(self, start: float) -> RunResult:
        oom = self._cgroup is not None and self._cgroup.oom_kills() > self._oom_seen
        code = self._proc.poll() if self._proc else None
        self._kill()
        self.restarts += 1
        if oom:
            return RunResult(
                "out_of_memory",
                137,
                seconds=time.perf_counter() - start,
                message="memory limit reached; the session was restarted and its Python state is lost",
            )
        return RunResult(
            "killed",
            137 if code is None or code < 0 else code,
            seconds=time.perf_counter() - start,
            message="the sandbox process died; the session was restarted and its Python state is lost",
        )

    # -- public API ---------------------------------------------------------------------

    def run_python(self, code: str, timeout: float | None = None, name: str = CELL) -> RunResult:
        """Run ``code`` in the session's persistent namespace; tracebacks name it ``name`` and
        show its lines, also from functions it defined when a later call runs them."""
        return self._call("python", code, timeout, name)

    def run_shell(self, command: str, timeout: float | None = None) -> RunResult:
        """Run ``command`` with /bin/sh inside the sandbox, in /workspace."""
        return self._call("shell", command, timeout)

    def put_file(self, path: str, data: bytes) -> None:
        write_workspace_file(self.workspace, path, data)

    def get_file(self, path: str) -> bytes:
        return read_workspace_file(self.workspace, path)
