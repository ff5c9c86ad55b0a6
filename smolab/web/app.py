"""`smolab serve`: the web app. Server-rendered pages (Jinja2) with a little JavaScript; live
updates by server-sent events from the run's trajectory; the browser libraries (Mermaid,
highlight.js, marked, DOMPurify) served from the package, never a CDN.

Every request needs the server's token: ``?token=`` once (it becomes an HttpOnly cookie and the
address loses it), the cookie after, or ``Authorization: Bearer`` for scripts.
"""

import contextlib
import hmac
import secrets
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from ..config import Settings
from ..runs import RunIndex
from . import actions, live, pages
from .runner import Models, WebRuns
from .site import HERE, Web

COOKIE = "smolab_token"


class TokenGate(BaseHTTPMiddleware):
    def __init__(self, app: Any, token: str) -> None:
        super().__init__(app)
        self.token = token

    def _ok(self, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(given or "", self.token)

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        query = request.query_params.get("token")
        if self._ok(query):
            # The token leaves the address (and the history) once it is a cookie.
            rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            target = request.url.path + ("?" + "&".join(f"{k}={v}" for k, v in rest) if rest else "")
            response: Response = RedirectResponse(target, status_code=303)
            response.set_cookie(COOKIE, self.token, httponly=True, samesite="strict")
            return response
        header = request.headers.get("authorization", "")
        bearer = header[7:].strip() if header.lower().startswith("bearer ") else None
        if self._ok(request.cookies.get(COOKIE)) or self._ok(bearer):
            return await call_next(request)
        return Response(
            "smolab: open the address `smolab serve` printed (it carries the token)\n", status_code=401
        )


def create_app(settings: Settings, models: Models, token: str | None = None) -> FastAPI:
    token = token or secrets.token_urlsafe(24)
    index = RunIndex(settings.home / "runs.db", settings.runs_dir)
    templates = Jinja2Templates(directory=HERE / "templates")
    web = Web(settings, WebRuns(settings, models, index), index, token, templates)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        web.runs.stop_all()  # a run waiting on a question stops waiting
        index.close()

    app = FastAPI(title="smolab", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.web = web
    app.add_middleware(TokenGate, token=token)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for module in (pages, actions, live):
        app.include_router(module.router)
    return app
