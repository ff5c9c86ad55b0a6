"""The live API the run page uses: the events as they are written, the run's state (its open
question), answering it, and changing the run's approval rules while it runs."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse

from ..agent.policy import KINDS
from .site import Site
from .stream import events

router = APIRouter(prefix="/api")


@router.get("/runs")
def api_runs(web: Site) -> list[dict[str, Any]]:
    return [r.model_dump() for r in web.index.list()]


@router.get("/runs/{run_id}/events")
def api_events(request: Request, web: Site, run_id: str, after: int = 0) -> StreamingResponse:
    ref = web.ref_of(run_id)
    last = request.headers.get("last-event-id")
    start = int(last) if last and last.isdigit() else after
    live = web.runs.live(ref.id)

    def alive() -> bool:
        if live is not None and live.thread is not None:
            return live.thread.is_alive()
        return web.index.update(ref).status == "running"

    headers = {"cache-control": "no-store", "x-accel-buffering": "no"}
    stream = events(ref.trajectory.path, start, alive)
    return StreamingResponse(stream, media_type="text/event-stream", headers=headers)


@router.get("/runs/{run_id}/state")
def api_state(web: Site, run_id: str) -> dict[str, Any]:
    ref = web.ref_of(run_id)
    live = web.runs.live(ref.id)
    return {
        "summary": web.index.update(ref).model_dump(),
        "approval": live.approver.pending() if live and live.approver else None,
        "allow": sorted(live.allow) if live else [],
        "error": live.error if live else "",
    }


@router.post("/runs/{run_id}/approval")
async def api_approve(request: Request, web: Site, run_id: str) -> JSONResponse:
    live = web.runs.live(web.ref_of(run_id).id)
    body = await request.json()
    if live is None or live.approver is None:
        return JSONResponse({"ok": False, "why": "this run is not waiting for an answer"}, status_code=409)
    try:
        ok = live.approver.answer(
            str(body.get("id", "")), str(body.get("answer", "")), str(body.get("feedback", ""))
        )
    except ValueError as err:
        return JSONResponse({"ok": False, "why": str(err)}, status_code=422)
    if not ok:
        return JSONResponse({"ok": False, "why": "that question was answered already"}, status_code=409)
    return JSONResponse({"ok": True})


@router.post("/runs/{run_id}/allow")
async def api_allow(request: Request, web: Site, run_id: str) -> JSONResponse:
    """Change the run's allow-list while it runs: what it asks from now on."""
    live = web.runs.live(web.ref_of(run_id).id)
    body = await request.json()
    kind, on = str(body.get("kind", "")), bool(body.get("on"))
    if live is None:
        return JSONResponse({"ok": False, "why": "this run is not running here"}, status_code=409)
    if kind not in KINDS:
        return JSONResponse({"ok": False, "why": f"unknown kind {kind!r}"}, status_code=422)
    (live.allow.add if on else live.allow.discard)(kind)
    return JSONResponse({"ok": True, "allow": sorted(live.allow)})
