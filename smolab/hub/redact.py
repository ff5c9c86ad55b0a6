"""Scrubbing what is shared with a hub: secrets, paths, people and machines out.

The client scrubs evidence before it leaves the machine (``scrub``); the hub checks what
arrives again (``findings``) and refuses a write that still holds anything, so a client that
skipped the first step cannot store a secret. What survives is structure: skill ids, versions,
counts, scores and error signatures. A paper's path keeps only its file name (the case a
replay needs; a folder says who and where).
"""

from __future__ import annotations

import contextlib
import getpass
import re
import socket
from collections.abc import Iterable
from typing import Any

_PEM = r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)"
SECRETS: list[tuple[str, re.Pattern[str]]] = [
    ("private key", re.compile(_PEM)),
    ("API key", re.compile(r"\bsk-(?:ant-|proj-)?[A-Za-z0-9_\-]{16,}")),
    ("API key", re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")),
    ("API key", re.compile(r"\bAIza[0-9A-Za-z_\-]{30,}")),
    ("token", re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr|github_pat)_[A-Za-z0-9_]{20,}")),
    ("token", re.compile(r"\bglpat-[A-Za-z0-9_\-]{16,}")),
    ("token", re.compile(r"\bxox[abprs]-[A-Za-z0-9\-]{10,}")),
    ("token", re.compile(r"\bhf_[A-Za-z0-9]{20,}")),
    ("token", re.compile(r"\bnpm_[A-Za-z0-9]{30,}")),
    ("token", re.compile(r"\bsmolab_[A-Za-z0-9_\-]{20,}")),
    ("token", re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}")),  # JWT
    ("token", re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/\-]{12,}=*")),
    (
        "password",
        re.compile(
            r"(?i)\b(?:password|passwd|pwd|secret|api[_-]?key|access[_-]?key|token)\b"
            r"[\"']?\s*[:=]\s*[\"']?[^\s\"',;]{4,}"
        ),
    ),
    ("password", re.compile(r"(?i)\b[a-z][a-z0-9+.\-]*://[^\s/:@]+:[^\s/@]+@")),  # user:pass@ in a URL
    ("e-mail address", re.compile(r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}\b")),
    ("IP address", re.compile(r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b")),
    (
        "IP address",
        re.compile(r"(?i)\b(?:[0-9a-f]{1,4}:){3,7}[0-9a-f]{1,4}\b|\b[0-9a-f]{1,4}::[0-9a-f:]{2,}"),
    ),
]
SECRET_KINDS = frozenset({"private key", "API key", "token", "password"})
"""What a skill bundle is refused for: a skill is published on purpose, so an address or a path
in its code may belong there, but a credential never does."""
PAPER = re.compile(r"(?i)\.(?:pdf|tex|zip|tar\.gz|tgz)$")
PATH = re.compile(r"(?:~|[A-Za-z]:)?(?:[\\/][^\s\\/:\"'`]+){2,}[\\/]?")
"""An absolute path (two components or more), a home-relative one or a Windows one."""


def local_names() -> list[str]:
    """This machine's user and host names, which a shared record must not carry."""
    names = []
    with contextlib.suppress(KeyError, OSError):
        names.append(getpass.getuser())
    host = socket.gethostname()
    names += [host, host.split(".")[0]]
    return [n for n in dict.fromkeys(names) if len(n) >= 3 and n not in {"root", "user", "localhost"}]


def _path(match: re.Match[str]) -> str:
    text = match.group()
    name = re.split(r"[\\/]", text.rstrip("\\/"))[-1]
    return name if PAPER.search(name) else "<path>"


def scrub_text(text: str, names: Iterable[str] = ()) -> str:
    for label, pattern in SECRETS:
        text = pattern.sub(f"<{label}>", text)
    text = PATH.sub(_path, text)
    for name in names:
        text = re.sub(rf"(?i)(?<![A-Za-z0-9]){re.escape(name)}(?![A-Za-z0-9])", "<name>", text)
    return text


def scrub(value: Any, names: Iterable[str] | None = None) -> Any:
    """``value`` (JSON-like) with every string scrubbed; keys too."""
    names = list(local_names() if names is None else names)
    if isinstance(value, str):
        return scrub_text(value, names)
    if isinstance(value, dict):
        return {scrub_text(str(k), names): scrub(v, names) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(v, names) for v in value]
    return value


def findings(value: Any) -> list[str]:
    """What in ``value`` should not be shared: the kinds found, empty when it is clean (a
    scrubbed paper path is its bare file name, which is not a path)."""
    found: list[str] = []

    def walk(v: Any) -> None:
        if isinstance(v, str):
            for label, pattern in SECRETS:
                if pattern.search(v):
                    found.append(label)
            if PATH.search(v):
                found.append("path")
        elif isinstance(v, dict):
            for k, x in v.items():
                walk(str(k))
                walk(x)
        elif isinstance(v, (list, tuple)):
            for x in v:
                walk(x)

    walk(value)
    return sorted(set(found))
