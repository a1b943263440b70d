"""The MCP host: the user's tool servers, reached through the official `mcp` SDK.

A server is a command (stdio: the SDK starts it, as the user wrote it, with the user's
environment) or a streamable-HTTP URL. Each listing or call connects, does its work and
closes, on the calling thread, inside a time limit (anyio.run: the SDK is async): nothing
stays running between calls, and a server that hangs or dies costs that call alone.
Everything that can go wrong comes back as a plain message: a listing raises a UserError,
a call returns an error result that the model sees and the user is shown.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TextIO, TypeVar, cast

import anyio
from mcp import Client, MCPError, StdioServerParameters, stdio_client
from mcp.types import TextContent

from desktop_app.core.errors import UserError
from desktop_app.core.i18n import translate

LIST_TIMEOUT_S = 20.0
CALL_TIMEOUT_S = 60.0
NAME = re.compile(r"[A-Za-z0-9_-]{1,40}")  # a server's name: also the prefix of its tools' names
T = TypeVar("T")


@dataclass(frozen=True)
class McpServer:
    """A tool server the user added: `command` (stdio) or `url` (streamable HTTP)."""

    name: str
    command: tuple[str, ...] = ()
    url: str | None = None

    def __post_init__(self) -> None:
        if not NAME.fullmatch(self.name):
            raise UserError(
                translate("Errors", "A tool server's name must be 1 to 40 letters, digits, dashes or underscores.")
            )
        if bool(self.command) == bool(self.url):
            raise UserError(translate("Errors", "A tool server is either a command or a URL."))
        if self.url is not None and not self.url.startswith(("http://", "https://")):
            raise UserError(translate("Errors", "A tool server's URL must start with http:// or https://."))

    @property
    def where(self) -> str:
        """The command line or the URL, as the user gave it."""
        return self.url or " ".join(self.command)

    def to_dict(self) -> dict[str, Any]:
        return {"command": list(self.command)} if self.command else {"url": self.url}

    @classmethod
    def from_dict(cls, name: str, data: dict[str, Any]) -> McpServer:
        return cls(name, tuple(str(part) for part in data.get("command") or ()), data.get("url"))


@dataclass(frozen=True)
class ToolInfo:
    """A tool as the model is told of it."""

    server: str  # the server's name, or "builtin"
    name: str
    description: str
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})

    def definition(self, exposed_name: str | None = None) -> dict[str, Any]:
        """OpenAI's tool definition (under `exposed_name` where two servers share a name)."""
        return {
            "type": "function",
            "function": {"name": exposed_name or self.name, "description": self.description, "parameters": self.schema},
        }


@dataclass(frozen=True)
class ToolResult:
    text: str
    error: bool = False


def list_tools(server: McpServer, timeout_s: float = LIST_TIMEOUT_S) -> list[ToolInfo]:
    """The server's tools; a UserError says why they could not be listed."""

    async def listing(client: Client) -> list[ToolInfo]:
        listed = await client.list_tools()
        return [ToolInfo(server.name, t.name, t.description or "", dict(t.input_schema or {})) for t in listed.tools]

    try:
        return _session(server, timeout_s, listing)
    except _Failure as failure:
        raise UserError(failure.message) from None


def call_tool(server: McpServer, name: str, arguments: dict[str, Any], timeout_s: float = CALL_TIMEOUT_S) -> ToolResult:
    """Call a tool; whatever happens comes back as a result (an error one if it failed)."""

    async def calling(client: Client) -> ToolResult:
        result = await client.call_tool(name, arguments, read_timeout_seconds=timeout_s)
        parts = [part.text for part in result.content if isinstance(part, TextContent)]
        if not parts and result.structured_content is not None:
            parts = [str(result.structured_content)]
        return ToolResult("\n".join(parts), bool(result.is_error))

    try:
        return _session(server, timeout_s, calling)
    except _Failure as failure:
        return ToolResult(failure.message, error=True)


class _Failure(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _session(server: McpServer, timeout_s: float, work: Callable[[Client], Awaitable[T]]) -> T:
    """Connect, do `work`, close: within `timeout_s` (plus the SDK's few seconds to stop a
    stdio server), on this thread. _Failure with the user's message otherwise."""
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as stderr:
        errors = cast(TextIO, stderr)

        async def run() -> T:
            with anyio.fail_after(timeout_s + 5):
                async with Client(_transport(server, errors), read_timeout_seconds=timeout_s, mode="legacy") as client:
                    return await work(client)

        try:
            return anyio.run(run)
        except BaseException as exc:  # the SDK's task groups wrap what went wrong
            leaf = _leaf(exc)
            if isinstance(leaf, KeyboardInterrupt | SystemExit):
                raise
            raise _Failure(_explain(server, leaf, timeout_s, _tail(errors))) from None


def _transport(server: McpServer, errors: TextIO) -> Any:
    if server.url is not None:
        return server.url
    command, *args = server.command
    parameters = StdioServerParameters(command=command, args=args, env=user_environment())
    return stdio_client(parameters, errlog=errors)


def user_environment() -> dict[str, str]:
    """The user's environment, for the programs they named. Inside the installed app the
    bundle's folder is first on the library path (PyInstaller saves the user's own as
    *_ORIG): a server started with it would load the bundle's libraries, not its own."""
    environment = dict(os.environ)
    if getattr(sys, "frozen", False):
        for name in ("LD_LIBRARY_PATH", "DYLD_LIBRARY_PATH", "LIBPATH"):
            original = environment.pop(f"{name}_ORIG", None)
            if original is not None:
                environment[name] = original
            else:
                environment.pop(name, None)
    return environment


def _leaf(exc: BaseException) -> BaseException:
    """The first error inside (nested) exception groups (duck-typed: Python 3.10 has none)."""
    inner = getattr(exc, "exceptions", None)
    while isinstance(inner, list | tuple) and inner and isinstance(inner[0], BaseException):
        exc = inner[0]
        inner = getattr(exc, "exceptions", None)
    return exc


def _tail(errors: TextIO) -> str:
    """The last line the server wrote to its error output (why it stopped, often)."""
    try:
        errors.seek(0)
        lines = [line.strip() for line in errors.read()[-4000:].splitlines() if line.strip()]
    except (OSError, ValueError):
        return ""
    return lines[-1][:300] if lines else ""


def _explain(server: McpServer, exc: BaseException, timeout_s: float, stderr: str) -> str:
    said = f" ({stderr})" if stderr else ""
    if isinstance(exc, FileNotFoundError | PermissionError):
        return translate(
            "Errors", "The tool server {name} could not start: {command} was not found or cannot run."
        ).format(name=server.name, command=server.command[0] if server.command else server.where)
    if isinstance(exc, TimeoutError) or (isinstance(exc, MCPError) and exc.code == -32001):
        return translate("Errors", "The tool server {name} did not answer within {seconds} s.").format(
            name=server.name, seconds=f"{timeout_s:g}"
        )
    if isinstance(exc, MCPError) and exc.code == -32000:
        return translate("Errors", "The tool server {name} stopped unexpectedly{said}.").format(
            name=server.name, said=said
        )
    if server.url is not None and type(exc).__name__ in ("ConnectError", "ConnectTimeout"):
        return translate("Errors", "The tool server {name} could not be reached at {url}.").format(
            name=server.name, url=server.url
        )
    return translate("Errors", "The tool server {name} failed: {error}{said}.").format(
        name=server.name, error=str(exc) or type(exc).__name__, said=said
    )
