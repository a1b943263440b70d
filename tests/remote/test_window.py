"""The window with a remote model: the composer says where the text goes, the first use of a
server asks once, and Settings › Model servers adds and removes servers."""

from __future__ import annotations

import json

from desktop_app.session.servers import server_registry
from desktop_app.session.settings import AppSettings
from desktop_app.store import Store
from desktop_app.ui.servers_section import ModelServersWidget
from desktop_app.ui.services import WindowServices
from tests.remote.fake_server import FakeServer
from tests.ui.conftest import FakeEngine, ask_and_wait
from tests.ui.conftest import make_window as make_window  # the fixture


def test_a_remote_chat_shows_where_its_text_goes_after_asking_once(
    qtbot, make_window, store: Store, fake_server: FakeServer
) -> None:  # type: ignore[no-untyped-def]
    servers = server_registry(store)
    servers.add("fake", fake_server.url)
    store.settings.set("model", "fake:ok")
    factory = WindowServices(servers=servers)

    def engine_factory(setting: str, _provider: str, _speedup: object = None):  # type: ignore[no-untyped-def]
        return servers.engine_loader(*servers.split_ref(setting), require_consent=True)  # type: ignore[misc]

    factory.engine_factory = engine_factory
    window = make_window(FakeEngine, factory, start=False)
    asked: list[str] = []
    window.model_status.ask_remote_consent = lambda name, host: asked.append(host) or False
    window.model_status.reload()
    qtbot.waitUntil(lambda: window.model_status.label.text() == "No model loaded", timeout=10_000)
    assert asked == [fake_server.url.removeprefix("http://")]
    assert not servers.get("fake").consented
    assert not [r for r in fake_server.requests if r[0] != "/v1/models"]  # no text was sent
    window.model_status.ask_remote_consent = lambda name, host: asked.append(host) or True
    window.model_status.reload()
    qtbot.waitUntil(lambda: window.model_status.engine_info is not None, timeout=10_000)
    assert servers.get("fake").consented
    assert window.chat_pane.remote_label.isVisibleTo(window)
    assert "127.0.0.1" in window.chat_pane.remote_label.text()
    message_id = ask_and_wait(qtbot, window, "Hello there")
    message = store.conversations.message(message_id)
    assert (message.content, message.model_id) == ("Hello world!", "fake:ok")
    window.model_status.reload()  # allowed now: no second question
    qtbot.waitUntil(lambda: window.model_status.engine_info is not None, timeout=10_000)
    assert len(asked) == 2


def test_a_local_model_shows_no_remote_notice(qtbot, make_window) -> None:  # type: ignore[no-untyped-def]
    window = make_window(FakeEngine)
    assert not window.chat_pane.remote_label.isVisibleTo(window)


def test_settings_adds_and_removes_servers(qtbot, store: Store) -> None:  # type: ignore[no-untyped-def]
    servers = server_registry(store)
    widget = ModelServersWidget(servers)
    qtbot.addWidget(widget)
    assert "private file" in widget.key_place.text()
    widget.name_edit.setText("bad:name")
    widget.url_edit.setText("http://10.0.0.5:8000")
    widget.add_button.click()
    assert "cannot name a server" in widget.message.text()
    widget.name_edit.setText("box")
    widget.key_edit.setText("sk-typed-in")
    widget.add_button.click()
    assert [s.name for s in servers.list()] == ["box"]
    assert widget.key_edit.text() == ""
    assert "box — http://10.0.0.5:8000/v1 — key: a private file" in widget.list.item(0).text()
    widget.list.setCurrentRow(0)
    widget.remove_button.click()
    assert servers.list() == []
    assert AppSettings.load(store).model == ""


def test_settings_keep_a_server_model_not_heard_from_yet(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A remote model missing from the list (its server not asked yet) stays chosen: saving
    the dialog must not switch the chat to another model."""
    from desktop_app.core.generation import GenerationSettings
    from desktop_app.session.settings import ModelChoice
    from desktop_app.ui.settings_dialog import SettingsDialog

    current = AppSettings("box:llama3:8b", "auto", "system", 11, GenerationSettings())
    dialog = SettingsDialog(current, [ModelChoice("smollm2-135m-instruct", "SmolLM2")], tmp_path)
    qtbot.addWidget(dialog)
    assert dialog.model_box.currentData() == "box:llama3:8b"


def test_the_co_writer_writes_with_a_remote_model(qtbot, make_window, store: Store, fake_server: FakeServer) -> None:  # type: ignore[no-untyped-def]
    """Continue in writing mode sends the draft to the server and offers its reply."""
    servers = server_registry(store)
    servers.add("fake", fake_server.url, consented=True)
    store.settings.set("model", "fake:ok")
    factory = WindowServices(servers=servers)
    factory.engine_factory = lambda setting, _provider, _speedup=None: servers.engine_loader(  # type: ignore[misc]
        *servers.split_ref(setting), require_consent=True
    )
    window = make_window(FakeEngine, factory, start=False)
    window.model_status.reload()
    qtbot.waitUntil(lambda: window.model_status.engine_info is not None, timeout=10_000)
    window.menu_actions.writing_mode.trigger()
    pane = window.writing_pane
    pane.drafts.new_draft()
    pane.editor.setPlainText("Dear customer, your parcel")
    cursor = pane.editor.textCursor()
    cursor.setPosition(len("Dear customer, your parcel"))
    pane.editor.setTextCursor(cursor)
    with qtbot.waitSignal(pane.suggestion_ready, timeout=10_000):
        pane.cowriter.run_action("continue")
    sent = [body for path, body, _ in fake_server.requests if path.endswith("/chat/completions")]
    assert sent and "Dear customer, your parcel" in json.dumps(sent[-1])
    pane.cowriter.accept_suggestion()
    assert (
        pane.editor.toPlainText().startswith("Dear customer, your parcel")
        and "Hello world!" in pane.editor.toPlainText()
    )


def test_the_models_page_lists_the_servers_models_and_uses_one(
    qtbot, make_window, store: Store, fake_server: FakeServer
) -> None:  # type: ignore[no-untyped-def]
    """Model › Models… shows the added servers' models after the local ones, says where the
    text goes, and "Use this model" switches to one (deleting is for local models only)."""
    from desktop_app.session.settings import ModelChoice

    servers = server_registry(store)
    servers.add("fake", fake_server.url, consented=True)
    factory = WindowServices(
        servers=servers, list_models=lambda: [ModelChoice("fake:ok", "ok on fake (remote: 127.0.0.1)")]
    )
    chosen: list[str] = []
    window = make_window(FakeEngine, factory)
    dialog = window.open_models()
    dialog.model_chosen.connect(chosen.append)
    rows = [dialog.list.item(i).text() for i in range(dialog.list.count())]
    assert rows == ["ok on fake (remote: 127.0.0.1)\n   fake:ok"]
    dialog.list.setCurrentRow(0)
    assert "sent to that server" in dialog.details.toPlainText() and fake_server.url in dialog.details.toPlainText()
    assert dialog.use_button.isEnabled() and not dialog.delete_button.isEnabled()
    dialog.use_button.click()
    assert store.settings.get("model", "") == "fake:ok" and chosen == ["fake:ok"]
    assert dialog.list.item(0).text().startswith("ok on fake (remote: 127.0.0.1) (in use)")
    assert not dialog.use_button.isEnabled()
