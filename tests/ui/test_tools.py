"""Tools in the window: a reply that calls a tool goes on after it, the call asks for consent
as the user set, shows as a folded card, and Settings › Tools keeps servers and permissions."""

from __future__ import annotations

import sys
from pathlib import Path

from desktop_app.core.chat import ToolCall
from desktop_app.core.generation import FinishReason, GenerationStats
from desktop_app.engine import Finished, PromptPrepared, TextChunk
from desktop_app.session.tools import ToolSettings
from desktop_app.store import Store
from tests.ui.conftest import FakeEngine, ask_and_wait, click_action

SERVER = str(Path(__file__).parents[1] / "unit" / "tools" / "mcp_server.py")


class CallingEngine(FakeEngine):
    """Calls the calculator when offered it, then answers with what came back."""

    def generate(self, request, cancel=None):  # type: ignore[no-untyped-def]
        self.requests.append(request)
        yield PromptPrepared(10, 0, 0, self.context_length)
        stats = GenerationStats(10, 5, 5.0, 100.0, FinishReason.STOP_TOKEN, seed=1)
        results = [m.content for m in request.messages if m.role == "tool"]
        if request.tools and not results:
            yield TextChunk("Let me work it out.")
            call = ToolCall("call12345", "calculator", '{"expression": "6 * 7"}')
            yield Finished(0, "Let me work it out.", stats, tool_calls=(call,))
            return
        answer = f"The answer is {results[-1]}." if results else "I cannot tell."
        yield TextChunk(answer)
        yield Finished(0, answer, stats)


def test_a_reply_calls_an_allowed_tool_and_answers_with_its_result(qtbot, make_window, store: Store) -> None:  # type: ignore[no-untyped-def]
    ToolSettings(store).set_builtin("calculator", True)  # turned on: allowed unless the user says otherwise
    engine = CallingEngine()
    window = make_window(lambda: engine)
    reply_id = ask_and_wait(qtbot, window, "What is 6 * 7?")
    reply = store.conversations.message(reply_id)
    assert reply.content == "Let me work it out.\n\nThe answer is 42."
    [use] = reply.tool_uses
    assert (use.call.name, use.result, use.error, use.server) == ("calculator", "42", False, "builtin")
    view = window.chat_pane.chat_view
    assert "Called calculator (built in): done" in view.toPlainText() and '"expression"' not in view.toPlainText()
    click_action(qtbot, window, "tool", f"{reply_id}/0")
    assert '{"expression": "6 * 7"}' in view.toPlainText()
    assert [m.role for m in engine.requests[1].messages] == ["user", "assistant", "tool"]


def test_a_call_the_user_does_not_allow_is_refused_and_the_reply_goes_on(
    qtbot, make_window, store: Store, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from desktop_app.ui.tool_catalog import ToolCatalog

    settings = ToolSettings(store)
    settings.set_builtin("calculator", True)
    settings.set_permission("builtin/calculator", "ask")
    asked: list[str] = []
    monkeypatch.setattr(ToolCatalog, "_ask", lambda self, entry, call, parent: asked.append(call.arguments) or False)
    window = make_window(CallingEngine)
    reply = store.conversations.message(ask_and_wait(qtbot, window, "What is 6 * 7?"))
    assert asked == ['{"expression": "6 * 7"}']
    assert reply.tool_uses[0].error and reply.tool_uses[0].result == "The user did not allow this call."
    assert reply.content.endswith("The answer is The user did not allow this call..")
    assert "Called calculator (built in): failed" in window.chat_pane.chat_view.toPlainText()


def test_a_tool_set_to_never_is_not_offered(qtbot, make_window, store: Store) -> None:  # type: ignore[no-untyped-def]
    settings = ToolSettings(store)
    settings.set_builtin("calculator", True)
    settings.set_permission("builtin/calculator", "deny")
    engine = CallingEngine()
    window = make_window(lambda: engine)
    reply = store.conversations.message(ask_and_wait(qtbot, window, "What is 6 * 7?"))
    assert engine.requests[0].tools == () and reply.content == "I cannot tell."


def test_settings_tools_adds_a_server_lists_its_tools_and_keeps_permissions(qtbot, make_window, store: Store) -> None:  # type: ignore[no-untyped-def]
    from desktop_app.ui.tools_dialog import ToolsDialog

    window = make_window(FakeEngine)
    dialog = ToolsDialog(window.tools, window)
    qtbot.addWidget(dialog)
    dialog.name_edit.setText("demo")
    dialog.where_edit.setText(f'"{sys.executable}" "{SERVER}"')
    with qtbot.waitSignal(window.tools.changed, timeout=30_000, check_params_cb=lambda found: bool(found.servers)):
        dialog.add_button.click()
    server = dialog.tree.topLevelItem(0)
    tools = [server.child(i).text(0) for i in range(server.childCount())]
    assert tools == ["add", "refuse", "nap", "crash"]
    permission = dialog.tree.itemWidget(server.child(0), 1)
    permission.setCurrentIndex(permission.findData("deny"))
    assert ToolSettings(store).permission("demo/add") == "deny"
    assert [e.name for e in window.tools.toolbox().entries] == ["refuse", "nap", "crash"]  # "never" is not offered
    dialog.builtin_boxes["current_time"].setChecked(True)
    assert ToolSettings(store).builtins() == ["current_time"]
    dialog.name_edit.setText("demo")
    dialog.where_edit.setText("other")
    dialog.add_button.click()
    assert "already" in dialog.message.text()
    dialog.tree.setCurrentItem(server)
    dialog.remove_button.click()
    assert ToolSettings(store).servers() == []


def test_a_listing_that_ends_after_its_window_closed_is_harmless(qtbot, store: Store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import threading

    import shiboken6

    from desktop_app.session.retrieval import Retriever
    from desktop_app.tools.mcp_host import McpServer
    from desktop_app.ui import tool_catalog

    ToolSettings(store).add_server(McpServer("slow", ("unused",)))
    release = threading.Event()

    def slow_catalog(servers, builtins):  # type: ignore[no-untyped-def]
        release.wait(10)
        return tool_catalog.Catalog((), tuple(servers))

    monkeypatch.setattr(tool_catalog, "catalog", slow_catalog)
    failures: list[BaseException] = []
    monkeypatch.setattr(threading, "excepthook", lambda hook: failures.append(hook.exc_value))
    catalog = tool_catalog.ToolCatalog(store, Retriever(store))
    catalog.refresh()
    [listing] = [t for t in threading.enumerate() if t.name == "tool-listing"]
    shiboken6.delete(catalog)  # the window closed while the servers were being asked
    release.set()
    listing.join(10)
    assert failures == []
