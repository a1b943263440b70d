"""`inkwell serve`: the API server without the window, until Ctrl+C."""

from __future__ import annotations

import ipaddress
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from desktop_app.core.errors import UserError
from desktop_app.server.api_server import ApiServer, SchedulerLike, ServerConfig
from desktop_app.session.api_history import ApiHistory
from desktop_app.session.scheduler import Scheduler
from desktop_app.session.settings import ServerSettings, api_key
from desktop_app.store import Store, open_store

log = logging.getLogger(__name__)

API_KEY_ENV = "INKWELL_API_KEY"
NETWORK_WARNING = (
    "WARNING: the API server listens on {host}, so other computers on the network can reach it. "
    "Anyone with the key can use the model; the traffic is not encrypted (plain HTTP)."
)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_host(host: str, allow_network: bool) -> None:
    """A host other than loopback needs the user's explicit consent."""
    if not is_loopback(host) and not allow_network:
        raise UserError(
            f"{host} is reachable from other computers, so the server would be open to the network.",
            hint="Add --allow-network if that is what you want, or use --host 127.0.0.1.",
        )


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int | None = None  # None: the port in Settings (8750 unless changed there)
    api_key: str | None = None  # else INKWELL_API_KEY, else the stored key
    allow_network: bool = False


def resolve_key(store: Store, given: str | None) -> tuple[str, str]:
    """(key, where it came from)."""
    if given:
        return given, "--api-key"
    from_env = os.environ.get(API_KEY_ENV, "").strip()
    if from_env:
        return from_env, API_KEY_ENV
    return api_key(store), "the key in Inkwell's settings (inkwell settings server_api_key)"


def serve(
    options: ServeOptions,
    engine_factory: Callable[[], Any],
    out: TextIO,
    stop: threading.Event | None = None,
    on_ready: Callable[[ApiServer], None] | None = None,
) -> int:
    """Load the model, serve until Ctrl+C (or `stop` is set), then shut down cleanly."""
    check_host(options.host, options.allow_network)
    store = open_store()
    history: ApiHistory | None = None
    scheduler = Scheduler(engine_factory)
    server: ApiServer | None = None
    try:
        key, key_source = resolve_key(store, options.api_key)
        saved = ServerSettings.load(store)
        if saved.save_history:
            path = store.path
            history = ApiHistory(lambda: open_store(path))
            history.start()
        scheduler.start()
        info = scheduler.wait_until_loaded()
        port = saved.port if options.port is None else options.port
        config = ServerConfig(api_key=key, host=options.host, port=port, cors_origins=saved.cors_origins)
        server = ApiServer(scheduler, config, history)
        server.start()
        if not is_loopback(options.host):
            print(NETWORK_WARNING.format(host=options.host), file=out)
        print(
            f"Inkwell serves {info.model_id} on {info.provider} at {server.url}\n"
            f"API key: {key_source}. API requests are {'' if history else 'not '}saved to the chat history.\n"
            "Press Ctrl+C to stop.",
            file=out,
            flush=True,
        )
        if on_ready is not None:
            on_ready(server)
        waiter = stop or threading.Event()
        while not waiter.wait(0.5):  # short waits, so that Ctrl+C is seen
            pass
    except KeyboardInterrupt:
        print("\nStopping the server.", file=out)
    finally:
        if server is not None:
            server.shutdown()
        scheduler.shutdown()
        if history is not None:
            history.close()
        store.close()
    return 0


class BackgroundServer:
    """The window's server: it answers on its own threads with the window's scheduler."""

    def __init__(self, server: ApiServer, history: ApiHistory | None) -> None:
        self.server = server
        self.history = history

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def requests_served(self) -> int:
        return self.server.requests_served

    def stop(self) -> None:
        self.server.shutdown()
        if self.history is not None:
            self.history.close()


def start_in_background(
    scheduler: SchedulerLike,
    settings: ServerSettings,
    key: str,
    db_path: Path,
    on_request: Callable[[int], None] | None = None,
    on_saved: Callable[[str], None] | None = None,
) -> BackgroundServer:
    """Start serving as the settings say (UserError when the port is taken). `on_saved` hears
    each conversation saved from an API request (on the saving thread)."""
    host = "0.0.0.0" if settings.allow_network else "127.0.0.1"
    history = ApiHistory(lambda: open_store(db_path), on_saved) if settings.save_history else None
    config = ServerConfig(api_key=key, host=host, port=settings.port, cors_origins=settings.cors_origins)
    server = ApiServer(scheduler, config, history, on_request)
    server.start()  # first: a port in use leaves no history thread behind
    if history is not None:
        history.start()
    if settings.allow_network:
        log.warning(NETWORK_WARNING.format(host=host))
    return BackgroundServer(server, history)
