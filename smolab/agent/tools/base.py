"""Tools: plain Python functions with type hints and a docstring, run on the host.

The agent's code runs in the sandbox, where each tool is a stub of the same signature
that calls back to the host (``__host_call__``). The host checks the call against the
approval policy before running the function, so sandboxed code cannot skip the gate.
"""

from __future__ import annotations

import inspect
import json
import keyword
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..policy import Action

Classifier = Callable[[dict[str, Any]], Action | None]
"""Given a call's bound arguments, the sensitive action it is (None: nothing to approve)."""


class ToolError(Exception):
    """A tool could not do what was asked; the message (one line) goes back to the agent's code."""


@dataclass
class Tool:
    name: str
    fn: Callable[..., Any]
    description: str
    signature: inspect.Signature
    classify: Classifier | None = None
    stops: bool = False
    """Calling it ends the running step (``final_answer``)."""
    source: str = "builtin"

    @property
    def header(self) -> str:
        """``name(arg: type = default) -> type``, as the model sees it."""
        return f"{self.name}{_render_signature(self.signature)}"

    def bind(self, args: list[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
        try:
            bound = self.signature.bind(*args, **kwargs)
        except TypeError as err:
            raise ToolError(f"{self.name}{_render_signature(self.signature)}: {err}") from None
        bound.apply_defaults()
        return dict(bound.arguments)


def _annotation(a: Any) -> str:
    if a is inspect.Parameter.empty:
        return ""
    if isinstance(a, str):
        return a
    return getattr(a, "__name__", None) or str(a).replace("typing.", "")


def _render_signature(sig: inspect.Signature) -> str:
    parts = []
    for p in sig.parameters.values():
        text = p.name
        ann = _annotation(p.annotation)
        if ann:
            text += f": {ann}"
        if p.default is not inspect.Parameter.empty:
            text += f" = {p.default!r}" if ann else f"={p.default!r}"
        parts.append(text)
    ret = _annotation(sig.return_annotation)
    return f"({', '.join(parts)})" + (f" -> {ret}" if ret else "")


def make_tool(
    fn: Callable[..., Any],
    *,
    name: str | None = None,
    classify: Classifier | None = None,
    stops: bool = False,
    source: str = "builtin",
) -> Tool:
    """A Tool from a function; its docstring's first paragraph is what the model reads."""
    tool_name = name or fn.__name__
    if not tool_name.isidentifier() or keyword.iskeyword(tool_name):
        raise ValueError(f"tool name {tool_name!r} is not a Python identifier")
    doc = inspect.getdoc(fn) or ""
    if not doc.strip():
        raise ValueError(f"tool {tool_name} has no docstring; the model needs one to know what it does")
    sig = inspect.signature(fn)
    for p in sig.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise ValueError(f"tool {tool_name}: *args and **kwargs are not supported")
        if p.default is not inspect.Parameter.empty:
            try:
                json.dumps(p.default)
            except TypeError:
                raise ValueError(f"tool {tool_name}: default of {p.name} must be plain data") from None
    description = doc.strip().split("\n\n")[0].replace("\n", " ")
    return Tool(tool_name, fn, description, sig, classify, stops, source)


def stub_source(tool: Tool) -> str:
    """The sandbox-side definition: same signature, forwards every argument to the host."""
    params = []
    for p in tool.signature.parameters.values():
        params.append(p.name if p.default is inspect.Parameter.empty else f"{p.name}={p.default!r}")
    names = [p.name for p in tool.signature.parameters.values()]
    kwargs = "{" + ", ".join(f"{n!r}: {n}" for n in names) + "}"
    doc = tool.description.replace('"""', "'''")
    body = f'"""{doc}"""\nreturn __host_call__({tool.name!r}, [], {kwargs})'
    return f"def {tool.name}({', '.join(params)}):\n{textwrap.indent(body, '    ')}\n"


@dataclass
class ToolCall:
    """One call of a tool during a step, as the trajectory keeps it."""

    tool: str
    arguments: dict[str, Any]
    ok: bool
    result: str
    """The result or error, shortened."""
    decision: str | None = None
    seconds: float = 0.0


@dataclass
class Toolbox:
    tools: dict[str, Tool] = field(default_factory=dict)

    def add(self, tool: Tool) -> None:
        if tool.name in self.tools:
            raise ValueError(
                f"two tools are named {tool.name} ({self.tools[tool.name].source} and {tool.source})"
            )
        self.tools[tool.name] = tool

    def extend(self, tools: list[Tool]) -> None:
        for t in tools:
            self.add(t)

    def prelude(self) -> str:
        """Code run once in a new sandbox session: one stub per tool."""
        return "\n".join(stub_source(t) for t in self.tools.values())

    def describe(self) -> str:
        """The tool list for the system prompt: one line each."""
        return "\n".join(f"- {t.header}: {t.description}" for t in self.tools.values())
