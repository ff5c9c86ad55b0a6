"""``smolab batch``: many papers (and agent tasks) in one go, on Ray or in this process, with a
progress display while it runs and one table at the end."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .batch import Result

err = Console(stderr=True)

STATUS_STYLE = {"done": "green", "unverified": "yellow", "failed": "red", "error": "red", "lost": "red"}


def batch(
    ctx: typer.Context,
    papers: Annotated[
        list[str] | None,
        typer.Argument(help="Papers to reproduce: .pdf, .tex, source archives or arXiv ids."),
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="The batch's folder: one folder per item (created).")
    ] = Path("batch"),
    tasks: Annotated[
        Path | None, typer.Option("--tasks", help="A text file of agent tasks, one per line.")
    ] = None,
    parallel: Annotated[
        int, typer.Option("--parallel", "-j", min=1, max=256, help="Workers, each with its own model.")
    ] = 2,
    ray_address: Annotated[
        str | None,
        typer.Option(
            "--ray", help="A Ray cluster to run on (auto, HOST:PORT, ray://HOST:PORT); default: a local one."
        ),
    ] = None,
    in_process: Annotated[
        bool, typer.Option("--in-process", help="No Ray: one item after another in this process.")
    ] = False,
    retries: Annotated[
        int, typer.Option("--retries", min=0, max=10, help="Times a dead worker is restarted.")
    ] = 2,
    repair_rounds: Annotated[int, typer.Option("--repair-rounds", min=0, max=10)] = 2,
    fresh_attempts: Annotated[int, typer.Option("--fresh-attempts", min=0, max=10)] = 4,
    max_steps: Annotated[int, typer.Option("--max-steps", min=1, help="Steps at most per agent task.")] = 30,
    allow: Annotated[
        list[str] | None,
        typer.Option("--allow", help="What agent tasks may do without asking (nobody is asked in a batch)."),
    ] = None,
    skills: Annotated[
        list[Path] | None,
        typer.Option("--skills", help="A skill folder (or a folder of them) beside the built-in blueprints."),
    ] = None,
) -> None:
    """Reproduce many papers (and run agent tasks) as Ray tasks; run it again to resume."""
    from .batch import Batch, InProcess, Job, OnRay, SettingsModel, cores, plan, read_tasks
    from .cli_runs import open_index
    from .config import load_settings

    task_list = read_tasks(tasks) if tasks is not None else []
    items = plan(papers or [], task_list, out)
    workers = 1 if in_process else min(parallel, len(items))
    overrides: dict[str, Any] = {}
    settings = load_settings(model=(ctx.obj or {}).get("model"))
    if settings.threads is None and ray_address is None:
        # Workers share this machine's cores rather than each taking all of them.
        overrides["threads"] = max(1, cores() // workers)
    settings = load_settings(model=(ctx.obj or {}).get("model"), **overrides)
    if task_list:
        from .agent.build import check_setup

        check_setup(settings, allow, None)
    index = open_index(settings)
    job = Job(
        out=out.resolve(),
        settings=settings,
        repair_rounds=repair_rounds,
        fresh_attempts=fresh_attempts,
        skills=[s.resolve() for s in skills] if skills else None,
        evidence=_evidence(settings, index, skills),
        max_steps=max_steps,
        allow=list(allow or []),
    )
    models = SettingsModel(settings)
    runner = (
        InProcess(job, models)
        if in_process
        else OnRay(
            job, models, workers=workers, address=ray_address, threads=settings.threads or 1, retries=retries
        )
    )
    where = (
        "in this process"
        if in_process
        else f"{workers} Ray worker(s)" + (f" at {ray_address}" if ray_address else "")
    )
    err.print(f"[dim]batch {out} · {len(items)} item(s) · {where} · {settings.model}[/dim]", highlight=False)
    with _Display(len(items)) as display:
        results = Batch(items, out.resolve(), runner, index=index, watcher=display.watcher()).run()
    index.close()
    Console().print(table(results))
    done = sum(r.ok for r in results)
    err.print(f"{done}/{len(results)} done · rows in {out / 'summary.json'}", highlight=False)
    if done < len(results):
        raise typer.Exit(3)


def _evidence(settings: Any, index: Any, extra: list[Path] | None) -> dict[str, Any]:
    """Earlier runs' outcomes for every skill a run may choose, read once here."""
    from .skills import SkillLibrary, SkillStore
    from .skills.evidence import outcomes_from

    of = outcomes_from(index)
    library = SkillLibrary(extra or [], store=SkillStore(settings.skills_dir))
    return {skill.name: outcomes for skill in library if (outcomes := of(skill.name))}


def table(results: list[Result]) -> Table:
    t = Table(title="batch", title_justify="left")
    for name, justify in (
        ("item", "left"),
        ("status", "left"),
        ("checks", "right"),
        ("tests", "right"),
        ("minutes", "right"),
        ("tokens", "right"),
        ("worker MB", "right"),
    ):
        t.add_column(name, justify=justify)  # type: ignore[arg-type]
    for r in results:
        style = STATUS_STYLE.get(r.status, "")
        status = f"[{style}]{r.status}[/]" if style else r.status
        if r.earlier:
            status += " (earlier)"
        t.add_row(
            r.key,
            status,
            f"{r.checks_passed}/{r.checks_total}" if r.checks_total else "–",
            f"{r.tests_passed}/{r.tests_total}" if r.tests_total else "–",
            f"{r.seconds / 60:.1f}",
            f"{r.tokens:,}",
            f"{r.peak_rss_mb:,.0f}" if r.peak_rss_mb else "–",
        )
    return t


class _Display:
    """One bar for the batch and one line per running item with its stage."""

    def __init__(self, total: int):
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        )
        self.total = self.progress.add_task("batch", total=total)
        self.lines: dict[str, Any] = {}

    def __enter__(self) -> _Display:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def watcher(self) -> Any:
        from .batch import Watcher

        def started(item: Any) -> None:
            self.lines[item.key] = self.progress.add_task(f"  {item.key}: starting", total=None)

        def stage(item: Any, where: str) -> None:
            if item.key in self.lines:
                self.progress.update(self.lines[item.key], description=f"  {item.key}: {where}")

        def finished(result: Result) -> None:
            line = self.lines.pop(result.key, None)
            if line is not None:
                self.progress.remove_task(line)
            self.progress.advance(self.total)
            colour = STATUS_STYLE.get(result.status, "white")
            self.progress.console.print(
                f"[{colour}]{result.status}[/] {result.key} · {result.seconds / 60:.1f} min · "
                f"{result.tokens:,} tokens"
                + (f" · {result.reason}" if result.reason and not result.ok else ""),
                highlight=False,
            )

        return Watcher(started=started, stage=stage, finished=finished)
