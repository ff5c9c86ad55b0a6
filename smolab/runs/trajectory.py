"""A run's trajectory: its events, one JSON line each, appended as they happen.

``append`` writes one line per event in one write and lets the OS have it at once, so a killed
process loses nothing it wrote (no fsync per event: it would cost more than a whole agent step
and guards only against power loss). ``read`` stops at a line cut by a crash mid-write.
``follow`` tails the file for a terminal or a web page, until the run ends or its writer dies.
Listeners get each event as it is appended and can be removed.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .events import Event, RunEnded, RunResumed, RunStarted, parse

Listener = Callable[[Event], None]


class Trajectory:
    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []

    # -- writing ----------------------------------------------------------------

    def append(self, event: Event) -> Event:
        line = json.dumps(event.line(), ensure_ascii=False, default=str)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a") as f:
                f.write(line + "\n")
            listeners = list(self._listeners)
        for listener in listeners:
            listener(event)
        return event

    def listen(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with every event appended from now on; returns what removes it."""
        with self._lock:
            self._listeners.append(listener)

        def remove() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return remove

    # -- reading ----------------------------------------------------------------

    def raw(self) -> list[dict[str, Any]]:
        """The lines as stored (older versions not upgraded)."""
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return []
        out = []
        for line in text.splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                break  # a line cut by a crash mid-write: everything before it stands
        return out

    def read(self) -> list[Event]:
        return [parse(d) for d in self.raw()]

    def follow(
        self, poll: float = 0.2, alive: Callable[[int], bool] | None = None, wait: float = 10.0
    ) -> Iterator[Event]:
        """Every event, then each new one as it is written, until the run ends (``run_ended``)
        or the process writing it is gone. ``wait``: seconds to wait for a trajectory that does
        not exist yet."""
        alive = alive or pid_alive
        deadline = time.monotonic() + wait
        while not self.path.exists():
            if time.monotonic() > deadline:
                return
            time.sleep(poll)
        writer: int | None = None
        pending = ""
        with open(self.path) as f:
            while True:
                chunk = f.read()
                if chunk:
                    pending += chunk
                    *lines, pending = pending.split("\n")
                    ended = False
                    for line in lines:
                        try:
                            event = parse(json.loads(line))
                        except ValueError:
                            continue
                        if isinstance(event, (RunStarted, RunResumed)) and event.pid:
                            writer = event.pid
                        ended = isinstance(event, RunEnded)
                        yield event
                    if ended and not pending:
                        return  # the run's last event so far ends it (a resume after it would follow)
                    continue
                if writer is not None and not alive(writer):
                    return
                time.sleep(poll)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
