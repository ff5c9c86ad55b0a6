"""`smolab serve`: the web app. Server-rendered pages (Jinja2) with a little JavaScript; live
updates by server-sent events from the run's trajectory; the browser libraries (Mermaid,
highlight.js, marked, DOMPurify) served from the package, never a CDN.

Every request needs the server's token: ``?token=`` once (it becomes an HttpOnly cookie and the
address loses it), the cookie after, or ``Authorization: Bearer`` for scripts.
"""

import contextlib
import difflib
import hmac
import secrets
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from ..agent.build import BUILTIN_TOOLS
from ..agent.policy import KIND_HELP, KINDS
from ..config import AgentProfile, Settings, save_profile
from ..errors import SmolabError
from ..models.registry import DEFAULT_MODEL, REGISTRY
from ..runs import RunIndex, UnknownRun, locate
from ..skills import SkillError, SkillLibrary, SkillStore
from . import artifacts
from .runner import AgentRequest, Models, WebRuns
from .stream import events

HERE = Path(__file__).parent
COOKIE = "smolab_token"
MOST_UPLOAD = 50 * 1024 * 1024
PAPER_SUFFIXES = (".pdf", ".tex", ".zip", ".gz", ".tgz")


@dataclass
class Web:
    settings: Settings
    runs: WebRuns
    index: RunIndex
    token: str


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
    web = Web(settings, WebRuns(settings, models, index), index, token)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        web.runs.stop_all()  # a run waiting on a question stops waiting
        index.close()

    app = FastAPI(title="smolab", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.web = web
    app.add_middleware(TokenGate, token=token)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    templates = Jinja2Templates(directory=HERE / "templates")

    def page(request: Request, template: str, **context: Any) -> HTMLResponse:
        return templates.TemplateResponse(request, template, {"web": web, **context})

    def ref_of(run_id: str) -> Any:
        try:
            return locate(settings.runs_dir, run_id)
        except UnknownRun:
            raise HTTPException(404, f"no run {run_id!r}") from None

    def problem(request: Request, status: int, line: str, **form: Any) -> HTMLResponse:
        return templates.TemplateResponse(
            request,
            "start.html",
            {"web": web, "error": line, "form": form, **start_context()},
            status_code=status,
        )

    def start_context() -> dict[str, Any]:
        names = [DEFAULT_MODEL, *(n for n in REGISTRY if n != DEFAULT_MODEL)]
        kinds = [(k, KIND_HELP[k]) for k in KINDS]
        return {"models": names, "kinds": kinds, "profiles": settings.agents, "groups": BUILTIN_TOOLS}

    # -- pages ---------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse)
    def runs_page(request: Request, kind: str = "", status: str = "", q: str = "") -> HTMLResponse:
        rows = [
            r
            for r in index.list()
            if (not kind or r.kind == kind)
            and (not status or r.status == status)
            and (q.lower() in r.task.lower())
        ]
        statuses = sorted({r.status for r in index.list()})
        return page(
            request, "runs.html", rows=rows, kind=kind, status=status, q=q, statuses=statuses, now=time.time()
        )

    @app.get("/start", response_class=HTMLResponse)
    def start_page(request: Request) -> HTMLResponse:
        return page(request, "start.html", error="", form={}, **start_context())

    @app.get("/runs/{run_id}", response_class=HTMLResponse)
    def run_page(request: Request, run_id: str, judging: int = 0) -> HTMLResponse:
        ref = ref_of(run_id)
        summary = index.update(ref)
        root = artifacts.root_of(ref)
        docs = [name for name in artifacts.DOCUMENTS if artifacts.document(ref, name) is not None]
        live = web.runs.live(ref.id)
        return page(
            request,
            "run.html",
            run=summary,
            ref=ref,
            files=artifacts.files(root) if root else [],
            docs=docs,
            live=live,
            kinds=KINDS,
            judging=bool(judging) and "judge" not in docs,
            models=start_context()["models"],
        )

    @app.get("/runs/{run_id}/files/{path:path}", response_class=HTMLResponse)
    def file_page(request: Request, run_id: str, path: str) -> HTMLResponse:
        ref = ref_of(run_id)
        root = artifacts.root_of(ref)
        try:
            text, cut = artifacts.read(root, path) if root else ("", False)
        except artifacts.OutsideRun as err:
            raise HTTPException(404, str(err)) from None
        return page(request, "file.html", ref=ref, path=path, text=text, cut=cut)

    @app.get("/runs/{run_id}/doc/{name}", response_class=HTMLResponse)
    def doc_page(request: Request, run_id: str, name: str) -> HTMLResponse:
        ref = ref_of(run_id)
        text = artifacts.document(ref, name)
        if text is None:
            raise HTTPException(404, f"this run has no {name}")
        return page(request, "doc.html", ref=ref, name=name, text=text)

    @app.get("/runs/{run_id}/zip")
    def download(run_id: str) -> Response:
        ref = ref_of(run_id)
        root = artifacts.root_of(ref)
        if root is None or not root.is_dir():
            raise HTTPException(404, "this run has no files")
        headers = {"content-disposition": f'attachment; filename="{ref.id}.zip"'}
        return Response(artifacts.zipped(root), media_type="application/zip", headers=headers)

    @app.get("/skills", response_class=HTMLResponse)
    def skills_page(request: Request) -> HTMLResponse:
        store = SkillStore(settings.skills_dir)
        library = SkillLibrary(store=store)
        uses = {s.name: index.uses_of(s.name) for s in library}
        return page(request, "skills.html", skills=list(library), store=store, uses=uses, waiting=store.all())

    @app.get("/skills/{name}", response_class=HTMLResponse)
    def skill_page(request: Request, name: str, a: int | None = None, b: int | None = None) -> HTMLResponse:
        store = SkillStore(settings.skills_dir)
        try:
            skill = SkillLibrary(store=store).get(name)
        except SkillError as err:
            raise HTTPException(404, str(err)) from None
        state = None
        diff = ""
        with contextlib.suppress(SkillError):
            state = store.get(name)
        if state is not None and a is not None and b is not None:
            try:
                old = (store.folder(name, a) / "SKILL.md").read_text()
                new = (store.folder(name, b) / "SKILL.md").read_text()
            except SkillError as err:
                raise HTTPException(404, str(err)) from None
            diff = "".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True), f"r{a}", f"r{b}"))
        uses = index.uses_of(name)
        return page(request, "skill.html", skill=skill, state=state, diff=diff, a=a, b=b, uses=uses)

    @app.get("/agents", response_class=HTMLResponse)
    def agents_page(request: Request, saved: str = "") -> HTMLResponse:
        return page(
            request, "agents.html", saved=saved, error="", mcp=sorted(settings.mcp_servers), **start_context()
        )

    # -- actions ---------------------------------------------------------------------------

    @app.post("/runs/reproduce")
    async def start_reproduce(
        request: Request,
        model: Annotated[str, Form()] = DEFAULT_MODEL,
        arxiv: Annotated[str, Form()] = "",
        repair_rounds: Annotated[int, Form()] = 2,
        paper: Annotated[UploadFile | None, File()] = None,
    ) -> Response:
        form = {"model": model, "arxiv": arxiv}
        source = arxiv.strip()
        if paper is not None and paper.filename:
            name = Path(paper.filename).name
            if not name.lower().endswith(PAPER_SUFFIXES):
                return problem(request, 422, f"{name}: give a .pdf, a .tex or a LaTeX source archive", **form)
            data = await paper.read(MOST_UPLOAD + 1)
            if len(data) > MOST_UPLOAD:
                return problem(
                    request, 413, f"{name} is over {MOST_UPLOAD // 2**20} MB; give a smaller file", **form
                )
            if name.lower().endswith(".pdf") and not readable_pdf(data):
                return problem(
                    request, 422, f"{name} is not a readable PDF (damaged or not a PDF); give another", **form
                )
            uploads = settings.home / "uploads"
            uploads.mkdir(parents=True, exist_ok=True)
            folder = Path(tempfile.mkdtemp(prefix="paper-", dir=uploads))
            (folder / name).write_bytes(data)
            source = str(folder / name)
        if not source:
            return problem(request, 422, "give a paper: upload a file or type an arXiv id", **form)
        try:
            run_id = web.runs.start_reproduce(source, model, repair_rounds)
        except SmolabError as err:
            return problem(request, 422, str(err), **form)
        return RedirectResponse(f"/runs/{run_id}", status_code=303)

    @app.post("/runs/{run_id}/judge")
    async def judge(request: Request, run_id: str) -> Response:
        """Judge a finished reproduce run against its paper; the page links the critiques."""
        ref = ref_of(run_id)
        form = await request.form()
        if ref.kind() != "reproduce" or not (ref.folder / "paper.json").is_file():
            raise HTTPException(409, "only a reproduce run that read its paper can be judged")
        web.runs.start_judge(ref, str(form.get("model") or DEFAULT_MODEL))
        return RedirectResponse(f"/runs/{ref.id}?judging=1", status_code=303)

    @app.post("/runs/agent")
    async def start_agent(request: Request) -> Response:
        form = await request.form()
        task = str(form.get("task", "")).strip()
        profile = str(form.get("profile", ""))
        base = settings.agents.get(profile) if profile else None
        try:
            req = agent_request(form, task, base)
        except ValueError as err:
            return problem(request, 422, str(err), task=task)
        if not task:
            return problem(request, 422, "give the agent a task, in words", task=task)
        try:
            run_id = web.runs.start_agent(req)
        except (SmolabError, ValueError) as err:
            return problem(request, 422, str(err), task=task)
        return RedirectResponse(f"/runs/{run_id}", status_code=303)

    @app.post("/agents")
    async def save_agent(request: Request) -> Response:
        form = await request.form()
        name = str(form.get("name", "")).strip()
        try:
            profile = AgentProfile(
                model=str(form.get("model", "")),
                builtin=[str(g) for g in form.getlist("builtin")],
                tools=[t.strip() for t in str(form.get("tools", "")).split(",") if t.strip()],
                mcp=[str(m) for m in form.getlist("mcp")],
                skills=form.get("skills") == "on",
                allow=[str(k) for k in form.getlist("allow")],
                max_steps=int(str(form.get("max_steps") or 30)),
                max_tokens=int(str(form["max_tokens"])) if form.get("max_tokens") else None,
            )
            path = save_profile(name, profile)
        except (SmolabError, ValueError) as err:
            return templates.TemplateResponse(
                request,
                "agents.html",
                {
                    "web": web,
                    "saved": "",
                    "error": str(err).splitlines()[0],
                    "mcp": sorted(settings.mcp_servers),
                    **start_context(),
                },
                status_code=422,
            )
        settings.agents[name] = profile
        return RedirectResponse(f"/agents?saved={name}&path={path}", status_code=303)

    # -- the live API ----------------------------------------------------------------------

    @app.get("/api/runs")
    def api_runs() -> list[dict[str, Any]]:
        return [r.model_dump() for r in index.list()]

    @app.get("/api/runs/{run_id}/events")
    def api_events(request: Request, run_id: str, after: int = 0) -> StreamingResponse:
        ref = ref_of(run_id)
        last = request.headers.get("last-event-id")
        start = int(last) if last and last.isdigit() else after
        live = web.runs.live(ref.id)

        def alive() -> bool:
            if live is not None and live.thread is not None:
                return live.thread.is_alive()
            return index.update(ref).status == "running"

        headers = {"cache-control": "no-store", "x-accel-buffering": "no"}
        return StreamingResponse(
            events(ref.trajectory.path, start, alive), media_type="text/event-stream", headers=headers
        )

    @app.get("/api/runs/{run_id}/state")
    def api_state(run_id: str) -> dict[str, Any]:
        ref = ref_of(run_id)
        live = web.runs.live(ref.id)
        pending = live.approver.pending() if live and live.approver else None
        return {
            "summary": index.update(ref).model_dump(),
            "approval": pending,
            "allow": sorted(live.allow) if live else [],
            "error": live.error if live else "",
        }

    @app.post("/api/runs/{run_id}/approval")
    async def api_approve(request: Request, run_id: str) -> JSONResponse:
        ref = ref_of(run_id)
        live = web.runs.live(ref.id)
        body = await request.json()
        if live is None or live.approver is None:
            return JSONResponse(
                {"ok": False, "why": "this run is not waiting for an answer"}, status_code=409
            )
        try:
            ok = live.approver.answer(
                str(body.get("id", "")), str(body.get("answer", "")), str(body.get("feedback", ""))
            )
        except ValueError as err:
            return JSONResponse({"ok": False, "why": str(err)}, status_code=422)
        if not ok:
            return JSONResponse({"ok": False, "why": "that question was answered already"}, status_code=409)
        return JSONResponse({"ok": True})

    @app.post("/api/runs/{run_id}/allow")
    async def api_allow(request: Request, run_id: str) -> JSONResponse:
        """Change the run's allow-list while it runs: what it asks from now on."""
        ref = ref_of(run_id)
        live = web.runs.live(ref.id)
        body = await request.json()
        kind, on = str(body.get("kind", "")), bool(body.get("on"))
        if live is None:
            return JSONResponse({"ok": False, "why": "this run is not running here"}, status_code=409)
        if kind not in KINDS:
            return JSONResponse({"ok": False, "why": f"unknown kind {kind!r}"}, status_code=422)
        (live.allow.add if on else live.allow.discard)(kind)
        return JSONResponse({"ok": True, "allow": sorted(live.allow)})

    return app


