"""What a batch holds: its items (papers to reproduce, tasks for the agent), each with its own
folder under the batch folder, listed in ``batch.json`` there. Running the same command on
the same folder again finds every item's folder again, which is what makes a batch resumable."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ValidationError

from ..paper.arxiv import parse_arxiv_id
from ..runs import new_run_id, write_atomic
from .errors import BatchError

Kind = Literal["reproduce", "agent"]
MANIFEST = "batch.json"
MOST_ITEMS = 10_000


class Item(BaseModel):
    key: str
    """The item's folder under the batch folder (unique in the batch)."""
    kind: Kind
    what: str
    """The paper (an absolute path, or an arXiv id) or the agent's task."""
    run: str = ""
    """An agent run's id, which names its folder (a reproduce run keeps its id in run.json)."""

    def root(self, out: Path) -> Path:
        """A reproduce run's repository, or the folder an agent run keeps its two parts in."""
        return out / self.key

    def run_folder(self, out: Path) -> Path:
        """The folder with run.json and trajectory.jsonl."""
        return self.root(out) / (".smolab" if self.kind == "reproduce" else self.run or "run")

    def workspace(self, out: Path) -> Path:
        return self.root(out) / "workspace"


class Manifest(BaseModel):
    version: int = 1
    items: list[Item] = []


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40].strip("-") or "item"


def paper_argument(text: str, cwd: Path) -> str:
    """A paper as a worker can find it from anywhere: an existing file as an absolute path, an
    arXiv id or URL as it is; anything else is refused before the batch starts."""
    path = (cwd / text).expanduser()
    if path.is_file():
        return str(path.resolve())
    if parse_arxiv_id(text) is not None:
        return text
    if path.is_dir():
        raise BatchError(f"{text} is a folder; give the paper's .pdf, .tex or source archive")
    raise BatchError(f"no paper at {text}: give a .pdf, .tex or source archive, or an arXiv id")


def read_tasks(path: Path) -> list[str]:
    """The agent tasks in a text file: one per line; blank lines and lines starting # skipped."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise BatchError(f"cannot read the tasks file {path}: {err}") from None
    tasks = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not tasks:
        raise BatchError(f"{path} lists no task: write one task per line")
    return tasks


def read_manifest(out: Path) -> Manifest:
    path = out / MANIFEST
    if not path.is_file():
        return Manifest()
    try:
        return Manifest.model_validate(json.loads(path.read_text()))
    except (OSError, ValueError, ValidationError):
        raise BatchError(f"{path} is damaged; move it aside to start the batch afresh in {out}") from None


def plan(papers: Sequence[str], tasks: Sequence[str], out: Path, cwd: Path | None = None) -> list[Item]:
    """The items of this batch in order, each at the folder it had when this folder last ran a
    batch (a new item gets a new key); the manifest is written before anything runs."""
    if not papers and not tasks:
        raise BatchError("nothing to run: give papers, or --tasks FILE with one agent task per line")
    if len(papers) + len(tasks) > MOST_ITEMS:
        raise BatchError(f"{len(papers) + len(tasks)} items: a batch holds at most {MOST_ITEMS:,}")
    if out.exists() and not out.is_dir():
        raise BatchError(f"{out} is a file; give a folder for the batch")
    cwd = cwd or Path.cwd()
    wanted: list[tuple[Kind, str]] = [("reproduce", paper_argument(p, cwd)) for p in papers]
    wanted += [("agent", t) for t in tasks]
    manifest = read_manifest(out)
    known = {(i.kind, i.what): i for i in manifest.items}
    taken = {i.key for i in manifest.items}
    items: list[Item] = []
    for kind, what in dict.fromkeys(wanted):  # a paper given twice runs once
        item = known.get((kind, what))
        if item is None:
            local = kind == "reproduce" and Path(what).is_absolute()
            base = _slug(Path(what).stem if local else what)
            key, n = base, 2
            while key in taken:
                key, n = f"{base}-{n}", n + 1
            taken.add(key)
            item = Item(key=key, kind=kind, what=what, run=new_run_id(key) if kind == "agent" else "")
            manifest.items.append(item)
        items.append(item)
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / MANIFEST, manifest.model_dump_json(indent=1))
    return items
