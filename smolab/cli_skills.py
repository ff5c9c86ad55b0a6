"""``smolab skills``: the library (built-in, installed with their revisions, folders given for one
command), and installing, accepting, rolling back and removing skills."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from .config import load_settings
from .skills import Skill, SkillLibrary, SkillStore, read_skill

skills_app = typer.Typer(
    help="The skill library: blueprints for reproduce and instructions, in the Agent Skills format."
)
SKILLS_HELP = "A skill folder, or a folder of skill folders, to use beside the installed ones."


def _store(ctx: typer.Context) -> SkillStore:
    return SkillStore(load_settings(model=(ctx.obj or {}).get("model")).skills_dir)


def _source(s: Skill) -> str:
    if s.builtin:
        return "built-in"
    if s.revision is not None:
        return f"installed r{s.revision}"
    return str(s.path)


@skills_app.command("list")
def skills_list(
    ctx: typer.Context,
    skills: Annotated[list[Path] | None, typer.Option("--skills", help=SKILLS_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per skill, in a list.")] = False,
) -> None:
    """Every skill in use (name, role, kind, version, where it comes from), then installed
    skills waiting for `smolab skills accept`."""
    store = _store(ctx)
    lib = SkillLibrary(skills or [], store=store)
    waiting = [state for state in store.all() if not state.trusted]
    rows = [
        {
            "name": s.name,
            "description": s.description,
            "role": s.role,
            "kind": s.kind,
            "version": s.version,
            "builtin": s.builtin,
            "revision": s.revision,
            "trusted": True,
            "path": str(s.path),
        }
        for s in lib
    ]
    for state in waiting:
        s = read_skill(store.folder(state.name))
        rows.append(
            {
                "name": s.name,
                "description": s.description,
                "role": s.role,
                "kind": s.kind,
                "version": s.version,
                "builtin": False,
                "revision": state.current,
                "trusted": False,
                "path": str(s.path),
            }
        )
    if as_json:
        typer.echo(json.dumps(rows, indent=1))
        return
    table = Table(expand=True)
    for col in ("name", "role", "kind", "version", "source"):
        table.add_column(col, no_wrap=True, min_width=len(col))
    table.add_column("description", no_wrap=True, overflow="ellipsis", ratio=1)
    for r in rows:
        if r["builtin"]:
            source = "built-in"
        elif r["revision"] is not None:
            waits = "" if r["trusted"] else " [yellow](not accepted)[/yellow]"
            source = f"installed r{r['revision']}{waits}"
        else:
            source = str(r["path"])
        table.add_row(
            str(r["name"]),
            str(r["role"]),
            str(r["kind"] or "-"),
            str(r["version"]),
            str(source),
            str(r["description"]),
        )
    Console().print(table)


@skills_app.command("show")
def skills_show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The skill's name (see `smolab skills list`).")],
    skills: Annotated[list[Path] | None, typer.Option("--skills", help=SKILLS_HELP)] = None,
) -> None:
    """A skill's front matter, instructions and files (for a blueprint, with those it extends)."""
    store = _store(ctx)
    lib = SkillLibrary(skills or [], store=store)
    s = lib.get(name)
    out = Console()
    where = _source(s)
    kind = f" · {s.kind}" if s.kind else ""
    out.print(f"[bold]{s.name}[/bold] v{s.version} · {s.role}{kind} · {where} · {s.path}", highlight=False)
    out.print(s.description, highlight=False)
    out.print()
    out.print(s.body, highlight=False, markup=False)
    files = lib.tree(s) if s.role == "blueprint" else dict(s.files())
    if files:
        out.print("\n[bold]files[/bold]")
        owners = {sk.path: sk.name for sk in lib}
        for rel, src in files.items():
            owner = next((n for path, n in owners.items() if src.is_relative_to(path)), s.name)
            origin = "" if owner == s.name else f"  [dim](from {owner})[/dim]"
            out.print(f"  {rel}{origin}", highlight=False)


@skills_app.command("validate")
def skills_validate(path: Annotated[Path, typer.Argument(help="A skill folder.")]) -> None:
    """Check a folder against the Agent Skills specification (the reference validator)."""
    s = read_skill(path)
    Console().print(
        f"[green]valid[/green]: {s.name} ({s.role}{', ' + s.kind if s.kind else ''})", highlight=False
    )


@skills_app.command("add")
def skills_add(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="A skill folder (with SKILL.md).")],
    note: Annotated[str, typer.Option("--note", help="Why this revision, for `skills history`.")] = "",
) -> None:
    """Install a skill folder as the skill's next revision and use it from now on. A folder
    with the files of the current revision adds nothing."""
    state, added = _store(ctx).add(path, source=f"local:{path.resolve()}", note=note)
    if added:
        Console().print(f"installed {state.name} r{state.current}", highlight=False)
    else:
        said = f"{state.name} r{state.current} already has these files; nothing added"
        Console().print(said, highlight=False)


@skills_app.command("accept")
def skills_accept(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="An installed skill's name.")]
) -> None:
    """Trust an installed skill that came from elsewhere (the hub): until then it is not used."""
    state = _store(ctx).accept(name)
    Console().print(f"accepted {state.name} r{state.current}", highlight=False)


@skills_app.command("history")
def skills_history(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="An installed skill's name.")],
    as_json: Annotated[bool, typer.Option("--json", help="The revisions as JSON.")] = False,
) -> None:
    """An installed skill's revisions: when, from where, why, and the evidence behind each."""
    state = _store(ctx).get(name)
    if as_json:
        typer.echo(json.dumps(state.to_dict(), indent=1))
        return
    table = Table(title=f"{state.name}: revisions ({'accepted' if state.trusted else 'not accepted'})")
    for col in ("rev", "version", "added", "source", "note", "validation"):
        table.add_column(col)
    for r in state.revisions:
        mark = " (current)" if r.revision == state.current else ""
        added = time.strftime("%Y-%m-%d %H:%M", time.localtime(r.added))
        table.add_row(
            f"r{r.revision}{mark}", r.version, added, r.source, r.note or "-", _validation(r.evidence)
        )
    Console().print(table)


def _validation(evidence: dict[str, object]) -> str:
    """An evolved revision's replay: tests passing and runs passing, before and with it."""
    totals = evidence.get("totals")
    if not isinstance(totals, dict):
        return "-"
    now, new = totals.get("current") or {}, totals.get("candidate") or {}
    cases = evidence.get("cases")
    n = len(cases) if isinstance(cases, list) else 0
    return (
        f"{n} papers replayed: tests {now.get('tests')} → {new.get('tests')}, "
        f"runs passing {now.get('passed')} → {new.get('passed')}"
    )


@skills_app.command("rollback")
def skills_rollback(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="An installed skill's name.")],
    revision: Annotated[int, typer.Argument(help="The revision to make current (see `skills history`).")],
) -> None:
    """Make an earlier revision current again; no revision is deleted."""
    state = _store(ctx).rollback(name, revision)
    Console().print(f"{state.name} is at r{state.current}", highlight=False)


@skills_app.command("remove")
def skills_remove(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="An installed skill's name.")]
) -> None:
    """Uninstall a skill with all its revisions (a built-in one of the same name is used again)."""
    _store(ctx).remove(name)
    Console().print(f"removed {name}", highlight=False)
