"""Putting an agent together from settings: its tools, sandbox, policy, run folder."""

from __future__ import annotations

import contextlib
import queue
import shutil
import threading
from collections.abc import Callable, Collection, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Settings
from ..models import ChatModel, Usage
from ..runs import Event, new_run_id
from ..sandbox import Limits, ProcessSandbox
from ..skills.guide import Guide
from .errors import AgentSetupError
from .guards import free, litellm_price
from .loop import Agent, AgentOptions, StepObserver
from .memory import RunFolder
from .outcome import Outcome
from .policy import Approver, Policy, deny_all, parse_allow
from .tools.base import Toolbox
from .tools.files import Workspace, file_tools
from .tools.jobs import Jobs, job_tools
from .tools.shell import Shells, shell_tools
from .tools.user import load_user_tools
from .tools.web import Endpoints, Web, web_tools


@dataclass
class Session:
    """An agent with everything it holds open; close() releases the sandboxes, jobs and clients."""

    agent: Agent
    closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for close in reversed(self.closers):
            with contextlib.suppress(Exception):
                close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def check_setup(settings: Settings, allow: list[str] | None, tools: list[str] | None) -> None:
    """Raise AgentSetupError for an unknown approval kind or a tool that cannot load."""
    try:
        parse_allow([*settings.allow, *(allow or [])])
        for spec in [*settings.tools, *(tools or [])]:
            load_user_tools(spec)
    except ValueError as err:
        raise AgentSetupError(str(err)) from None


def price_of(model: ChatModel) -> Callable[[Usage], float] | None:
    """What a call costs: litellm's price list for hosted models, nothing for local ones, and
    None where smolab cannot know (a model litellm does not list, an OpenAI-compatible server)."""
    from ..models.hosted import LiteLLMBackend
    from ..models.openai_compat import OpenAICompatBackend

    if isinstance(model.backend, LiteLLMBackend):
        return litellm_price(model.backend.model)
    if isinstance(model.backend, OpenAICompatBackend):
        return None
    return free


BUILTIN_TOOLS = ("files", "shell", "jobs", "research")
"""The built-in tools by group: file tools, shell and packages, background jobs, web research."""


def build(
    model: ChatModel,
    settings: Settings,
    workspace: Path,
    run_dir: Path,
    *,
    task: str | None = None,
    options: AgentOptions | None = None,
    approver: Approver = deny_all,
    allow: list[str] | None = None,
    extra_tools: list[str] | None = None,
    limits: Limits | None = None,
    isolation: str = "bwrap",
    on_event: StepObserver | None = None,
    mcp: bool = True,
    guide: Guide | None = None,
    builtin: Collection[str] = BUILTIN_TOOLS,
) -> Session:
    """A new run when ``task`` is given (``run_dir`` must not exist), else the run at ``run_dir``.
    ``builtin``: the groups of built-in tools it gets (files, shell, jobs, research)."""
    unknown = set(builtin) - set(BUILTIN_TOOLS)
    if unknown:
        groups = ", ".join(BUILTIN_TOOLS)
        raise AgentSetupError(f"unknown tool group(s) {', '.join(sorted(unknown))}; use {groups}")
    options = options or AgentOptions()
    try:
        allowed = parse_allow([*settings.allow, *(allow or [])])
    except ValueError as err:
        raise AgentSetupError(str(err)) from None
    workspace = workspace.resolve()
    workspace.mkdir(parents=True, exist_ok=True)
    limits = limits or Limits(timeout=options.step_timeout, cpu_seconds=None, session_cpu_seconds=None)
    budget = options.budget
    price = price_of(model)
    if price is None and budget.max_cost is not None:
        raise AgentSetupError(
            f"--max-cost cannot be kept: smolab has no price for {model.name}; "
            "bound the run with --max-tokens instead"
        )
    if task is not None:
        if run_dir.exists():
            raise AgentSetupError(
                f"{run_dir} already exists; continue it with --resume {run_dir} or choose another --run-dir"
            )
        info: dict[str, Any] = {
            "task": task,
            "model": model.name,
            "workspace": str(workspace),
            "budget": budget.__dict__,
            "allow": sorted(allowed),
        }
        run = RunFolder.create(run_dir, info)
    else:
        run = RunFolder.existing(run_dir)
    closers: list[Callable[[], None]] = []
    try:
        toolbox = Toolbox()
        if "files" in builtin:
            toolbox.extend(file_tools(Workspace(workspace)))
        if "shell" in builtin:
            shells = Shells(workspace, limits, isolation)
            closers.append(shells.close)
            toolbox.extend(shell_tools(shells))
        if "jobs" in builtin:
            jobs = Jobs(workspace, limits, isolation)
            closers.append(jobs.close)

            def minutes_left() -> float | None:
                if budget.max_seconds is None:
                    return None
                return max(0.0, (budget.max_seconds - session.agent.spend.seconds) / 60)

            toolbox.extend(job_tools(jobs, minutes_left))
        if "research" in builtin:
            web = Web(Endpoints(settings.arxiv_api_url, settings.hf_url, settings.github_api_url))
            closers.append(web.close)
            toolbox.extend(web_tools(web))
        for spec in [*settings.tools, *(extra_tools or [])]:
            try:
                toolbox.extend(load_user_tools(spec))
            except ValueError as err:
                raise AgentSetupError(str(err)) from None
        if mcp and settings.mcp_servers:
            from .tools.mcp import connect_all

            clients, tools = connect_all(settings.mcp_servers, run_dir)
            closers.extend(c.close for c in clients)
            try:
                toolbox.extend(tools)
            except ValueError as err:
                raise AgentSetupError(str(err)) from None
        sandbox = ProcessSandbox(workspace, limits, isolation)
        closers.append(sandbox.close)
        policy = Policy(approver=approver, allow=allowed)
        agent = Agent(model, toolbox, sandbox, run, policy, options, price or free, on_event, guide)
        closers.append(agent.close)
        session = Session(agent, closers)
        return session
    except BaseException:
        for close in reversed(closers):
            with contextlib.suppress(Exception):
                close()
        if task is not None and not run.events():
            shutil.rmtree(run_dir, ignore_errors=True)  # a run that never started leaves nothing behind
        raise


def default_run_dir(settings: Settings, task: str) -> Path:
    return settings.runs_dir / new_run_id(task)


def run_task(session: Session, task: str) -> Outcome:
    with session:
        return session.agent.start(task)


def resume_run(session: Session) -> Outcome:
    with session:
        return session.agent.resume()


_DONE = object()


def stream_run(session: Session, task: str | None = None) -> Generator[Event, None, Outcome]:
    """The run as a stream of its events, as they are written (a web page, a notebook); the
    generator's return value is the outcome. ``task=None`` resumes the session's run. The loop
    runs in a worker thread; an error there is raised here."""
    events: queue.Queue[Any] = queue.Queue()
    remove = session.agent.run.trajectory.listen(events.put)
    result: dict[str, Any] = {}

    def work() -> None:
        try:
            result["outcome"] = run_task(session, task) if task is not None else resume_run(session)
        except BaseException as err:  # handed to the consuming thread
            result["error"] = err
        finally:
            events.put(_DONE)

    worker = threading.Thread(target=work, name="smolab-agent", daemon=True)
    worker.start()
    try:
        while (event := events.get()) is not _DONE:
            yield event
    finally:
        remove()
    worker.join()
    if "error" in result:
        raise result["error"]
    outcome: Outcome = result["outcome"]
    return outcome
