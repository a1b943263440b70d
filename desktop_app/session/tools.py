"""Tools in a chat: the servers the user added, the built-ins turned on, what each tool
may do without asking, and the rounds of calls between the model and its tools.

One rule for the window, `inkwell ask` and everything after: a tool runs only with the
user's consent. Each tool is "ask" (the default: the caller's `consent` asks, each time),
"allow" or "deny" (a denied tool is not offered to the model at all). Naming a server on
the command line is the consent for its tools in that one command. The API server never
runs tools: it hands the calls to its client.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from desktop_app.core.chat import ChatMessage, ToolCall
from desktop_app.core.errors import UserError
from desktop_app.core.i18n import translate
from desktop_app.core.records import ToolUse
from desktop_app.engine import Finished, GenerationRequest
from desktop_app.engine.tool_calls import check_tools
from desktop_app.store import Store
from desktop_app.tools.builtin import BUILTIN, BUILTIN_TOOLS
from desktop_app.tools.mcp_host import McpServer, ToolInfo, list_tools
from desktop_app.tools.toolbox import Toolbox, ToolEntry

PERMISSIONS = ("ask", "allow", "deny")
MAX_ROUNDS = 5  # calls and results before the model must answer
SERVERS_KEY = "mcp_servers"
PERMISSIONS_KEY = "tool_permissions"
BUILTINS_KEY = "builtin_tools"

Consent = Callable[[ToolEntry, ToolCall], bool]


class ToolSettings:
    """What the user set up, kept in the store's settings."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def servers(self) -> list[McpServer]:
        stored = self.store.settings.get(SERVERS_KEY, {})
        servers = []
        for name, data in sorted(stored.items()):
            try:
                servers.append(McpServer.from_dict(name, data))
            except (UserError, TypeError, AttributeError):
                continue  # a hand-edited entry that no longer reads: left out, not fatal
        return servers

    def add_server(self, server: McpServer) -> None:
        stored = self.store.settings.get(SERVERS_KEY, {})
        if server.name in stored or server.name == BUILTIN:
            raise UserError(
                translate("Errors", "There is a tool server named {name} already.").format(name=server.name),
                hint=translate("Errors", "Choose another name, or remove that server first."),
            )
        self.store.settings.set(SERVERS_KEY, {**stored, server.name: server.to_dict()})

    def remove_server(self, name: str) -> None:
        stored = self.store.settings.get(SERVERS_KEY, {})
        if name not in stored:
            raise UserError(translate("Errors", "There is no tool server named {name}.").format(name=name))
        del stored[name]
        self.store.settings.set(SERVERS_KEY, stored)
        permissions = self.store.settings.get(PERMISSIONS_KEY, {})
        self.store.settings.set(PERMISSIONS_KEY, {k: v for k, v in permissions.items() if not k.startswith(f"{name}/")})

    def builtins(self) -> list[str]:
        """The built-in tools turned on (all are off at first)."""
        known = {tool.name for tool in BUILTIN_TOOLS}
        return [name for name in self.store.settings.get(BUILTINS_KEY, []) if name in known]

    def set_builtin(self, name: str, on: bool) -> None:
        if name not in {tool.name for tool in BUILTIN_TOOLS}:
            raise UserError(translate("Errors", "There is no built-in tool named {name}.").format(name=name))
        chosen = [n for n in self.builtins() if n != name] + ([name] if on else [])
        self.store.settings.set(BUILTINS_KEY, chosen)

    def permission(self, key: str) -> str:
        """ "ask", "allow" or "deny" for the tool `server/name`; built-ins the user turned on
        are allowed unless the user said otherwise."""
        stored = self.store.settings.get(PERMISSIONS_KEY, {}).get(key)
        if stored in PERMISSIONS:
            return str(stored)
        return "allow" if key.startswith(f"{BUILTIN}/") else "ask"

    def set_permission(self, key: str, value: str) -> None:
        if value not in PERMISSIONS:
            raise ValueError(value)
        permissions = self.store.settings.get(PERMISSIONS_KEY, {})
        self.store.settings.set(PERMISSIONS_KEY, {**permissions, key: value})


@dataclass(frozen=True)
class Catalog:
    """The tools found on the servers (and the built-ins turned on), and what went wrong."""

    tools: tuple[ToolInfo, ...]
    servers: tuple[McpServer, ...]
    problems: tuple[str, ...] = ()


