"""What every route of the web app shares: the server's parts (``Web``, one per app, found
through the request) and the pieces of a page."""

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from ..agent.build import BUILTIN_TOOLS
from ..agent.policy import KIND_HELP, KINDS
from ..config import Settings
from ..models.registry import DEFAULT_MODEL, REGISTRY
from ..runs import RunIndex, RunRef, UnknownRun, locate
from .runner import WebRuns

HERE = Path(__file__).parent


@dataclass
class Web:
    settings: Settings
    runs: WebRuns
    index: RunIndex
    token: str
    templates: Jinja2Templates

    def page(self, request: Request, template: str, code: int = 200, **context: Any) -> HTMLResponse:
        return self.templates.TemplateResponse(request, template, {"web": self, **context}, status_code=code)

    def ref_of(self, run_id: str) -> RunRef:
        try:
            return locate(self.settings.runs_dir, run_id)
        except UnknownRun:
            raise HTTPException(404, f"no run {run_id!r}") from None

    def choices(self) -> dict[str, Any]:
        """What the start form and the agent builder offer."""
        names = [DEFAULT_MODEL, *(n for n in REGISTRY if n != DEFAULT_MODEL)]
        kinds = [(k, KIND_HELP[k]) for k in KINDS]
        return {"models": names, "kinds": kinds, "profiles": self.settings.agents, "groups": BUILTIN_TOOLS}

    def problem(self, request: Request, status: int, line: str, **form: Any) -> HTMLResponse:
        """The start form again, with what was chosen and the one line that says what was wrong."""
        return self.page(request, "start.html", status, error=line, form=form, **self.choices())


def site(request: Request) -> Web:
    return request.app.state.web  # type: ignore[no-any-return]


Site = Annotated[Web, Depends(site)]
