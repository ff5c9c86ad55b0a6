"""The skill library: folders in the Agent Skills format (``SKILL.md`` with YAML front matter,
optional ``assets/`` and ``scripts/``), read and validated with the format's reference library.

smolab's own skills ship inside the package (``builtin/``); a user adds folders of their own.
A skill's front matter carries the specification's fields; what smolab needs beyond them
(version, kind, the blueprint it extends) sits in its ``metadata`` map, as the format intends.
A user's skill with the name of a built-in one replaces it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import skills_ref
from skills_ref.parser import parse_frontmatter

from .errors import SkillError

BUILTIN = Path(__file__).parent / "builtin"


@dataclass(frozen=True)
class Skill:
    name: str
    description: str
    path: Path
    """The skill's folder."""
    body: str
    """SKILL.md after the front matter: the instructions for the model."""
    metadata: dict[str, str] = field(default_factory=dict)
    builtin: bool = True
    revision: int | None = None
    """The installed revision, for a skill from the user's store (``store.py``)."""

    @property
    def version(self) -> str:
        return self.metadata.get("version", "1")

    @property
    def kind(self) -> str:
        """For a blueprint, the kind of contribution it is the skeleton for."""
        return self.metadata.get("kind", "")

    @property
    def role(self) -> str:
        """A blueprint (a repository skeleton), a base that blueprints extend, or instructions."""
        return self.metadata.get("role", "instructions")

    @property
    def retired(self) -> bool:
        """Retired (or merged into another) by a published evolution."""
        return bool(self.metadata.get("retired"))

    @property
    def assets(self) -> Path:
        return self.path / "assets"

    def fidelity(self) -> tuple[str, Path] | None:
        """For a blueprint whose kind allows a numerical check: the instructions for writing a
        reference from the paper's equations (``references/fidelity.md``) and the test that
        compares the method with it (``scripts/test_fidelity.py``)."""
        ask, test = self.path / "references" / "fidelity.md", self.path / "scripts" / "test_fidelity.py"
        if ask.is_file() and test.is_file():
            return ask.read_text(encoding="utf-8"), test
        return None

    def files(self) -> Iterator[tuple[str, Path]]:
        """(relative path, file) of everything under ``assets/``."""
        if self.assets.is_dir():
            for f in sorted(self.assets.rglob("*")):
                if f.is_file() and "__pycache__" not in f.parts:
                    yield str(f.relative_to(self.assets)), f


def read_skill(folder: Path, builtin: bool = False) -> Skill:
    """One skill folder, validated against the specification; a one-line error if it is not one."""
    problems = skills_ref.validate(folder)
    if problems:
        raise SkillError(f"{folder} is not a valid skill: {'; '.join(problems)}")
    md = skills_ref.find_skill_md(folder)
    assert md is not None  # validate() checked
    meta, body = parse_frontmatter(md.read_text(encoding="utf-8"))
    extra = meta.get("metadata") or {}
    return Skill(
        name=str(meta["name"]),
        description=" ".join(str(meta["description"]).split()),
        path=folder.resolve(),
        body=body,
        metadata={str(k): str(v) for k, v in extra.items()},
        builtin=builtin,
    )


class Installed(Protocol):
    """Where the user's installed skills come from (``SkillStore``)."""

    def skills(self) -> list[Skill]:
        """The skills in use, each at its current revision."""
        ...


class SkillLibrary:
    """The built-in skills, the user's installed ones (the current revision of each trusted
    skill in ``store``) and folders given for one run, by name; a later source replaces an
    earlier one's skill of the same name."""

    def __init__(
        self, extra: Iterable[Path] = (), builtin: Path | None = BUILTIN, store: Installed | None = None
    ) -> None:
        self._skills: dict[str, Skill] = {}
        if builtin is not None and builtin.is_dir():
            for folder in sorted(p for p in builtin.iterdir() if (p / "SKILL.md").is_file()):
                self._add(read_skill(folder, builtin=True))
        for skill in store.skills() if store is not None else []:
            self._add(skill)
        for root in extra:
            if not root.exists():
                raise SkillError(f"{root} does not exist; give a skill folder or a folder of skills")
            folders = (
                [root]
                if (root / "SKILL.md").is_file()
                else sorted(p for p in root.iterdir() if p.is_dir() and (p / "SKILL.md").is_file())
            )
            if not folders:
                raise SkillError(f"{root} holds no SKILL.md; give a skill folder or a folder of skills")
            for folder in folders:
                self._add(read_skill(folder))

    def _add(self, skill: Skill) -> None:
        if skill.retired:
            self._skills.pop(skill.name, None)  # retired by evolution: no longer chosen
            return
        self._skills[skill.name] = skill

    def __iter__(self) -> Iterator[Skill]:
        return iter(sorted(self._skills.values(), key=lambda s: s.name))

    def __len__(self) -> int:
        return len(self._skills)

    def get(self, name: str) -> Skill:
        try:
            return self._skills[name]
        except KeyError:
            known = ", ".join(s.name for s in self)
            raise SkillError(f"no skill named {name!r}; known: {known}") from None

    def blueprints(self) -> dict[str, Skill]:
        """Blueprint skills by the kind of contribution they serve (the first by name of each)."""
        found: dict[str, Skill] = {}
        for s in self:
            if s.role == "blueprint" and s.kind:
                found.setdefault(s.kind, s)
        return found

    def blueprints_of(self, kind: str) -> list[Skill]:
        """Every blueprint for ``kind``: a user's own beside the built-in one."""
        return [s for s in self if s.role == "blueprint" and s.kind == kind]

    def tree(self, skill: Skill) -> dict[str, Path]:
        """A blueprint's files with those of the skills it extends underneath (its own win)."""
        chain: list[Skill] = []
        at: Skill | None = skill
        while at is not None:
            if at in chain:
                raise SkillError(f"skill {skill.name}: its 'extends' chain loops")
            chain.append(at)
            parent = at.metadata.get("extends")
            at = self.get(parent) if parent else None
        files: dict[str, Path] = {}
        for s in reversed(chain):
            files.update(dict(s.files()))
        return files
