"""The hub's HTTP API (FastAPI). Every route but ``/v1/health`` needs ``Authorization: Bearer
TOKEN``; a user sees and writes only the groups they belong to; every write, allowed or refused,
goes to the audit log (never with what was sent: a refused record may hold the secret it was
refused for)."""

import re
import tempfile
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError

from ..skills.evidence import RunEvidence
from .bundle import MOST_ZIP_BYTES, BundleError, unpack
from .db import HubDB, User
from .redact import SECRET_KINDS, findings, scrub_text

NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
GROUP = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MOST_RECORDS = 100


@dataclass
class Limits:
    requests_per_minute: int = 600
    """Per token; a client over it gets 429 and waits."""
    body_bytes: int = MOST_ZIP_BYTES


class RateLimiter:
    """A sliding one-minute window of request times per key."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._seen: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            window = self._seen[key]
            while window and now - window[0] > 60:
                window.popleft()
            if len(window) >= self.per_minute:
                return False
            window.append(now)
            return True


class EvidencePush(BaseModel):
    group: str = Field(max_length=64)
    records: list[dict[str, Any]] = Field(max_length=MOST_RECORDS)


@dataclass
class Hub:
    """The hub's parts every route reaches through the request."""

    db: HubDB
    limits: Limits
    rate: RateLimiter

    def audit(self, user: User | None, action: str, target: str, ok: bool, detail: str = "") -> None:
        self.db.audit(user.name if user else None, action, scrub_text(target), ok, scrub_text(detail))

    def refuse(self, status: int, why: str, user: User | None, action: str, target: str) -> HTTPException:
        """The refusal, audited: what it says goes back in one line."""
        self.audit(user, action, target, False, why)
        return HTTPException(status_code=status, detail=why)

    def member(self, user: User, group: str, action: str) -> None:
        if not GROUP.match(group):
            why = "a group name is letters, digits, '_', '.' or '-', at most 64"
            raise self.refuse(400, why, user, action, group)
        if group not in user.groups and not user.admin:
            raise self.refuse(403, f"you are not a member of group {group!r}", user, action, group)

    def visible(self, user: User) -> frozenset[str]:
        return frozenset(self.db.groups()) if user.admin else user.groups


def hub_of(request: Request) -> Hub:
    return request.app.state.hub  # type: ignore[no-any-return]


HubDep = Annotated[Hub, Depends(hub_of)]


def caller(request: Request, hub: HubDep) -> User:
    """The user the bearer token belongs to; 401 without a valid one, 429 past the rate."""
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    user = hub.db.user_for(token) if token else None
    action = f"{request.method} {request.url.path}"
    if user is None:
        why = "no API token" if not token else "the API token is not valid (revoked or never issued)"
        raise hub.refuse(
            401, f"{why}; send Authorization: Bearer TOKEN from `smolab hub token`", None, action, ""
        )
    if not hub.rate.allow(token):
        raise hub.refuse(
            429, f"more than {hub.rate.per_minute} requests a minute; wait and retry", user, action, ""
        )
    return user


Caller = Annotated[User, Depends(caller)]
router = APIRouter(prefix="/v1")


@router.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/skills")
def list_skills(hub: HubDep, user: Caller) -> list[dict[str, Any]]:
    return hub.db.skills(hub.visible(user))


@router.get("/skills/{group}/{name}")
def revisions(group: str, name: str, hub: HubDep, user: Caller) -> list[dict[str, Any]]:
    hub.member(user, group, "read")
    found = hub.db.revisions(group, name)
    if not found:
        raise HTTPException(404, f"no skill {name!r} in group {group!r}")
    return found


@router.get("/skills/{group}/{name}/{revision}.zip")
def bundle(group: str, name: str, revision: int, hub: HubDep, user: Caller) -> Response:
    hub.member(user, group, "read")
    data = hub.db.bundle(group, name, revision)
    if data is None:
        raise HTTPException(404, f"no revision {revision} of {name!r} in group {group!r}")
    return Response(data, media_type="application/zip")


@router.put("/skills/{group}/{name}")
async def push_skill(group: str, name: str, request: Request, hub: HubDep, user: Caller) -> JSONResponse:
    action, target = "push_skill", f"{group}/{name}"
    hub.member(user, group, action)
    if not NAME.match(name):
        why = "a skill name is lowercase letters, digits and hyphens, at most 64"
        raise hub.refuse(400, why, user, action, target)
    most = hub.limits.body_bytes
    size = int(request.headers.get("content-length") or 0)
    if size > most:
        raise hub.refuse(413, f"the bundle is {size:,} bytes; at most {most:,}", user, action, target)
    data = await request.body()
    if len(data) > most:
        raise hub.refuse(413, f"the bundle is over {most:,} bytes", user, action, target)
    with tempfile.TemporaryDirectory(prefix="smolab-hub-") as tmp:
        try:
            skill = unpack(data, name, Path(tmp))
        except BundleError as err:
            raise hub.refuse(422, str(err), user, action, target) from None
        texts = [p.read_text(errors="replace") for p in Path(tmp, name).rglob("*") if p.is_file()]
        leaks = sorted(set(findings(texts)) & SECRET_KINDS)
        if leaks:
            why = f"the skill holds what must not be shared ({', '.join(leaks)}); remove it and push again"
            raise hub.refuse(422, why, user, action, target)
    revision, new = hub.db.add_skill(group, name, skill.version, skill.description, data, by=user.name)
    hub.audit(user, action, target, True, f"revision {revision}" + ("" if new else " (unchanged)"))
    body = {"group": group, "name": name, "revision": revision, "new": new}
    return JSONResponse(body, status_code=201 if new else 200)


@router.post("/evidence")
def push_evidence(push: EvidencePush, hub: HubDep, user: Caller) -> dict[str, int]:
    action = "push_evidence"
    hub.member(user, push.group, action)
    for i, record in enumerate(push.records):
        try:
            RunEvidence.model_validate(record)
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise hub.refuse(422, f"record {i}: {where}: {first['msg']}", user, action, push.group) from None
        leaks = findings(record)
        if leaks:
            why = f"record {i} holds what must not be shared ({', '.join(leaks)}); scrub it first"
            raise hub.refuse(422, why, user, action, push.group)
    stored, duplicates = hub.db.add_evidence(user, push.group, push.records)
    hub.audit(user, action, push.group, True, f"{stored} stored, {duplicates} already there")
    return {"stored": stored, "duplicates": duplicates}


@router.get("/evidence")
def read_evidence(hub: HubDep, user: Caller, group: str | None = None) -> list[dict[str, Any]]:
    groups = frozenset([group]) if group else hub.visible(user)
    for g in groups:
        hub.member(user, g, "read_evidence")
    return hub.db.evidence(groups)


@router.get("/audit")
def audit_log(hub: HubDep, user: Caller) -> list[dict[str, Any]]:
    if not user.admin:
        raise hub.refuse(403, "the audit log is for the hub's admins", user, "read_audit", "")
    return hub.db.audit_log()


def create_app(db: HubDB, limits: Limits | None = None) -> FastAPI:
    limits = limits or Limits()
    app = FastAPI(title="smolab hub", version="1")
    app.state.hub = Hub(db, limits, RateLimiter(limits.requests_per_minute))
    app.include_router(router)
    return app
