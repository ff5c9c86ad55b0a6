"""The code-acting agent: each step the model writes a thought and Python code, the code runs
in a sandbox session (tools call back to the host), and its output is the next observation.

>>> from smolab.agent import build, run_task
"""

from .build import Session, build, default_run_dir, resume_run, run_task, stream_run
from .errors import AgentError, AgentSetupError, RunNotFoundError
from .guards import Budget, DoomLoop, Spend
from .loop import Agent, AgentOptions
from .memory import RunFolder
from .outcome import Outcome
from .policy import KINDS, Action, Decision, Policy, deny_all, parse_allow
from .step import GRAMMAR, Step, StepFormatError, parse_step
from .tools.base import Tool, Toolbox, ToolError, make_tool

__all__ = [
    "Action",
    "AgentError",
    "Agent",
    "AgentOptions",
    "AgentSetupError",
    "Budget",
    "Decision",
    "DoomLoop",
    "GRAMMAR",
    "KINDS",
    "Outcome",
    "Policy",
    "RunFolder",
    "RunNotFoundError",
    "Session",
    "Spend",
    "Step",
    "StepFormatError",
    "Tool",
    "ToolError",
    "Toolbox",
    "build",
    "default_run_dir",
    "deny_all",
    "make_tool",
    "parse_allow",
    "parse_step",
    "resume_run",
    "run_task",
    "stream_run",
]
