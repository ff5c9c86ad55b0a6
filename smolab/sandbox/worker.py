"""The sandbox worker: a persistent Python process that runs inside the sandbox.

It uses the standard library only (the sandbox sees no smolab install) and talks
to the host over its original stdin/stdout with length-prefixed JSON frames.
For each call, fds 1 and 2 are pointed at fresh sealed in-memory files sized to
the output limit, so prints, C extensions and child processes are all captured
at the file-descriptor level, and a write past the limit fails inside the
sandbox instead of filling the host's memory.
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import fcntl
import json
import linecache
import os
import resource
import select
import signal
import struct
import subprocess
import sys
import time
import traceback
from typing import Any

PROTO_IN = os.dup(0)
PROTO_OUT = os.dup(1)
NAMESPACE: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
HARD_CPU = resource.getrlimit(resource.RLIMIT_CPU)[1]
WORKER_PID = os.getpid()
_cpu_soft = 0
SLACK = 256 * 1024


class CpuLimitReached(BaseException):
    """Raised from SIGXCPU: the call used its CPU seconds."""


def _on_xcpu(signum: int, frame: Any) -> None:
    raise CpuLimitReached()


SPIN_SECONDS = 0.002
"""After a reply, poll for the next request this long before sleeping in the kernel: waking a
blocked process on another core costs tens of microseconds, more than a whole trivial call."""


_pending = b""


def _read_exact(n: int) -> bytes:
    """``n`` bytes of the request stream (b"" at its end), reading ahead in one syscall."""
    global _pending
    buf = _pending
    spin_until = time.perf_counter() + SPIN_SECONDS
    while len(buf) < n:
        try:
            chunk = os.read(PROTO_IN, max(n - len(buf), 1 << 16))
        except BlockingIOError:
            if time.perf_counter() < spin_until:
                continue
            select.select([PROTO_IN], [], [])
            continue
        if not chunk:
            return b""
        buf += chunk
    _pending = buf[n:]
    return buf[:n]


def _plain(obj: Any) -> Any:
    """Arrays, tensors and numpy scalars as lists and numbers; anything else as its str()."""
    for attr in ("tolist", "item"):
        if callable(getattr(obj, attr, None)):
            try:
                return getattr(obj, attr)()
            except Exception:
                pass
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    return str(obj)


def _send(obj: dict[str, Any], plain: bool = False) -> None:
    data = json.dumps(obj, default=_plain if plain else None).encode()
    view = memoryview(struct.pack(">I", len(data)) + data)
    while view:  # a pipe takes a large frame in pieces
        view = view[os.write(PROTO_OUT, view) :]


class HostError(Exception):
    """A host tool refused or failed; the message says why."""


class StopCell(BaseException):
    """Ends the running cell cleanly (``final_answer`` raises it once the host has the answer)."""


_current_call: Any = None


def host_call(name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    """Call the host's tool ``name`` and wait for its answer (the cell's clock is paused meanwhile)."""
    _send({"host": name, "args": args, "kwargs": kwargs, "call": _current_call}, plain=True)
    head = _read_exact(4)
    if not head:
        raise SystemExit(0)
    reply = json.loads(_read_exact(struct.unpack(">I", head)[0]))
    if reply.get("stop"):
        raise StopCell()
    if "error" in reply:
        raise HostError(reply["error"])
    return reply.get("result")


NAMESPACE.update({"__host_call__": host_call, "HostError": HostError})


def _capture(limit: int) -> int:
    fd = os.memfd_create("smolab-out", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    # Room past the limit, so a writer using big chunks still lands beyond it (telling a cut
    # apart from output of exactly the limit) before its writes start to fail.
    os.ftruncate(fd, limit + SLACK)
    fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_GROW | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_SEAL)
    return fd


_CAPTURES: dict[int, tuple[int, int]] = {}
"""Target fd (1 or 2) -> (capture fd, limit). An untouched capture is reused by the next call."""


_DIRTY: set[int] = set()
"""Capture fds that received output in the last call (a clean one is reused as it is)."""


def _point(target: int, limit: int) -> int:
    held = _CAPTURES.get(target)
    if held is not None and held[1] == limit and held[0] not in _DIRTY:
        return held[0]
    if held is not None:
        os.close(held[0])
    fd = _capture(limit)
    os.dup2(fd, target)
    _CAPTURES[target] = (fd, limit)
    return fd


def _collect(fd: int, limit: int) -> tuple[str, bool]:
    written = os.lseek(fd, 0, os.SEEK_CUR)
    if written == 0:
        _DIRTY.discard(fd)
        return "", False
    _DIRTY.add(fd)
    data = os.pread(fd, min(written, limit), 0)
    return data.decode("utf-8", errors="replace"), written > limit


def _reap() -> None:
    # As PID 1 of the sandbox the worker inherits every orphan; collect the finished ones.
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _kill_others() -> None:
    """After a limit stopped the call, end every other process in the sandbox (PID 1 may)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(-1, signal.SIGKILL)
    time.sleep(0.01)
    _reap()


