"""Skill bundles on the wire: a zip of the skill folder's files, checked before anything is
written. The same check runs on the hub (a push) and on the client (a pull), so neither trusts
the other: no links, no absolute or climbing paths, at most ``MOST_FILES`` files and
``MOST_BYTES`` unpacked (a small zip can unpack to gigabytes), and a valid skill whose name is
the one claimed."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path, PurePosixPath

from ..skills import Skill, SkillError, read_skill
from ..skills.store import MOST_BYTES, MOST_FILES, bundle_files

MOST_ZIP_BYTES = 4 * 1024 * 1024


class BundleError(ValueError):
    """A bundle refused, with the one line that says why."""


def pack(folder: Path) -> bytes:
    """The skill folder's files (the store's rules: no links, within the limits) as a zip."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for path in bundle_files(folder):
            z.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


def unpack(data: bytes, name: str, into: Path) -> Skill:
    """Check the bundle and write it to ``into/NAME``; the skill it holds. ``BundleError`` with
    one line for anything refused; nothing is written before every entry passed."""
    if len(data) > MOST_ZIP_BYTES:
        raise BundleError(f"the bundle is {len(data):,} bytes; at most {MOST_ZIP_BYTES:,} are accepted")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except zipfile.BadZipFile:
        raise BundleError("the bundle is not a zip archive; send the skill folder zipped") from None
    files = [e for e in entries if not e.is_dir()]
    if len(files) > MOST_FILES:
        raise BundleError(f"the bundle holds {len(files)} files; a skill may hold at most {MOST_FILES}")
    if sum(e.file_size for e in files) > MOST_BYTES:
        raise BundleError(
            f"the bundle unpacks to more than {MOST_BYTES:,} bytes; a skill may hold at most that"
        )
    for e in entries:
        path = PurePosixPath(e.filename)
        if "\\" in e.filename or path.is_absolute() or ".." in path.parts or ":" in e.filename:
            raise BundleError(f"the bundle's entry {e.filename!r} points outside the skill's folder")
        if stat.S_ISLNK(e.external_attr >> 16):
            raise BundleError(f"the bundle's entry {e.filename!r} is a link; a skill holds plain files only")
    if "SKILL.md" not in {e.filename for e in files}:
        raise BundleError("the bundle has no SKILL.md at its top; zip the skill folder's contents")
    target = into / name
    target.mkdir(parents=True)
    for e in files:
        dest = target / e.filename
        dest.parent.mkdir(parents=True, exist_ok=True)
        with archive.open(e) as src:
            content = src.read(MOST_BYTES + 1)
        if len(content) != e.file_size:
            raise BundleError(f"the bundle's entry {e.filename!r} is not the size its header says")
        dest.write_bytes(content)
    try:
        skill = read_skill(target)
    except SkillError as err:
        raise BundleError(str(err).replace(str(target), name)) from None
    if skill.name != name:
        raise BundleError(f"the bundle holds the skill {skill.name!r}, not {name!r}")
    return skill
