"""Where runs live. A run folder holds ``run.json`` (what was asked, with which settings) and
``trajectory.jsonl``. An agent run's folder is ``$SMOLAB_HOME/runs/ID/``; a reproduce run's is
the ``.smolab/`` beside the repository it writes, and ``$SMOLAB_HOME/runs/ID/link.json`` points
there, so every run, of either kind, is found from the home folder alone."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import UnknownRun
from .events import Kind
from .files import write_atomic
from .trajectory import Trajectory

LINK = "link.json"


def new_run_id(what: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", what.lower()).strip("-")[:32].strip("-") or "run"
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{slug}"


@dataclass(frozen=True)
class RunRef:
    id: str
    folder: Path
    """The folder with run.json and trajectory.jsonl."""

    @property
    def trajectory(self) -> Trajectory:
        return Trajectory(self.folder / "trajectory.jsonl")

    def info(self) -> dict[str, Any]:
        try:
            data = json.loads((self.folder / "run.json").read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def kind(self) -> Kind:
        info = self.info()
        kind = info.get("kind")
        if kind in ("agent", "reproduce"):
            return kind  # type: ignore[no-any-return]
        return "reproduce" if "paper" in info else "agent"


def link(runs_dir: Path, run_id: str, folder: Path) -> None:
    """Make the run in ``folder`` (outside the home folder) findable by its id."""
    write_atomic(runs_dir / run_id / LINK, json.dumps({"folder": str(folder.resolve())}))


def _ref(entry: Path) -> RunRef | None:
    if (entry / "run.json").is_file():
        return RunRef(entry.name, entry)
    try:
        target = Path(json.loads((entry / LINK).read_text())["folder"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return RunRef(entry.name, target) if (target / "run.json").is_file() else None


def all_runs(runs_dir: Path) -> list[RunRef]:
    """Every run findable from ``runs_dir`` (a link whose target is gone is skipped)."""
    if not runs_dir.is_dir():
        return []
    refs = (_ref(entry) for entry in sorted(runs_dir.iterdir()) if entry.is_dir())
    return [r for r in refs if r is not None]


def locate(runs_dir: Path, id_or_folder: str) -> RunRef:
    """A run by its id, a unique prefix of it, or its folder (a reproduce run's repository too)."""
    path = Path(id_or_folder)
    for candidate in (path, path / ".smolab"):
        if (candidate / "run.json").is_file():
            info = RunRef(candidate.name, candidate).info()
            named = candidate.resolve()
            return RunRef(
                str(info.get("id") or (named.parent if named.name == ".smolab" else named).name), candidate
            )
    entry = runs_dir / id_or_folder
    if entry.is_dir() and (ref := _ref(entry)) is not None:
        return ref
    matches = [r for r in all_runs(runs_dir) if r.id.startswith(id_or_folder)] if id_or_folder else []
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise UnknownRun(f"{id_or_folder!r} matches {len(matches)} runs; give more of the id")
    raise UnknownRun(f"no run {id_or_folder!r}; `smolab runs` lists them")
