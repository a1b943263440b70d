"""The tools one reply may call: their names as the model sees them, and the call itself."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from desktop_app.core.chat import ToolCall
from desktop_app.tools.builtin import BUILTIN, run_builtin
from desktop_app.tools.mcp_host import CALL_TIMEOUT_S, McpServer, ToolInfo, ToolResult, call_tool

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ToolEntry:
    """A tool offered to the model: `name` is what the model calls it by (the tool's own
    name, or `server__name` where two servers share one)."""

    name: str
    info: ToolInfo
    server: McpServer | None  # None: built in

    @property
    def key(self) -> str:
        """Where permissions are kept: `server/tool`."""
        return f"{self.info.server}/{self.info.name}"


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", name)[:64] or "tool"


class Toolbox:
    """Tools from servers and the built-ins, under names unique in the reply."""

    def __init__(
        self,
        tools: Sequence[ToolInfo],
        servers: Sequence[McpServer] = (),
        search: Callable[[str], str] | None = None,
        timeout_s: float = CALL_TIMEOUT_S,
    ) -> None:
        by_name = {server.name: server for server in servers}
        counts: dict[str, int] = {}
        for info in tools:
            counts[_safe(info.name)] = counts.get(_safe(info.name), 0) + 1
        self.entries: list[ToolEntry] = []
        taken: set[str] = set()
        for info in tools:
            name = _safe(info.name) if counts[_safe(info.name)] == 1 else _safe(f"{info.server}__{info.name}")
            unique, number = name, 2
            while unique in taken:  # names that only differed in characters a name cannot have
                unique = f"{name[:60]}_{number}"
                number += 1
            taken.add(unique)
            self.entries.append(ToolEntry(unique, info, by_name.get(info.server)))
        self._search = search
        self.timeout_s = timeout_s

    def __bool__(self) -> bool:
        return bool(self.entries)

    def definitions(self) -> tuple[dict[str, Any], ...]:
        return tuple(entry.info.definition(entry.name) for entry in self.entries)

    def entry(self, name: str) -> ToolEntry | None:
        return next((entry for entry in self.entries if entry.name == name), None)

    def call(self, call: ToolCall) -> ToolResult:
        """Run the call (consent is the caller's); every failure is an error result."""
        entry = self.entry(call.name)
        if entry is None:
            return ToolResult(f"There is no tool named {call.name}.", error=True)
        try:
            arguments = json.loads(call.arguments or "{}")
        except ValueError:
            return ToolResult(f"The arguments are not valid JSON: {call.arguments}", error=True)
        if not isinstance(arguments, dict):
            return ToolResult("The arguments must be a JSON object.", error=True)
        try:
            if entry.info.server == BUILTIN or entry.server is None:
                return run_builtin(entry.info.name, arguments, self._search)
            return call_tool(entry.server, entry.info.name, arguments, self.timeout_s)
        except Exception as exc:  # a tool's failure is the model's to hear of, never the reply's end
            log.exception("The tool %s failed", call.name)
            return ToolResult(f"The tool {call.name} failed: {exc or type(exc).__name__}", error=True)
