"""A run's trajectory as server-sent events. Each event's id is its line number in the
trajectory, so a page that reconnects (the browser sends ``Last-Event-ID``) or reloads (it asks
``?after=N``) gets exactly the lines it has not seen: nothing lost, nothing twice. The stream
ends after the run's end event once nothing more follows; a heartbeat comment keeps proxies from
closing an idle stream."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

POLL = 0.05
HEARTBEAT = 15.0


async def events(
    trajectory: Path, after: int, alive: Callable[[], bool], poll: float = POLL
) -> AsyncIterator[str]:
    """SSE frames for the lines after line ``after`` of ``trajectory``, following it while
    ``alive()`` says the run goes on."""
    seen = 0
    pending = b""
    offset = 0
    last_beat = time.monotonic()
    ended = False
    while True:
        try:
            with trajectory.open("rb") as f:
                f.seek(offset)
                chunk = f.read()
        except FileNotFoundError:
            chunk = b""
        if chunk:
            offset += len(chunk)
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for raw in lines:
                seen += 1
                if seen <= after or not raw.strip():
                    continue
                text = raw.decode("utf-8", errors="replace")
                try:
                    kind = json.loads(text).get("type", "")
                except ValueError:
                    continue
                ended = kind == "run_ended"
                yield f"id: {seen}\nevent: trajectory\ndata: {text}\n\n"
            continue
        if ended or not alive():
            yield "event: end\ndata: {}\n\n"
            return
        if time.monotonic() - last_beat > HEARTBEAT:
            last_beat = time.monotonic()
            yield ": heartbeat\n\n"
        await asyncio.sleep(poll)
