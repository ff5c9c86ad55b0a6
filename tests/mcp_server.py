"""A real MCP server for the agent's tests: stdio by default, streamable HTTP with ``http PORT``."""

import sys

from mcp.server.mcpserver import MCPServer
from mcp_types import ToolAnnotations

server = MCPServer("smolab-test")


@server.tool()
def add(a: int, b: int = 1) -> int:
    """Add two integers."""
    return a + b


@server.tool(annotations=ToolAnnotations(destructive_hint=True))
def wipe(target: str) -> str:
    """Erase everything in a target."""
    return f"wiped {target}"


@server.tool()
def fail(message: str) -> str:
    """Always fails with the message given."""
    raise ValueError(message)


if __name__ == "__main__":
    if sys.argv[1:2] == ["http"]:
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run()
