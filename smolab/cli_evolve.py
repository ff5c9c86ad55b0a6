"""``smolab skills evolve``: proposals from finished reproduce runs, each validated by replaying
recorded papers with the candidate and without, and published (untrusted) when not worse."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from .cli_skills import skills_app
from .config import Settings, load_settings
from .errors import SmolabError
from .skills import SkillLibrary, SkillStore
from .skills.evidence import RunEvidence, read_run


def repositories(paths: list[Path]) -> list[Path]:
    """Reproduce repositories: each path one (it has ``.smolab/``) or a folder of them."""
    found = []
    for p in paths:
        if not p.is_dir():
            raise SmolabError(f"{p} is not a folder; give reproduce output folders or a folder of them")
        found += (
            [p] if (p / ".smolab").is_dir() else sorted(q for q in p.iterdir() if (q / ".smolab").is_dir())
        )
    return found


def indexed(settings: Settings) -> list[Path]:
    """The repositories of the reproduce runs the runs index lists."""
    from .cli_runs import open_index

    index = open_index(settings)
    try:
        folders = [Path(r.folder) for r in index.list() if r.kind == "reproduce" and r.folder]
    finally:
        index.close()
    return [f.parent if f.name == ".smolab" else f for f in folders]


@skills_app.command("evolve")
def skills_evolve(
    ctx: typer.Context,
    runs: Annotated[
        list[Path] | None,
        typer.Option(
            "--runs", help="Reproduce output folders (or folders of them); default: the runs index."
        ),
    ] = None,
    replay: Annotated[
        int,
        typer.Option(
            "--replay", min=0, help="Recorded papers each candidate is replayed on (0: propose only)."
        ),
    ] = 2,
    min_runs: Annotated[int, typer.Option("--min-runs", min=2, help="Runs that must share an error.")] = 2,
    most: Annotated[int | None, typer.Option("--most", min=1, help="Proposals validated at most.")] = None,
) -> None:
    """Propose changes to skills from what finished runs met, validate each candidate by replaying
    recorded papers with and without it, and install those that are not worse (untrusted: `smolab
    skills accept NAME` puts one to use)."""
    from .models import Message, load_model
    from .reproduce import Options, reproduce
    from .skills.cycle import run_cycle
    from .skills.evolve import Evolver, Pitfall, Proposal, model_phrase
    from .skills.replay import Score, score_of

    settings = load_settings(model=(ctx.obj or {}).get("model"))
    store = SkillStore(settings.skills_dir)
    folders = repositories(runs) if runs else indexed(settings)
    evidence = [e for f in folders if (e := read_run(f)) is not None]
    if not evidence:
        raise SmolabError(
            "no finished reproduce run to learn from; run `smolab reproduce` first or give --runs"
        )
    err = Console(stderr=True)
    err.print(f"[dim]{len(evidence)} runs as evidence · {settings.model}[/dim]", highlight=False)
    model = load_model(settings=settings)

    def ask(prompt: str) -> str | None:
        return model.chat([Message("user", prompt)], schema=Pitfall, temperature=0).line

    library = SkillLibrary(store=store)
    by_run: dict[str, RunEvidence] = {e.run: e for e in evidence}
    replays = settings.home / "replays"

    def cases(p: Proposal) -> list[str]:
        return list(dict.fromkeys(by_run[r].source for r in p.runs if r in by_run and by_run[r].source))

    def again(paper: str, extra: list[Path]) -> Score:
        tag = "candidate" if extra else "current"
        out = replays / f"{re.sub(r'[^A-Za-z0-9]+', '-', Path(paper).stem)[:40]}-{tag}"
        options = Options(skills=extra, store=store)
        return score_of(reproduce(paper, out, model, force=True, options=options))

    evolver = Evolver(library, phrase=model_phrase(ask), min_runs=min_runs)
    outcomes = run_cycle(
        evidence,
        library,
        evolver,
        store,
        again if replay else None,
        cases,
        most_cases=replay,
        most_proposals=most,
        on_proposal=lambda p: err.print(f"[dim]proposal: {p.action} {p.skill}[/dim]", highlight=False),
    )
    show_outcomes(outcomes, published="published r{} (untrusted)")


def show_outcomes(outcomes: list[Any], published: str = "published r{}") -> None:
    """The proposals of an evolution cycle, their validation and what became of them."""
    table = Table(title="skill evolution")
    for col in ("action", "skill", "why", "replayed", "tests now → candidate", "result"):
        table.add_column(col)
    for o in outcomes:
        p, c = o.proposal, o.comparison
        if c is None:
            replayed, tests, result = "-", "-", "proposed (not replayed)"
        else:
            now, new = c.totals(c.current), c.totals(c.candidate)
            replayed, tests = str(len(c.cases)), f"{now['tests']} → {new['tests']}"
            result = published.format(o.published) if o.published else "refused: worse"
        table.add_row(p.action, p.skill, p.reason[:70], replayed, tests, result)
    Console().print(table)
    if not outcomes:
        Console().print("No proposal: no error or fix recurred across runs of a skill.")
