"""Errors of the agent that a user can act on.

::

    AgentError
    ├── AgentSetupError    bad agent settings: a tool that cannot load, an unknown approval kind
    ├── RunNotFoundError   --resume named something that is not an agent run
    ├── RunFinishedError   --resume named a run that has nothing left to do
    └── SandboxSetupError  the sandbox session could not be prepared for the run
"""

from __future__ import annotations

from ..errors import SmolabError


class AgentError(SmolabError):
    pass


class AgentSetupError(AgentError):
    exit_code = 2


class RunNotFoundError(AgentError):
    exit_code = 2


class RunFinishedError(AgentError):
    exit_code = 2


class SandboxSetupError(AgentError):
    """The sandbox started but the run's prelude (tools, imports, guards) failed in it."""
