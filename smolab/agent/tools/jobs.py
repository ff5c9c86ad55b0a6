"""Background jobs: a long script (a training run) in its own sandbox session, watched and
cancelled from the agent's later steps. Its output goes to ``.jobs/<id>.log`` in the workspace."""

from __future__ import annotations

import shlex
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ...sandbox import Limits, ProcessSandbox, RunResult
from ..policy import Action
from .base import Tool, ToolError, make_tool

LOGS = ".jobs"


@dataclass
class Job:
    id: str
    command: str
    minutes: float
    started: float = field(default_factory=time.time)
    box: ProcessSandbox | None = None
    thread: threading.Thread | None = None
    result: RunResult | None = None
    cancelled: bool = False

    @property
    def state(self) -> str:
        if self.cancelled:
            return "cancelled"
        if self.result is None:
            return "running"
        if self.result.status == "timeout":
            return "timed out"
        return "finished" if self.result.exit_code == 0 else f"failed (exit code {self.result.exit_code})"


class Jobs:
    def __init__(self, root: Path, limits: Limits, isolation: str = "bwrap"):
        self.root = root
        self.limits = limits
        self.isolation = isolation
        self.jobs: dict[str, Job] = {}

    def start(self, command: str, minutes: float) -> Job:
        job = Job(f"job{len(self.jobs) + 1}", command, minutes)
        (self.root / LOGS).mkdir(exist_ok=True)
        seconds = minutes * 60
        limits = replace(self.limits, timeout=seconds, cpu_seconds=None, session_cpu_seconds=None)
        job.box = ProcessSandbox(self.root, limits, self.isolation)
        log = f"{LOGS}/{job.id}.log"
        wrapped = f"exec > {shlex.quote(log)} 2>&1\n{command}"

        def work() -> None:
            assert job.box is not None
            job.result = job.box.run_shell(wrapped, timeout=seconds)

        job.thread = threading.Thread(target=work, name=f"smolab-{job.id}", daemon=True)
        job.thread.start()
        self.jobs[job.id] = job
        return job

    def get(self, job_id: str) -> Job:
        job = self.jobs.get(job_id)
        if job is None:
            known = ", ".join(self.jobs) or "none yet"
            raise ToolError(f"no job {job_id!r} (jobs: {known})")
        return job

    def tail(self, job_id: str, lines: int) -> str:
        path = self.root / LOGS / f"{self.get(job_id).id}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def cancel(self, job_id: str) -> Job:
        job = self.get(job_id)
        if job.result is None and job.box is not None:
            job.cancelled = True
            job.box.close()
            if job.thread:
                job.thread.join(timeout=10)
        return job

    def close(self) -> None:
        for job in self.jobs.values():
            if job.result is None:
                self.cancel(job.id)


def job_tools(jobs: Jobs, minutes_left: Callable[[], float | None]) -> list[Tool]:
    def classify(args: dict[str, Any]) -> Action:
        detail = f"{args['command']} (up to {args['minutes']} min)"
        left = minutes_left()
        if left is not None and float(args["minutes"]) > left:
            detail += f"; past the run's time budget ({left:.0f} min left)"
        return Action("job", "start_job", detail)

    def start_job(command: str, minutes: float = 30) -> str:
        """Start a long shell command (training) in the background for at most `minutes`; returns its id."""
        if minutes <= 0:
            raise ToolError("minutes must be positive")
        job = jobs.start(command, float(minutes))
        return job.id

    def job_status(job_id: str) -> dict[str, Any]:
        """A job's state (running, finished, failed, timed out, cancelled) and its minutes so far."""
        job = jobs.get(job_id)
        return {"id": job.id, "state": job.state, "minutes": round((time.time() - job.started) / 60, 2)}

    def job_logs(job_id: str, lines: int = 20) -> str:
        """The last `lines` lines a job printed."""
        return jobs.tail(job_id, int(lines))

    def cancel_job(job_id: str) -> str:
        """Stop a running job."""
        return f"{job_id}: {jobs.cancel(job_id).state}"

    return [
        make_tool(start_job, classify=classify),
        make_tool(job_status),
        make_tool(job_logs),
        make_tool(cancel_job),
    ]