def _run_shell(command: str) -> int:
    proc = subprocess.Popen(["/bin/sh", "-c", command], start_new_session=True)
    try:
        return proc.wait()
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise


def _call(req: dict[str, Any]) -> dict[str, Any]:
    limit = int(req["output_bytes"])
    sys.stdout.flush()
    sys.stderr.flush()
    out_fd, err_fd = _point(1, limit), _point(2, limit)
    cpu_before = time.process_time()
    if req.get("cpu_seconds"):
        # Only the soft limit moves (the hard one is the session's); SIGXCPU fires past it.
        wanted = int(cpu_before + float(req["cpu_seconds"])) + 1
        resource.setrlimit(
            resource.RLIMIT_CPU, (wanted if HARD_CPU == -1 else min(wanted, HARD_CPU), HARD_CPU)
        )
    status, exit_code, message = "ok", 0, ""
    start = time.perf_counter()
    global _current_call
    _current_call = req.get("call")
    try:
        if req["kind"] == "python":
            name = str(req.get("name") or "<cell>")
            # Kept in linecache so that tracebacks show the cell's lines, not only their numbers.
            linecache.cache[name] = (len(req["code"]), None, req["code"].splitlines(True), name)
            exec(compile(req["code"], name, "exec"), NAMESPACE)
        else:
            exit_code = _run_shell(req["code"])
            if exit_code != 0:
                status = "error"
    except SystemExit as e:
        code = e.code
        exit_code = code if isinstance(code, int) else (0 if code is None else 1)
        if not isinstance(code, int) and code is not None:
            print(code, file=sys.stderr)
        status = "ok" if exit_code == 0 else "error"
    except StopCell:
        pass
    except KeyboardInterrupt:
        status, exit_code, message = "timeout", 124, "interrupted at the wall-clock limit"
    except CpuLimitReached:
        status, exit_code, message = "timeout", 124, f"CPU time limit of {req.get('cpu_seconds')} s reached"
    except MemoryError:
        traceback.print_exc()
        status, exit_code, message = "out_of_memory", 137, "memory limit reached (MemoryError)"
    except BaseException as e:
        traceback.print_exc()
        status, exit_code = "error", 1
        if isinstance(e, OSError) and e.errno == errno.ENOMEM or "can't allocate memory" in str(e):
            status, message = "out_of_memory", "memory limit reached"
    finally:
        if os.getpid() != WORKER_PID:
            # A process the code forked has come back out of exec(): it must never reach
            # the protocol pipe. (Fork bombs return here once the process limit bites.)
            os._exit(0)
        with contextlib.suppress(OSError):  # a full capture: what fit is kept
            sys.stdout.flush()
        with contextlib.suppress(OSError):
            sys.stderr.flush()
    seconds = time.perf_counter() - start
    cpu_after = time.process_time()
    stdout, cut_out = _collect(out_fd, limit)
    stderr, cut_err = _collect(err_fd, limit)
    if (cut_out or cut_err) and status in ("ok", "error"):
        status, message = "output_truncated", f"output past {limit} bytes was cut"
    if status != "ok" and req["kind"] == "python":
        # A failed cell may leave forked processes spinning (fork bombs do): end them.
        _kill_others()
    _reap()
    return {
        "status": status,
        "exit_code": exit_code,
        "stdout": stdout,
        "stderr": stderr,
        "seconds": seconds,
        "cpu_seconds": cpu_after - cpu_before,
        "message": message,
        "call": req.get("call"),
    }


def main() -> None:
    signal.signal(signal.SIGXCPU, _on_xcpu)
    # Past RLIMIT_FSIZE a write fails with EFBIG (an error the code sees) instead of killing it.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # user code reading stdin gets EOF, not the protocol
    os.set_blocking(PROTO_IN, False)
    _send({"ready": True, "python": sys.version.split()[0]})
    while True:
        try:
            head = _read_exact(4)
            if not head:
                return
            req = json.loads(_read_exact(struct.unpack(">I", head)[0]))
        except KeyboardInterrupt:
            continue  # a late interrupt for a call that had already finished
        _send(_call(req))


if __name__ == "__main__":
    main()
