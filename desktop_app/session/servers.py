"""The model servers the user added: their names and addresses (in the settings store), their
keys (in the KeyStore, never the database), whether the window may send text there, and
the remote models they offer as "SERVER:MODEL".

With no server added nothing here opens a connection: listing models asks only the
servers in the registry.
"""

from __future__ import annotations

import builtins
import logging
import os
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from desktop_app.core.errors import UserError
from desktop_app.core.i18n import translate
from desktop_app.core.paths import data_dir
from desktop_app.remote.client import RemoteClient, Timeouts, host_of, normalize_base_url
from desktop_app.remote.engine import REF_SEPARATOR, RemoteEngine, context_of, remote_ref
from desktop_app.remote.keys import KeyStore, usable_keyring
from desktop_app.store import Store

log = logging.getLogger(__name__)

SERVERS_SETTING = "model_servers"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")


@dataclass(frozen=True)
class Server:
    name: str
    url: str  # the base URL, ending in /v1
    key_storage: str | None  # "keyring", "file", or None: no key
    consented: bool  # the window asked once whether text may go there, and the user said yes

    @property
    def host(self) -> str:
        return host_of(self.url)


@dataclass(frozen=True)
class RemoteModel:
    server: Server
    model: str
    context_length: int

    @property
    def ref(self) -> str:
        return remote_ref(self.server.name, self.model)


@dataclass(frozen=True)
class ServerListing:
    """One server's models, or why they could not be had (`problem`)."""

    server: Server
    models: tuple[RemoteModel, ...]
    problem: str | None = None


class ServerRegistry:
    """Servers kept as one JSON setting: {name: {"url", "key_storage", "consented"}}."""

    def __init__(self, store: Store, keys: KeyStore, timeouts: Timeouts | None = None) -> None:
        self.store = store
        self.keys = keys
        self.timeouts = timeouts or Timeouts()

    def _read(self) -> dict[str, dict[str, Any]]:
        raw = self.store.settings.get(SERVERS_SETTING, {})
        return {k: v for k, v in raw.items() if isinstance(v, dict) and isinstance(v.get("url"), str)}

    def list(self) -> list[Server]:
        return [
            Server(name, entry["url"], entry.get("key_storage"), bool(entry.get("consented", False)))
            for name, entry in sorted(self._read().items())
        ]

    def get(self, name: str) -> Server:
        found = next((s for s in self.list() if s.name == name), None)
        if found is None:
            have = ", ".join(s.name for s in self.list()) or translate("Errors", "none")
            raise UserError(
                translate("Errors", "There is no model server called {name}.").format(name=repr(name)),
                hint=translate("Errors", "Servers added: {names}.").format(names=have),
            )
        return found

    def add(self, name: str, url: str, api_key: str | None = None, consented: bool = False) -> Server:
        """Add (or replace) a server. `api_key` goes to the KeyStore; the database keeps only where."""
        if not NAME_PATTERN.match(name):
            raise UserError(
                translate("Errors", "{name} cannot name a server.").format(name=repr(name)),
                hint=translate(
                    "Errors",
                    "Use letters, digits, '-', '_' or '.', up to 40 characters (no ':', which separates the model).",
                ),
            )
        base = normalize_base_url(url)
        storage = self.keys.set(name, api_key) if api_key else None
        if not api_key:
            self.keys.delete(name)
        servers = self._read()
        servers[name] = {"url": base, "key_storage": storage, "consented": consented}
        self.store.settings.set(SERVERS_SETTING, servers)
        return self.get(name)

    def remove(self, name: str) -> Server:
        server = self.get(name)
        self.keys.delete(name)
        servers = self._read()
        servers.pop(name, None)
        self.store.settings.set(SERVERS_SETTING, servers)
        return server

    def allow(self, name: str) -> None:
        """The user agreed that the window may send text to this server."""
        servers = self._read()
        if name in servers:
            servers[name]["consented"] = True
            self.store.settings.set(SERVERS_SETTING, servers)

    def key_place(self, server: Server) -> str:
        """Where the server's key is kept, in words."""
        return "no API key" if server.key_storage is None else self.keys.describe(server.key_storage)

    # ---- model references ----

    def split_ref(self, setting: str | None) -> tuple[Server, str] | None:
        """(server, model) when `setting` is "SERVER:MODEL" for an added server, else None (a
        local model, or "id:quantization")."""
        name, sep, model = (setting or "").partition(REF_SEPARATOR)
        if not sep or not model:
            return None
        return next(((s, model) for s in self.list() if s.name == name), None)

    def client(self, server: Server) -> RemoteClient:
        return RemoteClient(server.name, server.url, self.keys.get(server.name, server.key_storage), self.timeouts)

    def engine_loader(self, server: Server, model: str, require_consent: bool) -> Callable[[], RemoteEngine]:
        """What builds the engine for SERVER:MODEL, read here (on the store's thread); the
        loader asks the server for the model's context when it runs (on the generation thread)."""
        if require_consent and not server.consented:

            def refuse() -> RemoteEngine:
                raise UserError(
                    translate("Errors", "Inkwell has not been allowed to send your text to {host} yet.").format(
                        host=server.host
                    ),
                    hint=translate("Errors", "Choose the model again in Settings or Models to allow it."),
                )

            return refuse
        client = self.client(server)

        def load() -> RemoteEngine:
            found = next((m for m in client.models(self.timeouts.read_s) if m["id"] == model), None)
            if found is None:
                raise UserError(
                    translate("Errors", "{name} ({host}) has no model called {model}.").format(
                        name=server.name, host=server.host, model=repr(model)
                    ),
                    hint=translate(
                        "Errors", "Its models are listed by: inkwell models list (they are named {name}:MODEL)."
                    ).format(name=server.name),
                )
            return RemoteEngine(client, model, context_of(found))

        return load

    def listings(self) -> builtins.list[ServerListing]:
        """Every added server's models, asked in parallel with a short timeout, so a dead server
        is listed as unreachable quickly. No servers: no connection."""
        return self.listing_job()()

    def listing_job(self) -> Callable[[], builtins.list[ServerListing]]:
        """`listings` in two halves: the servers and keys are read now (on the store's thread);
        the returned job asks them, and may run on any thread (the window's runs off the GUI's)."""
        clients = [(s, self.client(s)) for s in self.list()]

        def ask(pair: tuple[Server, RemoteClient]) -> ServerListing:
            server, client = pair
            try:
                models = tuple(RemoteModel(server, m["id"], context_of(m)) for m in client.models())
            except UserError as exc:
                return ServerListing(server, (), exc.message)
            return ServerListing(server, models)

        def job() -> builtins.list[ServerListing]:
            if not clients:
                return []
            with ThreadPoolExecutor(max_workers=min(8, len(clients)), thread_name_prefix="inkwell-servers") as pool:
                return list(pool.map(ask, clients))

        return job


def default_key_store() -> KeyStore:
    """The system keyring where a usable one exists, else the private file in the data folder.
    INKWELL_KEYRING=file forces the file (tests; people whose keyring prompts at every start)."""
    backend = None if os.environ.get("INKWELL_KEYRING") == "file" else usable_keyring()
    return KeyStore(data_dir(), backend)


def server_registry(store: Store) -> ServerRegistry:
    return ServerRegistry(store, default_key_store())
