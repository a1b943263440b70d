"""`inkwell serve`, the key, the server settings, and API requests saved to the history."""

from __future__ import annotations

import io
import threading
from typing import Any

import pytest

from desktop_app.cli import main
from desktop_app.core.errors import UserError
from desktop_app.server.serve import ServeOptions, check_host, resolve_key, serve
from desktop_app.session.api_history import ApiHistory
from desktop_app.session.settings import ServerSettings, api_key, regenerate_api_key, validate_setting
from desktop_app.store import Store, open_store
from tests.server.conftest import KEY, ServerFakeEngine
from tests.server.test_http import CHAT, call


def test_loopback_is_allowed_and_the_network_needs_consent() -> None:
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.5"):
        check_host(host, allow_network=False)
    for host in ("0.0.0.0", "192.168.1.20", "::", "example.com"):
        with pytest.raises(UserError, match="--allow-network"):
            check_host(host, allow_network=False)
        check_host(host, allow_network=True)


def test_the_key_comes_from_the_option_then_the_environment_then_the_store(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INKWELL_API_KEY", raising=False)
    stored, source = resolve_key(store, None)
    assert len(stored) >= 32 and "settings" in source
    assert resolve_key(store, None)[0] == stored == api_key(store)  # generated once, then kept
    monkeypatch.setenv("INKWELL_API_KEY", "from-the-environment-123")
    assert resolve_key(store, None) == ("from-the-environment-123", "INKWELL_API_KEY")
    assert resolve_key(store, "given-on-the-command-line")[0] == "given-on-the-command-line"
    renewed = regenerate_api_key(store)
    assert renewed != stored and api_key(store) == renewed


def test_server_settings_are_validated_and_default_to_closed(store: Store) -> None:
    assert ServerSettings.load(store) == ServerSettings(False, 8750, False, (), False)
    assert validate_setting("server_cors_origins", "http://localhost:3000, https://app.example/") == [
        "http://localhost:3000",
        "https://app.example",
    ]
    for key, value in [
        ("server_port", 0),
        ("server_port", "80"),
        ("server_enabled", "yes"),
        ("server_cors_origins", ["*"]),
        ("server_cors_origins", ["localhost:3000"]),
        ("server_api_key", "short"),
    ]:
        with pytest.raises(UserError):
            validate_setting(key, value)
    saved = ServerSettings(True, 9000, True, ("http://localhost:5173",), True)
    saved.save(store)
    assert ServerSettings.load(store) == saved
    store.settings.set("server_port", "not a port")  # a hand-edited value falls back
    assert ServerSettings.load(store).port == 8750


def test_inkwell_serve_refuses_the_network_without_consent(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--host", "0.0.0.0"]) == 2
    assert "--allow-network" in capsys.readouterr().err


def test_serve_runs_until_stopped_and_shuts_down(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INKWELL_API_KEY", KEY)
    stop = threading.Event()
    ready: list[Any] = []
    out = io.StringIO()

    def on_ready(server: Any) -> None:
        ready.append(server)
        try:
            assert call(server_view(server), "POST", "/v1/chat/completions", CHAT)[0] == 200
        finally:
            stop.set()

    assert serve(ServeOptions(port=0), ServerFakeEngine, out, stop, on_ready) == 0
    assert ready and not ready[0].running
    text = out.getvalue()
    assert "Inkwell serves fake-model on CPU at http://127.0.0.1:" in text and "INKWELL_API_KEY" in text
    assert "not saved to the chat history" in text


def server_view(server: Any) -> Any:
    class View:
        port = server.address[1]

    return View()


def test_api_requests_are_saved_only_when_asked(start_server: Any, store: Store) -> None:
    running = start_server()
    assert call(running, "POST", "/v1/chat/completions", CHAT)[0] == 200
    assert store.conversations.all() == []

    history = ApiHistory(lambda: open_store(store.path))
    history.start()
    saving = start_server(engine=ServerFakeEngine(), history=history)
    body = CHAT | {"messages": [{"role": "system", "content": "Be brief."}, *CHAT["messages"]], "n": 2}
    assert call(saving, "POST", "/v1/chat/completions", body)[0] == 200
    assert call(saving, "POST", "/v1/completions", {"model": "fake-model", "prompt": "Once upon"})[0] == 200
    history.close()
    assert len(history.saved) == 2
    chat = store.conversations.get(history.saved[0])
    assert chat.system_prompt == "Be brief." and chat.model_id == "fake-model" and chat.title == "Hello there"
    messages = store.conversations.messages(chat.id)
    assert [(m.role, m.status) for m in messages] == [("user", "complete"), *[("assistant", "complete")] * 2]
    replies = [m for m in messages if m.role == "assistant"]
    assert {m.parent_id for m in replies} == {messages[0].id}  # the two versions are siblings
    assert sorted(m.content for m in replies) == [
        "Paris is the capital of France.",
        "Paris is the capital of France. (v2)",
    ]
    assert replies[0].generated_tokens == 6 and replies[0].provider == "cpu"
    completion = store.conversations.messages(history.saved[1])
    assert [(m.role, m.content) for m in completion] == [
        ("user", "Once upon"),
        ("assistant", "Paris is the capital of France."),
    ]


def test_inkwell_serve_listens_on_the_port_in_settings_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    """The window's Settings › Local API server port is the command's default too."""
    import socket

    monkeypatch.setenv("INKWELL_API_KEY", KEY)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    store = open_store()  # the user's database (a private folder per test)
    ServerSettings(False, free, False, (), False).save(store)
    store.close()
    ports: list[int] = []

    def on_ready(server: Any) -> None:
        ports.append(server.address[1])
        stop.set()

    stop = threading.Event()
    assert serve(ServeOptions(), ServerFakeEngine, io.StringIO(), stop, on_ready) == 0
    stop = threading.Event()
    assert serve(ServeOptions(port=0), ServerFakeEngine, io.StringIO(), stop, on_ready) == 0
    assert ports[0] == free and ports[1] not in (0, free)


def test_the_settings_list_hides_the_api_key(capsys: pytest.CaptureFixture[str]) -> None:
    store = open_store()
    key = api_key(store)
    store.close()
    assert main(["settings"]) == 0
    listed = capsys.readouterr().out
    assert "server_api_key = (hidden" in listed and key not in listed
    assert main(["settings", "server_api_key"]) == 0  # asked for by name, it is shown
    assert key in capsys.readouterr().out
