"""The pages: runs, the start form, a run, its files and documents, skills, agents."""

import contextlib
import difflib

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from ..agent.policy import KINDS
from ..skills import SkillError, SkillLibrary, SkillStore
from . import artifacts
from .site import Site

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def runs_page(request: Request, web: Site, kind: str = "", status: str = "", q: str = "") -> HTMLResponse:
    every = web.index.list()
    rows = [
        r
        for r in every
        if (not kind or r.kind == kind) and (not status or r.status == status) and q.lower() in r.task.lower()
    ]
    statuses = sorted({r.status for r in every})
    return web.page(request, "runs.html", rows=rows, kind=kind, status=status, q=q, statuses=statuses)


@router.get("/start", response_class=HTMLResponse)
def start_page(request: Request, web: Site) -> HTMLResponse:
    return web.page(request, "start.html", error="", form={}, **web.choices())


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run_page(request: Request, web: Site, run_id: str, judging: int = 0) -> HTMLResponse:
    ref = web.ref_of(run_id)
    root = artifacts.root_of(ref)
    docs = [name for name in artifacts.DOCUMENTS if artifacts.document(ref, name) is not None]
    return web.page(
        request,
        "run.html",
        run=web.index.update(ref),
        ref=ref,
        files=artifacts.files(root) if root else [],
        docs=docs,
        live=web.runs.live(ref.id),
        kinds=KINDS,
        judging=bool(judging) and "judge" not in docs,
        models=web.choices()["models"],
    )


@router.get("/runs/{run_id}/files/{path:path}", response_class=HTMLResponse)
def file_page(request: Request, web: Site, run_id: str, path: str) -> HTMLResponse:
    ref = web.ref_of(run_id)
    root = artifacts.root_of(ref)
    try:
        text, cut = artifacts.read(root, path) if root else ("", False)
    except artifacts.OutsideRun as err:
        raise HTTPException(404, str(err)) from None
    return web.page(request, "file.html", ref=ref, path=path, text=text, cut=cut)


@router.get("/runs/{run_id}/doc/{name}", response_class=HTMLResponse)
def doc_page(request: Request, web: Site, run_id: str, name: str) -> HTMLResponse:
    ref = web.ref_of(run_id)
    text = artifacts.document(ref, name)
    if text is None:
        raise HTTPException(404, f"this run has no {name}")
    return web.page(request, "doc.html", ref=ref, name=name, text=text)


@router.get("/runs/{run_id}/zip")
def download(web: Site, run_id: str) -> Response:
    ref = web.ref_of(run_id)
    root = artifacts.root_of(ref)
    if root is None or not root.is_dir():
        raise HTTPException(404, "this run has no files")
    headers = {"content-disposition": f'attachment; filename="{ref.id}.zip"'}
    return Response(artifacts.zipped(root), media_type="application/zip", headers=headers)


@router.get("/skills", response_class=HTMLResponse)
def skills_page(request: Request, web: Site) -> HTMLResponse:
    store = SkillStore(web.settings.skills_dir)
    library = SkillLibrary(store=store)
    uses = {s.name: web.index.uses_of(s.name) for s in library}
    return web.page(request, "skills.html", skills=list(library), uses=uses, waiting=store.all())


@router.get("/skills/{name}", response_class=HTMLResponse)
def skill_page(
    request: Request, web: Site, name: str, a: int | None = None, b: int | None = None
) -> HTMLResponse:
    store = SkillStore(web.settings.skills_dir)
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
    uses = web.index.uses_of(name)
    return web.page(request, "skill.html", skill=skill, state=state, diff=diff, a=a, b=b, uses=uses)


@router.get("/agents", response_class=HTMLResponse)
def agents_page(request: Request, web: Site, saved: str = "") -> HTMLResponse:
    mcp = sorted(web.settings.mcp_servers)
    return web.page(request, "agents.html", saved=saved, error="", mcp=mcp, **web.choices())
