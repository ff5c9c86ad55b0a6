"""A real hub for tests: the FastAPI app under uvicorn on a loopback port, in a thread, over a
database the test chooses (a SQLite file, or a PostgreSQL server the test starts)."""

from __future__ import annotations

import contextlib
import getpass
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from smolab.hub.app import Limits, create_app
from smolab.hub.db import HubDB


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serve_in_thread(app: Any, probe: str, expect: int) -> Iterator[str]:
    """``app`` under uvicorn on a free loopback port, in a thread, once ``probe`` answers
    ``expect``; its base URL. It stops when the block ends."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}{probe}", timeout=1).status_code == expect:
                break
        time.sleep(0.05)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def serve_hub(db: HubDB, limits: Limits | None = None) -> contextlib.AbstractContextManager[str]:
    return serve_in_thread(create_app(db, limits), "/v1/health", 200)


def postgres_bin() -> Path | None:
    """The folder of PostgreSQL's server programs (Debian keeps them out of PATH)."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(versions[-1]).parent if versions else None


@contextlib.contextmanager
def postgres() -> Iterator[str]:
    """A throwaway PostgreSQL server on a loopback port; its URL. PostgreSQL refuses to run as
    root, so under root it runs as the ``postgres`` user, in a folder of its own under the
    system's temporary folder (pytest's are closed to other users)."""
    bindir = postgres_bin()
    assert bindir is not None, "PostgreSQL is not installed (install.sh installs Debian's postgresql)"
    folder = Path(tempfile.mkdtemp(prefix="smolab-pg-"))
    port = free_port()
    as_user: list[str] = []
    if os.geteuid() == 0:
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(folder, "postgres")
    user = "postgres" if as_user else getpass.getuser()
    data = folder / "data"

    def run(*args: str) -> None:
        subprocess.run([*as_user, *args], check=True, capture_output=True, timeout=120)

    try:
        run(str(bindir / "initdb"), "-D", str(data), "-U", user, "--auth=trust", "-E", "UTF8")
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c max_connections=100"
        run(
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(folder / "log"),
            "-w",
            "-t",
            "60",
            "start",
            "-o",
            options,
        )
        try:
            run(str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", user, "hub")
            yield f"postgresql+psycopg://{user}@127.0.0.1:{port}/hub"
        finally:
            stop = [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]
            subprocess.run(stop, capture_output=True, timeout=60)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
