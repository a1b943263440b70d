"""The `inkwell mcp add | list | remove` commands: the MCP servers whose tools `inkwell ask
--tools` and the window may call (ask_command.py picks the ones a command names)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from desktop_app.core.errors import UserError
from desktop_app.session.tools import ToolSettings, catalog
from desktop_app.store import open_store
from desktop_app.tools.builtin import BUILTIN_TOOLS
from desktop_app.tools.mcp_host import McpServer


def add_parser(commands: Any) -> None:
    """The `mcp` command's arguments (cli.build_parser calls this)."""
    mcp = commands.add_parser("mcp", help="MCP tool servers whose tools models may call")
    actions = mcp.add_subparsers(dest="mcp_command", metavar="ACTION", required=True)
    add = actions.add_parser(
        "add", help="add a server: inkwell mcp add NAME -- COMMAND [ARGS...], or inkwell mcp add NAME --url URL"
    )
    add.add_argument("name", help="a short name: letters, digits, - _")
    add.add_argument("--url", help="a streamable-HTTP server's URL, e.g. http://127.0.0.1:8000/mcp")
    add.add_argument(
        "server_command",
        nargs=argparse.REMAINDER,
        metavar="COMMAND",
        help="after --: the command that starts a stdio server",
    )
    listing = actions.add_parser("list", help="the servers added and their tools (each server is started to ask)")
    listing.add_argument("--json", action="store_true")
    remove = actions.add_parser("remove", help="forget a server")
    remove.add_argument("name")


def run(args: argparse.Namespace) -> int:
    store = open_store()
    try:
        settings = ToolSettings(store)
        if args.mcp_command == "add":
            command, url = list(args.server_command or []), args.url
            if command[:1] == ["--url"] and len(command) == 2:  # (the remainder takes an option after NAME)
                command, url = [], command[1]
            if command[:1] == ["--"]:
                command = command[1:]
            if url and command:
                raise UserError("Give a command (after --) or --url, not both.")
            if not url and not command:
                raise UserError("Give the command that starts the server after --, or its --url.")
            server = McpServer(args.name, tuple(command), url)
            settings.add_server(server)
            print(f"Added the tool server {server.name} ({server.where}). Check it with: inkwell mcp list")
            return 0
        if args.mcp_command == "remove":
            settings.remove_server(args.name)
            print(f"Removed the tool server {args.name}.")
            return 0
        return _list(settings, args.json)
    finally:
        store.close()


def _list(settings: ToolSettings, as_json: bool) -> int:
    servers = settings.servers()
    rows: list[dict[str, Any]] = []
    for server in servers:
        found = catalog([server])
        rows.append(
            {
                "name": server.name,
                "command": list(server.command) or None,
                "url": server.url,
                "tools": [
                    {
                        "name": t.name,
                        "description": t.description,
                        "permission": settings.permission(f"{server.name}/{t.name}"),
                    }
                    for t in found.tools
                ],
                "problem": found.problems[0] if found.problems else None,
            }
        )
    builtins = [
        {"name": tool.name, "description": tool.description, "on": tool.name in settings.builtins()}
        for tool in BUILTIN_TOOLS
    ]
    if as_json:
        print(json.dumps({"servers": rows, "builtin": builtins}, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print("No tool servers. Add one with: inkwell mcp add NAME -- COMMAND [ARGS...]")
    for row in rows:
        print(f"{row['name']}  {row['url'] or ' '.join(row['command'])}")
        if row["problem"]:
            print(f"    ⚠ {row['problem']}")
        for tool in row["tools"]:
            print(
                f"    {tool['name']:24} [{tool['permission']}] {tool['description'].splitlines()[0] if tool['description'] else ''}"
            )
    print("Built-in tools (off until turned on in the window, or named in inkwell ask --tools):")
    for tool in builtins:
        print(f"    {tool['name']:24} [{'on' if tool['on'] else 'off'}] {tool['description']}")
    return 0
