"""What the forms start or save: a reproduce run (an upload or an arXiv id), an agent run, a
judgement of a finished run, an agent profile."""

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from ..agent.build import BUILTIN_TOOLS
from ..config import AgentProfile, save_profile
from ..errors import SmolabError
from ..models.registry import DEFAULT_MODEL
from .runner import AgentRequest
from .site import Site

router = APIRouter()
MOST_UPLOAD = 50 * 1024 * 1024
PAPER_SUFFIXES = (".pdf", ".tex", ".zip", ".gz", ".tgz")


@router.post("/runs/reproduce")
async def start_reproduce(
    request: Request,
    web: Site,
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
            return web.problem(request, 422, f"{name}: give a .pdf, a .tex or a LaTeX source archive", **form)
        data = await paper.read(MOST_UPLOAD + 1)
        if len(data) > MOST_UPLOAD:
            return web.problem(
                request, 413, f"{name} is over {MOST_UPLOAD // 2**20} MB; give a smaller file", **form
            )
        if name.lower().endswith(".pdf") and not readable_pdf(data):
            why = f"{name} is not a readable PDF (damaged or not a PDF); give another"
            return web.problem(request, 422, why, **form)
        uploads = web.settings.home / "uploads"
        uploads.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix="paper-", dir=uploads))
        (folder / name).write_bytes(data)
        source = str(folder / name)
    if not source:
        return web.problem(request, 422, "give a paper: upload a file or type an arXiv id", **form)
    try:
        run_id = web.runs.start_reproduce(source, model, repair_rounds)
    except SmolabError as err:
        return web.problem(request, 422, str(err), **form)
    return RedirectResponse(f"/runs/{run_id}", status_code=303)


@router.post("/runs/agent")
async def start_agent(request: Request, web: Site) -> Response:
    form = await request.form()
    task = str(form.get("task", "")).strip()
    profile = str(form.get("profile", ""))
    base = web.settings.agents.get(profile) if profile else None
    try:
        req = agent_request(form, task, base)
    except ValueError as err:
        return web.problem(request, 422, str(err), task=task)
    if not task:
        return web.problem(request, 422, "give the agent a task, in words", task=task)
    try:
        run_id = web.runs.start_agent(req)
    except (SmolabError, ValueError) as err:
        return web.problem(request, 422, str(err), task=task)
    return RedirectResponse(f"/runs/{run_id}", status_code=303)


@router.post("/runs/{run_id}/judge")
async def judge(request: Request, web: Site, run_id: str) -> Response:
    """Judge a finished reproduce run against its paper; the page links the critiques."""
    ref = web.ref_of(run_id)
    form = await request.form()
    if ref.kind() != "reproduce" or not (ref.folder / "paper.json").is_file():
        raise HTTPException(409, "only a reproduce run that read its paper can be judged")
    web.runs.start_judge(ref, str(form.get("model") or DEFAULT_MODEL))
    return RedirectResponse(f"/runs/{ref.id}?judging=1", status_code=303)


@router.post("/agents")
async def save_agent(request: Request, web: Site) -> Response:
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
            max_steps=whole(form, "max_steps", 30) or 30,
            max_tokens=whole(form, "max_tokens", None),
        )
        path = save_profile(name, profile)
    except (SmolabError, ValueError) as err:
        mcp = sorted(web.settings.mcp_servers)
        line = str(err).splitlines()[0]
        return web.page(request, "agents.html", 422, saved="", error=line, mcp=mcp, **web.choices())
    web.settings.agents[name] = profile
    return RedirectResponse(f"/agents?saved={name}&path={path}", status_code=303)


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
