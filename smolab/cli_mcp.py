"""``smolab mcp serve``: smolab's abilities as tools for any MCP client."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .config import load_settings
from .errors import SmolabError

mcp_app = typer.Typer(help="smolab as an MCP server for other agents (Claude Code, Cursor, any MCP client).")
ALLOWED = ("network", "write_outside")


@mcp_app.command("serve")
def mcp_serve(
    ctx: typer.Context,
    http: Annotated[
        int | None, typer.Option("--http", min=1, max=65535, help="Serve streamable HTTP on this port.")
    ] = None,
    root: Annotated[Path, typer.Option("--root", help="Where reproduce may write repositories.")] = Path("."),
    allow: Annotated[
        list[str] | None,
        typer.Option("--allow", help="Let clients use: network (in the sandbox), write_outside."),
    ] = None,
) -> None:
    """Serve smolab's tools over stdio (the default: an MCP client starts this command) or
    streamable HTTP on 127.0.0.1 (--http PORT)."""
    from .mcp_server.server import Rules, create_server
    from .models import load_model

    allowed = {a.strip() for item in allow or [] for a in item.split(",") if a.strip()}
    unknown = allowed - set(ALLOWED)
    if unknown:
        raise SmolabError(f"--allow {', '.join(sorted(unknown))}: give {' or '.join(ALLOWED)}")
    settings = load_settings(model=(ctx.obj or {}).get("model"))
    loaded: list[object] = []

    def model():  # type: ignore[no-untyped-def]
        if not loaded:  # loaded on the first call that needs it, once
            loaded.append(load_model(settings=settings))
        return loaded[0]

    server = create_server(settings, model, Rules(root.resolve(), allowed))
    if http is not None:
        server.run("streamable-http", host="127.0.0.1", port=http)
    else:
        server.run()
