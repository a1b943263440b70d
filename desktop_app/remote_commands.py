"""The `inkwell servers add | list | remove` commands, the remote part of `models list`, and
the loader for `--model SERVER:MODEL`.

On the command line, adding a server is the user's consent to send it text: `ask` and
`chat` use any server that was added. (The window asks once more, per server.)"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from desktop_app.core.errors import UserError
from desktop_app.store import Store, open_store

if TYPE_CHECKING:
    from desktop_app.session.servers import ServerRegistry


def add_parser(commands: Any) -> None:
    """The `servers` command's arguments (cli.build_parser calls this)."""
    servers = commands.add_parser("servers", help="OpenAI-compatible model servers to use as well as local models")
    actions = servers.add_subparsers(dest="servers_command", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="add (or replace) a server: its models become NAME:MODEL")
    add.add_argument("name", help="a short name: letters, digits, - _ .")
    add.add_argument("url", help="the base URL, e.g. http://gpu-box:8000/v1")
    add.add_argument("--api-key-env", metavar="VAR", help="the environment variable that holds its API key")
    listing = actions.add_parser("list", help="the servers added, and where their keys are kept")
    listing.add_argument("--json", action="store_true")
    remove = actions.add_parser("remove", help="forget a server and its key")
    remove.add_argument("name")


def run(args: argparse.Namespace) -> int:
    from desktop_app.session.servers import server_registry  # the HTTP client only for these commands

    store = open_store()
    try:
        registry = server_registry(store)
        if args.servers_command == "add":
            return _add(registry, args)
        if args.servers_command == "remove":
            server = registry.remove(args.name)
            print(f"Removed {server.name} ({server.url}) and its key.")
            return 0
        return _list(registry, args.json)
    finally:
        store.close()


def _add(registry: ServerRegistry, args: argparse.Namespace) -> int:
    key = None
    if args.api_key_env:
        key = os.environ.get(args.api_key_env, "").strip()
        if not key:
            raise UserError(
                f"The environment variable {args.api_key_env} is not set (or is empty).",
                hint=f"Set it to the server's API key first, e.g. export {args.api_key_env}=...",
            )
    server = registry.add(args.name, args.url, key, consented=False)
    print(f"Added {server.name} ({server.url}). Its models are named {server.name}:MODEL (see: inkwell models list).")
    print(
        f"Text you send to them goes to {server.host}. Adding the server is your consent for `inkwell ask` "
        "and `inkwell chat`; the window asks once before its first use."
    )
    if server.key_storage:
        print(f"Its API key is kept in {registry.key_place(server)}.")
    return 0


def _list(registry: ServerRegistry, as_json: bool) -> int:
    servers = registry.list()
    if as_json:
        rows = [
            {
                "name": s.name,
                "url": s.url,
                "key": registry.key_place(s),
                "key_storage": s.key_storage,
                "window_allowed": s.consented,
            }
            for s in servers
        ]
        print(json.dumps(rows, indent=2))
        return 0
    if not servers:
        print("No model servers are added; Inkwell uses only the models on this computer.")
        print("Add one with: inkwell servers add NAME URL [--api-key-env VAR]")
        return 0
    for s in servers:
        allowed = "allowed in the window" if s.consented else "the window will ask before first use"
        print(f"{s.name:16} {s.url}\n{'':16} key: {registry.key_place(s)}; {allowed}")
    return 0


def remote_model_rows(as_json: bool) -> list[dict[str, Any]]:
    """`models list`'s remote part: prints the lines (unless as_json) and returns the rows."""
    from desktop_app.session.servers import server_registry

    store = open_store()
    try:
        listings = server_registry(store).listings()
    finally:
        store.close()
    rows: list[dict[str, Any]] = []
    for listing in listings:
        server = listing.server
        if listing.problem is not None:
            print(f"  {server.name}:*  unreachable: {listing.problem}", file=sys.stderr if as_json else sys.stdout)
            continue
        for model in listing.models:
            rows.append(
                {
                    "id": model.ref,
                    "name": model.model,
                    "remote": True,
                    "server": server.name,
                    "url": server.url,
                    "context_length": model.context_length,
                }
            )
            if not as_json:
                print(f"  {model.ref:32} {'remote':>11}  {'':12} {server.url}")
        if not listing.models and not as_json:
            print(f"  {server.name}:*  the server offers no models")
    return rows


def remote_loader(model_setting: str | None, store: Store | None) -> Callable[[], Any] | None:
    """The loader for "SERVER:MODEL" when it names an added server, else None (a local model).
    Opens the store only when the setting could be remote."""
    if not model_setting or ":" not in model_setting:
        return None
    from desktop_app.session.servers import server_registry

    opened: Store = open_store() if store is None else store
    try:
        registry = server_registry(opened)
        found = registry.split_ref(model_setting)
        if found is None:
            return None
        server, model = found
        return registry.engine_loader(server, model, require_consent=False)  # added = consent, headless
    finally:
        if store is None:
            opened.close()