def catalog(
    servers: Sequence[McpServer],
    builtins: Sequence[str] = (),
    lister: Callable[[McpServer], list[ToolInfo]] = list_tools,
) -> Catalog:
    """List every server's tools (slow: each server is started). A server that cannot be
    listed is a problem to show, not a failure: the others' tools are still there."""
    tools: list[ToolInfo] = [tool for tool in BUILTIN_TOOLS if tool.name in builtins]
    problems = []
    for server in servers:
        try:
            listed = lister(server)
        except UserError as exc:
            problems.append(exc.message)
            continue
        for tool in listed:
            try:  # a schema the grammar cannot enforce: that tool is left out, not every chat
                check_tools([tool.definition("tool")])
            except UserError as exc:
                problems.append(
                    translate("Errors", "The tool {name} of {server} is left out: {reason}").format(
                        name=tool.name, server=server.name, reason=exc.message.split("\n")[0]
                    )
                )
                continue
            tools.append(tool)
    return Catalog(tuple(tools), tuple(servers), tuple(problems))


class ToolRunner:
    """Runs a round of calls under the user's permissions."""

    def __init__(self, toolbox: Toolbox, permission: Callable[[str], str], consent: Consent | None = None) -> None:
        self.toolbox = toolbox
        self.permission = permission
        self.consent = consent

    def offered(self) -> Toolbox:
        """The toolbox less the tools the user denied (they are not offered at all)."""
        allowed = [entry.info for entry in self.toolbox.entries if self.permission(entry.key) != "deny"]
        servers = [entry.server for entry in self.toolbox.entries if entry.server is not None]
        return Toolbox(allowed, servers, self.toolbox._search, self.toolbox.timeout_s)

    def run(self, calls: Sequence[ToolCall], round_: int = 0) -> list[ToolUse]:
        """Each call's result: the tool's, or an error result saying why it did not run. A
        call repeated in the round (same tool, same arguments) runs once."""
        uses: list[ToolUse] = []
        for call in calls:
            same = next((u for u in uses if (u.call.name, u.call.arguments) == (call.name, call.arguments)), None)
            if same is not None:
                uses.append(replace(same, call=call))
                continue
            entry = self.toolbox.entry(call.name)
            server = entry.info.server if entry is not None else ""
            if entry is None:
                uses.append(ToolUse(call, f"There is no tool named {call.name}.", True, server, round_))
                continue
            permission = self.permission(entry.key)
            if permission == "deny" or (permission == "ask" and not (self.consent and self.consent(entry, call))):
                uses.append(ToolUse(call, "The user did not allow this call.", True, server, round_))
                continue
            result = self.toolbox.call(call)
            uses.append(ToolUse(call, result.text, result.error, server, round_))
        return uses


def next_request(
    request: GenerationRequest, finished: Finished, uses: Sequence[ToolUse], round_: int
) -> GenerationRequest:
    """The request that goes on after a round of calls: the calls and their results added,
    and, after MAX_ROUNDS, no more calls (the model must answer)."""
    messages = (
        *request.messages,
        ChatMessage("assistant", finished.text, finished.reasoning, finished.tool_calls),
        *(ChatMessage("tool", use.result, tool_call_id=use.call.id, name=use.call.name) for use in uses),
    )
    choice = "none" if round_ + 1 >= MAX_ROUNDS else "auto"
    return replace(request, messages=messages, tool_choice=choice)


def answer_with_tools(
    request: GenerationRequest,
    generate: Callable[[GenerationRequest], Iterable[object]],
    runner: ToolRunner,
    on_event: Callable[[object], None] | None = None,
    on_uses: Callable[[list[ToolUse]], None] | None = None,
) -> tuple[Finished | None, list[ToolUse]]:
    """Generate, run the calls, generate again with their results, until the model answers
    without calling (or MAX_ROUNDS are done): the last Finished and every call made. For
    callers that wait (the command line); the window runs the same rounds through handles."""
    made: list[ToolUse] = []
    for round_ in range(MAX_ROUNDS + 1):
        finished = None
        for event in generate(request):
            if on_event is not None:
                on_event(event)
            if isinstance(event, Finished) and event.index == 0:
                finished = event
        if finished is None or not finished.tool_calls:
            return finished, made
        uses = runner.run(finished.tool_calls, round_)
        made += uses
        if on_uses is not None:
            on_uses(uses)
        request = next_request(request, finished, uses, round_)
    return None, made  # (next_request stops the calls after MAX_ROUNDS: not reached)
