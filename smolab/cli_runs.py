"""``smolab runs``: every run, of either kind, from the index in ``$SMOLAB_HOME/runs.db``."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from .config import Settings, load_settings
from .runs import Event, RunIndex, RunSummary, locate, summarize, write_export
from .runs.events import (
    Approval,
    Check,
    Compact,
    FileWritten,
    FinalQuestion,
    FormatError,
    Guard,
    ModelCall,
    RunEnded,
    RunResumed,
    RunStarted,
    SandboxCall,
    StageFinished,
    StageStarted,
    StepDone,
    StepStarted,
    ToolCalled,
)

runs_app = typer.Typer(
    help="Runs of reproduce and the agent: list, show, follow live, export.", invoke_without_command=True
)
err = Console(stderr=True)


def open_index(settings: Settings) -> RunIndex:
    return RunIndex(settings.home / "runs.db", settings.runs_dir)


def _settings(ctx: typer.Context) -> Settings:
    return load_settings(model=(ctx.obj or {}).get("model"))


def _tokens(s: RunSummary) -> str:
    return f"{s.prompt_tokens + s.completion_tokens:,}"


@runs_app.callback()
def runs_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per run, newest first.")] = False,
) -> None:
    """Every run, newest first: id, kind, status, model, tokens, cost and time."""
    if ctx.invoked_subcommand is not None:
        return
    settings = _settings(ctx)
    index = open_index(settings)
    try:
        rows = index.list()
    finally:
        index.close()
    if as_json:
        for s in rows:
            typer.echo(s.model_dump_json())
        return
    if not rows:
        err.print(f"no runs yet in {settings.runs_dir}", highlight=False)
        return
    table = Table("run", "kind", "status", "model", "tokens", "cost", "time", "task")
    for s in rows:
        table.add_row(
            s.id,
            s.kind,
            s.status,
            s.model,
            _tokens(s),
            f"${s.cost:.4f}" if s.cost else "-",
            f"{s.seconds:.0f} s",
            s.task[:50],
        )
    Console().print(table)


@runs_app.command("show")
def runs_show(
    ctx: typer.Context,
    run: Annotated[str, typer.Argument(help="A run's id (or the start of it) or its folder.")],
    as_json: Annotated[bool, typer.Option("--json", help="The summary as JSON.")] = False,
) -> None:
    """A run's summary: what it was asked, how it ended, what it cost."""
    ref = locate(_settings(ctx).runs_dir, run)
    events = ref.trajectory.read()
    s = summarize(ref, events)
    if as_json:
        typer.echo(s.model_dump_json(indent=1))
        return
    out = Console()
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(s.started)) if s.started else "?"
    out.print(f"[bold]{s.id}[/bold] · {s.kind} · [bold]{s.status}[/bold]", highlight=False)
    out.print(f"task: {s.task}", highlight=False, markup=False)
    out.print(f"model: {s.model} · started {started} · {s.seconds:.0f} s", highlight=False)
    out.print(
        f"{s.prompt_tokens:,} prompt + {s.completion_tokens:,} reply tokens"
        + (f" · ${s.cost:.4f}" if s.cost else "")
        + f" · {s.steps} {'steps' if s.kind == 'agent' else 'stages'} · {len(events)} events",
        highlight=False,
    )
    if s.reason:
        out.print(f"ended: {s.reason}", highlight=False, markup=False)
    out.print(f"folder: {s.folder}", highlight=False, markup=False)


@runs_app.command("follow")
def runs_follow(
    ctx: typer.Context,
    run: Annotated[str, typer.Argument(help="A run's id (or the start of it) or its folder.")],
) -> None:
    """Print a run's events, then each new one as it happens, until the run ends."""
    ref = locate(_settings(ctx).runs_dir, run)
    out = Console()
    try:
        for event in ref.trajectory.follow():
            line = describe(event)
            if line is not None:
                out.print(line, highlight=False, markup=False, soft_wrap=True)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


@runs_app.command("export")
def runs_export(
    ctx: typer.Context,
    run: Annotated[str, typer.Argument(help="A run's id (or the start of it) or its folder.")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Where to write it (default: ID.smolab-run.json).")
    ] = None,
) -> None:
    """Write a run as one portable JSON document (format: docs/runs.md)."""
    ref = locate(_settings(ctx).runs_dir, run)
    target = out or Path(f"{ref.id}.smolab-run.json")
    write_export(ref, target)
    typer.echo(str(target))


def describe(e: Event) -> str | None:
    """An event as one line (a step also shows its code and output)."""
    clock = time.strftime("%H:%M:%S", time.localtime(e.time))
    text = _describe(e)
    return None if text is None else f"{clock} {text}"


def _describe(e: Event) -> str | None:  # noqa: PLR0911 - one case per event type
    if isinstance(e, RunStarted):
        return f"started {e.kind} run {e.id}: {e.task} ({e.model})"
    if isinstance(e, RunResumed):
        return "resumed"
    if isinstance(e, RunEnded):
        return f"ended: {e.status}" + (f" ({e.reason})" if e.reason else "")
    if isinstance(e, StageStarted):
        return f"{e.stage}: {e.key}"
    if isinstance(e, StageFinished):
        return f"{e.stage}: {e.key} done in {e.seconds:.1f} s, {e.calls} model calls"
    if isinstance(e, ModelCall):
        return f"model: {e.prompt_tokens:,} prompt + {e.completion_tokens:,} reply tokens, {e.seconds:.1f} s"
    if isinstance(e, StepStarted):
        return f"step {e.step} started"
    if isinstance(e, StepDone):
        obs = e.observation.strip().splitlines()
        last = obs[-1][:160] if obs else ""
        return f"step {e.step} [{e.status}]: {e.thought}\n{e.code}\n-> {last}"
    if isinstance(e, ToolCalled):
        return f"tool {e.tool} {'ok' if e.ok else 'failed'}: {json.dumps(e.arguments, default=str)[:120]}"
    if isinstance(e, SandboxCall):
        return f"sandbox {e.what}: {e.status} in {e.seconds:.1f} s"
    if isinstance(e, Approval):
        verdict = "allowed" if e.decision.get("allowed") else "denied"
        return f"approval: {e.action.get('tool')} {e.action.get('kind')} {verdict}"
    if isinstance(e, Guard):
        return f"loop guard ({e.action}): {e.reason}"
    if isinstance(e, FormatError):
        return f"malformed reply: {e.error}"
    if isinstance(e, Check):
        return f"final check ({e.action}): {'; '.join(e.problems)}"
    if isinstance(e, FinalQuestion):
        return f"asked for the final answer: {e.answer!r}"
    if isinstance(e, Compact):
        return f"context: steps 1-{e.upto} summarised"
    if isinstance(e, FileWritten):
        return f"wrote {e.path} ({e.bytes:,} bytes)"
    return None
