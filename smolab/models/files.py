"""Model files on disk: checksums, and a stamp so a verified file is not re-hashed every load."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from pathlib import Path

from .errors import CorruptModelError

CHUNK = 8 * 1024 * 1024

Progress = Callable[[int, int], None]
"""Called with (bytes done, bytes total)."""


def sha256_file(path: Path, progress: Progress | None = None) -> str:
    h = hashlib.sha256()
    total, done = path.stat().st_size, 0
    with path.open("rb") as f:
        while block := f.read(CHUNK):
            h.update(block)
            done += len(block)
            if progress:
                progress(done, total)
    return h.hexdigest()


def _stamp_path(path: Path, stamps: Path) -> Path:
    key = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]
    return stamps / f"{path.name}.{key}.json"


def verify_file(
    path: Path,
    size: int | None,
    sha256: str | None,
    stamps: Path,
    label: str,
    fix_hint: str,
    progress: Progress | None = None,
) -> None:
    """Check ``path`` against its expected size and sha256, raising CorruptModelError on mismatch.

    A passing check is remembered by (size, mtime); an unchanged file is then
    trusted without hashing again, which matters for half-gigabyte GGUFs.
    """
    st = path.stat()
    if size is not None and st.st_size != size:
        raise CorruptModelError(f"{label}: {path} is {st.st_size:,} bytes, expected {size:,}; {fix_hint}")
    if sha256 is None:
        return
    stamp = _stamp_path(path, stamps)
    seen = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha256}
    try:
        if json.loads(stamp.read_text()) == seen:
            return
    except (OSError, ValueError):
        pass
    actual = sha256_file(path, progress)
    if actual != sha256:
        raise CorruptModelError(
            f"{label}: {path} has sha256 {actual[:12]}…, expected {sha256[:12]}…; {fix_hint}"
        )
    stamps.mkdir(parents=True, exist_ok=True)
    stamp.write_text(json.dumps(seen))


def concatenate(
    parts: Iterable[Path],
    dest: Path,
    size: int,
    sha256: str,
    label: str,
    fix_hint: str,
    progress: Progress | None = None,
) -> None:
    """Join ``parts`` into ``dest`` atomically, hashing on the way; refuse a mismatch."""
    parts = list(parts)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".partial")
    h = hashlib.sha256()
    done = 0
    try:
        with tmp.open("wb") as out:
            for part in parts:
                with part.open("rb") as f:
                    while block := f.read(CHUNK):
                        out.write(block)
                        h.update(block)
                        done += len(block)
                        if progress:
                            progress(done, size)
        if done != size:
            raise CorruptModelError(
                f"{label}: the parts add up to {done:,} bytes, expected {size:,}; {fix_hint}"
            )
        if h.hexdigest() != sha256:
            raise CorruptModelError(
                f"{label}: assembled file has sha256 {h.hexdigest()[:12]}…, "
                f"expected {sha256[:12]}…; {fix_hint}"
            )
        tmp.replace(dest)
    finally:
        tmp.unlink(missing_ok=True)
