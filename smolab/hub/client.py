"""The client side of a hub: push a skill, pull one into the user's store (untrusted until they
accept it), and share evidence, scrubbed here before it leaves the machine."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from ..errors import SmolabError
from ..skills import SkillState, SkillStore, read_skill
from ..skills.evidence import RunEvidence
from .app import MOST_RECORDS
from .bundle import BundleError, pack, unpack
from .redact import scrub


class HubError(SmolabError):
    """The hub refused or could not be reached; the message says which and what to do."""


class HubClient:
    def __init__(self, url: str, token: str, http: httpx.Client | None = None, timeout: float = 60.0) -> None:
        if not token:
            raise HubError(
                "no hub token; set SMOLAB_HUB_TOKEN (an admin makes one with `smolab hub token USER`)"
            )
        self.url = url.rstrip("/")
        self.http = http or httpx.Client(timeout=timeout)
        self.headers = {"authorization": f"Bearer {token}"}

    def _call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        try:
            r = self.http.request(method, f"{self.url}{path}", headers=self.headers, **kw)
        except httpx.HTTPError as err:
            raise HubError(
                f"cannot reach the hub at {self.url} ({type(err).__name__}); is it running?"
            ) from None
        if r.status_code >= 400:
            try:
                detail = r.json().get("detail", r.text)
            except ValueError:
                detail = r.text
            raise HubError(f"the hub refused ({r.status_code}): {str(detail)[:300]}")
        return r

    def skills(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/v1/skills").json())

    def push(self, folder: Path, group: str) -> dict[str, Any]:
        """Upload the skill folder as the next revision in ``group``."""
        skill = read_skill(folder)
        data = pack(folder)
        headers = {**self.headers, "content-type": "application/zip"}
        try:
            r = self.http.put(f"{self.url}/v1/skills/{group}/{skill.name}", content=data, headers=headers)
        except httpx.HTTPError as err:
            raise HubError(
                f"cannot reach the hub at {self.url} ({type(err).__name__}); is it running?"
            ) from None
        if r.status_code >= 400:
            raise HubError(f"the hub refused ({r.status_code}): {r.json().get('detail', r.text)}")
        return dict(r.json())

    def pull(self, name: str, store: SkillStore, group: str | None = None) -> tuple[SkillState, bool]:
        """Install the latest revision of ``name`` (from ``group``, else the only group that has
        it) into ``store``, untrusted: it is not used until `smolab skills accept NAME`."""
        found = [s for s in self.skills() if s["name"] == name and (group is None or s["group"] == group)]
        if not found:
            raise HubError(
                f"the hub has no skill {name!r}" + (f" in group {group!r}" if group else "") + " for you"
            )
        if len(found) > 1:
            groups = ", ".join(s["group"] for s in found)
            raise HubError(f"{name!r} is in several of your groups ({groups}); choose one with --group")
        entry = found[0]
        data = self._call("GET", f"/v1/skills/{entry['group']}/{name}/{entry['revision']}.zip").content
        with tempfile.TemporaryDirectory(prefix="smolab-pull-") as tmp:
            try:
                unpack(data, name, Path(tmp))
            except BundleError as err:
                raise HubError(f"the hub sent a bundle that is refused here: {err}") from None
            source = f"hub:{self.url}/{entry['group']}/{name}@{entry['revision']}"
            return store.add(Path(tmp) / name, source=source, trusted=False)

    def share(self, evidence: Sequence[RunEvidence], group: str) -> dict[str, int]:
        """Push evidence, scrubbed of secrets, paths, people and machines first."""
        totals = {"stored": 0, "duplicates": 0}
        records = [scrub(e.model_dump(mode="json")) for e in evidence]
        for i in range(0, len(records), MOST_RECORDS):
            r = self._call(
                "POST", "/v1/evidence", json={"group": group, "records": records[i : i + MOST_RECORDS]}
            )
            for k in totals:
                totals[k] += int(r.json()[k])
        return totals

    def evidence(self, group: str | None = None) -> list[dict[str, Any]]:
        params = {"group": group} if group else {}
        return list(self._call("GET", "/v1/evidence", params=params).json())

    def revisions(self, group: str, name: str) -> list[dict[str, Any]]:
        return list(self._call("GET", f"/v1/skills/{group}/{name}").json())

    def close(self) -> None:
        self.http.close()
