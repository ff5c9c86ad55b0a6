"""What a run made, for the page: the repository's (or the agent workspace's) files, the
reproduce documents (digest, architecture with its diagrams, REPORT.md, the judge's critique),
and the whole as a zip. Every path asked for is resolved inside the run's folder; one that
leaves it is refused."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from ..runs import RunRef

MOST_FILES = 2000
SHOWN_BYTES = 1024 * 1024
DOCUMENTS = {
    "report": ("REPORT.md", "root"),
    "digest": ("digest.md", "meta"),
    "architecture": ("architecture.md", "meta"),
    "judge": ("judge.json", "meta"),
}


class OutsideRun(ValueError):
    """A path that is not a file of the run."""


def root_of(ref: RunRef) -> Path | None:
    """The folder a run's files are in: a reproduce run's repository, an agent's workspace."""
    if ref.kind() == "reproduce":
        return ref.folder.parent if ref.folder.name == ".smolab" else ref.folder
    workspace = ref.info().get("workspace")
    return Path(workspace) if workspace else None


def files(root: Path) -> list[str]:
    """Its files (relative, sorted), without hidden folders and caches."""
    out: list[str] = []
    if not root.is_dir():
        return out
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if any(part.startswith(".") or part == "__pycache__" for part in rel.parts) or not p.is_file():
            continue
        out.append(rel.as_posix())
        if len(out) == MOST_FILES:
            break
    return out


def inside(root: Path, rel: str) -> Path:
    """``root/rel`` when it is a file inside ``root``; ``OutsideRun`` otherwise."""
    base = root.resolve()
    target = (base / rel).resolve()
    if not target.is_relative_to(base) or target == base:
        raise OutsideRun(f"{rel!r} is not a file of this run")
    if not target.is_file():
        raise OutsideRun(f"{rel!r} is not a file of this run")
    return target


def read(root: Path, rel: str) -> tuple[str, bool]:
    """The file's text (at most ``SHOWN_BYTES``) and whether it was cut."""
    path = inside(root, rel)
    data = path.read_bytes()
    return data[:SHOWN_BYTES].decode("utf-8", errors="replace"), len(data) > SHOWN_BYTES


def document(ref: RunRef, name: str) -> str | None:
    """A reproduce document by its short name, None when the run has none."""
    if name not in DOCUMENTS:
        return None
    file, where = DOCUMENTS[name]
    root = root_of(ref)
    folder = ref.folder if where == "meta" else root
    path = folder / file if folder is not None else None
    return path.read_text(errors="replace") if path is not None and path.is_file() else None


def zipped(root: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for rel in files(root):
            z.write(root / rel, rel)
    return buffer.getvalue()
