"""The chat pane's extras: code Copy, long chats, the token count, and disk-full errors."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QUrl

from desktop_app.store import Store
from desktop_app.ui.chat.chat_view import PAGE_SIZE
from tests.ui.conftest import FakeEngine, ask_and_wait, click_action


def test_each_code_block_has_a_copy_link_that_copies_just_that_block(qtbot, make_window) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtGui import QGuiApplication

    engine = FakeEngine(tokens=["Try:\n\n```python\nprint('hi')\n```\n\nor\n\n```sh\necho hi\n```\n"])
    window = make_window(lambda: engine)
    reply = ask_and_wait(qtbot, window, "Show me code")
    html = window.chat_pane.chat_view.toHtml()
    assert f"inkwell:copy-code/{reply}/0" in html and f"inkwell:copy-code/{reply}/1" in html
    click_action(qtbot, window, "copy-code", f"{reply}/1")
    assert QGuiApplication.clipboard().text() == "echo hi\n"
    click_action(qtbot, window, "copy-code", f"{reply}/0")
    assert QGuiApplication.clipboard().text() == "print('hi')\n"


def long_chat(store: Store, messages: int) -> tuple[str, list[str]]:
    chat = store.conversations.create("Long")
    ids = []
    for i in range(messages):
        ids.append(store.conversations.add_message(chat.id, "user" if i % 2 == 0 else "assistant", f"message {i}").id)
    return chat.id, ids


def test_a_long_chat_opens_at_the_end_and_shows_earlier_messages_on_request(qtbot, make_window, store: Store) -> None:  # type: ignore[no-untyped-def]
    chat, ids = long_chat(store, PAGE_SIZE * 2 + 50)
    window = make_window(FakeEngine)
    window.chat_pane.open_conversation(chat)
    text = window.chat_pane.chat_view.toPlainText()
    assert f"message {len(ids) - 1}" in text and "message 0\n" not in text
    assert window.chat_pane.chat_view.shown_count == PAGE_SIZE and f"Show {PAGE_SIZE} earlier messages" in text
    window.chat_pane.chat_view.anchorClicked.emit(QUrl("inkwell:more/"))
    assert window.chat_pane.chat_view.shown_count == PAGE_SIZE * 2
    assert "Show 50 earlier messages" in window.chat_pane.chat_view.toPlainText()


def test_a_search_hit_far_back_is_shown(qtbot, make_window, store: Store) -> None:  # type: ignore[no-untyped-def]
    chat, ids = long_chat(store, PAGE_SIZE * 3)
    window = make_window(FakeEngine)
    window.chat_pane.open_conversation(chat, switch_to=ids[5])
    assert "message 5" in window.chat_pane.chat_view.toPlainText()
    assert window.chat_pane.chat_view.shown_count >= len(ids) - 5


def test_the_token_count_warns_before_a_paste_that_is_too_long(qtbot, make_window) -> None:  # type: ignore[no-untyped-def]
    window = make_window(FakeEngine)  # counts words; context 2,048; replies up to 512
    window.chat_pane.composer.setPlainText("one two three")
    window.chat_pane.update_token_count()
    assert window.chat_pane.token_label.text() == "3 tokens · 3 of 2,048 in context"
    window.chat_pane.composer.setPlainText("word " * 1600)
    window.chat_pane.update_token_count()
    assert (
        "1,600 tokens" in window.chat_pane.token_label.text()
        and "too long for this model" in window.chat_pane.token_label.text()
    )
    window.chat_pane.composer.setPlainText("")
    window.chat_pane.update_token_count()
    assert window.chat_pane.token_label.text() == ""


def test_the_context_meter_shows_what_the_chat_uses(qtbot, make_window) -> None:  # type: ignore[no-untyped-def]
    window = make_window(FakeEngine)
    ask_and_wait(qtbot, window, "Hello")
    assert window.chat_pane.context_meter.maximum() == 2048 and window.chat_pane.context_meter.value() == 10 + 4
    window.chat_pane.composer.setPlainText("a b")
    window.chat_pane.update_token_count()
    assert "16 of 2,048" in window.chat_pane.token_label.text()


def test_a_full_disk_is_reported_and_the_message_is_kept(
    qtbot, make_window, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from desktop_app.store.db import DiskFull

    window = make_window(FakeEngine)
    shown: list[tuple[str, str]] = []
    window.reporter.problem_shown.connect(lambda title, text: shown.append((title, text)))

    def full(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise DiskFull("The disk is full, so the last change was not saved.", hint="Free some space.")

    monkeypatch.setattr(store.conversations, "add_message", full)
    window.chat_pane.composer.setPlainText("Please keep this text")
    window.chat_pane.send()
    assert shown == [
        ("Could not send the message", "The disk is full, so the last change was not saved.\nFree some space.")
    ]
    assert window.chat_pane.composer.toPlainText() == "Please keep this text"
    assert window.chat_pane.send_button.isEnabled()


def test_an_unexpected_error_in_a_slot_is_shown_plainly(
    qtbot, make_window, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    window = make_window(FakeEngine)
    shown: list[str] = []
    window.reporter.problem_shown.connect(lambda title, text: shown.append(text))
    monkeypatch.setattr(store.conversations, "create", lambda **kwargs: 1 / 0)
    window.chat_pane.composer.setPlainText("Hello")
    window.chat_pane.send()
    assert len(shown) == 1 and "unexpected" in shown[0] and "Traceback" not in shown[0]


def test_an_idle_nvidia_gpu_is_said_plainly(qtbot, make_window, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from desktop_app.session import scheduler

    monkeypatch.setattr(scheduler, "nvidia_gpu_present", lambda: True)
    window = make_window(FakeEngine)
    assert "your NVIDIA GPU is not used" in window.model_status.label.text()
    assert window.model_status.label.toolTip() == "a fake for tests"
    assert "a fake for tests" in window.statusBar().currentMessage()


def test_a_base_model_is_said_and_its_chat_stops_before_the_next_user_line(qtbot, make_window) -> None:  # type: ignore[no-untyped-def]
    from types import SimpleNamespace

    engine = FakeEngine(manifest=SimpleNamespace(id="base", name="Base model", is_base_model=True))
    window = make_window(lambda: engine)
    assert "base model" in window.model_status.label.text()
    assert (
        window.chat_pane.notice_label.isVisibleTo(window) and "continues text" in window.chat_pane.notice_label.text()
    )
    ask_and_wait(qtbot, window, "Once upon a time")
    assert "\nUser:" in engine.requests[0].settings.stop_sequences


def test_a_thinking_models_reasoning_streams_then_folds_and_opens_on_a_click(qtbot, make_window, store: Store) -> None:  # type: ignore[no-untyped-def]
    from desktop_app.core.generation import FinishReason, GenerationStats
    from desktop_app.engine import Finished, PromptPrepared, ReasoningChunk, TextChunk
    from desktop_app.engine.reasoning import THINKING_MARKERS, ThinkingSyntax

    class ThinkingEngine(FakeEngine):
        thinking = ThinkingSyntax(THINKING_MARKERS[0], switch=True)

        def generate(self, request, cancel=None):  # type: ignore[no-untyped-def]
            self.requests.append(request)
            yield PromptPrepared(10, 0, 0, self.context_length)
            for piece in ("The user asks ", "for a capital. ", "France's is Paris."):
                yield ReasoningChunk(piece)
            yield TextChunk("Paris.")
            stats = GenerationStats(
                10, 8, 5.0, 100.0, FinishReason.STOP_TOKEN, seed=1, reasoning_tokens=7, reasoning_ms=2400.0
            )
            yield Finished(0, "Paris.", stats, reasoning="The user asks for a capital. France's is Paris.")

    engine = ThinkingEngine()
    window = make_window(lambda: engine)
    form = window.chat_pane.settings_pane.form
    assert form.thinking.isEnabled() and form.reasoning_budget.isEnabled()
    form.thinking.setCurrentIndex(form.thinking.findData("off"))
    reply_id = ask_and_wait(qtbot, window, "Capital of France?")
    assert engine.requests[0].settings.thinking == "off"
    reply = store.conversations.message(reply_id)
    assert (reply.content, reply.reasoning) == ("Paris.", "The user asks for a capital. France's is Paris.")
    view = window.chat_pane.chat_view
    shown = view.toPlainText()
    assert "Thought for 2 s · 9 words" in shown and "France's is Paris." not in shown and "Paris." in shown
    click_action(qtbot, window, "reasoning", reply_id)
    assert "France's is Paris." in view.toPlainText()
    click_action(qtbot, window, "reasoning", reply_id)
    assert "France's is Paris." not in view.toPlainText()
    # While a reply thinks, its latest reasoning shows under "Thinking…"; then the answer.
    view.update_stream("", reasoning="Hmm.\nLet me see.")
    assert "Thinking…" in view.toPlainText() and "Let me see." in view.toPlainText()
    view.update_stream("Done.", reasoning="Hmm.\nLet me see.")
    assert "Thinking…" not in view.toPlainText() and "Done." in view.toPlainText()
    view.end_stream()
