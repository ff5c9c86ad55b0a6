"""Errors raised by the sandbox (not by the code it runs: that is a RunResult).

::

    SandboxError
    ├── SandboxUnavailableError   isolation tool missing (says how to install it)
    └── SandboxPathError          a file path outside the workspace, or a link out of it
"""

from __future__ import annotations

from ..errors import SmolabError


class SandboxError(SmolabError):
    pass


class SandboxUnavailableError(SandboxError):
    pass


class SandboxPathError(SandboxError):
    pass
