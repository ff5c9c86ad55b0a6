"""Moving files in and out of a workspace without following the code's symlinks out of it.

Code in the sandbox can plant a symlink (``out.txt -> /home/me/.ssh/id_rsa``) that
points nowhere inside the sandbox but somewhere real on the host. Every
path is therefore opened component by component relative to the workspace with
O_NOFOLLOW, so no link is ever followed on the host side.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path, PurePosixPath

from .errors import SandboxPathError


def workspace_parts(path: str) -> list[str]:
    """The parts of a path inside the workspace, refusing absolute paths elsewhere and '..'."""
    p = PurePosixPath(path)
    if p.is_absolute():
        p = p.relative_to("/workspace") if p.is_relative_to("/workspace") else p
        if p.is_absolute():
            raise SandboxPathError(f"'{path}' is outside the workspace; give a path relative to it")
    parts = [x for x in p.parts if x not in ("", ".")]
    if not parts or ".." in parts:
        raise SandboxPathError(f"'{path}' is not a file path inside the workspace")
    return parts


def _open_dir(workspace: Path, parts: list[str], create: bool) -> int:
    fd = os.open(workspace, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for name in parts:
            if create:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(name, dir_fd=fd)
            nxt = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = nxt
        return fd
    except OSError as err:
        os.close(fd)
        raise SandboxPathError(
            f"'{'/'.join(parts)}' is not a plain folder inside the workspace ({err.strerror})"
        ) from err


def read_workspace_file(workspace: Path, path: str, limit: int = 512 * 1024 * 1024) -> bytes:
    parts = workspace_parts(path)
    dfd = _open_dir(workspace, parts[:-1], create=False)
    try:
        fd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dfd)
    except OSError as err:
        raise SandboxPathError(f"cannot read '{path}' from the workspace: {err.strerror}") from err
    finally:
        os.close(dfd)
    try:
        st = os.fstat(fd)
        import stat

        if not stat.S_ISREG(st.st_mode):
            raise SandboxPathError(f"'{path}' is not a regular file")
        if st.st_size > limit:
            raise SandboxPathError(f"'{path}' is {st.st_size:,} bytes, over the {limit:,}-byte limit")
        chunks, total = [], 0
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise SandboxPathError(f"'{path}' grew past the {limit:,}-byte limit while being read")
        return b"".join(chunks)
    finally:
        os.close(fd)


def write_workspace_file(workspace: Path, path: str, data: bytes) -> None:
    parts = workspace_parts(path)
    dfd = _open_dir(workspace, parts[:-1], create=True)
    try:
        fd = os.open(parts[-1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644, dir_fd=dfd)
    except OSError as err:
        raise SandboxPathError(f"cannot write '{path}' into the workspace: {err.strerror}") from err
    finally:
        os.close(dfd)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def workspace_size(workspace: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(workspace, followlinks=False):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
    return total


def check_disk(workspace: Path, limit: int) -> str:
    """A one-line complaint if the workspace is over ``limit`` bytes, else ''."""
    size = workspace_size(workspace)
    if size > limit:
        return f"the workspace holds {size:,} bytes, over its {limit:,}-byte limit; delete files to continue"
    return ""
