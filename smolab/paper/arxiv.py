"""Papers by arXiv id or URL: the source archive when there is one, the PDF otherwise.

Downloads are cached under ``$SMOLAB_HOME/papers/arxiv/<id>/`` and a cached paper is
never fetched again (``refresh=True`` asks anew and falls back on the cache when
offline). arXiv asks automated clients for one request at a time and at most one
every three seconds; a lock file shared by every smolab process on the machine
enforces both, and 429/503 answers are retried after their Retry-After.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import httpx

from ..runs.files import write_atomic

if TYPE_CHECKING:
    from ..config import Settings
from .errors import PaperReadError

DEFAULT_URL = "https://arxiv.org"
MAX_BYTES = 300_000_000  # arXiv caps submissions far below this; a bigger answer is not a paper

_NEW_ID = r"\d{4}\.\d{4,5}"
_OLD_ID = r"[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7}"
ID = re.compile(rf"(?P<id>{_NEW_ID}|{_OLD_ID})(?P<version>v\d+)?")
_URL_PATH = re.compile(rf"^/(?:abs|pdf|e-print|src|html|format)/(?P<rest>(?:{_NEW_ID}|{_OLD_ID})(?:v\d+)?)")

Progress = Callable[[int, int | None], None]
"""Called with (bytes so far, total bytes or None) while downloading."""
Notice = Callable[[str], None]


def parse_arxiv_id(text: str) -> str | None:
    """``1706.03762``, ``arXiv:1706.03762v7``, ``hep-th/9901001`` or an arxiv.org URL → the id
    (with its version when given); None when ``text`` is none of those."""
    t = text.strip()
    if t.lower().startswith("arxiv:"):
        t = t[6:].strip()
    if "://" in t or t.startswith(("arxiv.org/", "www.arxiv.org/", "export.arxiv.org/")):
        url = urlparse(t if "://" in t else "https://" + t)
        host = (url.hostname or "").lower()
        if not (host == "arxiv.org" or host.endswith(".arxiv.org")):
            return None
        m = _URL_PATH.match(url.path)
        if not m:
            return None
        t = m.group("rest")
    elif t.endswith(".pdf"):
        t = t[:-4]
    m = ID.fullmatch(t)
    return m.group(0) if m else None


def _kind_of(head: bytes) -> str | None:
    """What a downloaded body is, by its first bytes: 'pdf', 'source' or None (not a paper)."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head[:2] == b"\x1f\x8b" or head[:4] == b"PK\x03\x04" or head[257:262] == b"ustar":
        return "source"
    if b"\\documentclass" in head or b"\\begin{document}" in head:
        return "source"  # a bare .tex, served uncompressed
    return None


@dataclass(frozen=True)
class Cached:
    arxiv_id: str
    path: Path
    kind: str  # "source" or "pdf"
    fetched: str


