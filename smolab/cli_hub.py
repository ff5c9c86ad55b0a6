"""``smolab hub``: serve a skill hub, make API tokens, run evolution over shared evidence; and the
client side under ``smolab skills``: push, pull and share (evidence, scrubbed, opt-in)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from .cli_skills import skills_app
from .config import Settings, load_settings
from .errors import SmolabError

hub_app = typer.Typer(
    help="A skill hub: groups share skills and evidence; evolution publishes validated versions."
)
DB_HELP = "The hub's database: sqlite:///PATH or postgresql+psycopg://USER@HOST/DB (default: SQLite in home)."


def _settings(ctx: typer.Context) -> Settings:
    return load_settings(model=(ctx.obj or {}).get("model"))


def _db(settings: Settings, url: str | None):  # type: ignore[no-untyped-def]
    from .hub.db import HubDB, engine_for

    url = url or settings.hub_db or f"sqlite:///{settings.home / 'hub.db'}"
    settings.home.mkdir(parents=True, exist_ok=True)
    try:
        return HubDB(engine_for(url))
    except Exception as err:  # a bad URL or a server that is down: one line, not a traceback
        raise SmolabError(
            f"cannot open the hub's database {url.split('@')[-1]}: {type(err).__name__}"
        ) from None


@hub_app.command("serve")
def hub_serve(
    ctx: typer.Context,
    db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8765,
    rate: Annotated[int, typer.Option("--rate", min=1, help="Requests a minute per token.")] = 600,
) -> None:
    """Serve the hub's API (every request but /v1/health needs a token)."""
    import uvicorn

    from .hub.app import Limits, create_app

    app = create_app(_db(_settings(ctx), db), Limits(requests_per_minute=rate))
    Console(stderr=True).print(f"[dim]smolab hub on http://{host}:{port}[/dim]", highlight=False)
    uvicorn.run(app, host=host, port=port, log_level="warning")


@hub_app.command("token")
def hub_token(
    ctx: typer.Context,
    user: Annotated[str, typer.Argument(help="The user the token is for (made if new).")],
    group: Annotated[
        list[str] | None, typer.Option("--group", help="A group the user joins (repeat).")
    ] = None,
    admin: Annotated[bool, typer.Option("--admin", help="May read every group and the audit log.")] = False,
    db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None,
) -> None:
    """Make an API token for USER and print it: it is shown once (the hub keeps only its hash)."""
    token = _db(_settings(ctx), db).add_user(user, list(group or []), admin=admin)
    typer.echo(token)


@hub_app.command("evolve")
def hub_evolve(
    ctx: typer.Context,
    group: Annotated[str, typer.Option("--group", help="The group whose evidence and skills evolve.")],
    papers: Annotated[
        Path | None, typer.Option("--papers", help="Where the hub finds the papers shared evidence names.")
    ] = None,
    replay: Annotated[int, typer.Option("--replay", min=0, help="Papers each candidate is replayed on.")] = 2,
    most: Annotated[int | None, typer.Option("--most", min=1, help="Proposals validated at most.")] = None,
    db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None,
) -> None:
    """Evolve the group's skills from its members' evidence; publish what validation finds not worse."""
    from .cli_evolve import show_outcomes
    from .hub.evolve import evolve_group
    from .models import Message, load_model
    from .reproduce import Options, reproduce
    from .skills.evolve import Pitfall, model_phrase
    from .skills.replay import Score, score_of

    settings = _settings(ctx)
    hub = _db(settings, db)
    model = load_model(settings=settings)

    def ask(prompt: str) -> str | None:
        return model.chat([Message("user", prompt)], schema=Pitfall, temperature=0).line

    def again(paper: str, extra: list[Path]) -> Score:
        out = settings.home / "hub-replays" / f"{Path(paper).stem[:40]}-{'candidate' if extra else 'current'}"
        return score_of(reproduce(paper, out, model, force=True, options=Options(skills=extra)))

    replayer = again if replay else None
    outcomes = evolve_group(
        hub, group, model_phrase(ask), replayer, papers, most_cases=replay, most_proposals=most
    )
    show_outcomes(outcomes)


def _client(settings: Settings, hub: str | None):  # type: ignore[no-untyped-def]
    from .hub.client import HubClient

    return HubClient(hub or settings.hub_url, settings.hub_token)


HUB_HELP = "The hub's URL (default: hub_url, SMOLAB_HUB_URL)."


@skills_app.command("push")
def skills_push(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="A skill folder, or the name of an installed skill.")],
    group: Annotated[str, typer.Option("--group", help="The hub group to publish it in.")],
    hub: Annotated[str | None, typer.Option("--hub", help=HUB_HELP)] = None,
) -> None:
    """Publish a skill to the hub as its group's next revision."""
    from .skills import SkillStore

    settings = _settings(ctx)
    folder = path if path.is_dir() else SkillStore(settings.skills_dir).folder(str(path))
    r = _client(settings, hub).push(folder, group)
    typer.echo(f"{r['group']}/{r['name']} revision {r['revision']}" + ("" if r["new"] else " (unchanged)"))


@skills_app.command("pull")
def skills_pull(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The skill's name.")],
    group: Annotated[str | None, typer.Option("--group", help="The hub group, when several have it.")] = None,
    hub: Annotated[str | None, typer.Option("--hub", help=HUB_HELP)] = None,
) -> None:
    """Install a skill's latest hub revision, untrusted: `smolab skills accept NAME` puts it to use."""
    from .skills import SkillStore

    settings = _settings(ctx)
    state, added = _client(settings, hub).pull(name, SkillStore(settings.skills_dir), group)
    what = f"revision {state.current}" if added else f"revision {state.current} (already installed)"
    typer.echo(f"{name}: {what}, from {state.revision(state.current).source}")
    if not state.trusted:
        typer.echo(
            f"not used until you accept it: smolab skills show {name}, then smolab skills accept {name}"
        )


@skills_app.command("share")
def skills_share(
    ctx: typer.Context,
    group: Annotated[str, typer.Option("--group", help="The hub group to share with.")],
    runs: Annotated[
        list[Path] | None,
        typer.Option("--runs", help="Reproduce output folders (default: all indexed runs)."),
    ] = None,
    hub: Annotated[str | None, typer.Option("--hub", help=HUB_HELP)] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would be sent, send nothing.")
    ] = False,
) -> None:
    """Share your runs' evidence with a hub group (opt-in): skill ids, versions, counts, scores
    and error signatures, with secrets, paths, user and host names, e-mail and IP addresses
    scrubbed before anything leaves this machine."""
    import json

    from .cli_evolve import indexed, repositories
    from .hub.redact import scrub
    from .skills.evidence import read_run

    settings = _settings(ctx)
    folders = repositories(runs) if runs else indexed(settings)
    evidence = [e for f in folders if (e := read_run(f)) is not None]
    if not evidence:
        raise SmolabError("no finished reproduce run to share; run `smolab reproduce` or give --runs")
    if dry_run:
        typer.echo(json.dumps([scrub(e.model_dump(mode="json")) for e in evidence], indent=1))
        return
    totals = _client(settings, hub).share(evidence, group)
    typer.echo(f"{totals['stored']} runs shared with {group}, {totals['duplicates']} already there")
