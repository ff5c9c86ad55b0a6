"""``smolab serve``: the web app on this machine, behind a token."""

from __future__ import annotations

import secrets
from typing import Annotated

import typer
from rich.console import Console

from .config import load_settings
from .errors import SmolabError

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def serve(
    ctx: typer.Context,
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8600,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (loopback unless --public).")
    ] = "127.0.0.1",
    public: Annotated[
        bool,
        typer.Option("--public", help="Allow an address other than loopback (the token is still needed)."),
    ] = False,
) -> None:
    """The web app: start runs, watch them live, answer approvals, read what they made."""
    import uvicorn

    from .models import load_model
    from .web.app import create_app

    if host not in LOOPBACK and not public:
        raise SmolabError(f"--host {host} would open smolab to the network; add --public if you mean it")
    settings = load_settings(model=(ctx.obj or {}).get("model"))
    loaded: dict[str, object] = {}

    def models(name: str):  # type: ignore[no-untyped-def]
        if name not in loaded:
            loaded[name] = load_model(name, settings)
        return loaded[name]

    token = secrets.token_urlsafe(24)
    app = create_app(settings, models, token)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    Console(stderr=True).print(
        f"smolab: open http://{shown}:{port}/?token={token}", highlight=False, soft_wrap=True
    )
    uvicorn.run(app, host=host, port=port, log_level="warning")
