"""The user's installed skills, with their history: ``$SMOLAB_HOME/skills/NAME/`` holds one
complete skill folder per revision (``1/NAME/``, ``2/NAME/``, ...) and ``state.json`` (which revision is
current, where each came from, whether the user trusts it).

A revision is never changed or deleted once written, so a rollback is a pointer move and the
evidence recorded against a revision keeps meaning what it meant. A skill that came from
elsewhere (the hub) is stored untrusted: it is listed, but the library does not load it until
the user accepts it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from ..runs.files import write_atomic
from .errors import SkillError
from .library import Skill, read_skill

MOST_FILES = 200
MOST_BYTES = 2 * 1024 * 1024
"""A skill bundle's limits: instructions, a skeleton and scripts, not datasets or models."""


@dataclass
class Revision:
    revision: int
    version: str
    """The skill's own ``metadata.version`` in this revision."""
    added: float
    source: str
    """"local:PATH", "hub:URL" or "evolved" (a validated candidate)."""
    digest: str
    """sha256 over the bundle's files, to tell a re-added identical folder from a change."""
    note: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    """What justified it (a validation's comparison, for an evolved revision)."""


@dataclass
class SkillState:
    name: str
    current: int
    trusted: bool
    revisions: list[Revision]

    def revision(self, n: int) -> Revision:
        for r in self.revisions:
            if r.revision == n:
                return r
        known = ", ".join(str(r.revision) for r in self.revisions)
        raise SkillError(f"{self.name} has no revision {n}; its revisions: {known}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SkillState:
        revisions = [Revision(**r) for r in data["revisions"]]
        return cls(data["name"], int(data["current"]), bool(data["trusted"]), revisions)


def bundle_files(folder: Path) -> list[Path]:
    """The files of a skill folder, checked against the bundle's limits: no links, nothing
    outside the folder, at most MOST_FILES files and MOST_BYTES bytes."""
    root = folder.resolve()
    files, size = [], 0
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if "__pycache__" in rel.parts or rel.name.endswith(".pyc"):
            continue
        if path.is_symlink():
            raise SkillError(f"{folder}: {rel} is a link; a skill bundle holds plain files only")
        if not path.resolve().is_relative_to(root):
            raise SkillError(f"{folder}: {rel} points outside the skill's folder")
        if path.is_file():
            files.append(path)
            size += path.stat().st_size
    if len(files) > MOST_FILES:
        raise SkillError(f"{folder} holds {len(files)} files; a skill may hold at most {MOST_FILES}")
    if size > MOST_BYTES:
        raise SkillError(f"{folder} is {size:,} bytes; a skill may be at most {MOST_BYTES:,}")
    return files


def bundle_digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in bundle_files(folder):
        h.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


class SkillStore:
    """Installed skills under ``root`` (``$SMOLAB_HOME/skills``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _state_path(self, name: str) -> Path:
        return self.root / name / "state.json"

    def get(self, name: str) -> SkillState:
        path = self._state_path(name)
        if not path.is_file():
            raise SkillError(f"no installed skill named {name!r}; see `smolab skills list`")
        return SkillState.from_dict(json.loads(path.read_text()))

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / "state.json").is_file())

    def all(self) -> list[SkillState]:
        return [self.get(n) for n in self.names()]

    def _save(self, state: SkillState) -> None:
        write_atomic(self._state_path(state.name), json.dumps(state.to_dict(), indent=1) + "\n")

    def folder(self, name: str, revision: int | None = None) -> Path:
        state = self.get(name)
        n = state.current if revision is None else state.revision(revision).revision
        return self.root / name / str(n) / name  # the format wants the folder named as the skill

    def add(
        self,
        folder: Path,
        *,
        source: str,
        trusted: bool = True,
        note: str = "",
        evidence: dict[str, Any] | None = None,
    ) -> tuple[SkillState, bool]:
        """Install ``folder`` as the skill's next revision and make it current; (its state,
        whether a revision was added: the same files as the current one add nothing)."""
        skill = read_skill(folder)
        digest = bundle_digest(folder)
        try:
            state = self.get(skill.name)
        except SkillError:
            state = SkillState(skill.name, 0, trusted, [])
        current = next((r for r in state.revisions if r.revision == state.current), None)
        if current is not None and current.digest == digest:
            return state, False
        n = max((r.revision for r in state.revisions), default=0) + 1
        target = self.root / skill.name / str(n)
        staging = target.with_name(f".{n}.partial")
        shutil.rmtree(staging, ignore_errors=True)
        for path in bundle_files(folder):
            dest = staging / skill.name / path.relative_to(folder)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest)
        staging.rename(target)
        state.revisions.append(
            Revision(n, skill.version, time.time(), source, digest, note, dict(evidence or {}))
        )
        state.current = n
        # A user's own folder is theirs; anything else needs their acceptance again.
        state.trusted = trusted
        self._save(state)
        return state, True

    def accept(self, name: str) -> SkillState:
        state = self.get(name)
        state.trusted = True
        self._save(state)
        return state

    def rollback(self, name: str, revision: int) -> SkillState:
        state = self.get(name)
        state.current = state.revision(revision).revision
        self._save(state)
        return state

    def remove(self, name: str) -> None:
        self.get(name)  # a one-line error for a name that is not installed
        shutil.rmtree(self.root / name)

    def skills(self, trusted_only: bool = True) -> list[Skill]:
        """The current revision of each installed skill (the trusted ones unless told otherwise)."""
        out = []
        for state in self.all():
            if trusted_only and not state.trusted:
                continue
            skill = read_skill(self.folder(state.name))
            out.append(replace(skill, builtin=False, revision=state.current))
        return out
