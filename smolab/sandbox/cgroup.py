"""A cgroup per sandbox session, where this user may create one: real limits on the
number of processes and on memory for the whole process tree.

rlimits alone cannot stop a fork bomb started by root (RLIMIT_NPROC is not
enforced for uid 0) and RLIMIT_AS counts address space, not memory. A cgroup does
both properly. It needs write access to a cgroup hierarchy (root, or a delegated
subtree); without it the session falls back to rlimits and says so.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")


def _own_path(controller: str) -> str:
    """This process's cgroup path for a v1 controller, or the v2 path for ''."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, names, path = line.split(":", 2)
        if (controller and controller in names.split(",")) or (not controller and names == ""):
            return path.lstrip("/")
    return ""


@dataclass
class Cgroup:
    dirs: list[Path]
    memory_events: Path | None

    @classmethod
    def create(cls, max_processes: int | None, memory_bytes: int | None) -> Cgroup | None:
        """A new cgroup with these limits, or None where cgroups cannot be written."""
        name = f"smolab-{uuid.uuid4().hex[:12]}"
        try:
            if (ROOT / "cgroup.controllers").exists():
                return cls._create_v2(name, max_processes, memory_bytes)
            return cls._create_v1(name, max_processes, memory_bytes)
        except OSError:
            return None

    @classmethod
    def _create_v2(cls, name: str, max_processes: int | None, memory_bytes: int | None) -> Cgroup | None:
        parent = ROOT / _own_path("")
        wanted = {"pids"} | ({"memory"} if memory_bytes else set())
        if not wanted <= set((parent / "cgroup.controllers").read_text().split()):
            return None
        # A process may not sit in a cgroup that also delegates controllers; create a sibling tree.
        (parent / "cgroup.subtree_control").write_text(" ".join(f"+{c}" for c in wanted))
        d = parent / name
        d.mkdir()
        if max_processes:
            (d / "pids.max").write_text(str(max_processes))
        if memory_bytes:
            (d / "memory.max").write_text(str(memory_bytes))
            (d / "memory.swap.max").write_text("0") if (d / "memory.swap.max").exists() else None
        return cls([d], d / "memory.events")

    @classmethod
    def _create_v1(cls, name: str, max_processes: int | None, memory_bytes: int | None) -> Cgroup | None:
        pids_root = ROOT / "pids"
        if not (pids_root / "cgroup.procs").exists():
            return None
        made: list[Path] = []
        try:
            d = pids_root / _own_path("pids") / name
            d.mkdir()
            made.append(d)
            if max_processes:
                (d / "pids.max").write_text(str(max_processes))
            events = None
            if memory_bytes and (ROOT / "memory" / "cgroup.procs").exists():
                m = ROOT / "memory" / _own_path("memory") / name
                m.mkdir()
                made.append(m)
                (m / "memory.limit_in_bytes").write_text(str(memory_bytes))
                events = m / "memory.oom_control"
            return cls(made, events)
        except OSError:
            for d in reversed(made):
                with contextlib.suppress(OSError):
                    d.rmdir()
            raise

    def join(self) -> None:
        """Move the calling process in; used between fork and exec of the sandbox."""
        pid = str(os.getpid())
        for d in self.dirs:
            (d / "cgroup.procs").write_text(pid)

    def oom_kills(self) -> int:
        if self.memory_events is None:
            return 0
        try:
            for line in self.memory_events.read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
        except (OSError, ValueError):
            pass
        return 0

    def remove(self) -> None:
        for d in self.dirs:
            with contextlib.suppress(OSError):
                d.rmdir()
