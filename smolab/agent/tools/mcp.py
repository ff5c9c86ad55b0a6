"""Tools from MCP servers (stdio or streamable HTTP), through the ``mcp`` SDK.

Each server gets one client, kept open for the run on an event loop in a background
thread (the agent loop is synchronous). Its tools become agent tools named
``<server>_<tool>``; a tool the server marks destructive needs approval.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
import re
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path
from typing import Any

from ..errors import AgentSetupError
from ..policy import Action
from .base import Tool, ToolError

JSON_TYPES = {
    "string": "str",
    "integer": "int",
    "number": "float",
    "boolean": "bool",
    "array": "list",
    "object": "dict",
}
CALL_TIMEOUT = 120.0


def _ident(text: str) -> str:
    name = re.sub(r"\W+", "_", text).strip("_") or "tool"
    return f"_{name}" if name[0].isdigit() else name


class McpClient:
    """One connected server; ``call`` is synchronous."""

    def __init__(self, name: str, config: dict[str, Any], log: Path | None = None):
        from anyio.from_thread import start_blocking_portal
        from mcp import Client
        from mcp.client.stdio import StdioServerParameters, stdio_client

        self.name = name
        self._stack = ExitStack()
        if "url" in config:
            target: Any = str(config["url"])
        elif "command" in config:
            params = StdioServerParameters(
                command=str(config["command"]),
                args=[str(a) for a in config.get("args", [])],
                env={str(k): str(v) for k, v in config.get("env", {}).items()} or None,
                cwd=config.get("cwd"),
            )
            # The server's own logging goes to a file, not over the agent's terminal.
            errlog = self._stack.enter_context(open(log or os.devnull, "a"))  # noqa: SIM115
            target = stdio_client(params, errlog=errlog)
        else:
            raise AgentSetupError(f"MCP server {name}: give `command` (stdio) or `url` (streamable HTTP)")
        try:
            self.portal = self._stack.enter_context(start_blocking_portal())
            client_cm: AbstractContextManager[Any] = self.portal.wrap_async_context_manager(
                Client(target, read_timeout_seconds=CALL_TIMEOUT)
            )
            self.client = self._stack.enter_context(client_cm)
            self.tools = self._list()
        except AgentSetupError:
            self.close()
            raise
        except Exception as err:
            self.close()
            raise AgentSetupError(f"MCP server {name} could not be reached: {_why(err)}") from None

    def _list(self) -> list[Any]:
        tools: list[Any] = []
        cursor = None
        while True:
            page = self.portal.call(functools.partial(self.client.list_tools, cursor=cursor))
            tools.extend(page.tools)
            cursor = page.next_cursor
            if not cursor:
                return tools

    def call(self, tool: str, arguments: dict[str, Any]) -> Any:
        try:
            result = self.portal.call(self.client.call_tool, tool, arguments)
        except Exception as err:
            raise ToolError(f"MCP server {self.name} failed on {tool}: {_why(err)}") from None
        texts = [
            getattr(block, "text", "") for block in result.content if getattr(block, "type", "") == "text"
        ]
        if result.is_error:
            raise ToolError(" ".join(texts).strip() or f"{tool} failed on MCP server {self.name}")
        if result.structured_content is not None:
            content = result.structured_content
            # Servers wrap a bare return value as {"result": value}.
            return content["result"] if isinstance(content, dict) and list(content) == ["result"] else content
        return "\n".join(texts)

    def close(self) -> None:
        with contextlib.suppress(Exception):  # a server that already died cannot close more cleanly
            self._stack.close()


def _why(err: BaseException) -> str:
    while isinstance(err, BaseExceptionGroup) and err.exceptions:
        err = err.exceptions[0]
    return f"{type(err).__name__}: {err}".strip().splitlines()[0][:300]


def _signature(schema: dict[str, Any]) -> inspect.Signature:
    props: dict[str, Any] = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    params = []
    for key in sorted(props, key=lambda k: k not in required):
        if not key.isidentifier():
            continue
        kind = props[key].get("type") if isinstance(props[key], dict) else None
        ann = JSON_TYPES.get(kind, "object") if isinstance(kind, str) else "object"
        default = inspect.Parameter.empty if key in required else props[key].get("default")
        params.append(
            inspect.Parameter(key, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default, annotation=ann)
        )
    return inspect.Signature(params)


def _destructive(name: str) -> Callable[[dict[str, Any]], Action]:
    return lambda args: Action("destructive", name, str(args)[:200])


def mcp_tools(client: McpClient) -> list[Tool]:
    out = []
    for spec in client.tools:
        remote = spec.name
        sig = _signature(spec.input_schema or {})

        def fn(_remote: str = remote, _sig: inspect.Signature = sig, **kwargs: Any) -> Any:
            # Arguments left at their default are not sent: the server applies its own.
            given = {k: v for k, v in kwargs.items() if v is not _sig.parameters[k].default}
            return client.call(_remote, given)

        annotations = getattr(spec, "annotations", None)
        destructive = bool(annotations and getattr(annotations, "destructive_hint", False))
        name = _ident(f"{client.name}_{remote}")
        description = (spec.description or f"{remote} from MCP server {client.name}").strip()
        out.append(
            Tool(
                name=name,
                fn=fn,
                description=description.split("\n\n")[0].replace("\n", " ")[:300],
                signature=sig,
                classify=_destructive(name) if destructive else None,
                source=f"mcp:{client.name}",
            )
        )
    return out


def connect_all(
    servers: dict[str, dict[str, Any]], log_dir: Path | None = None
) -> tuple[list[McpClient], list[Tool]]:
    clients: list[McpClient] = []
    tools: list[Tool] = []
    try:
        for name, config in servers.items():
            client = McpClient(name, config, log_dir / f"mcp-{_ident(name)}.log" if log_dir else None)
            clients.append(client)
            tools.extend(mcp_tools(client))
    except BaseException:
        for c in clients:
            c.close()
        raise
    return clients, tools
