"""A small MCP tool server written with the official SDK, for the tests: run as
`python tests/unit/tools/mcp_server.py` (stdio), or with `--http PORT` (streamable HTTP on
127.0.0.1). `--broken` exits before the handshake."""

from __future__ import annotations

import os
import sys
import time

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

server = MCPServer("inkwell-test")


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@server.tool()
def refuse(reason: str = "no") -> str:
    """Always fails, saying why."""
    raise ToolError(f"refused: {reason}")


@server.tool()
def nap(seconds: float) -> str:
    """Sleeps (a tool that hangs)."""
    time.sleep(seconds)
    return "awake"


@server.tool()
def crash() -> str:
    """Kills the server mid-call."""
    os._exit(3)


if __name__ == "__main__":
    if "--broken" in sys.argv:
        sys.exit("this server is broken on purpose")
    if "--http" in sys.argv:
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[sys.argv.index("--http") + 1]))
    else:
        server.run()
