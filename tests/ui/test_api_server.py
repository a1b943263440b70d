"""The window's API server: Settings › Local API server, the status-bar indicator, shutdown."""

from __future__ import annotations

import http.client
import json
import socket
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication

from desktop_app.core.errors import UserError
from desktop_app.core.presets import system_presets
from desktop_app.server.serve import start_in_background
from desktop_app.session.settings import ServerSettings, api_key
from desktop_app.store import Store
from desktop_app.ui.main_window import WindowServices
from desktop_app.ui.settings_dialog import SettingsDialog
from tests.ui.conftest import FakeEngine


def start_api_server(store: Store) -> Any:
    return lambda scheduler, settings, key, on_request, on_saved: start_in_background(
        scheduler, settings, key, store.path, on_request, on_saved
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def ask(port: int, key: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    body = json.dumps({"model": "fake", "messages": [{"role": "user", "content": "Hi"}]})
    connection.request("POST", "/v1/chat/completions", body, {"Authorization": f"Bearer {key}"})
    status = connection.getresponse().status
    connection.close()
    return status


def test_the_settings_switch_starts_the_server_and_the_status_bar_counts_requests(
    qtbot, make_window, store: Store, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    window = make_window(FakeEngine, WindowServices(presets=system_presets(), start_api_server=start_api_server(store)))
    port = free_port()
    seen: list[SettingsDialog] = []

    def fill_in(dialog: SettingsDialog) -> bool:
        seen.append(dialog)
        group = dialog.server_group
        assert not group.enabled.isChecked() and group.key.text() == api_key(store)  # off by default
        assert not group.network_warning.isVisibleTo(dialog)
        group.allow_network.setChecked(True)
        assert group.network_warning.isVisibleTo(dialog)  # the warning comes with the choice
        group.allow_network.setChecked(False)
        group.copy_button.click()
        assert QApplication.clipboard().text() == group.key.text()
        old = group.key.text()
        group.regenerate_button.click()
        assert group.key.text() != old and len(group.key.text()) > 32
        group.enabled.setChecked(True)
        group.port.setValue(port)
        group.cors.setText("http://localhost:3000")
        return True

    window.run_dialog = fill_in
    window.menu_actions.settings.trigger()
    assert seen
    saved = ServerSettings.load(store)
    assert saved == ServerSettings(True, port, False, ("http://localhost:3000",), False)
    key = api_key(store)
    assert key == seen[0].server_group.key.text()  # the regenerated key is the one kept
    assert window.api_server.running
    assert window.api_server.label.text() == f"API: http://127.0.0.1:{port}/v1 · 0 requests"
    assert ask(port, key) == 200
    qtbot.waitUntil(lambda: window.api_server.label.text().endswith("· 1 request"), timeout=10_000)
    assert store.conversations.all() == []  # not saved unless asked

    window.run_dialog = lambda dialog: dialog.server_group.enabled.setChecked(False) or True
    window.menu_actions.settings.trigger()
    assert not window.api_server.running and window.api_server.label.isHidden()
    with pytest.raises(OSError):
        ask(port, key)


def test_closing_the_window_stops_the_server(qtbot, make_window, store: Store) -> None:  # type: ignore[no-untyped-def]
    window = make_window(FakeEngine, WindowServices(presets=system_presets(), start_api_server=start_api_server(store)))
    port = free_port()
    window.api_server.apply(ServerSettings(enabled=True, port=port), "window-key-0123456789")
    assert ask(port, "window-key-0123456789") == 200
    window.close()
    with pytest.raises(OSError):
        ask(port, "window-key-0123456789")


def test_a_taken_port_is_reported_and_leaves_the_server_off(qtbot, make_window, store: Store) -> None:  # type: ignore[no-untyped-def]
    window = make_window(FakeEngine, WindowServices(presets=system_presets(), start_api_server=start_api_server(store)))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(UserError, match="cannot listen"):
            window.api_server.apply(ServerSettings(enabled=True, port=port), "window-key-0123456789")
        assert not window.api_server.running and window.api_server.label.isHidden()
        store.settings.set("server_enabled", True)
        store.settings.set("server_port", port)
        window.apply_server_settings()  # the window's way: a message, not a traceback
        assert window.reporter.problem_box is not None and "cannot listen" in window.reporter.problem_box.text()


def test_a_bad_cors_origin_keeps_the_dialog_open(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from desktop_app.core.generation import GenerationSettings
    from desktop_app.session.settings import AppSettings

    dialog = SettingsDialog(AppSettings("", "auto", "system", 11, GenerationSettings()), [], tmp_path)
    qtbot.addWidget(dialog)
    dialog.server_group.cors.setText("localhost:3000")
    assert "Not an origin" in (dialog.server_group.validate() or "")
    dialog.server_group.cors.setText("http://localhost:3000 https://a.example")
    assert dialog.server_group.validate() is None
    assert dialog.chosen_server()[0].cors_origins == ("http://localhost:3000", "https://a.example")


def test_an_api_request_saved_to_the_history_appears_in_the_list_at_once(qtbot, make_window, store: Store) -> None:  # type: ignore[no-untyped-def]
    """With "Save API requests to the chat history" on, the saved chat shows in the open
    window's list without a refresh."""
    window = make_window(FakeEngine, WindowServices(presets=system_presets(), start_api_server=start_api_server(store)))
    port = free_port()
    window.api_server.apply(ServerSettings(enabled=True, port=port, save_history=True), "window-key-0123456789")
    sidebar = window.list_pane.sidebar

    def titles() -> list[str]:
        return [sidebar.item(i).text() for i in range(sidebar.count())]

    assert not any("Hi" in title for title in titles())
    assert ask(port, "window-key-0123456789") == 200
    qtbot.waitUntil(lambda: any("Hi" in title for title in titles()), timeout=10_000)
    window.api_server.stop()
