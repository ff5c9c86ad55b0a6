"""A run is a folder: the repository being written, and ``.smolab/`` beside it holding
every stage's artifact, a marker per finished step and the trajectory.

Every write is atomic (a temporary file renamed over the target), and a step's
marker is written only after its artifacts, so a run killed at any moment (kill -9
included) resumes from its last finished step and never redoes one.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..runs import RunRef, Trajectory, new_run_id, write_atomic
from ..runs.events import DIFF_CHARS, FileWritten
from .errors import RunFolderError

META = ".smolab"


@dataclass
class StepRecord:
    """What a finished step cost; its marker's content."""

    key: str
    stage: str
    seconds: float = 0.0
    calls: int = 0
    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    result: dict[str, Any] = field(default_factory=dict)


def fingerprint(paper: str) -> str:
    """What identifies the paper of a run: the file's sha256, or the arXiv id as given."""
    path = Path(paper)
    if path.is_file():
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        return "sha256:" + h.hexdigest()
    return "id:" + paper.strip()


class RunDir:
    def __init__(self, root: Path):
        self.root = root
        self.meta = root / META
        self.trajectory = Trajectory(self.meta / "trajectory.jsonl")

    # -- opening ----------------------------------------------------------------

    @classmethod
    def open(cls, root: Path, paper: str, model: str, resume: bool, force: bool) -> RunDir:
        """The run folder for ``paper`` at ``root``: new, resumed, or refused with the reason."""
        run = cls(root)
        ident = fingerprint(paper)
        if root.exists() and not root.is_dir():
            raise RunFolderError(f"{root} is a file; give a folder for the repository")
        info = run.info()
        if info is not None and not force:
            if info.get("paper_id") != ident:
                raise RunFolderError(
                    f"{root} holds a run of another paper ({info.get('paper')}); choose another --out, "
                    "or --force to start over there"
                )
            if not resume:
                raise RunFolderError(
                    f"{root} already holds a run of this paper; --resume to continue it, "
                    "--force to start over"
                )
            if not info.get("id"):  # a run from before runs had ids
                run.save_json(
                    "run.json", {**info, "kind": "reproduce", "id": new_run_id(root.resolve().name)}
                )
            return run
        if resume and info is None:
            raise RunFolderError(f"--resume: {root} holds no smolab run to continue")
        if info is None and root.is_dir() and any(root.iterdir()) and not force:
            raise RunFolderError(
                f"{root} is not empty and holds no smolab run; choose a new folder, "
                "or --force to write into it"
            )
        if force:
            run.clear()
        run.meta.mkdir(parents=True, exist_ok=True)
        run.save_json(
            "run.json",
            {
                "kind": "reproduce",
                "id": new_run_id(root.resolve().name),
                "paper": paper,
                "paper_id": ident,
                "model": model,
                "started": time.strftime("%Y-%m-%d %H:%M:%S"),
            },
        )
        return run

    def info(self) -> dict[str, Any] | None:
        data = self.load_json("run.json")
        return data if isinstance(data, dict) else None

    def ref(self) -> RunRef:
        return RunRef(str((self.info() or {}).get("id") or self.root.resolve().name), self.meta)

    def clear(self) -> None:
        """Remove what an earlier run wrote (its files and its .smolab/), not anything else."""
        written = self.load_json("files.json") or {}
        for name in written:
            target = self.root / name
            if target.is_file():
                target.unlink()
        if self.meta.exists():
            shutil.rmtree(self.meta)

    # -- artifacts ----------------------------------------------------------------

    def path(self, name: str) -> Path:
        return self.meta / name

    def save_text(self, name: str, text: str) -> None:
        write_atomic(self.meta / name, text)

    def load_text(self, name: str) -> str | None:
        try:
            return (self.meta / name).read_text()
        except FileNotFoundError:
            return None

    def save_json(self, name: str, data: Any) -> None:
        write_atomic(self.meta / name, json.dumps(data, indent=1, ensure_ascii=False))

    def load_json(self, name: str) -> Any:
        text = self.load_text(name)
        if text is None:
            return None
        try:
            return json.loads(text)
        except ValueError as err:
            raise RunFolderError(f"{self.meta / name} is damaged ({err}); --force to start over") from err

    def write_file(self, name: str, text: str) -> None:
        """A file of the generated repository, remembered so --force can remove it later."""
        target = (self.root / name).resolve()
        if self.root.resolve() not in target.parents:
            raise RunFolderError(f"refusing to write {name}: outside {self.root}")
        before = target.read_text(errors="replace") if target.is_file() else None
        write_atomic(target, text)
        diff = ""
        if before is not None and before != text:
            lines = difflib.unified_diff(
                before.splitlines(keepends=True), text.splitlines(keepends=True), f"a/{name}", f"b/{name}"
            )
            diff = "".join(lines)[:DIFF_CHARS]
        self.trajectory.append(FileWritten(path=name, bytes=len(text.encode()), diff=diff))
        written = self.load_json("files.json") or {}
        if name not in written:
            written[name] = True
            self.save_json("files.json", written)

    def read_file(self, name: str) -> str:
        return (self.root / name).read_text(errors="replace")

    def repo_files(self) -> list[str]:
        """The repository's files (relative names), without .smolab/ and caches."""
        out = []
        for p in sorted(self.root.rglob("*")):
            rel = p.relative_to(self.root)
            hidden = any(part.startswith(".") or part == "__pycache__" for part in rel.parts)
            if p.is_file() and not hidden:
                out.append(str(rel))
        return out

    # -- steps ----------------------------------------------------------------

    def _marker(self, key: str) -> Path:
        return self.meta / "steps" / (key.replace("/", "__") + ".json")

    def done(self, key: str) -> StepRecord | None:
        try:
            data = json.loads(self._marker(key).read_text())
        except (FileNotFoundError, ValueError):
            return None
        return StepRecord(**data)

    def finish(self, record: StepRecord) -> None:
        write_atomic(self._marker(record.key), json.dumps(asdict(record), indent=1))

    def forget(self, prefix: str) -> None:
        """Drop the markers of steps whose key starts with ``prefix`` (so they run again)."""
        folder = self.meta / "steps"
        if folder.is_dir():
            for p in folder.glob(prefix.replace("/", "__") + "*.json"):
                p.unlink()

    def records(self) -> list[StepRecord]:
        folder = self.meta / "steps"
        if not folder.is_dir():
            return []
        recs = [StepRecord(**json.loads(p.read_text())) for p in folder.glob("*.json")]
        return sorted(recs, key=lambda r: self._marker(r.key).stat().st_mtime)
