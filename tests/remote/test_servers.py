"""The servers registry, key storage, a chat turn on a remote model (recorded with its server,
kept and marked interrupted when the server dies), the `servers` and `models list` commands,
and: with no server added, no connection is opened at all."""

from __future__ import annotations

import json
import socket
import stat
import time
from pathlib import Path
from typing import Any

import pytest

from desktop_app.cli import main
from desktop_app.core.errors import UserError
from desktop_app.core.generation import GenerationSettings
from desktop_app.remote.keys import KeyStore
from desktop_app.session.chat import ChatSession, ModelRef
from desktop_app.session.scheduler import Scheduler, Source
from desktop_app.session.servers import ServerRegistry, server_registry
from desktop_app.store import Store, open_store
from tests.remote.conftest import free_port
from tests.remote.fake_server import FakeServer

SECRET = "sk-test-secret-1234"


class MemoryKeyring:
    """A keyring backend that keeps passwords in a dict (the registry's keyring path)."""

    priority = 1
    name = "memory"

    def __init__(self) -> None:
        self.saved: dict[tuple[str, str], str] = {}

    def set_password(self, service: str, user: str, password: str) -> None:
        self.saved[(service, user)] = password

    def get_password(self, service: str, user: str) -> str | None:
        return self.saved.get((service, user))

    def delete_password(self, service: str, user: str) -> None:
        self.saved.pop((service, user), None)


def test_add_list_remove_with_the_key_in_a_private_file(store: Store, tmp_path: Path) -> None:
    registry = ServerRegistry(store, KeyStore(tmp_path))
    server = registry.add("box", "http://10.0.0.5:8000", SECRET)
    assert (server.url, server.key_storage, server.consented) == ("http://10.0.0.5:8000/v1", "file", False)
    key_file = tmp_path / "server-keys.json"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert json.loads(key_file.read_text()) == {"box": SECRET}
    assert "readable only by you" in registry.key_place(server)
    assert registry.client(server)._api_key == SECRET
    store.conn.commit()
    assert SECRET.encode() not in store.path.read_bytes()  # never in the database
    assert [s.name for s in registry.list()] == ["box"]
    registry.remove("box")
    assert registry.list() == []
    assert json.loads(key_file.read_text()) == {}
    with pytest.raises(UserError, match="no model server called"):
        registry.remove("box")


def test_a_usable_keyring_keeps_the_key(store: Store, tmp_path: Path) -> None:
    keyring = MemoryKeyring()
    registry = ServerRegistry(store, KeyStore(tmp_path, keyring))
    server = registry.add("cloud", "https://api.example.com/v1", SECRET)
    assert server.key_storage == "keyring"
    assert "system keyring (memory)" in registry.key_place(server)
    assert list(keyring.saved.values()) == [SECRET]
    assert not (tmp_path / "server-keys.json").exists()
    registry.remove("cloud")
    assert keyring.saved == {}


def test_names_that_would_break_a_model_reference_are_refused(store: Store, tmp_path: Path) -> None:
    registry = ServerRegistry(store, KeyStore(tmp_path))
    for bad in ("a:b", "", "with space", "-lead"):
        with pytest.raises(UserError):
            registry.add(bad, "http://x:1")
    registry.add("box", "http://x:1")
    assert registry.split_ref("box:llama3:8b") is not None  # a model id may hold colons itself
    assert registry.split_ref("box:llama3:8b")[1] == "llama3:8b"  # type: ignore[index]
    assert registry.split_ref("smollm2-135m-instruct:q4") is None  # a local model's weights


def test_a_chat_turn_on_a_remote_model_records_server_and_model(fake_server: FakeServer, store: Store) -> None:
    registry = server_registry(store)
    registry.add("fake", fake_server.url)
    for model, status, text in (("ok", "complete", "Hello world!"), ("dies", "interrupted", "Partial answer")):
        server, name = registry.split_ref(f"fake:{model}")  # type: ignore[misc]
        scheduler = Scheduler(registry.engine_loader(server, name, require_consent=False))
        try:
            scheduler.start()
            info = scheduler.wait_until_loaded(30)
            assert (info.model_id, info.provider) == (f"fake:{model}", server.host)
            session = ChatSession(store, GenerationSettings)
            conversation = session.new_conversation("", GenerationSettings(), info.model_id)
            _user, turn = session.send(conversation.id, "Hello?", ModelRef.of(info))
            message = turn.run(scheduler.submit(turn.request, Source.CHAT).events())
        finally:
            scheduler.shutdown()
        assert message is not None
        assert (message.status, message.content) == (status, text)
        assert (message.model_id, message.provider) == (f"fake:{model}", f"remote:{fake_server.url}/v1")