class ArxivClient:
    """Fetches and caches arXiv papers, politely."""

    def __init__(
        self,
        cache_dir: Path,
        base_url: str = DEFAULT_URL,
        interval: float = 3.0,
        timeout: float = 60.0,
        retries: int = 3,
        user_agent: str = "smolab (paper-to-code tool)",
    ):
        self.cache_dir = cache_dir
        self.base_url = base_url.rstrip("/")
        self.interval = interval
        self.timeout = timeout
        self.retries = retries
        self.user_agent = user_agent

    @classmethod
    def from_settings(cls, s: Settings) -> ArxivClient:
        """A client caching under ``$SMOLAB_HOME/papers/arxiv``, with the settings' URL and pacing."""
        return cls(
            s.papers_dir / "arxiv",
            base_url=s.arxiv_url,
            interval=s.arxiv_interval,
            timeout=min(s.request_timeout, 120.0),
            retries=s.retries,
        )

    # -- cache ----------------------------------------------------------------

    def folder(self, arxiv_id: str) -> Path:
        return self.cache_dir / arxiv_id.replace("/", "_")

    def cached(self, arxiv_id: str, kind: str | None = None) -> Cached | None:
        """The cached download of ``arxiv_id`` (of ``kind`` when given), if complete."""
        meta_path = self.folder(arxiv_id) / "meta.json"
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, ValueError):
            return None
        for entry in meta.get("files", []):
            path = self.folder(arxiv_id) / entry["file"]
            if (kind is None or entry["kind"] == kind) and path.is_file():
                return Cached(arxiv_id, path, entry["kind"], entry.get("fetched", ""))
        return None

    def _remember(self, arxiv_id: str, path: Path, kind: str, url: str) -> Cached:
        meta_path = self.folder(arxiv_id) / "meta.json"
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, ValueError):
            meta = {"id": arxiv_id, "files": []}
        fetched = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        files = [e for e in meta["files"] if e["kind"] != kind]
        entry = {"kind": kind, "file": path.name, "url": url, "fetched": fetched}
        files.insert(0 if kind == "source" else len(files), entry)
        meta["files"] = files
        write_atomic(meta_path, json.dumps(meta, indent=1))
        return Cached(arxiv_id, path, kind, fetched)

    # -- network --------------------------------------------------------------

    @contextlib.contextmanager
    def _turn(self) -> Iterator[None]:
        """One request at a time machine-wide, ``interval`` seconds after the previous one began."""
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        with open(self.cache_dir / ".last-request", "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                lock.seek(0)
                try:
                    last = float(lock.read().strip() or 0)
                except ValueError:
                    last = 0.0
                wait = last + self.interval - time.time()
                if wait > 0:
                    time.sleep(min(wait, self.interval))
                lock.seek(0)
                lock.truncate()
                lock.write(f"{time.time():.3f}")
                lock.flush()
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _download(self, url: str, dest: Path, progress: Progress | None) -> int:
        """GET ``url`` into ``dest`` (atomically); the HTTP status, retrying 429/503 politely."""
        status = 503
        for attempt in range(self.retries + 1):
            try:
                status, retry_after = self._get_once(url, dest, progress)
            except (httpx.ReadError, httpx.RemoteProtocolError, httpx.ReadTimeout):
                # cut mid-transfer: the server was reached, so this is not "offline"; try again
                if attempt == self.retries:
                    raise
                continue
            finally:
                dest.with_name(dest.name + ".part").unlink(missing_ok=True)
            if status not in (429, 503) or attempt == self.retries:
                break
            time.sleep(_retry_after(retry_after, self.interval * (attempt + 1)))
        return status

    def _get_once(self, url: str, dest: Path, progress: Progress | None) -> tuple[int, str | None]:
        headers = {"User-Agent": self.user_agent}
        with (
            self._turn(),
            httpx.Client(timeout=self.timeout, follow_redirects=True) as client,
            client.stream("GET", url, headers=headers) as resp,
        ):
            if resp.status_code != 200:
                return resp.status_code, resp.headers.get("Retry-After")
            total = int(resp.headers.get("Content-Length") or 0) or None
            if total and total > MAX_BYTES:
                raise PaperReadError(f"{url} is {total:,} bytes, too big for a paper")
            tmp = dest.with_name(dest.name + ".part")
            done = 0
            with open(tmp, "wb") as out:
                for chunk in resp.iter_bytes(1 << 16):
                    out.write(chunk)
                    done += len(chunk)
                    if done > MAX_BYTES:
                        raise PaperReadError(f"{url} sent over {MAX_BYTES:,} bytes, too big for a paper")
                    if progress:
                        progress(done, total)
            if total and done != total:
                raise httpx.ReadError(f"connection closed after {done:,} of {total:,} bytes")
            os.replace(tmp, dest)
            return 200, None

    def fetch(
        self,
        arxiv_id: str,
        kind: str = "source",
        refresh: bool = False,
        progress: Progress | None = None,
        notice: Notice | None = None,
    ) -> Cached:
        """The paper's source archive (``kind='source'``, falling back on the PDF when arXiv
        has no source) or its PDF (``kind='pdf'``), from the cache when it holds it."""
        have = self.cached(arxiv_id, None if kind == "source" else "pdf")
        if have and not refresh:
            return have
        folder = self.folder(arxiv_id)
        folder.mkdir(parents=True, exist_ok=True)
        url = f"{self.base_url}/{'e-print' if kind == 'source' else 'pdf'}/{arxiv_id}"
        body = folder / "download"
        try:
            status = self._download(url, body, progress)
            if status in (403, 404) and kind == "source":
                # no source (withdrawn source, or PDF-only): the PDF is the paper
                url = f"{self.base_url}/pdf/{arxiv_id}"
                status = self._download(url, body, progress)
        except (httpx.TransportError, OSError) as err:
            if isinstance(err, OSError) and not isinstance(err, ConnectionError):
                raise PaperReadError(f"cannot write the arXiv cache in {folder}: {err}") from err
            if have:
                if notice:
                    notice(
                        f"offline ({type(err).__name__} reaching {self.base_url}): using arXiv "
                        f"{arxiv_id} as cached on {have.fetched}"
                    )
                return have
            raise PaperReadError(
                f"cannot reach {self.base_url} ({type(err).__name__}) and arXiv {arxiv_id} is not in the "
                f"cache ({self.cache_dir}); connect, or download the paper and give its file"
            ) from err
        if status == 404:
            raise PaperReadError(
                f"arXiv has no paper {arxiv_id}; check the id (for example 1706.03762 or "
                "https://arxiv.org/abs/1706.03762)"
            )
        if status != 200:
            raise PaperReadError(f"arXiv answered HTTP {status} for {url}; try again later")
        head = body.read_bytes()[:1024]
        got = _kind_of(head)
        if got is None:
            body.unlink(missing_ok=True)
            raise PaperReadError(f"{url} did not return a PDF or a source archive; is {arxiv_id} right?")
        final = folder / _file_name(got, head)
        os.replace(body, final)
        return self._remember(arxiv_id, final, got, url)


def _retry_after(value: str | None, default: float) -> float:
    try:
        return max(0.0, min(float(value), 120.0)) if value else default
    except ValueError:
        return default


def _file_name(kind: str, head: bytes) -> str:
    if kind == "pdf":
        return "paper.pdf"
    if head[:2] == b"\x1f\x8b":
        return "source.tar.gz"
    if head[:4] == b"PK\x03\x04":
        return "source.zip"
    return "source.tar" if head[257:262] == b"ustar" else "source.tex"