def whole(form: Any, key: str, default: int | None) -> int | None:
    """A whole number from the form, ``default`` when it is left empty."""
    raw = str(form.get(key) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{key.replace('_', ' ')}: give a whole number above 0, not {raw!r}")
    return int(raw)


def agent_request(form: Any, task: str, base: AgentProfile | None) -> AgentRequest:
    """The agent run the start form (or the agents page's "try it") asks for: a saved agent's
    settings where the form leaves a field out."""
    return AgentRequest(
        task=task,
        model=str(form.get("model") or (base.model if base and base.model else DEFAULT_MODEL)),
        max_steps=whole(form, "max_steps", base.max_steps if base else 20) or 20,
        max_tokens=whole(form, "max_tokens", base.max_tokens if base else None),
        allow=[str(k) for k in form.getlist("allow")] or (list(base.allow) if base else []),
        skills=(form.get("skills") == "on") if "skills_shown" in form else (base.skills if base else True),
        tools=list(base.tools) if base else [],
        builtin=list(base.builtin) if base else list(BUILTIN_TOOLS),
    )


def readable_pdf(data: bytes) -> bool:
    import pymupdf

    try:
        with pymupdf.open(stream=data, filetype="pdf") as doc:  # type: ignore[no-untyped-call]
            return bool(doc.page_count > 0)
    except Exception:  # PyMuPDF raises several types for a damaged file
        return False