def test_the_window_needs_consent_per_server(fake_server: FakeServer, store: Store) -> None:
    registry = server_registry(store)
    server = registry.add("fake", fake_server.url)
    with pytest.raises(UserError, match="not been allowed"):
        registry.engine_loader(server, "ok", require_consent=True)()
    assert fake_server.requests == []  # refused before any connection
    registry.allow("fake")
    assert registry.engine_loader(registry.get("fake"), "ok", require_consent=True)().model == "ok"


def test_servers_commands(
    fake_server: FakeServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_KEY", SECRET)
    assert main(["servers", "add", "fake", fake_server.url, "--api-key-env", "FAKE_KEY"]) == 0
    out = capsys.readouterr().out
    assert "fake:MODEL" in out and "127.0.0.1" in out and "private file" in out
    assert main(["servers", "list", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["name"], row["key_storage"], row["window_allowed"]) == ("fake", "file", False)
    assert SECRET not in json.dumps(row)
    assert main(["servers", "add", "other", "http://x:1", "--api-key-env", "UNSET_VARIABLE_X"]) == 2
    assert "UNSET_VARIABLE_X is not set" in capsys.readouterr().err
    assert main(["servers", "remove", "fake"]) == 0
    assert main(["servers", "list"]) == 0
    assert "No model servers" in capsys.readouterr().out


def test_models_list_and_ask_use_server_models(fake_server: FakeServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["servers", "add", "fake", fake_server.url]) == 0
    assert main(["servers", "add", "dead", f"http://127.0.0.1:{free_port()}"]) == 0
    capsys.readouterr()
    started = time.monotonic()
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert time.monotonic() - started < 5  # a dead server does not hold the list up
    assert "fake:ok" in out and "fake:trickle" in out
    assert "dead:*  unreachable" in out
    assert main(["models", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["id"] for r in rows} >= {"fake:ok", "fake:dies"}
    assert next(r for r in rows if r["id"] == "fake:ok")["context_length"] == 2048
    assert main(["ask", "Hi", "--model", "fake:ok", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert (answer["text"], answer["model"], answer["provider"]) == (
        "Hello world!",
        "fake:ok",
        f"remote:{fake_server.url}/v1",
    )
    assert main(["ask", "Hi", "--model", "fake:dies"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("Partial answer") and "interrupted" in captured.err
    assert main(["ask", "Hi", "--model", "fake:broken"]) == 2
    assert "error of its own (500)" in capsys.readouterr().err


@pytest.fixture
def no_connections(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Any attempt to open a network connection fails the test (and is recorded)."""
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args)
        raise AssertionError(f"a connection was opened with no server added: {args!r}")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


def test_with_no_server_added_nothing_connects(no_connections: list[Any], capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (
        ["models", "list"],
        ["models", "list", "--json"],
        ["servers", "list"],
        ["settings"],
        ["chats", "list"],
        ["ask", "Hi", "--model", "smollm2-135m-instruct:q4"],  # a local model's weights, not a server
        ["ask", "Hi", "--model", "nowhere:model"],
    ):
        main(argv)
    store = open_store()
    try:
        assert server_registry(store).listings() == []
    finally:
        store.close()
    err = capsys.readouterr().err
    assert "is not installed" in err  # the colon references fell through to the local registry
    assert no_connections == []


def test_the_listing_job_reads_the_store_here_and_asks_on_another_thread(fake_server: FakeServer, store: Store) -> None:
    """The window asks the servers off its GUI thread; the store (a connection of that
    thread) is only read when the job is made."""
    import threading

    registry = server_registry(store)
    assert registry.listing_job()() == []  # no server: nothing asked
    registry.add("fake", fake_server.url)
    job = registry.listing_job()
    found: list[Any] = []
    worker = threading.Thread(target=lambda: found.extend(job()))
    worker.start()
    worker.join(30)
    assert [m.ref for listing in found for m in listing.models]
    assert all(m.ref.startswith("fake:") for listing in found for m in listing.models)
